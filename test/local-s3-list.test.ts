// The embedded S3 lists past one page: s3rver's own ListObjectsV2 continuation tokens use DES, which OpenSSL 3
// refuses (InternalError on any truncated listing); local/aws/s3.ts answers ListObjectsV2 itself.
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { startEmbeddedS3, type EmbeddedS3 } from '../local/aws/s3';

describe('embedded S3 ListObjectsV2', () => {
  let s3: EmbeddedS3;
  beforeAll(async () => { s3 = await startEmbeddedS3({ buckets: ['list'] }); });
  afterAll(async () => { await s3?.close(); });

  it('pages with continuation tokens, keeps keys S3 has to escape, honours prefix and delimiter', async () => {
    const keys = Array.from({ length: 23 }, (_, i) => `p/${String(i).padStart(2, '0')} 会议+&<x>.wav`);
    for (const key of [...keys, 'p/sub/a', 'p/sub/b', 'q/other']) await s3.client.send(new PutObjectCommand({ Bucket: 'list', Key: key, Body: 'x' }));
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.client.send(new ListObjectsV2Command({ Bucket: 'list', Prefix: 'p/', MaxKeys: 5, ContinuationToken: token }));
      seen.push(...(page.Contents ?? []).map((c) => c.Key!));
      expect(page.Contents?.every((c) => c.ETag && c.LastModified instanceof Date && c.Size === 1)).toBe(true);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      pages++;
    } while (token);
    expect(seen).toEqual([...keys, 'p/sub/a', 'p/sub/b']);
    expect(pages).toBe(5);
    const folders = await s3.client.send(new ListObjectsV2Command({ Bucket: 'list', Prefix: 'p/', Delimiter: '/' }));
    expect(folders.CommonPrefixes?.map((c) => c.Prefix)).toEqual(['p/sub/']);
    expect(folders.Contents).toHaveLength(23);
    await expect(s3.client.send(new ListObjectsV2Command({ Bucket: 'list', ContinuationToken: 'bm9wZQ' }))).rejects.toMatchObject({ name: 'InvalidArgument' });
    await expect(s3.client.send(new ListObjectsV2Command({ Bucket: 'missing' }))).rejects.toMatchObject({ name: 'NoSuchBucket' });
  });
});
