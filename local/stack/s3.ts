// The stack's S3: the embedded s3rver with the bucket created, or an external S3-compatible endpoint (radosgw,
// MinIO, AWS) with the bucket ensured.
import { ensureBucket, localS3Client, startEmbeddedS3, type EmbeddedS3, type S3Connection } from '../aws/s3';
import type { LocalStack } from './types';
import type { Started } from './pieces';

export interface StackS3 extends Started {
  s3: LocalStack['s3'];
  /** The embedded server; undefined with an external endpoint (which sends no events: the stack makes them). */
  embedded?: EmbeddedS3;
}

export async function startS3(bucket: string, external?: S3Connection): Promise<StackS3> {
  if (external) {
    const client = localS3Client(external);
    try {
      await ensureBucket(client, bucket);
    } catch (err) {
      client.destroy();
      throw err;
    }
    return { s3: { ...external, client, embedded: false }, close: async () => client.destroy() };
  }
  const embedded = await startEmbeddedS3({ buckets: [bucket] });
  const { endpoint, region, accessKeyId, secretAccessKey, client } = embedded;
  return { s3: { endpoint, region, accessKeyId, secretAccessKey, client, embedded: true }, embedded, close: () => embedded.close() };
}
