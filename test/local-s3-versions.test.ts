// The embedded S3's versioning (Enabled / Suspended / never enabled, version ids, the `null` version) and whole
// reads: a GET that starts while a PUT of the same key is still streaming sees the old object whole, never the
// old ETag over new, half-written bytes (local/aws/s3-versions.ts).
import { PassThrough } from 'node:stream';
import { createHash } from 'node:crypto';
import { DeleteObjectCommand, GetBucketVersioningCommand, GetObjectCommand, HeadObjectCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startEmbeddedS3, type EmbeddedS3 } from '../local/aws/s3';
import type { S3EventRecord } from 'aws-lambda';

const md5 = (b: Buffer) => `"${createHash('md5').update(b).digest('hex')}"`;

let s3: EmbeddedS3;
beforeAll(async () => { s3 = await startEmbeddedS3({ buckets: ['plain', 'on', 'off'] }); });
afterAll(() => s3.close());

const put = (bucket: string, key: string, body: string | Buffer) => s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
const get = async (bucket: string, key: string, extra: { VersionId?: string; Range?: string; IfMatch?: string } = {}) => {
  const r = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...extra }));
  return { versionId: r.VersionId, etag: r.ETag, range: r.ContentRange, body: Buffer.from(await r.Body!.transformToByteArray()).toString() };
};
const versioning = (bucket: string, Status: 'Enabled' | 'Suspended') => s3.client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status } }));

describe('bucket versioning', () => {
  it('a never-versioned bucket sends no version id, and an overwrite replaces the object', async () => {
    expect((await put('plain', 'k', 'one')).VersionId).toBeUndefined();
    await put('plain', 'k', 'two');
    expect(await get('plain', 'k')).toMatchObject({ versionId: undefined, body: 'two' });
    expect((await s3.client.send(new GetBucketVersioningCommand({ Bucket: 'plain' }))).Status).toBeUndefined();
  });

  it('Enabled: every PUT is a new immutable version, readable by id after overwrites and deletes', async () => {
    await put('on', 'k', 'before'); // written before versioning: the null version
    await versioning('on', 'Enabled');
    expect((await s3.client.send(new GetBucketVersioningCommand({ Bucket: 'on' }))).Status).toBe('Enabled');
    const a = await put('on', 'k', 'alpha');
    const b = await put('on', 'k', 'beta');
    expect(a.VersionId).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(b.VersionId).not.toBe(a.VersionId);
    expect(await get('on', 'k')).toMatchObject({ versionId: b.VersionId, body: 'beta' });
    expect(await get('on', 'k', { VersionId: a.VersionId })).toMatchObject({ versionId: a.VersionId, body: 'alpha', etag: md5(Buffer.from('alpha')) });
    expect(await get('on', 'k', { VersionId: 'null' })).toMatchObject({ versionId: 'null', body: 'before' });
    expect(await get('on', 'k', { VersionId: a.VersionId, Range: 'bytes=1-3' })).toMatchObject({ body: 'lph', range: 'bytes 1-3/5' });
    // If-Match applies to the version asked for
    await expect(get('on', 'k', { VersionId: a.VersionId, IfMatch: md5(Buffer.from('beta')) })).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    await s3.client.send(new DeleteObjectCommand({ Bucket: 'on', Key: 'k' }));
    await expect(get('on', 'k')).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    expect(await get('on', 'k', { VersionId: b.VersionId })).toMatchObject({ body: 'beta' });
    await expect(get('on', 'k', { VersionId: 'nope' })).rejects.toMatchObject({ name: 'NoSuchVersion' });
  });

  it('Suspended: a PUT replaces the null version ("null" pins nothing); Enabled-era versions stay', async () => {
    await versioning('off', 'Enabled');
    const kept = await put('off', 'k', 'kept');
    await versioning('off', 'Suspended');
    const one = await put('off', 'k', 'one');
    expect(one.VersionId).toBe('null');
    expect(await get('off', 'k', { VersionId: 'null' })).toMatchObject({ versionId: 'null', body: 'one' });
    await put('off', 'k', 'two');
    // the same "version id" now names other bytes: only the ETag tells them apart
    expect(await get('off', 'k', { VersionId: 'null' })).toMatchObject({ versionId: 'null', body: 'two' });
    await expect(get('off', 'k', { VersionId: 'null', IfMatch: one.ETag })).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    expect(await get('off', 'k', { VersionId: kept.VersionId })).toMatchObject({ body: 'kept' });
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: 'off', Key: 'k' }));
    expect(head).toMatchObject({ VersionId: 'null', ContentLength: 3 });
  });

  it('event records carry the version the PUT made: an id when Enabled, "null" when Suspended, none when never versioned', async () => {
    const seen: S3EventRecord[] = [];
    const stop = s3.onObjectCreated((r) => seen.push(r));
    await versioning('on', 'Enabled');
    const a = await put('on', 'e', 'x');
    await versioning('off', 'Suspended');
    await put('off', 'e', 'y');
    await put('plain', 'e', 'z');
    await new Promise((r) => setTimeout(r, 20));
    stop();
    const by = (b: string) => seen.find((r) => r.s3.bucket.name === b && r.s3.object.key === 'e')!.s3.object;
    expect(by('on').versionId).toBe(a.VersionId);
    expect(by('off').versionId).toBe('null');
    expect(by('plain').versionId).toBeUndefined();
  });
});

describe('no torn reads', () => {
  it('a GET that starts while a PUT of the same key is streaming returns the old object whole, with its ETag', async () => {
    const oldBody = Buffer.alloc(2 * 1024 * 1024, 0x61);
    const newBody = Buffer.alloc(2 * 1024 * 1024, 0x62);
    await put('plain', 'torn', oldBody);
    // a PUT whose body arrives slowly: half now, the rest after the GET
    const body = new PassThrough();
    const putDone = s3.client.send(new PutObjectCommand({ Bucket: 'plain', Key: 'torn', Body: body, ContentLength: newBody.length }))
      .then((r) => r.$metadata.httpStatusCode);
    body.write(newBody.subarray(0, newBody.length / 2));
    const finish = () => body.end(newBody.subarray(newBody.length / 2));
    await new Promise((r) => setTimeout(r, 200)); // the first half is at the server, being written
    const during = await s3.client.send(new GetObjectCommand({ Bucket: 'plain', Key: 'torn' }));
    const bytes = Buffer.from(await during.Body!.transformToByteArray());
    finish();
    expect(await putDone).toBe(200);
    expect({ etag: during.ETag, same: bytes.equals(oldBody), length: bytes.length }).toEqual({ etag: md5(oldBody), same: true, length: oldBody.length });
    const after = await get('plain', 'torn');
    expect(after.etag).toBe(md5(newBody));
  });

  it('a ranged GET in progress keeps its version when the key is overwritten (Suspended: the null version replaced)', async () => {
    await versioning('off', 'Suspended');
    const a = Buffer.alloc(8 * 1024 * 1024, 0x41);
    const first = await put('off', 'big', a);
    const res = await s3.client.send(new GetObjectCommand({ Bucket: 'off', Key: 'big', VersionId: 'null', IfMatch: first.ETag, Range: `bytes=0-${a.length - 1}` }));
    const chunks: Buffer[] = [];
    let overwritten = false;
    for await (const c of res.Body as AsyncIterable<Buffer>) {
      chunks.push(c);
      if (!overwritten) { overwritten = true; await put('off', 'big', Buffer.alloc(3, 0x42)); }
    }
    expect(Buffer.concat(chunks).equals(a)).toBe(true);
  });
});
