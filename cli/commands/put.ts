// `ost-forward put <file|s3://bucket/key>`: forwards one local file, or one S3 object (cli/put-s3.ts opens
// it), to OST (or the emulator) and prints the URL. Credentials from OST_APP_ID, OST_API_KEY, OST_API_SECRET (and
// OST_CLOUD_ID); SIGINT and SIGTERM cancel the open multipart upload. Options and exit codes: docs/cli.md.
import { parseArgs } from 'node:util';
import { ConfigError } from '../../lib/core/errors';
import { FileSource } from '../../lib/sources/file';
import { preferBaselineWasmCompiler } from '../../lib/runtime/memory';
import type { ByteSource } from '../../lib/ost/source';
import { OstClient } from '../../lib/ost/client';
import { silentLog, type Log } from '../../lib/core/log';
import { ostClientOptionsFromEnv } from '../../lib/config/ost-options';
import { OstError } from '../../lib/ost/errors';
import { send } from '../../lib/ost/send';
import { DEFAULT_SLICES_IN_FLIGHT, PlanError, PlanOptions } from '../../lib/ost/plan';
import { createProgressBar, ProgressBar } from '../progress';
import { integer, notUtf8, UsageError } from '../args';
import { onTermination } from '../signals';
import { reportFailure } from '../exit';
import { escapeControlCharacters, hasControlCharacters, quote } from '../../lib/core/text';
import { openS3Source, parseS3Url, S3ObjectNotFoundError, s3Failure } from '../put-s3';

// Each slice in flight holds a connection of its own: a bound keeps a typo from opening thousands.
const MAX_CONCURRENCY = 64;

function atMost(flag: string, n: number | undefined, max: number): number | undefined {
  if (n !== undefined && n > max) throw new UsageError(`${flag} must be at most ${max}, got ${n}`);
  return n;
}

const USAGE = 'usage: ost-forward put <file|s3://bucket/key> [--endpoint URL] [--slice-size BYTES] [--threshold BYTES] [--concurrency N] [--json]';


function parse(argv: string[]) {
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
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return { help: true as const };
  if (positionals.length !== 1) throw new UsageError(positionals.length ? 'put takes exactly one file' : 'missing <file>');
  if (positionals[0]!.startsWith('s3://')) parseS3Url(positionals[0]!); // a malformed URL is a usage error
  const plan: PlanOptions = {};
  const sliceSize = integer('--slice-size', values['slice-size'], 1);
  const threshold = integer('--threshold', values.threshold, 0);
  if (sliceSize !== undefined) plan.sliceSize = sliceSize;
  if (threshold !== undefined) plan.threshold = threshold;
  return {
    help: false as const,
    target: positionals[0],
    endpoint: values.endpoint,
    plan,
    concurrency: atMost('--concurrency', integer('--concurrency', values.concurrency, 1), MAX_CONCURRENCY) ?? DEFAULT_SLICES_IN_FLIGHT,
    json: values.json ?? false,
  };
}

/** One line for an expected failure; undefined for an unexpected one (which gets a stack trace). */
export function describeFailure(err: unknown): string | undefined {
  if (err instanceof OstError) return err.describe();
  if (err instanceof ConfigError || err instanceof PlanError || err instanceof UsageError || err instanceof S3ObjectNotFoundError) return err.message;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const path = (err as NodeJS.ErrnoException | undefined)?.path ?? '';
  const shown = escapeControlCharacters(path);
  if (code === 'ENOENT') return path.includes('\uFFFD') ? notUtf8(path) : `file not found: ${shown}`;
  if (code === 'EACCES' || code === 'EPERM') return `file not readable: ${shown}`;
  if (code === 'EISDIR') return (err as Error).message;
  if (code === 'ENAMETOOLONG' || code === 'ELOOP' || code === 'ENOTDIR') return `cannot open ${shown}: ${code}`;
  if (code === 'EIO' || code === 'EINVAL' || code === 'ENXIO') return `cannot read ${shown}: ${code}`;
  return undefined;
}

export async function run(argv: string[]): Promise<number> {
  preferBaselineWasmCompiler();
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (err) {
    return reportFailure('put', err, USAGE);
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const abort = new AbortController();
  // SIGTERM is SIGINT: the transfer is aborted, and send() cancels the open multipart upload before returning.
  let exitCode = 130;
  const off = onTermination((code, signal) => { exitCode = code; abort.abort(new Error(`interrupted (${signal})`)); });
  let client: OstClient | undefined;
  let bar: ProgressBar | undefined;
  let closeSource: () => void = () => {};
  try {
    const env = { ...process.env };
    if (args.endpoint !== undefined) env.OST_ENDPOINT = args.endpoint;
    const options = ostClientOptionsFromEnv(env);
    let source: ByteSource;
    if (args.target.startsWith('s3://')) {
      const opened = await openS3Source(args.target);
      source = opened.source;
      closeSource = opened.close;
    } else {
      source = await FileSource.fromPath(args.target);
    }
    bar = createProgressBar({ label: hasControlCharacters(source.name) ? quote(source.name) : source.name });
    const progressBar = bar;
    const log: Log = {
      ...silentLog,
      warn: (message, fields) => progressBar.log(`ost-forward put: ${message} ${fieldsLine(fields)}`),
    };
    client = new OstClient({ ...options, connections: args.concurrency, log });
    const result = await send(client, source, {
      plan: args.plan,
      concurrency: args.concurrency,
      signal: abort.signal,
      log,
      onProgress: (p) => progressBar.update(p),
    });
    bar.stop();
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ url: result.url, bytes: result.bytes, mode: result.mode, slices: result.slices })}\n`);
    } else {
      process.stdout.write(`${result.url}\n`);
    }
    return 0;
  } catch (err) {
    bar?.stop();
    if (abort.signal.aborted) {
      process.stderr.write(`ost-forward put: ${(abort.signal.reason as Error).message}: the upload was cancelled\n`);
      return exitCode;
    }
    const line = describeFailure(err) ?? s3Failure(err);
    if (line === undefined) throw err;
    return reportFailure('put', err, USAGE, line);
  } finally {
    off();
    closeSource();
    await client?.close().catch(() => {});
  }
}

function fieldsLine(fields: Record<string, unknown> | undefined): string {
  if (!fields) return '';
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? (hasControlCharacters(v) ? quote(v) : v) : JSON.stringify(v)}`)
    .join(' ');
}
