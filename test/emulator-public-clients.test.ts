// The emulator against the public clients of the service (test/support/public-clients.ts): each one's wire form,
// simple and multipart, served byte-exact in the default mode (what the live service accepts), and --strict
// refusing exactly the ones whose digest does not agree with the body.
import { createHash, randomBytes } from 'node:crypto';
import { startEmulator, type OstEmulator } from '../local/emulator';
import {
  fastJson, goDemo, goMultipart, javaDemo, okHttpMultipart, pythonJson, pythonNoSpace, signedPost, speedTranscriptionDemo,
  urllib3Multipart, type Answer, type Credentials, type WireStyle,
} from './support/public-clients';
import { KiB, MiB, sha256Url } from './support/files';

const sha256hex = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
type Fields = Array<[string, string | number | [string, Buffer]]>;

/** One public client: its wire style, its encodings and its request ids, as its source writes them. */
interface PublicClient {
  style: WireStyle;
  sliceSize: number;
  json(obj: Record<string, string>): { body: Buffer; contentType: string };
  /** The upload call's fields in the client's order (file name and bytes given). */
  uploadFields(c: Credentials, requestId: string, name: string, data: Buffer): Fields;
  sliceFields(c: Credentials, requestId: string, uploadId: string, sliceId: number, name: string, data: Buffer): Fields;
  multipart(fields: Fields): { body: Buffer; contentType: string };
  /** The request_id of each call. */
  requestId(call: 'upload' | 'init' | 'slice' | 'complete'): string;
}

const pyStamp = (): string => new Date().toISOString().replace(/\D/g, '').slice(0, 14); // %Y%m%d%H%M%S, near enough

const CLIENTS: PublicClient[] = [
  {
    // FileCaller: literal request ids, fields request_id, app_id, upload_id, slice_id, data (file name = slice number)
    style: javaDemo, sliceSize: 15 * MiB,
    json: (o) => ({ body: fastJson(o), contentType: 'application/json;charset=utf-8' }),
    uploadFields: (c, r, name, data) => [['request_id', r], ['app_id', c.appId], ['data', [name, data]]],
    sliceFields: (c, r, u, id, _name, data) => [['request_id', r], ['app_id', c.appId], ['upload_id', u], ['slice_id', id], ['data', [String(id), data]]],
    multipart: (f) => okHttpMultipart(f),
    requestId: (call) => ({ upload: '2021121315202311', init: '20211213155434', slice: '20211213152023', complete: '2021164834' })[call],
  },
  {
    style: goDemo, sliceSize: 5 * MiB,
    json: (o) => ({ body: Buffer.from(JSON.stringify(Object.fromEntries(Object.entries(o).sort()))), contentType: 'application/json' }),
    uploadFields: (c, r, name, data) => [['app_id', c.appId], ['request_id', r], ['data', [name, data]]],
    sliceFields: (c, r, u, id, name, data) => [['app_id', c.appId], ['request_id', r], ['upload_id', u], ['slice_id', id], ['data', [name, data]]],
    multipart: (f) => goMultipart(f),
    requestId: () => randomBytes(8).toString('hex'),
  },
  {
    style: pythonNoSpace, sliceSize: 5 * MiB,
    json: (o) => ({ body: pythonJson(o), contentType: 'application/json' }),
    uploadFields: (c, r, name, data) => [['data', [name, data]], ['app_id', c.appId], ['request_id', r]],
    sliceFields: (c, r, u, id, name, data) => [['data', [name, data]], ['app_id', c.appId], ['request_id', r], ['upload_id', u], ['slice_id', id]],
    multipart: (f) => urllib3Multipart(f),
    requestId: pyStamp,
  },
  {
    // transcribe.py: the file part named by the whole path it was opened with
    style: speedTranscriptionDemo, sliceSize: 5 * MiB,
    json: (o) => ({ body: pythonJson(o), contentType: 'application/json' }),
    uploadFields: (c, r, name, data) => [['data', [`/home/user/audio/${name}`, data]], ['app_id', c.appId], ['request_id', r]],
    sliceFields: (c, r, u, id, name, data) => [['data', [`/home/user/audio/${name}`, data]], ['app_id', c.appId], ['request_id', r], ['upload_id', u], ['slice_id', id]],
    multipart: (f) => urllib3Multipart(f),
    requestId: pyStamp,
  },
];

async function call(emu: OstEmulator, client: PublicClient, path: string, enc: { body: Buffer; contentType: string }, creds = emu.credentials): Promise<Answer> {
  return signedPost(client.style, emu.endpoint, creds, path, enc.body, enc.contentType);
}

async function simpleUpload(emu: OstEmulator, client: PublicClient, name: string, data: Buffer): Promise<Answer> {
  return call(emu, client, '/file/upload', client.multipart(client.uploadFields(emu.credentials, client.requestId('upload'), name, data)));
}

/** init, the slices of `content` in the client's slice size, complete; every answer in order. */
async function multipartUpload(emu: OstEmulator, client: PublicClient, name: string, content: Buffer): Promise<Answer[]> {
  const c = emu.credentials;
  const init = await call(emu, client, '/file/mpupload/init', client.json({ app_id: c.appId, request_id: client.requestId('init') }));
  if (init.body.code !== 0) return [init];
  const uploadId = init.body.data!.upload_id!;
  const answers = [init];
  for (let start = 0, id = 1; start < content.length; start += client.sliceSize, id++) {
    const data = content.subarray(start, start + client.sliceSize);
    answers.push(await call(emu, client, '/file/mpupload/upload', client.multipart(client.sliceFields(c, client.requestId('slice'), uploadId, id, name, data))));
  }
  answers.push(await call(emu, client, '/file/mpupload/complete', client.json({ app_id: c.appId, request_id: client.requestId('complete'), upload_id: uploadId })));
  return answers;
}

describe('public clients on the wire', () => {
  it('builds multipart bodies exactly as OkHttp and Go\'s mime/multipart do', () => {
    const b = '0a1b2c3d-0000-4000-8000-000000000000';
    expect(okHttpMultipart([['request_id', 'r1'], ['slice_id', 2], ['data', ['2', Buffer.from('ABC')]]], b).body.toString('latin1')).toBe(
      `--${b}\r\nContent-Disposition: form-data; name="request_id"\r\nContent-Length: 2\r\n\r\nr1\r\n` +
      `--${b}\r\nContent-Disposition: form-data; name="slice_id"\r\nContent-Length: 1\r\n\r\n2\r\n` +
      `--${b}\r\nContent-Disposition: form-data; name="data"; filename="2"\r\nContent-Type: application/octet-stream\r\nContent-Length: 3\r\n\r\nABC\r\n` +
      `--${b}--\r\n`);
    const g = 'f'.repeat(60);
    expect(goMultipart([['app_id', 'a'], ['data', ['x.wav', Buffer.from('AB')]]], g).body.toString('latin1')).toBe(
      `--${g}\r\nContent-Disposition: form-data; name="app_id"\r\n\r\na` +
      `\r\n--${g}\r\nContent-Disposition: form-data; name="data"; filename="x.wav"\r\nContent-Type: application/octet-stream\r\n\r\nAB` +
      `\r\n--${g}--\r\n`);
    expect(fastJson({ request_id: 'r', app_id: 'a', cloud_id: undefined }).toString()).toBe('{"app_id":"a","request_id":"r"}');
  });

  describe('default mode (what the live service accepts)', () => {
    let emu: OstEmulator;
    beforeAll(async () => { emu = await startEmulator(); });
    afterAll(async () => { await emu.close(); });

    describe.each(CLIENTS.map((c) => [c.style.name, c] as const))('%s', (_name, client) => {
      it('uploads a file whole; it is served byte-exact under its base name', async () => {
        const content = randomBytes(200 * KiB + 7);
        const r = await simpleUpload(emu, client, 'speech.wav', content);
        expect([r.status, r.body.code, r.body.message]).toEqual([200, 0, 'success']);
        expect(r.body.data!.url).toMatch(/\/speech\.wav$/);
        expect((await sha256Url(r.body.data!.url!)).sha256).toBe(sha256hex(content));
      });

      it('uploads in its own slice size (init, slices, complete); served byte-exact', async () => {
        const content = randomBytes(2 * client.sliceSize + 333);
        const answers = await multipartUpload(emu, client, 'long.wav', content);
        expect(answers.map((a) => [a.status, a.body.code])).toEqual(answers.map(() => [200, 0]));
        expect(answers).toHaveLength(5);
        expect((await sha256Url(answers[4]!.body.data!.url!)).sha256).toBe(sha256hex(content));
      });

      it('is refused 401 with a wrong secret, before anything takes effect', async () => {
        const before = emu.uploads().length;
        const wrong = { ...emu.credentials, apiSecret: 'not-the-secret' };
        const r = await call(emu, client, '/file/mpupload/init', client.json({ app_id: wrong.appId, request_id: 'r' }), wrong);
        expect(r).toMatchObject({ status: 401, body: { message: 'HMAC signature cannot be verified' } });
        expect(emu.uploads()).toHaveLength(before);
      });
    });

    it('answers slice_id 0 as the live service does: "sliceId must not be empty"', async () => {
      const client = CLIENTS[0]!;
      const init = await call(emu, client, '/file/mpupload/init', client.json({ app_id: emu.credentials.appId, request_id: 'r0' }));
      const uploadId = init.body.data!.upload_id!;
      const r = await call(emu, client, '/file/mpupload/upload', client.multipart(client.sliceFields(emu.credentials, 'r0', uploadId, 0, 'a', randomBytes(10))));
      expect(r).toMatchObject({ status: 200, body: { code: 10001, message: 'sliceId must not be empty' } });
    });

    it('refuses an authorization in another scheme, or missing a parameter', async () => {
      const bearer: WireStyle = { ...goDemo, authorization: (k, s) => `Bearer api_key="${k}", algorithm="hmac-sha256", headers="host date request-line digest", signature="${s}"` };
      const noHeaders: WireStyle = { ...goDemo, authorization: (k, s) => `hmac api_key="${k}", algorithm="hmac-sha256", signature="${s}"` };
      for (const style of [bearer, noHeaders]) {
        const r = await signedPost(style, emu.endpoint, emu.credentials, '/file/mpupload/init', Buffer.from('{}'), 'application/json');
        expect(r.status).toBe(401);
      }
    });

    it('refuses a signature that leaves out host, in the gateway\'s words', async () => {
      const noHost: WireStyle = { ...goDemo, authorization: (k, s) => `hmac api_key="${k}", algorithm="hmac-sha256", headers="date request-line digest", signature="${s}"` };
      const r = await signedPost(noHost, emu.endpoint, emu.credentials, '/file/mpupload/init', Buffer.from('{}'), 'application/json');
      expect(r).toMatchObject({ status: 401, body: { message: "HMAC signature cannot be verified:enforced header 'host' not used for signature creation" } });
    });
  });

  describe('--strict (the digest must be the body\'s, or the empty string\'s on multipart calls)', () => {
    let emu: OstEmulator;
    beforeAll(async () => { emu = await startEmulator({ strict: true }); });
    afterAll(async () => { await emu.close(); });

    it.each([
      // [client, simple upload status, init status]
      [javaDemo.name, 200, 401], // the empty body's digest: right for a streamed multipart body, wrong for JSON
      [goDemo.name, 200, 200],
      [pythonNoSpace.name, 200, 200],
      [speedTranscriptionDemo.name, 401, 401], // SHA-256= twice is not a digest
    ])('%s: simple upload %i, init %i', async (name, uploadStatus, initStatus) => {
      const client = CLIENTS.find((c) => c.style.name === name)!;
      const content = randomBytes(50 * KiB);
      const up = await simpleUpload(emu, client, 'a.wav', content);
      expect(up.status).toBe(uploadStatus);
      if (uploadStatus === 200) expect((await sha256Url(up.body.data!.url!)).sha256).toBe(sha256hex(content));
      const init = await call(emu, client, '/file/mpupload/init', client.json({ app_id: emu.credentials.appId, request_id: 'r' }));
      expect(init.status).toBe(initStatus);
    });
  });
});
