// The fixes the fault suite led to, each proven on its own (the suite proves them again end to end):
// - the OST client's retries and timeouts come from the environment (the suite needs short ones);
// - a complete whose answer was lost, then 10005, is OstCompleteUncertainError (never a restart);
// - Complete's attempt marker: a conditional PutObject the embedded S3 honours like S3 (If-None-Match: *).
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { loadOstTuning } from '../lib/config/settings';
import { OstClient } from '../lib/ost/client';
import { OstCompleteUncertainError, OstUploadExpiredError } from '../lib/ost/errors';
import { markAttempt } from '../lib/workflow/attempt-markers';
import { startEmulator, type OstEmulator } from '../local/emulator';
import { startEmbeddedS3, type EmbeddedS3 } from '../local/aws/s3';
import { Readable } from 'node:stream';

describe('OST client tuning from the environment', () => {
  it('is empty by default (the client keeps its defaults) and read when set', () => {
    expect(loadOstTuning({})).toEqual({ retry: { attempts: undefined, baseDelayMs: undefined, maxDelayMs: undefined, throttledBaseDelayMs: undefined }, timeouts: { connectMs: undefined, headersMs: undefined, bodyMs: undefined } });
    expect(loadOstTuning({ OST_RETRY_ATTEMPTS: '3', OST_RETRY_BASE_MS: '10', OST_RETRY_MAX_DELAY_MS: '100', OST_RETRY_THROTTLED_BASE_MS: '40', OST_RESPONSE_TIMEOUT_MS: '1500', OST_CONNECT_TIMEOUT_MS: '900' })).toEqual({
      retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 100, throttledBaseDelayMs: 40 }, timeouts: { connectMs: 900, headersMs: 1500, bodyMs: 1500 },
    });
  });
  it.each([['OST_RETRY_ATTEMPTS', '0'], ['OST_RETRY_BASE_MS', 'x'], ['OST_RESPONSE_TIMEOUT_MS', '0']])('refuses %s=%j naming it', (name, value) => {
    expect(() => loadOstTuning({ [name]: value })).toThrow(expect.objectContaining({ name: 'ConfigError', setting: name }));
  });
});

describe('complete with a lost answer', () => {
  let emu: OstEmulator;
  beforeAll(async () => { emu = await startEmulator({ minSliceSize: 1 }); });
  afterAll(() => emu.close());
  const client = () => new OstClient({ endpoint: emu.endpoint, ...emu.credentials, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 }, timeouts: { headersMs: 300 } });
  const oneSlice = async (c: OstClient) => {
    const { uploadId } = await c.init();
    const src = { size: 3, name: 'a.bin', open: async () => Readable.from([Buffer.from('abc')]) };
    await c.uploadSlice(uploadId, 1, src, { start: 0, end: 3 });
    return uploadId;
  };

  it('completed at OST, answer lost, retried → 10005 → OstCompleteUncertainError, and OST holds one file', async () => {
    const c = client();
    const uploadId = await oneSlice(c);
    emu.inject({ call: 'complete', delayMs: 2500 }); // takes effect, answers after the client gave up
    const err = await c.complete(uploadId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OstCompleteUncertainError);
    expect(err).toMatchObject({ ostCode: 10005, call: 'complete', uploadId });
    expect(emu.uploads().find((u) => u.uploadId === uploadId)).toMatchObject({ state: 'completed', completes: 1 });
    await c.close();
  });

  it('a 10005 on a first, clean attempt is still OstUploadExpiredError (restartable)', async () => {
    const c = client();
    const uploadId = await oneSlice(c);
    emu.inject({ call: 'complete', code: 10005 });
    await expect(c.complete(uploadId)).rejects.toBeInstanceOf(OstUploadExpiredError);
    await expect(c.complete(uploadId, { previousAttempt: true })).resolves.toMatchObject({ url: expect.any(String) });
    await c.close();
  });

  it('previousAttempt (a Complete run again by the state machine) turns 10005 into OstCompleteUncertainError', async () => {
    const c = client();
    const uploadId = await oneSlice(c);
    await c.complete(uploadId); // the first invocation completed, then crashed
    await expect(c.complete(uploadId, { previousAttempt: true })).rejects.toBeInstanceOf(OstCompleteUncertainError);
    await c.close();
  });
});

describe('attempt markers (conditional PutObject)', () => {
  let s3: EmbeddedS3;
  beforeAll(async () => { s3 = await startEmbeddedS3({ buckets: ['b'] }); });
  afterAll(() => s3.close());

  it('embedded S3 refuses If-None-Match: * over an existing object with 412, as S3 does', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: 'x', IfNoneMatch: '*' }));
    await expect(s3.client.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: 'y', IfNoneMatch: '*' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
  });

  it('a GET in progress keeps serving the version it started with when the object is overwritten', async () => {
    const a = Buffer.alloc(8 * 1024 * 1024, 0x61);
    await s3.client.send(new PutObjectCommand({ Bucket: 'b', Key: 'big', Body: a }));
    const res = await s3.client.send(new GetObjectCommand({ Bucket: 'b', Key: 'big' }));
    const chunks: Buffer[] = [];
    let overwritten = false;
    for await (const c of res.Body as AsyncIterable<Buffer>) {
      chunks.push(c);
      if (!overwritten) { overwritten = true; await s3.client.send(new PutObjectCommand({ Bucket: 'b', Key: 'big', Body: Buffer.alloc(4 * 1024 * 1024, 0x62) })); }
    }
    expect(Buffer.concat(chunks).equals(a)).toBe(true);
  });

  it('markAttempt: false the first time, true after', async () => {
    const s = { resultsBucket: undefined, resultsPrefix: 'p/' };
    expect(await markAttempt(s3.client, s, 'b', 'complete/up_1')).toBe(false);
    expect(await markAttempt(s3.client, s, 'b', 'complete/up_1')).toBe(true);
    expect(await markAttempt(s3.client, s, 'b', 'complete/up_2')).toBe(false);
  });
});
