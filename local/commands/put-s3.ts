// `ost-forward put s3://bucket/key`: forwards one S3 object straight to OST (no workflow), reading it through the
// same S3RangeSource the workflow uses (ranged GETs pinned by version or If-Match), with the OST client's send().
//   S3: S3_ENDPOINT (an S3-compatible endpoint, path-style) or AWS; credentials and region from the usual AWS
//   environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION / AWS_PROFILE).
//   OST: --endpoint or OST_ENDPOINT, OST_APP_ID, OST_API_KEY, OST_API_SECRET (as `put <file>`).
// Same flags and output as `put <file>`; exit 0 on success, 1 on a failed transfer, 2 on a usage error.
import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { OstClient, ostClientOptionsFromEnv, type OstLog } from '../../lib/ost/client';
import { send } from '../../lib/ost/send';
import { SourceChangedError } from '../../lib/ost/errors';
import type { PlanOptions } from '../../lib/plan';
import { headSource, S3RangeSource } from '../../lib/s3-source';
import { createProgressBar, type ProgressBar } from '../progress';
import { describeFailure } from './put';

const USAGE = 'usage: ost-forward put s3://bucket/key [--endpoint URL] [--slice-size BYTES] [--threshold BYTES] [--concurrency N] [--json]';

class UsageError extends Error {}
class NoSuchObject extends Error {}

/** s3://bucket/key → {bucket, key}; the key is taken literally (not URL-decoded), as the AWS CLI does. */
export function parseS3Url(url: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!m) throw new UsageError(`expected s3://bucket/key, got ${JSON.stringify(url)}`);
  return { bucket: m[1]!, key: m[2]! };
}

function integer(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`${flag} must be a whole number, got ${JSON.stringify(value)}`);
  const n = Number(value.trim());
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag} must be at least ${min}, got ${value}`);
  return n;
}

/** The S3 client for `put s3://`: S3_ENDPOINT (path-style, as S3_FORCE_PATH_STYLE defaults there) or AWS. */
export function s3ClientFromEnv(env: NodeJS.ProcessEnv = process.env): S3Client {
  const endpoint = env.S3_ENDPOINT?.trim() || undefined;
  const pathStyle = env.S3_FORCE_PATH_STYLE !== undefined ? /^(1|true|yes)$/i.test(env.S3_FORCE_PATH_STYLE) : endpoint !== undefined;
  return new S3Client({
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: pathStyle,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    // S3-compatible servers often cannot read aws-chunked bodies; this command only reads, so checksums are
    // only validated when S3 sends them.
    ...(endpoint ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
  });
}

export async function runS3Put(argv: string[]): Promise<number> {
  let args;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        endpoint: { type: 'string' },
        'slice-size': { type: 'string' },
        threshold: { type: 'string' },
        concurrency: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    if (positionals.length !== 1) throw new UsageError('put takes exactly one s3://bucket/key');
    const plan: PlanOptions = {};
    const sliceSize = integer('--slice-size', values['slice-size'], 1);
    const threshold = integer('--threshold', values.threshold, 0);
    if (sliceSize !== undefined) plan.sliceSize = sliceSize;
    if (threshold !== undefined) plan.threshold = threshold;
    args = { ...parseS3Url(positionals[0]!), endpoint: values.endpoint, plan, concurrency: integer('--concurrency', values.concurrency, 1) ?? 4, json: values.json ?? false };
  } catch (err) {
    process.stderr.write(`ost-forward put: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }

  const abort = new AbortController();
  const onSigint = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  const s3 = s3ClientFromEnv();
  let client: OstClient | undefined;
  let bar: ProgressBar | undefined;
  try {
    const env = { ...process.env };
    if (args.endpoint !== undefined) env.OST_ENDPOINT = args.endpoint;
    const options = ostClientOptionsFromEnv(env);
    const object = await headSource(s3, { bucket: args.bucket, key: args.key }).catch((err: unknown) => {
      // Before anything was read, a 404 is simply a missing object, not a change.
      if (err instanceof SourceChangedError && err.status === 404) throw new NoSuchObject(`s3://${args.bucket}/${args.key}: no such object (HTTP 404)`);
      throw err;
    });
    const source = new S3RangeSource(s3, object);
    bar = createProgressBar({ label: source.name });
    const progressBar = bar;
    const log: OstLog = { debug: () => {}, info: () => {}, warn: (message) => progressBar.log(`ost-forward put: ${message}`) };
    client = new OstClient({ ...options, log });
    const result = await send(client, source, {
      plan: args.plan,
      concurrency: args.concurrency,
      signal: abort.signal,
      log,
      onProgress: (p) => progressBar.update(p),
    });
    bar.stop();
    process.stdout.write(args.json
      ? `${JSON.stringify({ url: result.url, bytes: result.bytes, mode: result.mode, slices: result.slices })}\n`
      : `${result.url}\n`);
    return 0;
  } catch (err) {
    bar?.stop();
    if (abort.signal.aborted) {
      process.stderr.write('ost-forward put: interrupted (the upload was cancelled)\n');
      return 130;
    }
    const line = err instanceof NoSuchObject ? err.message : describeFailure(err) ?? s3Failure(err);
    if (line === undefined) throw err;
    process.stderr.write(`ost-forward put: ${line}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    s3.destroy();
    await client?.close().catch(() => {});
  }
}

/** S3 errors that are not source errors (credentials, permissions, no such bucket): one line. */
function s3Failure(err: unknown): string | undefined {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  if (!e?.$metadata) {
    if (e?.name === 'CredentialsProviderError') return `no AWS credentials: ${e.message}`;
    return undefined;
  }
  return `S3 ${e.name ?? 'error'}${e.$metadata.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : ''}: ${e.message ?? ''}`;
}
