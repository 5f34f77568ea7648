// Which clients the emulator accepts, in its default mode (what the live service demonstrably accepts) and in
// --strict mode: a client written here that reproduces the vendor's Python demo on the wire, and our own OstClient
// with both of its multipart digest policies.
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { FileSource } from '../lib/sources/file';
import { OstClient } from '../lib/ost/client';
import { OstAuthError } from '../lib/ost/errors';
import { send } from '../lib/ost/send';
import { startEmulator, type OstEmulator } from '../local/emulator';
import { KiB, MiB, sampleFile, sha256File, sha256Url, tempDir } from './support/files';
import { EMPTY_DIGEST, signedHeaders } from './support/signing';
import { urllib3Multipart } from './support/public-clients';

const sha256hex = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

// ---------------------------------------------------------------------------------------------------------------
// The vendor demo's wire format, from its description (docs/ost-api.md, "The vendor demo on the wire"):
// - `digest: SHA256=SHA-256=<base64 sha256 of the empty string>` on every call, whatever the body;
// - the HMAC over `host`, `date`, the request line and that digest header as sent;
// - one minute-resolution request_id (`%Y%m%d%H%M`) for every call of an upload;
// - JSON bodies as Python's json.dumps writes them (`{"k": "v", "k2": "v2"}`);
// - multipart bodies as urllib3's encode_multipart_formdata builds them: a 32-hex-digit boundary, fields in the
//   order data, app_id, request_id, upload_id, slice_id, the file part with a guessed Content-Type, plain fields
//   with a Content-Disposition line only, each part ended by CRLF, then `--boundary--\r\n`.

const DEMO_DIGEST = `SHA256=${EMPTY_DIGEST}`;

/** time.strftime("%Y%m%d%H%M") */
function minuteRequestId(d = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}${p(d.getHours())}${p(d.getMinutes())}`;
}

/** json.dumps(obj) with its default separators. */
function pythonJson(obj: Record<string, string>): Buffer {
  return Buffer.from(`{${Object.entries(obj).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ')}}`);
}


interface DemoAnswer { status: number; body: { code?: number; message?: string; sid?: string; data?: Record<string, string> } }

class VendorDemoClient {
  readonly requestId = minuteRequestId();
  constructor(private readonly emu: OstEmulator) {}

  private post(path: string, body: Buffer, contentType: string): Promise<DemoAnswer> {
    const url = new URL(`${this.emu.endpoint}${path}`);
    // format_date_time(mktime(now)): RFC 1123, GMT
    const { date, authorization } = signedHeaders(this.emu, path, DEMO_DIGEST);
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, {
        method: 'POST',
        // As python-requests sends the demo's header dict: its own defaults first, then the demo's headers.
        headers: {
          'User-Agent': 'python-requests/2.31.0', 'Accept-Encoding': 'gzip, deflate', Accept: 'application/json',
          Connection: 'keep-alive', 'Content-Type': contentType, Method: 'POST', Host: url.host, Date: date,
          Digest: DEMO_DIGEST, Authorization: authorization, 'Content-Length': String(body.length),
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  private json(path: string, fields: Record<string, string>): Promise<DemoAnswer> {
    return this.post(path, pythonJson({ app_id: this.emu.credentials.appId, request_id: this.requestId, ...fields }), 'application/json');
  }

  upload(filename: string, data: Buffer): Promise<DemoAnswer> {
    const { body, contentType } = urllib3Multipart([
      ['data', [filename, data]], ['app_id', this.emu.credentials.appId], ['request_id', this.requestId],
    ]);
    return this.post('/file/upload', body, contentType);
  }

  init(): Promise<DemoAnswer> { return this.json('/file/mpupload/init', { cloud_id: '0' }); }

  slice(uploadId: string, sliceId: number, filename: string, data: Buffer): Promise<DemoAnswer> {
    const { body, contentType } = urllib3Multipart([
      ['data', [filename, data]], ['app_id', this.emu.credentials.appId], ['request_id', this.requestId],
      ['upload_id', uploadId], ['slice_id', sliceId],
    ]);
    return this.post('/file/mpupload/upload', body, contentType);
  }

  complete(uploadId: string): Promise<DemoAnswer> { return this.json('/file/mpupload/complete', { upload_id: uploadId }); }
}

async function served(url: string): Promise<string> {
  const got = await sha256Url(url);
  return got.sha256;
}

describe('the vendor demo wire format', () => {
  it('builds multipart and JSON bodies exactly as urllib3 2.7.0 and json.dumps do', () => {
    // Captured from: encode_multipart_formdata({"data": ("speech.wav", b"ABC"), "app_id": "app", "request_id":
    // "202612010936", "upload_id": "up_1", "slice_id": 2}, boundary="0123456789abcdef0123456789abcdef")
    const b = '0123456789abcdef0123456789abcdef';
    const expected = `--${b}\r\nContent-Disposition: form-data; name="data"; filename="speech.wav"\r\nContent-Type: audio/x-wav\r\n\r\nABC\r\n` +
      `--${b}\r\nContent-Disposition: form-data; name="app_id"\r\n\r\napp\r\n` +
      `--${b}\r\nContent-Disposition: form-data; name="request_id"\r\n\r\n202612010936\r\n` +
      `--${b}\r\nContent-Disposition: form-data; name="upload_id"\r\n\r\nup_1\r\n` +
      `--${b}\r\nContent-Disposition: form-data; name="slice_id"\r\n\r\n2\r\n--${b}--\r\n`;
    const got = urllib3Multipart([['data', ['speech.wav', Buffer.from('ABC')]], ['app_id', 'app'], ['request_id', '202612010936'], ['upload_id', 'up_1'], ['slice_id', 2]], b);
    expect(got.body.toString('latin1')).toBe(expected);
    expect(got.contentType).toBe(`multipart/form-data; boundary=${b}`);
    expect(pythonJson({ app_id: 'a', request_id: 'r', cloud_id: '0' }).toString()).toBe('{"app_id": "a", "request_id": "r", "cloud_id": "0"}');
  });

  describe('default mode (what the live service accepts)', () => {
    let emu: OstEmulator;
    beforeAll(async () => { emu = await startEmulator(); });
    afterAll(async () => { await emu.close(); });

    it('uploads a file whole; it is served byte-exact', async () => {
      const demo = new VendorDemoClient(emu);
      const content = randomBytes(300 * KiB + 11);
      const r = await demo.upload('speech.wav', content);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ code: 0, message: 'success', sid: expect.stringMatching(/^ost/) });
      expect(r.body.data!.url).toMatch(/\/speech\.wav$/);
      expect(await served(r.body.data!.url!)).toBe(sha256hex(content));
    });

    it('uploads 3 slices (5 MiB, 5 MiB, the rest) with one request_id for every call; served byte-exact', async () => {
      const demo = new VendorDemoClient(emu);
      const slices = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(777)];
      const seq0 = emu.stats().calls;
      const init = await demo.init();
      expect(init.body.code).toBe(0);
      const uploadId = init.body.data!.upload_id!;
      for (const [i, s] of slices.entries()) {
        const r = await demo.slice(uploadId, i + 1, 'speech.wav', s);
        expect([r.status, r.body.code, r.body.message]).toEqual([200, 0, 'success']);
      }
      const done = await demo.complete(uploadId);
      expect(done.body.code).toBe(0);
      expect(await served(done.body.data!.url!)).toBe(sha256hex(Buffer.concat(slices)));
      // The reused request_id is accepted; the call log flags it for whoever reads it.
      const calls = emu.calls.filter((c) => c.seq > seq0);
      expect(calls.map((c) => [c.call, c.code, c.requestId])).toEqual([
        ['init', 0, demo.requestId], ['slice', 0, demo.requestId], ['slice', 0, demo.requestId], ['slice', 0, demo.requestId],
        ['complete', 0, demo.requestId],
      ]);
      expect(calls.slice(1).every((c) => c.duplicateRequestId)).toBe(true);
      expect(calls.map((c) => c.sliceId)).toEqual([undefined, 1, 2, 3, undefined]);
    });

    it('is still refused what the service refuses: a small middle slice, a gap, a slice id out of range, a wrong secret', async () => {
      const demo = new VendorDemoClient(emu);
      const uploadId = (await demo.init()).body.data!.upload_id!;
      expect((await demo.slice(uploadId, 1, 'a.wav', randomBytes(5 * MiB - 1))).body.code).toBe(0);
      expect((await demo.slice(uploadId, 3, 'a.wav', randomBytes(10))).body.code).toBe(0);
      expect((await demo.complete(uploadId)).body).toMatchObject({ code: 10001, message: expect.stringMatching(/missing 2/) });
      expect((await demo.slice(uploadId, 2, 'a.wav', randomBytes(10))).body.code).toBe(0);
      expect((await demo.complete(uploadId)).body).toMatchObject({ code: 10001, message: expect.stringMatching(/slice 1/) });
      expect((await demo.slice(uploadId, 0, 'a.wav', randomBytes(10))).body.code).toBe(10001);
      expect((await demo.slice(uploadId, 10_001, 'a.wav', randomBytes(10))).body.code).toBe(10001);
      const wrong = new VendorDemoClient({ ...emu, credentials: { ...emu.credentials, apiSecret: 'not-the-secret' } } as OstEmulator);
      expect((await wrong.init()).status).toBe(401);
      const stranger = new VendorDemoClient({ ...emu, credentials: { ...emu.credentials, appId: 'someone-else' } } as OstEmulator);
      expect((await stranger.init()).body.code).toBe(10001);
    });
  });

  describe('--strict', () => {
    let emu: OstEmulator;
    beforeAll(async () => { emu = await startEmulator({ strict: true }); });
    afterAll(async () => { await emu.close(); });

    it('refuses the same client on every call, before anything takes effect', async () => {
      const demo = new VendorDemoClient(emu);
      const upload = await demo.upload('speech.wav', randomBytes(1000));
      expect(upload).toEqual({ status: 401, body: { message: 'HMAC signature cannot be verified' } });
      expect((await demo.init()).status).toBe(401);
      expect((await demo.slice('up_000000000000000000000000', 1, 'a.wav', randomBytes(10))).status).toBe(401);
      expect(emu.uploads()).toEqual([]);
    });
  });
});

describe('our OstClient against both modes', () => {
  let dir: { dir: string; cleanup: () => void };
  let small: string;
  let big: string;
  const SLICE = 64 * KiB;
  const plan = { sliceSize: SLICE, threshold: 100 * KiB, minSliceSize: SLICE };
  beforeAll(async () => {
    dir = tempDir();
    small = (await sampleFile(50 * KiB + 3, { dir: dir.dir, name: 'small.bin' })).path;
    big = (await sampleFile(3 * SLICE + 99, { dir: dir.dir, name: 'big.bin' })).path;
  });
  afterAll(() => dir.cleanup());

  describe.each([
    ['default', false, 'empty'], ['default', false, 'body'], ['strict', true, 'empty'], ['strict', true, 'body'],
  ] as const)('%s mode, multipart digest %s', (_mode, strict, multipartDigest) => {
    let emu: OstEmulator;
    let client: OstClient;
    beforeAll(async () => {
      emu = await startEmulator({ strict, minSliceSize: SLICE });
      client = new OstClient({ endpoint: emu.endpoint, ...emu.credentials, multipartDigest });
    });
    afterAll(async () => { await client.close(); await emu.close(); });

    it('uploads a small file whole and a large one in slices, byte-exact, with no refused call', async () => {
      const simple = await send(client, await FileSource.fromPath(small), { plan });
      expect(simple.mode).toBe('simple');
      expect((await sha256Url(simple.url)).sha256).toBe(await sha256File(small));
      const multi = await send(client, await FileSource.fromPath(big), { plan });
      expect(multi).toMatchObject({ mode: 'multipart', slices: 4, restarts: 0 });
      expect((await sha256Url(multi.url)).sha256).toBe(await sha256File(big));
      expect(emu.calls.map((c) => c.httpStatus)).toEqual(emu.calls.map(() => 200));
      expect(emu.calls.some((c) => c.duplicateRequestId)).toBe(false);
    });
  });

  it('gets OstAuthError, not a transport error, when its secret is wrong on a large slice (answered before the body)', async () => {
    const emu = await startEmulator({ minSliceSize: SLICE });
    const good = new OstClient({ endpoint: emu.endpoint, ...emu.credentials });
    const bad = new OstClient({ endpoint: emu.endpoint, ...emu.credentials, apiSecret: 'wrong', retry: { attempts: 1 } });
    try {
      const { uploadId } = await good.init();
      const file = (await sampleFile(8 * MiB, { dir: dir.dir, name: 'eight.bin' })).path;
      const source = await FileSource.fromPath(file);
      await expect(bad.uploadSlice(uploadId, 1, source, { start: 0, end: 8 * MiB })).rejects.toBeInstanceOf(OstAuthError);
      expect(emu.uploads()[0]!.sliceIds).toEqual([]);
    } finally {
      await Promise.all([good.close(), bad.close()]);
      await emu.close();
    }
  });
});
