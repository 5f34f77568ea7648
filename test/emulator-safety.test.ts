// The emulator is safe to run on a shared machine: a request that fails the signature check is answered before its
// body is read (nothing of it reaches the disk), the call log and everything in it is bounded, and the /__emulator/
// controls refuse requests without the per-start token (a web page cannot forge them).
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { request } from 'undici';
import { CONTROL_TOKEN_HEADER, formatCall, startEmulator, type OstEmulator } from '../local/emulator';
import { digestOf, EMPTY_DIGEST, signedHeaders } from './support/signing';
import { MiB } from './support/files';


async function postJson(emu: OstEmulator, path: string, json: unknown, sign = true): Promise<{ status: number; body: any }> {
  const body = Buffer.from(JSON.stringify(json));
  const headers = { 'content-type': 'application/json', ...(sign ? signedHeaders(emu, path, digestOf(body)) : {}) };
  const res = await request(`${emu.endpoint}${path}`, { method: 'POST', body, headers });
  return { status: res.statusCode, body: await res.body.json() };
}

function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('emulator safety', () => {
  let emu: OstEmulator;
  beforeAll(async () => { emu = await startEmulator(); });
  afterAll(async () => { await emu.close(); });

  describe.each([
    ['unsigned', (_e: OstEmulator, _p: string): Record<string, string> => ({})],
    ['signed with a wrong secret', (e: OstEmulator, p: string): Record<string, string> => signedHeaders(e, p, EMPTY_DIGEST, { secret: 'wrong' })],
  ])('a %s 400 MiB slice', (_what, headersFor) => {
    it('is answered 401 while its body is still arriving; nothing of it is stored', async () => {
      const path = '/file/mpupload/upload';
      const boundary = 'safetyboundary';
      const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="app_id"\r\n\r\n${emu.credentials.appId}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="data"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
      const declared = head.length + 400 * MiB;
      const req = httpRequest(`${emu.endpoint}${path}`, {
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(declared), ...headersFor(emu, path) },
      });
      req.on('error', () => undefined);
      const answered = new Promise<{ status: number; body: string }>((resolve) => {
        req.on('response', (res: IncomingMessage) => {
          let text = '';
          res.on('data', (c: Buffer) => { text += c.toString(); });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
      });
      // 1 MiB of the 400 is sent, then the client waits: the answer must come without the rest.
      req.write(Buffer.concat([head, Buffer.alloc(MiB, 7)]));
      const r = await answered;
      expect(r.status).toBe(401);
      expect(JSON.parse(r.body).message).toMatch(/^HMAC signature cannot be verified/);
      expect(readdirSync(join(emu.dir, 'tmp'))).toEqual([]);
      const entry = emu.calls[emu.calls.length - 1]!;
      expect(entry).toMatchObject({ call: 'slice', httpStatus: 401, outcome: 'answered' });
      expect(entry.dataBytes).toBeUndefined();
      req.destroy();
    });
  });

  it.each([['unsigned', false], ['signed', true]] as const)(
    'a client sending Expect: 100-continue is told to go on only when %s', async (_what, sign) => {
      const path = '/file/upload';
      const boundary = 'continueboundary';
      const body = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="app_id"\r\n\r\n${emu.credentials.appId}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="request_id"\r\n\r\ncontinue-${String(sign)}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="data"; filename="c.bin"\r\n\r\n${'z'.repeat(4096)}\r\n--${boundary}--\r\n`);
      const req = httpRequest(`${emu.endpoint}${path}`, {
        method: 'POST',
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(body.length), expect: '100-continue',
          ...(sign ? signedHeaders(emu, path, digestOf(body)) : {}),
        },
      });
      let continued = false;
      req.on('continue', () => { continued = true; req.end(body); });
      req.on('error', () => undefined);
      req.flushHeaders();
      const res = await new Promise<IncomingMessage>((resolve) => req.on('response', resolve));
      const text = await new Promise<string>((resolve) => { let t = ''; res.on('data', (c: Buffer) => { t += c.toString(); }); res.on('end', () => resolve(t)); });
      expect(continued).toBe(sign);
      expect(res.statusCode).toBe(sign ? 200 : 401);
      if (sign) expect(JSON.parse(text).code).toBe(0);
      req.destroy();
    });

  it('an unsigned JSON call is not parsed: its request_id never reaches the log', async () => {
    const r = await postJson(emu, '/file/mpupload/init', { app_id: emu.credentials.appId, request_id: 'unsigned-secret-looking-id' }, false);
    expect(r.status).toBe(401);
    const entry = emu.calls[emu.calls.length - 1]!;
    expect(entry.httpStatus).toBe(401);
    expect(entry.requestId).toBeUndefined();
  });

  it('cuts client-chosen text in a log entry to 200 characters, in JSON and multipart calls', async () => {
    const huge = 'r'.repeat(900 * 1024);
    await postJson(emu, '/file/mpupload/init', { app_id: emu.credentials.appId, request_id: huge });
    const gone = await postJson(emu, '/file/mpupload/complete', { app_id: emu.credentials.appId, request_id: 'short', upload_id: huge });
    expect(gone.body.code).toBe(10005);
    expect(gone.body.message.length).toBeLessThan(300); // the answer does not echo the whole upload_id either
    const path = '/file/mpupload/upload';
    const boundary = 'clipboundary';
    const long = 'x'.repeat(60 * 1024);
    const body = Buffer.from([
      ['app_id', emu.credentials.appId], ['request_id', long], ['upload_id', long], ['slice_id', long],
    ].map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('') +
      `--${boundary}\r\nContent-Disposition: form-data; name="data"; filename="a"\r\n\r\nabc\r\n--${boundary}--\r\n`);
    const res = await request(`${emu.endpoint}${path}`, {
      method: 'POST', body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...signedHeaders(emu, path, digestOf(body)) },
    });
    const answer = (await res.body.json()) as { code: number; message: string };
    expect(answer.code).toBe(10001);
    expect(answer.message.length).toBeLessThan(300);
    const last = emu.calls.slice(-3);
    for (const e of last) {
      for (const v of [e.requestId, e.uploadId, e.message]) expect((v ?? '').length).toBeLessThanOrEqual(220);
      expect(formatCall(e).length).toBeLessThan(1000);
    }
    expect(last[0]!.requestId).toMatch(/^r{200}…\(921600 chars\)$/);
  });

  it('keeps at most maxCallLog entries and counts the dropped ones', async () => {
    const small = await startEmulator({ maxCallLog: 25 });
    try {
      for (let i = 0; i < 60; i++) await postJson(small, '/file/mpupload/init', { app_id: small.credentials.appId, request_id: `cap-${i}` }, i % 2 === 0);
      expect(small.calls).toHaveLength(25);
      expect(small.calls[0]!.seq).toBe(36);
      expect(small.calls[24]!.seq).toBe(60);
      expect(small.stats()).toMatchObject({ calls: 60, callsKept: 25, callsDropped: 35 });
    } finally {
      await small.close();
    }
  });

  it('does not grow with large request_ids: 80 calls of ~1 MiB each, half of them unsigned', async () => {
    const huge = (i: number): string => `${i}-`.padEnd(1000 * 1024, 'q');
    // Warm up, then measure what stays reachable after the calls.
    await postJson(emu, '/file/mpupload/init', { app_id: emu.credentials.appId, request_id: huge(-1) });
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 80; i++) {
      await postJson(emu, '/file/mpupload/init', { app_id: emu.credentials.appId, request_id: huge(i) }, i % 2 === 0);
    }
    gc();
    const grown = (process.memoryUsage().heapUsed - before) / MiB;
    process.stdout.write(`emulator safety: heap grew ${grown.toFixed(1)} MiB over 80 calls with ~1 MiB request_ids\n`);
    expect(grown).toBeLessThan(20);
  });

  describe('controls', () => {
    const faults = `/__emulator/faults`;

    it('refuse a cross-site text/plain POST (what a web page can send without a preflight)', async () => {
      const res = await request(`${emu.endpoint}${faults}`, {
        method: 'POST', body: JSON.stringify({ call: 'init', code: 10002, times: 'Infinity' }),
        headers: { 'content-type': 'text/plain', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      });
      expect(res.statusCode).toBe(403);
      expect(((await res.body.json()) as { message: string }).message).toMatch(/x-emulator-token/);
      expect(emu.faults()).toEqual([]);
      expect((await postJson(emu, '/file/mpupload/init', { app_id: emu.credentials.appId, request_id: 'after-csrf' })).body.code).toBe(0);
    });

    it.each([
      ['GET', '/__emulator/calls'], ['GET', '/__emulator/uploads'], ['GET', '/__emulator/orphans'], ['GET', '/__emulator/stats'],
      ['GET', faults], ['DELETE', faults], ['POST', faults], ['DELETE', '/__emulator/stats'],
    ] as const)('%s %s needs the token', async (method, path) => {
      for (const headers of [{}, { [CONTROL_TOKEN_HEADER]: 'wrong' }, { [CONTROL_TOKEN_HEADER]: `${emu.controlToken}x` }]) {
        const res = await request(`${emu.endpoint}${path}`, { method, headers, body: method === 'POST' ? '{"call":"init","code":10002}' : undefined });
        expect(res.statusCode).toBe(403);
        await res.body.dump();
      }
      expect(emu.faults()).toEqual([]);
      const ok = await request(`${emu.endpoint}${path}`, {
        method, headers: { [CONTROL_TOKEN_HEADER]: emu.controlToken }, body: method === 'POST' ? '{"call":"init","code":10002}' : undefined,
      });
      expect(ok.statusCode).toBe(200);
      await ok.body.dump();
      emu.clearFaults();
    });

    it('the token is random per start unless given', async () => {
      const other = await startEmulator({ controlToken: 'a-token-chosen-by-the-test' });
      try {
        expect(emu.controlToken).toMatch(/^[0-9a-f]{32}$/);
        expect(other.controlToken).toBe('a-token-chosen-by-the-test');
        expect(other.banner).not.toContain(other.controlToken);
      } finally {
        await other.close();
      }
      await expect(startEmulator({ controlToken: 'short' })).rejects.toThrow(/controlToken/);
    });
  });
});
