// The OST client and send() against the real emulator over loopback: round trips, every retryable class,
// 10001/10005 handling, cancel after failures, source failures, and the secret never leaking.
import { Readable } from 'node:stream';
import { startEmulator, type FaultRule, type OstEmulator } from '../local/emulator';
import { FileSource } from '../lib/sources/file';
import { OstClient, OstClientOptions } from '../lib/ost/client';
import type { Log } from '../lib/core/log';
import {
  OstAuthError, OstError, OstInvalidRequestError, OstServerError, OstThrottledError, OstUploadExpiredError,
  SourceChangedError, SourceReadError, TransportError,
} from '../lib/ost/errors';
import { send } from '../lib/ost/send';
import type { ByteSource } from '../lib/ost/source';
import { KiB, sampleFile, sha256File, sha256Url, tempDir } from './support/files';

const SECRET = 'Sup3r-Secret-Value-1234567890abcd';
const SLICE = 64 * KiB;
const plan = { sliceSize: SLICE, threshold: 100 * KiB, minSliceSize: SLICE };

let emu: OstEmulator;
let dir: { dir: string; cleanup: () => void };
let small: string; // simple upload
let big: string; // 5 slices, the last short
let logLines: string[];

const log: Log = {
  debug: (m, ...f) => logLines.push(`${m} ${JSON.stringify(f)}`),
  info: (m, ...f) => logLines.push(`${m} ${JSON.stringify(f)}`),
  warn: (m, ...f) => logLines.push(`${m} ${JSON.stringify(f)}`),
  error: (m, ...f) => logLines.push(`${m} ${JSON.stringify(f)}`),
};

function client(overrides: Partial<OstClientOptions> = {}): OstClient {
  return new OstClient({
    endpoint: emu.endpoint,
    ...emu.credentials,
    retry: { attempts: 5, baseDelayMs: 1, maxDelayMs: 5, throttledBaseDelayMs: 2 },
    timeouts: { headersMs: 400 },
    log,
    ...overrides,
  });
}

/** A ByteSource over a file that counts opens and can fail its first few streams. */
function countingSource(file: FileSource, failFirst = 0, error: () => Error = () => Object.assign(new Error('disk hiccup'), { code: 'EIO' })) {
  const opens: Array<[number, number]> = [];
  const src: ByteSource & { opens: typeof opens } = {
    size: file.size,
    name: file.name,
    opens,
    async open(start, end, signal) {
      opens.push([start, end]);
      const stream = await file.open(start, end, signal);
      if (opens.length > failFirst) return stream;
      // Deliver some bytes, then fail.
      let sent = false;
      return new Readable({
        read() {
          if (!sent) { sent = true; this.push(Buffer.alloc(Math.min(10, end - start))); return; }
          stream.destroy();
          this.destroy(error());
        },
      });
    },
  };
  return src;
}

const callsOf = (call: string, sliceId?: number) =>
  emu.calls.filter((c) => c.call === call && (sliceId === undefined || c.sliceId === sliceId));

async function expectServed(url: string, file: string) {
  const served = await sha256Url(url);
  expect(served.sha256).toBe(await sha256File(file));
}

beforeAll(async () => {
  dir = tempDir();
  small = (await sampleFile(50 * KiB + 7, { dir: dir.dir, name: 'small.bin' })).path;
  big = (await sampleFile(4 * SLICE + 1234, { dir: dir.dir, name: 'big.bin' })).path;
  emu = await startEmulator({ apiSecret: SECRET, minSliceSize: SLICE });
});

afterAll(async () => {
  await emu?.close();
  dir?.cleanup();
});

beforeEach(() => {
  emu.clearFaults();
  emu.calls.length = 0;
  logLines = [];
});

describe('round trips', () => {
  it('uploads a small file whole, byte-exact', async () => {
    const c = client();
    try {
      const r = await send(c, await FileSource.fromPath(small), { plan, log });
      expect(r).toMatchObject({ mode: 'simple', bytes: 50 * KiB + 7, slices: 1, restarts: 0 });
      expect(r.sid).not.toBe('');
      await expectServed(r.url, small);
      expect(emu.calls.map((x) => x.call)).toEqual(['upload']);
    } finally { await c.close(); }
  });

  it('uploads an empty file', async () => {
    const empty = (await sampleFile(0, { dir: dir.dir, name: 'empty.bin' })).path;
    const c = client();
    try {
      const r = await send(c, await FileSource.fromPath(empty), { plan, log });
      expect(r).toMatchObject({ mode: 'simple', bytes: 0, slices: 1 });
      expect(await sha256Url(r.url)).toEqual({ sha256: await sha256File(empty), bytes: 0, status: 200 });
    } finally { await c.close(); }
  });

  it('uploads a larger file in slices, byte-exact, each slice once', async () => {
    const c = client();
    try {
      const progress: number[] = [];
      const r = await send(c, await FileSource.fromPath(big), { plan, log, concurrency: 3, onProgress: (p) => progress.push(p.bytesDone) });
      expect(r).toMatchObject({ mode: 'multipart', bytes: 4 * SLICE + 1234, slices: 5, restarts: 0 });
      await expectServed(r.url, big);
      expect(callsOf('init')).toHaveLength(1);
      expect(callsOf('slice').map((x) => x.sliceId).sort()).toEqual([1, 2, 3, 4, 5]);
      expect(callsOf('complete')).toHaveLength(1);
      expect(callsOf('cancel')).toHaveLength(0);
      expect(Math.max(...progress)).toBe(4 * SLICE + 1234);
      expect(emu.orphans()).toEqual([]);
      // Every request carries its own request_id.
      const ids = emu.calls.map((x) => x.requestId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(emu.calls.some((x) => x.duplicateRequestId)).toBe(false);
    } finally { await c.close(); }
  });

  it("digests the real body with multipartDigest: 'body', reading each slice twice", async () => {
    const c = client({ multipartDigest: 'body' });
    try {
      const src = countingSource(await FileSource.fromPath(big));
      const r = await send(c, src, { plan, log });
      await expectServed(r.url, big);
      expect(src.opens).toHaveLength(10);
      const simple = countingSource(await FileSource.fromPath(small));
      await expectServed((await send(c, simple, { plan, log })).url, small);
      expect(simple.opens).toHaveLength(2);
    } finally { await c.close(); }
  });

  it('sends cloud_id when configured', async () => {
    const c = client({ cloudId: '0' });
    try {
      await expectServed((await send(c, await FileSource.fromPath(big), { plan, log })).url, big);
      await expectServed((await send(c, await FileSource.fromPath(small), { plan, log })).url, small);
    } finally { await c.close(); }
  });
});

describe('retries', () => {
  const retryable: Array<[string, Omit<FaultRule, 'call'>, RegExp]> = [
    ['10002', { code: 10002 }, /^OstServerError code=10\d{3}/],
    ['10003', { code: 10003 }, /^OstServerError code=10\d{3}/],
    ['10004', { code: 10004 }, /^OstServerError code=10\d{3}/],
    ['10006', { code: 10006 }, /^OstServerError code=10\d{3}/],
    ['10007', { code: 10007 }, /^OstServerError code=10\d{3}/],
    ['11202', { code: 11202 }, /^OstThrottledError /],
    ['11203', { code: 11203 }, /^OstThrottledError /],
    ['HTTP 429', { status: 429 }, /^OstThrottledError /],
    ['HTTP 500', { status: 500 }, /^Ost(Http|Server)Error .*http=5\d\d/],
    ['HTTP 502', { status: 502 }, /^Ost(Http|Server)Error .*http=5\d\d/],
    ['HTTP 503', { status: 503 }, /^Ost(Http|Server)Error .*http=5\d\d/],
    ['reset before the body', { reset: 'before-body' }, /^TransportError /],
    ['reset mid-body', { reset: 'mid-body' }, /^TransportError /],
    ['a hung response (headers timeout)', { hang: true }, /^TransportError /],
  ];

  it.each(retryable)('retries a slice after %s and stays byte-exact', async (_name, fault, expected) => {
    emu.inject({ call: 'slice', sliceId: 3, times: 2, ...fault });
    const c = client();
    const retried: string[] = [];
    try {
      const src = countingSource(await FileSource.fromPath(big));
      const r = await send(c, src, { plan, log, concurrency: 2 });
      await expectServed(r.url, big);
      expect(callsOf('slice', 3)).toHaveLength(3);
      // The retried slice re-opened its bytes from the source each time.
      expect(src.opens.filter(([s]) => s === 2 * SLICE)).toHaveLength(3);
      expect(callsOf('cancel')).toHaveLength(0);
      retried.push(...logLines.filter((l) => l.includes('retrying')).map((l) => JSON.parse(l.slice(l.indexOf('[')))[0].error));
      expect(retried).toHaveLength(2);
      for (const e of retried) expect(e).toMatch(expected);
    } finally { await c.close(); }
  });

  it.each([
    ['upload', { code: 10002 }],
    ['upload', { reset: 'mid-body' }],
    ['init', { code: 10003 }],
    ['init', { status: 503 }],
    ['complete', { code: 10006 }],
    ['complete', { reset: 'before-body' }],
  ] as Array<[FaultRule['call'], Omit<FaultRule, 'call'>]>)('retries %s after %j', async (call, fault) => {
    emu.inject({ call, ...fault });
    const c = client();
    try {
      const file = call === 'upload' ? small : big;
      const r = await send(c, await FileSource.fromPath(file), { plan, log });
      await expectServed(r.url, file);
      expect(callsOf(call)).toHaveLength(2);
    } finally { await c.close(); }
  });

  it('recovers a reset in the middle of a slice with byte-exact slices', async () => {
    emu.inject({ call: 'slice', sliceId: 1, reset: 'mid-body' });
    emu.inject({ call: 'slice', sliceId: 5, reset: 'mid-body' });
    const c = client();
    try {
      const r = await send(c, await FileSource.fromPath(big), { plan, log, concurrency: 4 });
      await expectServed(r.url, big);
      expect(callsOf('slice', 1).map((x) => x.outcome)).toEqual(['reset', 'answered']);
      expect(callsOf('slice', 5).map((x) => x.outcome)).toEqual(['reset', 'answered']);
      const upload = emu.uploads().find((u) => u.uploadId === r.uploadId)!;
      expect(upload).toMatchObject({ state: 'completed', bytes: 4 * SLICE + 1234 });
    } finally { await c.close(); }
  });

  it('gives up after the last attempt, then cancels the upload', async () => {
    emu.inject({ call: 'slice', sliceId: 2, code: 10002, times: Infinity });
    const c = client({ retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    try {
      const err = await send(c, await FileSource.fromPath(big), { plan, log, concurrency: 1 }).catch((e) => e);
      expect(err).toBeInstanceOf(OstServerError);
      expect(err).toMatchObject({ ostCode: 10002, call: 'slice', sliceId: 2 });
      expect(err.sid).toMatch(/./);
      expect(callsOf('slice', 2)).toHaveLength(3);
      expect(callsOf('cancel')).toHaveLength(1);
      expect(emu.orphans()).toEqual([]);
    } finally { await c.close(); }
  });
});

describe('errors that are not retried', () => {
  it('does not retry 10001: exactly one call, then cancel', async () => {
    emu.inject({ call: 'slice', sliceId: 2, code: 10001 });
    const c = client();
    try {
      const err = await send(c, await FileSource.fromPath(big), { plan, log, concurrency: 1 }).catch((e) => e);
      expect(err).toBeInstanceOf(OstInvalidRequestError);
      expect(err.describe()).toMatch(/^OstInvalidRequestError code=10001 http=200 message=".*" sid=\S+ call=slice slice=2 request_id=\w+$/);
      expect(callsOf('slice', 2)).toHaveLength(1);
      expect(callsOf('slice', 3)).toHaveLength(0);
      expect(callsOf('complete')).toHaveLength(0);
      expect(callsOf('cancel')).toHaveLength(1);
      expect(emu.orphans()).toEqual([]);
    } finally { await c.close(); }
  });

  it('does not retry a simple upload rejected with 10001', async () => {
    emu.inject({ call: 'upload', code: 10001 });
    const c = client();
    try {
      await expect(send(c, await FileSource.fromPath(small), { plan, log })).rejects.toBeInstanceOf(OstInvalidRequestError);
      expect(callsOf('upload')).toHaveLength(1);
      expect(callsOf('cancel')).toHaveLength(0);
    } finally { await c.close(); }
  });

  it('cancels after complete fails', async () => {
    emu.inject({ call: 'complete', code: 10001 });
    const c = client();
    try {
      await expect(send(c, await FileSource.fromPath(big), { plan, log })).rejects.toBeInstanceOf(OstInvalidRequestError);
      expect(callsOf('complete')).toHaveLength(1);
      expect(callsOf('cancel')).toHaveLength(1);
      expect(emu.orphans()).toEqual([]);
    } finally { await c.close(); }
  });

  it('starts again from init when a slice gets 10005', async () => {
    emu.inject({ call: 'slice', sliceId: 4, code: 10005 });
    const c = client();
    try {
      const r = await send(c, await FileSource.fromPath(big), { plan, log, concurrency: 2 });
      expect(r.restarts).toBe(1);
      await expectServed(r.url, big);
      expect(callsOf('init')).toHaveLength(2);
      expect(callsOf('cancel')).toHaveLength(1);
      expect(callsOf('slice', 4)).toHaveLength(2);
      expect(emu.orphans()).toEqual([]);
    } finally { await c.close(); }
  });

  it('stops restarting after maxRestarts', async () => {
    emu.inject({ call: 'slice', sliceId: 1, code: 10005, times: Infinity });
    const c = client();
    try {
      await expect(send(c, await FileSource.fromPath(big), { plan, log, maxRestarts: 1 })).rejects.toBeInstanceOf(OstUploadExpiredError);
      expect(callsOf('init')).toHaveLength(2);
      expect(callsOf('cancel')).toHaveLength(2);
    } finally { await c.close(); }
  });

  it('rejects a bad secret (401) and a skewed clock without retrying', async () => {
    const bad = client({ apiSecret: 'wrong-secret' });
    const skewed = client({ now: () => new Date(Date.now() - 3_600_000) });
    try {
      await expect(bad.init()).rejects.toBeInstanceOf(OstAuthError);
      await expect(skewed.init()).rejects.toBeInstanceOf(OstAuthError);
      expect(callsOf('init')).toHaveLength(2);
    } finally { await Promise.all([bad.close(), skewed.close()]); }
  });
});

describe('source failures', () => {
  it('retries a slice whose source stream breaks (SourceReadError), re-opening it', async () => {
    const c = client();
    try {
      const src = countingSource(await FileSource.fromPath(big), 2);
      const r = await send(c, src, { plan, log, concurrency: 1 });
      await expectServed(r.url, big);
      expect(src.opens.filter(([s]) => s === 0)).toHaveLength(3);
    } finally { await c.close(); }
  });

  it('gives up with SourceReadError when the source keeps failing, and cancels', async () => {
    const c = client({ retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    try {
      const src = countingSource(await FileSource.fromPath(big), 100);
      const err = await send(c, src, { plan, log, concurrency: 1 }).catch((e) => e);
      expect(err).toBeInstanceOf(SourceReadError);
      expect(err.message).toContain('EIO');
      expect(err).toMatchObject({ call: 'slice', sliceId: 1 });
      expect(callsOf('cancel')).toHaveLength(1);
    } finally { await c.close(); }
  });

  it('passes SourceChangedError through without retrying', async () => {
    const c = client();
    try {
      const src = countingSource(await FileSource.fromPath(big), 100, () => new SourceChangedError('object changed'));
      const err = await send(c, src, { plan, log, concurrency: 1 }).catch((e) => e);
      expect(err).toBeInstanceOf(SourceChangedError);
      expect(src.opens).toHaveLength(1);
      expect(callsOf('cancel')).toHaveLength(1);
    } finally { await c.close(); }
  });
});

describe('the api secret', () => {
  it('never appears in errors, their JSON, stacks or log lines', async () => {
    const errors: unknown[] = [];
    const c = client({ retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    const refused = client({ endpoint: 'http://127.0.0.1:1', retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    const wrong = new OstClient({ endpoint: emu.endpoint, ...emu.credentials, apiSecret: SECRET + 'x', log });
    try {
      for (const fault of [{ code: 10001 }, { code: 10002, times: 2 }, { status: 500, times: 2 }, { hang: true, times: 2 }, { reset: 'mid-body', times: 2 }] as Array<Omit<FaultRule, 'call'>>) {
        emu.inject({ call: 'upload', ...fault });
        errors.push(await c.upload(await FileSource.fromPath(small)).catch((e) => e));
      }
      errors.push(await refused.init().catch((e) => e));
      errors.push(await wrong.init().catch((e) => e));
      errors.push(await c.upload(countingSource(await FileSource.fromPath(small), 100)).catch((e) => e));
      expect(errors.every((e) => e instanceof OstError)).toBe(true);
      const text = [
        ...errors.map((e) => {
          const err = e as OstError;
          return [err.message, err.describe(), JSON.stringify(err), err.stack, String(err.cause), JSON.stringify(err.cause ?? null)].join('\n');
        }),
        ...logLines,
        JSON.stringify(emu.calls),
      ].join('\n');
      expect(text.length).toBeGreaterThan(500);
      expect(text).not.toContain(SECRET);
      expect(JSON.stringify(c)).not.toContain(SECRET);
      expect(require('node:util').inspect(c, { depth: 5 })).not.toContain(SECRET);
    } finally { await Promise.all([c.close(), refused.close(), wrong.close()]); }
  });
});
