// lib/workflow/attempt-markers.ts: the keys each marker uses, and no markers without an execution name.
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { mockClient } from 'aws-sdk-client-mock';
import { forExecution, forUpload, UNKNOWN_EXECUTION } from '../lib/workflow/attempt-markers';

const s3Mock = mockClient(S3Client);
const store = () => ({ s3: new S3Client({ region: 'us-east-1' }), settings: { resultsBucket: 'rec', resultsPrefix: 'p/' }, bucket: 'src' });

beforeEach(() => s3Mock.reset());

it('has no execution markers without an execution name', () => {
  expect(forExecution(store(), undefined, 0)).toBeUndefined();
  expect(forExecution(store(), UNKNOWN_EXECUTION, 0)).toBeUndefined();
});

it('keys init and upload markers by execution and restarts, complete markers by upload', async () => {
  s3Mock.on(PutObjectCommand).resolves({});
  s3Mock.on(DeleteObjectCommand).resolves({});
  s3Mock.on(GetObjectCommand).rejects(Object.assign(new Error('no'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }));
  const markers = forExecution(store(), 'exec-1', 2)!;
  expect(await markers.init.read()).toBeUndefined();
  await markers.init.write('up-1');
  expect(await markers.upload.begin()).toBe(false);
  await markers.upload.clear();
  expect(await forUpload(store(), 'up-1').claim()).toBe(false);
  const keys = s3Mock.calls().map((c) => `${c.args[0].constructor.name} ${(c.args[0].input as { Bucket: string; Key: string }).Bucket}/${(c.args[0].input as { Key: string }).Key}`);
  expect(keys).toEqual([
    'GetObjectCommand rec/p/attempts/init/exec-1/2',
    'PutObjectCommand rec/p/attempts/init/exec-1/2',
    'PutObjectCommand rec/p/attempts/upload/exec-1/2',
    'DeleteObjectCommand rec/p/attempts/upload/exec-1/2',
    'PutObjectCommand rec/p/attempts/complete/up-1',
  ]);
});

it('answers true when a marker was already there (412)', async () => {
  s3Mock.on(PutObjectCommand).rejects(Object.assign(new Error('exists'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } }));
  expect(await forUpload(store(), 'up-1').claim()).toBe(true);
  expect(await forExecution(store(), 'exec-1', 0)!.upload.begin()).toBe(true);
});

it('takes an init marker larger than a marker can be as absent, without reading it whole', async () => {
  let served = 0;
  // 64 MiB of a valid-looking marker, handed out a chunk at a time
  async function* huge() {
    yield Buffer.from('{"uploadId":"planted","pad":"');
    for (let i = 0; i < 1024; i++) { served++; yield Buffer.alloc(64 * 1024, 0x61); }
    yield Buffer.from('"}');
  }
  s3Mock.on(GetObjectCommand).callsFake(() => {
    // a body as the SDK hands it out: a stream that can also be read whole
    const body: Readable & { transformToString?: () => Promise<string> } = Readable.from(huge());
    body.transformToString = async () => { const chunks: Buffer[] = []; for await (const c of body) chunks.push(c as Buffer); return Buffer.concat(chunks).toString(); };
    return { Body: body };
  });
  const warnings: string[] = [];
  const markers = forExecution({ ...store(), log: { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (m: string) => { warnings.push(m); } } }, 'exec-1', 0)!;
  expect(await markers.init.read()).toBeUndefined();
  expect(served).toBeLessThan(4);
  expect(warnings).toEqual([expect.stringContaining('init marker')]);
});
