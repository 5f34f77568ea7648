// `ost-forward local <file...>`: forwards files through the whole pipeline on this machine — each file is put
// into the bucket as <prefix><basename>, its notification goes through the intake to the real trigger, and the real state
// machine definition runs the real step handlers (local/pipeline.ts).
//   --slice-size BYTES   SLICE_SIZE of the handlers (below 5 MiB only with the emulator, in tiny-slice mode)
//   --threshold BYTES    SIMPLE_THRESHOLD: smaller files use the simple upload
//   --concurrency N      SLICE_CONCURRENCY: slices in flight inside one batch
//   --key-prefix P       key prefix in the bucket (default none)
//   --json               one JSON line per file: {"key","status","url","bytes","slices","error"}, then one line
//                        {"summary":{"files","forwarded","failed","peakFilesInFlight","peakMapRuns","seconds"}}
// Admission as deployed (S3 → SQS intake → trigger with MAX_FILES_IN_FLIGHT slots; local/fleet.ts), the records in
// a bucket of their own: the stack runs the template's configuration (docs/local.md).
// OST: the emulator, unless OST_ENDPOINT, OST_APP_ID, OST_API_KEY and OST_API_SECRET are all set.
// S3: an embedded s3rver, unless S3_ENDPOINT is set (credentials AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
// Bucket: LOCAL_BUCKET, default ost-forwarder-local, created if missing.
// Exit 0 when every file was forwarded, 1 when any failed or a setting is bad, 2 on a usage error (a bad --key-prefix:
// no empty, "." or ".." segment, segments of at most 255 bytes). SIGTERM is handled as SIGINT.
import { SETTINGS } from '../../lib/config/table';
import { parseArgs } from 'node:util';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { ConfigError } from '../../lib/core/errors';
import { MIN_SLICE_SIZE } from '../../lib/ost/plan';
import { MAX_S3_KEY_BYTES } from '../../lib/workflow/outcome-records';
import { logLevelSetting } from '../../lib/config/settings';
import { escapeControlCharacters, quote, quoteIfNeeded } from '../../lib/core/text';
import { credentialValue, parseEndpoint } from '../../lib/ost/client';
import type { ForwardResult, LocalStack, LocalStackOptions } from '../../local/pipeline';
import { readSetting } from '../../lib/config/table';
import { integer, notUtf8, UsageError } from './args';
import { isUsageError, reportFailure } from '../exit';
import { onTermination } from './signals';


export interface LocalArgs {
  files: string[];
  sliceSize?: number;
  threshold?: number;
  concurrency?: number;
  keyPrefix: string;
  json: boolean;
  /** --existing: put with no event, then forward through backfill (cli/commands/local-existing.ts). */
  existing?: boolean;
}

export function parseLocalArgs(argv: string[], { requireFiles = true } = {}): LocalArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      'slice-size': { type: 'string' },
      threshold: { type: 'string' },
      concurrency: { type: 'string' },
      'key-prefix': { type: 'string' },
      json: { type: 'boolean', default: false },
      existing: { type: 'boolean', default: false },
    },
  });
  if (requireFiles && positionals.length === 0) throw new UsageError('missing <file...>');
  const keyPrefix = values['key-prefix'] ?? '';
  checkKeyPrefix(keyPrefix);
  const keys = new Set<string>();
  for (const f of positionals) {
    const key = keyPrefix + basename(f);
    checkKey(key);
    if (keys.has(key)) throw new UsageError(`two files would both be put as ${quote(key)}`);
    keys.add(key);
  }
  return {
    files: positionals,
    sliceSize: integer('--slice-size', values['slice-size'], 1),
    threshold: integer('--threshold', values.threshold, 0),
    concurrency: integer('--concurrency', values.concurrency, 1),
    keyPrefix,
    json: values.json ?? false,
    existing: values.existing ?? false,
  };
}

/** Longest key segment: the embedded S3 stores a key as a file path, and a file name has at most 255 bytes. */
export const MAX_KEY_SEGMENT_BYTES = 255;

/**
 * A key prefix the stack can use as is: no leading '/', no '.' or '..' segment (S3 keeps them literally, a path
 * store resolves them, and an object would land outside its bucket), no empty segment ('in//'), and no segment
 * longer than MAX_KEY_SEGMENT_BYTES.
 */
export function checkKeyPrefix(prefix: string): void {
  if (prefix === '') return;
  if (prefix.startsWith('/')) throw new UsageError('--key-prefix must not start with /');
  const segments = prefix.split('/');
  // the last piece is joined to the file name (checked with it in checkKey)
  for (const seg of segments.slice(0, -1)) checkSegment(seg, '--key-prefix', prefix);
}

/** A whole key `<prefix><basename>`: the prefix's rules, and S3's limit of 1,024 bytes. */
export function checkKey(key: string): void {
  for (const seg of key.split('/')) checkSegment(seg, 'key', key);
  if (Buffer.byteLength(key) > MAX_S3_KEY_BYTES) throw new UsageError(`key ${quote(key.slice(0, 80) + '…')} is longer than ${MAX_S3_KEY_BYTES} bytes (the S3 limit)`);
}

function checkSegment(seg: string, what: string, whole: string): void {
  if (seg === '') throw new UsageError(`${what} ${quote(whole)} has an empty segment ('//')`);
  if (seg === '.' || seg === '..') throw new UsageError(`${what} ${quote(whole)} must not have a '.' or '..' segment`);
  if (Buffer.byteLength(seg) > MAX_KEY_SEGMENT_BYTES) throw new UsageError(`${what} has a segment longer than ${MAX_KEY_SEGMENT_BYTES} bytes: ${quote(seg.slice(0, 40) + '…')}`);
}

/** Where the stack points: emulator or OST_ENDPOINT, embedded S3 or S3_ENDPOINT, and the handlers' settings. */
export function stackOptions(args: Pick<LocalArgs, 'sliceSize' | 'threshold' | 'concurrency'>, env: NodeJS.ProcessEnv = process.env): LocalStackOptions & { notices: string[] } {
  const notices: string[] = [];
  logLevelSetting(env); // a level the handlers' logger would reject: ConfigError naming POWERTOOLS_LOG_LEVEL
  // values that end up in headers, URLs or keys: a stray control character is named here, not met as a crash later
  for (const v of ['S3_ENDPOINT', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'LOCAL_BUCKET']) {
    if (env[v] !== undefined) credentialValue(v, env[v]!.trim());
  }
  // the deployed settings a user set here (stage params' variables; OST's go below): the stack runs with them
  const handlerEnv: Record<string, string> = Object.fromEntries(SETTINGS.filter((x) => x.param && x.variable && !x.variable.startsWith('OST_') && env[x.variable]?.trim()).map((x) => [x.variable!, env[x.variable!]!.trim()]));
  if (args.sliceSize !== undefined) handlerEnv.SLICE_SIZE = String(args.sliceSize);
  if (args.threshold !== undefined) handlerEnv.SIMPLE_THRESHOLD = String(args.threshold);
  if (args.concurrency !== undefined) handlerEnv.SLICE_CONCURRENCY = String(args.concurrency);
  const opts: LocalStackOptions & { notices: string[] } = { env: handlerEnv, notices };
  const ostVars = ['OST_ENDPOINT', 'OST_APP_ID', 'OST_API_KEY', 'OST_API_SECRET'];
  const setVars = ostVars.filter((v) => env[v]?.trim());
  if (setVars.length === ostVars.length) {
    parseEndpoint(env.OST_ENDPOINT!.trim());
    for (const v of ostVars.slice(1)) credentialValue(v, env[v]!.trim());
    opts.ost = { endpoint: env.OST_ENDPOINT!.trim(), appId: env.OST_APP_ID!.trim(), apiKey: env.OST_API_KEY!.trim(), apiSecret: env.OST_API_SECRET!.trim() };
    notices.push(`OST: ${opts.ost.endpoint} (from OST_ENDPOINT)`);
  } else if (setVars.includes('OST_ENDPOINT')) {
    throw new UsageError(`OST_ENDPOINT is set but ${ostVars.filter((v) => !setVars.includes(v)).join(', ')} ${ostVars.length - setVars.length === 1 ? 'is' : 'are'} not: set all four, or none to use the emulator`);
  }
  if (args.sliceSize !== undefined && args.sliceSize < MIN_SLICE_SIZE) {
    if (opts.ost) throw new UsageError(`--slice-size must be at least ${MIN_SLICE_SIZE} bytes for a real OST endpoint`);
    opts.emulator = { minSliceSize: args.sliceSize };
    handlerEnv.MIN_SLICE_SIZE = String(args.sliceSize);
    notices.push(`tiny-slice mode: slices of ${args.sliceSize} bytes (the real service requires ${MIN_SLICE_SIZE})`);
  }
  const s3Endpoint = readSetting<string | undefined>(env, 'S3_ENDPOINT');
  if (s3Endpoint) {
    const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
    if (!accessKeyId || !secretAccessKey) throw new UsageError('S3_ENDPOINT is set: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are needed too');
    opts.s3 = { endpoint: s3Endpoint, region: readSetting<string | undefined>(env, 'AWS_REGION') || 'us-east-1', accessKeyId, secretAccessKey };
    notices.push(`S3: ${opts.s3.endpoint} (from S3_ENDPOINT)`);
  }
  const bucket = readSetting<string | undefined>(env, 'LOCAL_BUCKET');
  if (bucket) opts.bucket = bucket;
  return opts;
}

/** The JSON line of one file. `slices` is 1 for a simple upload, as `put --json` says. */
export function resultLine(r: ForwardResult): string {
  return JSON.stringify({
    key: r.key,
    status: r.status,
    url: r.url ?? null,
    bytes: r.bytes,
    slices: r.slices,
    error: r.error ? { code: r.error.code, message: r.error.message } : null,
  });
}

/** One line per file; the key (any bytes), the URL and the message (from OST) quoted when they are not plain. */
export function humanLine(r: ForwardResult): string {
  if (r.status === 'forwarded') return `forwarded ${quoteIfNeeded(r.key)} → ${r.url ? quoteIfNeeded(r.url) : '(no URL)'} (${r.bytes} bytes, ${r.slices} slice${r.slices === 1 ? '' : 's'})`;
  return `failed    ${quoteIfNeeded(r.key)}: ${r.error?.code ?? 'UNKNOWN'}: ${quote(r.error?.message ?? '')}`;
}

export async function checkFiles(files: string[]): Promise<void> {
  for (const f of files) {
    const s = await stat(f).catch(() => undefined);
    if (!s) throw new UsageError(f.includes('\uFFFD') ? notUtf8(f) : `file not found: ${escapeControlCharacters(f)}`);
    if (!s.isFile()) throw new UsageError(`not a regular file: ${escapeControlCharacters(f)}`);
  }
}


export async function withStack<T>(opts: LocalStackOptions, fn: (stack: LocalStack) => Promise<T>): Promise<T> {
  // Loaded lazily: the pipeline pulls in the handlers, s3rver and the engine.
  const { startLocalStack } = await import('../../local/pipeline');
  const stack = await startLocalStack(opts);
  // SIGTERM (timeout, CI, systemd) is handled as SIGINT is: the stack closes (its executions stop), then exit.
  const off = onTermination((code) => { void stack.close().finally(() => process.exit(code)); });
  try {
    return await fn(stack);
  } finally {
    off();
    await stack.close();
  }
}

export async function run(argv: string[]): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let args: LocalArgs;
  let opts: ReturnType<typeof stackOptions>;
  try {
    args = parseLocalArgs(argv);
    opts = stackOptions(args);
    await checkFiles(args.files);
  } catch (err) {
    if (isUsageError(err) || err instanceof ConfigError) return reportFailure('local', err, 'usage: ost-forward local <file...> [--slice-size BYTES] [--threshold BYTES] [--concurrency N] [--key-prefix P] [--existing] [--json]');
    throw err;
  }
  const tty = Boolean(process.stderr.isTTY);
  const progress = (line: string) => { if (tty) process.stderr.write(`ost-forward local: ${line}\n`); };
  for (const n of opts.notices) process.stderr.write(`ost-forward local: ${n}\n`);
  const { notices: _n, ...stackOpts } = opts;
  if (args.existing) return (await import('./local-existing')).runExisting(args, stackOpts, progress);
  const started = Date.now();
  const results = await withStack({ ...stackOpts, log: progress }, async (stack) => {
    const done = await forwardAll(stack, args, progress);
    if (args.json) process.stdout.write(summaryLine(done, await stack.fleetSummary(), (Date.now() - started) / 1000) + '\n');
    return done;
  });
  return results.every((r) => r.status === 'forwarded') ? 0 : 1;
}

/** The --json summary line (the pinned interface of issue 14: exactly these keys). */
export function summaryLine(results: ForwardResult[], peaks: { peakFilesInFlight: number; peakMapRuns: number }, seconds: number): string {
  const forwarded = results.filter((r) => r.status === 'forwarded').length;
  return JSON.stringify({ summary: { files: results.length, forwarded, failed: results.length - forwarded, peakFilesInFlight: peaks.peakFilesInFlight, peakMapRuns: peaks.peakMapRuns, seconds: Math.round(seconds * 1000) / 1000 } });
}

async function forwardAll(stack: LocalStack, args: LocalArgs, progress: (line: string) => void): Promise<ForwardResult[]> {
  progress(`S3 ${stack.s3.endpoint} bucket ${stack.bucket}; OST ${stack.ostEndpoint}`);
  // Lines come out in the order of the arguments, each as soon as it and those before it are done.
  const out: (ForwardResult | undefined)[] = args.files.map(() => undefined);
  let next = 0;
  const flush = () => {
    while (next < out.length && out[next]) {
      const r = out[next++]!;
      process.stdout.write((args.json ? resultLine(r) : humanLine(r)) + '\n');
    }
  };
  return Promise.all(args.files.map(async (f, i) => {
    // a file that cannot be put (it changed while it was read, its size is not stable) fails alone, in one line
    const r = await stack.forwardFiles([f], { keyPrefix: args.keyPrefix }).then(([x]) => x!, (err: unknown): ForwardResult => ({
      key: args.keyPrefix + basename(f), status: 'failed', bytes: 0, slices: 0, records: [], events: [],
      error: { code: String((err as { code?: unknown }).code ?? (err as Error).name ?? 'Error'), message: String((err as Error).message ?? err) },
    }));
    out[i] = r;
    flush();
    return r;
  }));
}
