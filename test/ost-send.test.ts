// send() against a scripted client: the order of calls, cancel after failures, restarts, progress.
import { Readable } from 'node:stream';
import { OstInvalidRequestError, OstServerError, OstUploadExpiredError } from '../lib/ost/errors';
import { OstCalls, send, SendProgress } from '../lib/ost/send';
import type { ByteSource } from '../lib/ost/source';
import { MiB } from '../lib/ost/plan';
import { silentLog } from '../lib/core/log';

const quiet = { ...silentLog, warn: jest.fn() };

function source(size: number): ByteSource {
  return { size, name: 's.bin', open: async (s, e) => Readable.from([Buffer.alloc(e - s)]) };
}

type SliceHook = (sliceId: number, attempt: number, onBytes?: (n: number) => void, size?: number) => Promise<void>;

function fakeClient(hooks: { slice?: SliceHook; complete?: () => Promise<void>; cancel?: () => Promise<void> } = {}) {
  const log: string[] = [];
  let inits = 0;
  const attempts = new Map<string, number>();
  const client: OstCalls = {
    upload: jest.fn(async (src: ByteSource, opts?: { onBytes?: (n: number) => void }) => {
      log.push('upload');
      opts?.onBytes?.(src.size);
      return { url: 'http://x/simple', sid: 'sid-u' };
    }),
    init: jest.fn(async () => { inits++; log.push(`init`); return { uploadId: `up${inits}`, sid: 'sid-i' }; }),
    uploadSlice: jest.fn(async (uploadId: string, sliceId: number, _src: ByteSource, range: { start: number; end: number }, opts?: { onBytes?: (n: number) => void }) => {
      const key = `${uploadId}/${sliceId}`;
      const attempt = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, attempt);
      log.push(`slice ${key}`);
      opts?.onBytes?.(0);
      opts?.onBytes?.(range.end - range.start);
      await hooks.slice?.(sliceId, attempt, opts?.onBytes, range.end - range.start);
      return { sid: 'sid-s' };
    }),
    complete: jest.fn(async (uploadId: string) => { log.push(`complete ${uploadId}`); await hooks.complete?.(); return { url: `http://x/${uploadId}`, sid: 'sid-c' }; }),
    cancel: jest.fn(async (uploadId: string) => { log.push(`cancel ${uploadId}`); await hooks.cancel?.(); return { sid: 'sid-x' }; }),
  };
  return { client, log };
}

const plan = { sliceSize: 5 * MiB, threshold: 1 };

describe('send', () => {
  it('uploads a small source whole', async () => {
    const { client, log } = fakeClient();
    const progress: SendProgress[] = [];
    const r = await send(client, source(10), { onProgress: (p) => progress.push(p) });
    expect(r).toEqual({ url: 'http://x/simple', sid: 'sid-u', mode: 'simple', bytes: 10, slices: 1, restarts: 0 });
    expect(log).toEqual(['upload']);
    expect(progress[progress.length - 1]).toEqual({ bytesDone: 10, bytesTotal: 10, slicesDone: 1, slicesTotal: 1 });
  });

  it('runs init, every slice once, then complete', async () => {
    const { client, log } = fakeClient();
    const r = await send(client, source(12 * MiB), { plan, log: quiet });
    expect(r).toEqual({ url: 'http://x/up1', sid: 'sid-c', mode: 'multipart', bytes: 12 * MiB, slices: 3, uploadId: 'up1', restarts: 0 });
    expect(log[0]).toBe('init');
    expect(log.slice(1, 4).sort()).toEqual(['slice up1/1', 'slice up1/2', 'slice up1/3']);
    expect(log[4]).toBe('complete up1');
    expect(client.cancel).not.toHaveBeenCalled();
  });

  it('keeps at most `concurrency` slices in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const { client } = fakeClient({
      slice: async () => { inFlight++; peak = Math.max(peak, inFlight); await new Promise((r) => setTimeout(r, 5)); inFlight--; },
    });
    await send(client, source(50 * MiB), { plan, concurrency: 3, log: quiet });
    expect(peak).toBe(3);
  });

  it('cancels after a slice fails and rethrows the original error', async () => {
    const boom = new OstInvalidRequestError('bad slice', { ostCode: 10001 });
    const { client, log } = fakeClient({ slice: async (id) => { if (id === 2) throw boom; } });
    await expect(send(client, source(20 * MiB), { plan, concurrency: 1, log: quiet })).rejects.toBe(boom);
    expect(log).toContain('cancel up1');
    expect(log).not.toContain('slice up1/3'); // no new slice starts after a failure
    expect(log).not.toContain('complete up1');
  });

  it('cancels after complete fails', async () => {
    const boom = new OstServerError('db', { ostCode: 10003 });
    const { client, log } = fakeClient({ complete: async () => { throw boom; } });
    await expect(send(client, source(12 * MiB), { plan, log: quiet })).rejects.toBe(boom);
    expect(log[log.length - 1]).toBe('cancel up1');
  });

  it('reports a failed cancel in the log, not over the original error', async () => {
    const boom = new OstInvalidRequestError('bad', { ostCode: 10001 });
    const warn = jest.fn();
    const { client } = fakeClient({ slice: async () => { throw boom; }, cancel: async () => { throw new OstServerError('cancel broke'); } });
    await expect(send(client, source(12 * MiB), { plan, log: { ...quiet, warn } })).rejects.toBe(boom);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('cancel failed'), expect.objectContaining({ uploadId: 'up1' }));
  });

  it('starts again from init after 10005, within maxRestarts', async () => {
    const { client, log } = fakeClient({
      slice: async (id) => { if (id === 2 && (client.init as jest.Mock).mock.calls.length === 1) throw new OstUploadExpiredError('expired', { ostCode: 10005 }); },
    });
    const r = await send(client, source(12 * MiB), { plan, concurrency: 1, log: quiet });
    expect(r.restarts).toBe(1);
    expect(r.uploadId).toBe('up2');
    expect(log).toEqual(expect.arrayContaining(['cancel up1', 'complete up2']));
    expect(client.init).toHaveBeenCalledTimes(2);
  });

  it('gives up after maxRestarts expirations', async () => {
    const { client } = fakeClient({ slice: async () => { throw new OstUploadExpiredError('expired', { ostCode: 10005 }); } });
    await expect(send(client, source(12 * MiB), { plan, maxRestarts: 1, log: quiet })).rejects.toBeInstanceOf(OstUploadExpiredError);
    expect(client.init).toHaveBeenCalledTimes(2);
    expect(client.cancel).toHaveBeenCalledTimes(2);
  });

  it('counts bytes once even when a slice attempt restarts', async () => {
    const { client } = fakeClient({
      slice: async (_id, _attempt, onBytes, size) => { onBytes?.(0); onBytes?.(1 * MiB); onBytes?.(0); onBytes?.(size!); },
    });
    const seen: SendProgress[] = [];
    await send(client, source(12 * MiB), { plan, concurrency: 2, log: quiet, onProgress: (p) => seen.push(p) });
    expect(Math.max(...seen.map((p) => p.bytesDone))).toBe(12 * MiB);
    expect(seen[seen.length - 1]).toEqual({ bytesDone: 12 * MiB, bytesTotal: 12 * MiB, slicesDone: 3, slicesTotal: 3 });
  });

  it('stops and cancels when the caller aborts', async () => {
    const ac = new AbortController();
    const { client, log } = fakeClient({
      slice: async (id) => { if (id === 1) { ac.abort(new Error('user abort')); throw new Error('aborted'); } },
    });
    await expect(send(client, source(20 * MiB), { plan, concurrency: 1, signal: ac.signal, log: quiet })).rejects.toBeDefined();
    expect(log).toContain('cancel up1');
    expect(log).not.toContain('slice up1/2');
  });
});
