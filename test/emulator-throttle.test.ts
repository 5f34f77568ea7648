// The emulator's gateway flow control: beyond maxConcurrency in flight → 11202, beyond maxQps per second → 11203,
// HTTP 200, body read and discarded, no effect; counted in the call log and in stats(), also over HTTP.
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { request } from 'undici';
import { OstClient } from '../lib/ost/client';
import { CONTROL_TOKEN_HEADER, startEmulator, type OstEmulator } from '../local/emulator';
import { digestOf, EMPTY_DIGEST, signedHeaders } from './support/signing';


let rid = 0;
async function init(emu: OstEmulator): Promise<{ status: number; code: number; uploadId?: string }> {
  const path = '/file/mpupload/init';
  const body = Buffer.from(JSON.stringify({ app_id: emu.credentials.appId, request_id: `thr-${process.pid}-${++rid}` }));
  const res = await request(`${emu.endpoint}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...signedHeaders(emu, path, digestOf(body)) } });
  const answer = (await res.body.json()) as { code: number; data?: { upload_id: string } };
  return { status: res.statusCode, code: answer.code, uploadId: answer.data?.upload_id };
}

/** A slice call whose body is written in pieces; resolves with the answer once `finish()` sent the rest. */
function openSlice(emu: OstEmulator, uploadId: string, sliceId: number, content: Buffer) {
  const path = '/file/mpupload/upload';
  const boundary = `thr${randomBytes(8).toString('hex')}`;
  const fields = { app_id: emu.credentials.appId, request_id: `thr-slice-${sliceId}-${++rid}`, upload_id: uploadId, slice_id: String(sliceId) };
  const head = Buffer.from(Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('') +
    `--${boundary}\r\nContent-Disposition: form-data; name="data"; filename="s.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  let req!: ClientRequest;
  const answer = new Promise<{ status: number; code: number }>((resolve, reject) => {
    req = httpRequest(`${emu.endpoint}${path}`, {
      method: 'POST',
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + content.length + tail.length),
        ...signedHeaders(emu, path, EMPTY_DIGEST),
      },
    }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: (JSON.parse(Buffer.concat(chunks).toString()) as { code: number }).code }));
    });
    req.on('error', reject);
  });
  const half = Math.floor(content.length / 2);
  req.write(Buffer.concat([head, content.subarray(0, half)]));
  return { answer, finish: (): void => { req.end(Buffer.concat([content.subarray(half), tail])); } };
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('emulator flow control', () => {
  it('is off by default, yet counts peak concurrency', async () => {
    const emu = await startEmulator();
    try {
      const answers = await Promise.all(Array.from({ length: 10 }, () => init(emu)));
      expect(answers.every((a) => a.code === 0)).toBe(true);
      const stats = emu.stats();
      expect(stats).toMatchObject({ calls: 10, admitted: 10, inFlight: 0, throttled: { concurrency: 0, rate: 0 }, limits: {} });
      expect(stats.peakConcurrency).toBeGreaterThanOrEqual(1);
    } finally {
      await emu.close();
    }
  });

  it('20 concurrent calls with maxConcurrency 4: the others get 11202 (HTTP 200), none of them takes effect, peak 4', async () => {
    const emu = await startEmulator({ maxConcurrency: 4, minSliceSize: 1024 });
    try {
      expect(emu.banner).toMatch(/more than 4 in flight get 11202/);
      const uploadId = (await init(emu)).uploadId!;
      const contents = Array.from({ length: 20 }, () => randomBytes(256 * 1024));
      // All 20 open at once, their bodies half sent: 4 are admitted and stay in flight until finished.
      const calls = contents.map((c, i) => openSlice(emu, uploadId, i + 1, c));
      await until(() => emu.calls.filter((c) => c.call === 'slice').length === 20);
      expect(emu.stats().inFlight).toBe(4);
      for (const c of calls) c.finish();
      const answers = await Promise.all(calls.map((c) => c.answer));

      const ok = answers.flatMap((a, i) => (a.code === 0 ? [i + 1] : []));
      const throttled = answers.filter((a) => a.code === 11202);
      expect(answers.every((a) => a.status === 200)).toBe(true);
      expect(ok).toHaveLength(4);
      expect(throttled).toHaveLength(16);
      // No effect: only the admitted slices are stored, and no throttled body is left anywhere.
      const upload = emu.uploads().find((u) => u.uploadId === uploadId)!;
      expect(upload.sliceIds).toEqual(ok);
      expect(upload.sliceUploads).toBe(4);
      expect(readdirSync(join(emu.dir, 'tmp'))).toEqual([]);

      const stats = emu.stats();
      expect(stats).toMatchObject({ peakConcurrency: 4, inFlight: 0, throttled: { concurrency: 16, rate: 0 }, admitted: 5, limits: { maxConcurrency: 4 } });
      const logged = emu.calls.filter((c) => c.throttled === 'concurrency');
      expect(logged).toHaveLength(16);
      expect(logged.every((c) => c.code === 11202 && c.httpStatus === 200 && c.bytes > 256 * 1024 && c.dataBytes === undefined)).toBe(true);
      expect(logged.every((c) => c.sliceId !== undefined && c.requestId?.startsWith('thr-slice-'))).toBe(true);

      // The same numbers over HTTP, for a test or tool in another process.
      const res = await request(`${emu.endpoint}/__emulator/stats`, { headers: { [CONTROL_TOKEN_HEADER]: emu.controlToken } });
      expect(await res.body.json()).toEqual(stats);

      // Once the admitted calls ended, a throttled slice sent again goes through.
      const reset = await request(`${emu.endpoint}/__emulator/stats`, { method: 'DELETE', headers: { [CONTROL_TOKEN_HEADER]: emu.controlToken } });
      expect(await reset.body.json()).toMatchObject({ peakConcurrency: 0, admitted: 0, throttled: { concurrency: 0, rate: 0 }, calls: 21 });

      const again = openSlice(emu, uploadId, throttled.length > 0 ? answers.findIndex((a) => a.code === 11202) + 1 : 1, randomBytes(10));
      again.finish();
      expect((await again.answer).code).toBe(0);
    } finally {
      await emu.close();
    }
  });

  it('beyond maxQps admitted calls per second: 11203, no effect; the window slides', async () => {
    const emu = await startEmulator({ maxQps: 3 });
    try {
      const answers = await Promise.all(Array.from({ length: 8 }, () => init(emu)));
      const ok = answers.filter((a) => a.code === 0);
      const limited = answers.filter((a) => a.code === 11203);
      expect(ok.length + limited.length).toBe(8);
      expect(ok.length).toBeGreaterThanOrEqual(3);
      expect(limited.length).toBeGreaterThanOrEqual(1);
      expect(limited.every((a) => a.status === 200 && a.uploadId === undefined)).toBe(true);
      expect(emu.uploads()).toHaveLength(ok.length);
      expect(emu.stats()).toMatchObject({ admitted: ok.length, throttled: { rate: limited.length, concurrency: 0 } });
      expect(emu.calls.filter((c) => c.throttled === 'rate').map((c) => c.code)).toEqual(limited.map(() => 11203));
      await new Promise((r) => setTimeout(r, 1100));
      expect((await init(emu)).code).toBe(0);
    } finally {
      await emu.close();
    }
  });

  it('a pure delay holds a call in flight: our client, 12 inits at once against maxConcurrency 3, backs off and creates exactly 12 uploads', async () => {
    const emu = await startEmulator({ maxConcurrency: 3 });
    const client = new OstClient({
      endpoint: emu.endpoint, ...emu.credentials,
      retry: { attempts: 30, baseDelayMs: 1, maxDelayMs: 40, throttledBaseDelayMs: 5 },
    });
    try {
      emu.inject({ call: 'init', delayMs: 100, times: Infinity });
      const ids = await Promise.all(Array.from({ length: 12 }, () => client.init().then((r) => r.uploadId)));
      expect(new Set(ids).size).toBe(12);
      expect(emu.uploads()).toHaveLength(12); // nothing lost, nothing created twice
      const stats = emu.stats();
      expect(stats.peakConcurrency).toBeLessThanOrEqual(3);
      expect(stats.throttled.concurrency).toBeGreaterThan(0);
      expect(stats.admitted).toBe(12);
      expect(emu.calls.filter((c) => c.code === 11202)).toHaveLength(stats.throttled.concurrency);
    } finally {
      await client.close();
      await emu.close();
    }
  });

  it('an unsigned call is refused before the gateway: it is not counted', async () => {
    const emu = await startEmulator({ maxConcurrency: 1 });
    try {
      const res = await request(`${emu.endpoint}/file/mpupload/init`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      expect(res.statusCode).toBe(401);
      await res.body.dump();
      expect(emu.stats()).toMatchObject({ admitted: 0, peakConcurrency: 0, throttled: { concurrency: 0, rate: 0 } });
    } finally {
      await emu.close();
    }
  });

  it('rejects nonsense limits', async () => {
    await expect(startEmulator({ maxConcurrency: 0 })).rejects.toThrow(/maxConcurrency/);
    await expect(startEmulator({ maxQps: 1.5 })).rejects.toThrow(/maxQps/);
  });
});
