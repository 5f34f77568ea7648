// Real S3 (Ceph radosgw on loopback, scripts/radosgw-up.sh): what s3rver cannot prove — ranged GETs, If-Match
// answered with 412, HEAD after delete — through lib/sources/s3.ts, and one whole forward through the local
// pipeline with S3_ENDPOINT pointing at radosgw. Skipped, visibly, where radosgw is not installed.
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { headSource, S3RangeSource } from '../lib/sources/s3';
import { SourceChangedError } from '../lib/ost/errors';
import { localS3Client } from '../local/aws/s3';
import { sha256Buffer, sha256Url, sampleFile, tempDir, MiB } from './support/files';
import { radosgwUnavailable, startRadosgw, type Radosgw } from './support/radosgw';

const why = radosgwUnavailable();
if (why) console.warn(`radosgw not installed: skipping real-S3 tests (${why})`);
const describeRgw = why ? describe.skip : describe;

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describeRgw('real S3 (radosgw)', () => {
  let rgw: Radosgw;
  let s3: S3Client;
  const bucket = 'rgw-source';
  const body = Buffer.from(Array.from({ length: 3 * MiB + 17 }, (_, i) => (i * 7 + (i >> 11)) & 0xff));

  beforeAll(async () => {
    rgw = await startRadosgw();
    s3 = localS3Client(rgw);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a b+c/会议 录音.wav', Body: body }));
  }, 180_000);

  afterAll(async () => {
    s3?.destroy();
    await rgw?.stop();
  }, 60_000);

  it('HEAD gives size and ETag (MD5) of exactly the object, no version in an unversioned bucket', async () => {
    const o = await headSource(s3, { bucket, key: 'a b+c/会议 录音.wav' });
    expect(o).toEqual({ bucket, key: 'a b+c/会议 录音.wav', versionId: null, etag: expect.stringMatching(/^[0-9a-f]{32}$/), size: body.length });
  });

  it('reads byte ranges exactly (first byte, a middle span, the tail)', async () => {
    const o = await headSource(s3, { bucket, key: 'a b+c/会议 录音.wav' });
    const src = new S3RangeSource(s3, o);
    for (const [start, end] of [[0, 1], [0, 5 * 1024], [1 * MiB - 3, 2 * MiB + 5], [body.length - 17, body.length], [0, body.length]] as const) {
      const got = await readAll(await src.open(start, end));
      expect(sha256Buffer(got)).toBe(sha256Buffer(body.subarray(start, end)));
    }
  });

  it('answers If-Match with 412 once the object changed: the source reports SourceChangedError', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'changing', Body: 'first version' }));
    const o = await headSource(s3, { bucket, key: 'changing' });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'changing', Body: 'second version!' }));
    const src = new S3RangeSource(s3, o);
    const err = await src.open(0, 5).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SourceChangedError);
    expect((err as SourceChangedError).status).toBe(412);
    // HEAD pinned to the old ETag fails the same way
    await expect(headSource(s3, { bucket, key: 'changing', etag: o.etag })).rejects.toBeInstanceOf(SourceChangedError);
  });

  it('HEAD of a deleted object is 404: SourceChangedError, never a silent empty read', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'gone', Body: 'x' }));
    const o = await headSource(s3, { bucket, key: 'gone' });
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone' }));
    await expect(headSource(s3, { bucket, key: 'gone' })).rejects.toBeInstanceOf(SourceChangedError);
    await expect(new S3RangeSource(s3, o).open(0, 1)).rejects.toBeInstanceOf(SourceChangedError);
  });

  it('forwards a file through the whole local pipeline with S3_ENDPOINT = radosgw', async () => {
    // Loaded here so the suite's other tests do not depend on the workflow modules.
    const { startLocalStack } = await import('../local/stack');
    const tmp = tempDir();
    const stack = await startLocalStack({ s3: rgw, bucket: 'rgw-pipeline', env: { SIMPLE_THRESHOLD: String(6 * MiB), SLICE_SIZE: String(5 * MiB) } });
    try {
      const f = await sampleFile(12 * MiB + 3, { dir: tmp.dir, name: 'rgw 录音+1.wav' });
      const [r] = await stack.forwardFiles([f.path], { keyPrefix: 'in/' });
      expect(r).toMatchObject({ key: 'in/rgw 录音+1.wav', status: 'forwarded', bytes: f.size, slices: 3 });
      expect((await sha256Url(r!.url!)).sha256).toBe(f.sha256);
      expect(r!.records).toHaveLength(1);
      expect(r!.events).toHaveLength(1);
      // no in-process notifications from radosgw: the record was built from HeadObject
      expect(stack.deliveries).toHaveLength(1);
    } finally {
      await stack.close();
      tmp.cleanup();
    }
  }, 120_000);
});
