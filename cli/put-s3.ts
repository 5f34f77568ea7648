// The S3 side of `ost-forward put s3://bucket/key`: forwards one S3 object straight to OST (no workflow), reading
// it through the same S3RangeSource the workflow uses (ranged GETs pinned by version or If-Match); put.ts does the
// rest exactly as for a local file.
//   S3: S3_ENDPOINT (an S3-compatible endpoint, path-style) or AWS; credentials and region from the usual AWS
//   environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION / AWS_PROFILE).
import { credentialValue } from '../lib/ost/client';
import { S3Client } from '@aws-sdk/client-s3';
import { SourceChangedError } from '../lib/ost/errors';
import type { ByteSource } from '../lib/ost/source';
import { headSource, S3RangeSource } from '../lib/sources/s3';
import { UsageError } from './args';
import { cliSettings } from './settings';

/** s3://bucket/key → {bucket, key}; the key is taken literally (not URL-decoded), as the AWS CLI does. */
export function parseS3Url(url: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!m) throw new UsageError(`expected s3://bucket/key, got ${JSON.stringify(url)}`);
  return { bucket: m[1]!, key: m[2]! };
}

/** The S3 client for `put s3://`: S3_ENDPOINT (path-style, as S3_FORCE_PATH_STYLE defaults there) or AWS. */
export function s3ClientFromEnv(env: NodeJS.ProcessEnv = process.env): S3Client {
  for (const v of ['S3_ENDPOINT', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_REGION']) {
    if (env[v] !== undefined) credentialValue(v, env[v]!.trim());
  }
  const { s3Endpoint: endpoint, s3ForcePathStyle, region } = cliSettings(env);
  return new S3Client({
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: s3ForcePathStyle,
    region: region || env.AWS_DEFAULT_REGION || 'us-east-1',
    // S3-compatible servers often cannot read aws-chunked bodies; this command only reads, so checksums are
    // only validated when S3 sends them.
    ...(endpoint ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
  });
}

/** The object named on the command line does not exist: a failure (exit 1), not a bad command line. */
export class S3ObjectNotFoundError extends Error {
  readonly code = 'S3_OBJECT_NOT_FOUND';
  override readonly name = 'S3ObjectNotFoundError';
}

/** Heads the object and returns its range source (pinned to the version/ETag seen now) and a close function. */
export async function openS3Source(url: string): Promise<{ source: ByteSource; close: () => void }> {
  const { bucket, key } = parseS3Url(url);
  const s3 = s3ClientFromEnv();
  try {
    const object = await headSource(s3, { bucket, key }).catch((err: unknown) => {
      // Before anything was read, a 404 is simply a missing object, not a change.
      if (err instanceof SourceChangedError && err.status === 404) throw new S3ObjectNotFoundError(`s3://${bucket}/${key}: no such object (HTTP 404)`);
      throw err;
    });
    return { source: new S3RangeSource(s3, object), close: () => s3.destroy() };
  } catch (err) {
    s3.destroy();
    throw err;
  }
}

/** S3 errors that are not source errors (credentials, permissions, no such bucket): one line. */
export function s3Failure(err: unknown): string | undefined {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  if (!e?.$metadata) {
    if (e?.name === 'CredentialsProviderError') return `no AWS credentials: ${e.message}`;
    return undefined;
  }
  return `S3 ${e.name ?? 'error'}${e.$metadata.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : ''}: ${e.message ?? ''}`;
}
