// `ost-forward local <file...>`: forwards files through the whole pipeline on this machine — each file is put
// into the bucket as <prefix><basename>, the S3 event goes to the real trigger handler, and the real state
// machine definition runs the real step handlers (local/pipeline.ts).
//   --slice-size BYTES   SLICE_SIZE of the handlers (below 5 MiB only with the emulator, in tiny-slice mode)
//   --threshold BYTES    SIMPLE_THRESHOLD: smaller files use the simple upload
//   --concurrency N      SLICE_CONCURRENCY: slices in flight inside one batch
//   --key-prefix P       key prefix in the bucket (default none)
//   --json               one JSON line per file: {"key","status","url","bytes","slices","error"}
// OST: the emulator, unless OST_ENDPOINT, OST_APP_ID, OST_API_KEY and OST_API_SECRET are all set.
// S3: an embedded s3rver, unless S3_ENDPOINT is set (credentials AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
// Bucket: LOCAL_BUCKET, default ost-forwarder-local, created if missing.
// Exit 0 when every file was forwarded, 1 when any failed, 2 on a usage error.
import { parseArgs } from 'node:util';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { MIN_SLICE_SIZE } from '../../lib/plan';
import type { ForwardResult, LocalStack, LocalStackOptions } from '../pipeline';
import { integer, UsageError } from './args';
import { safeText } from '../../cli/output';


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
  if (keyPrefix.startsWith('/')) throw new UsageError('--key-prefix must not start with /');
  const keys = new Set<string>();
  for (const f of positionals) {
    const key = keyPrefix + basename(f);
    if (keys.has(key)) throw new UsageError(`two files would both be put as ${JSON.stringify(key)}`);
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

/** Where the stack points: emulator or OST_ENDPOINT, embedded S3 or S3_ENDPOINT, and the handlers' settings. */
export function stackOptions(args: Pick<LocalArgs, 'sliceSize' | 'threshold' | 'concurrency'>, env: NodeJS.ProcessEnv = process.env): LocalStackOptions & { notices: string[] } {
  const notices: string[] = [];
  const handlerEnv: Record<string, string> = {};
  if (args.sliceSize !== undefined) handlerEnv.SLICE_SIZE = String(args.sliceSize);
  if (args.threshold !== undefined) handlerEnv.SIMPLE_THRESHOLD = String(args.threshold);
  if (args.concurrency !== undefined) handlerEnv.SLICE_CONCURRENCY = String(args.concurrency);
  const opts: LocalStackOptions & { notices: string[] } = { env: handlerEnv, notices };
  const ostVars = ['OST_ENDPOINT', 'OST_APP_ID', 'OST_API_KEY', 'OST_API_SECRET'];
  const setVars = ostVars.filter((v) => env[v]?.trim());
  if (setVars.length === ostVars.length) {
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
  if (env.S3_ENDPOINT?.trim()) {
    const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
    if (!accessKeyId || !secretAccessKey) throw new UsageError('S3_ENDPOINT is set: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are needed too');
    opts.s3 = { endpoint: env.S3_ENDPOINT.trim(), region: env.AWS_REGION?.trim() || 'us-east-1', accessKeyId, secretAccessKey };
    notices.push(`S3: ${opts.s3.endpoint} (from S3_ENDPOINT)`);
  }
  if (env.LOCAL_BUCKET?.trim()) opts.bucket = env.LOCAL_BUCKET.trim();
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

export function humanLine(r: ForwardResult): string {
  if (r.status === 'forwarded') return `forwarded ${safeText(r.key, 1100)} → ${r.url} (${r.bytes} bytes, ${r.slices} slice${r.slices === 1 ? '' : 's'})`;
  return `failed    ${safeText(r.key, 1100)}: ${r.error?.code ?? 'UNKNOWN'}: ${safeText(r.error?.message ?? '', 500)}`;
}

export async function checkFiles(files: string[]): Promise<void> {
  for (const f of files) {
    const s = await stat(f).catch(() => undefined);
    if (!s) throw new UsageError(`file not found: ${f}`);
    if (!s.isFile()) throw new UsageError(`not a regular file: ${f}`);
  }
}

export async function withStack<T>(opts: LocalStackOptions, fn: (stack: LocalStack) => Promise<T>): Promise<T> {
  // Loaded lazily: the pipeline pulls in the handlers, s3rver and the engine.
  const { startLocalStack } = await import('../pipeline');
  const stack = await startLocalStack(opts);
  const onSigint = () => { void stack.close().finally(() => process.exit(130)); };
  process.once('SIGINT', onSigint);
  try {
    return await fn(stack);
  } finally {
    process.off('SIGINT', onSigint);
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
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`ost-forward local: ${(err as Error).message}\nusage: ost-forward local <file...> [--slice-size BYTES] [--threshold BYTES] [--concurrency N] [--key-prefix P] [--existing] [--json]\n`);
      return 2;
    }
    throw err;
  }
  const tty = Boolean(process.stderr.isTTY);
  const progress = (line: string) => { if (tty) process.stderr.write(`ost-forward local: ${line}\n`); };
  for (const n of opts.notices) process.stderr.write(`ost-forward local: ${n}\n`);
  const { notices: _n, ...stackOpts } = opts;
  if (args.existing) return (await import('../../cli/commands/local-existing')).runExisting(args, stackOpts, progress);
  const results = await withStack({ ...stackOpts, log: progress }, async (stack) => {
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
      const [r] = await stack.forwardFiles([f], { keyPrefix: args.keyPrefix });
      out[i] = r!;
      flush();
      return r!;
    }));
  });
  return results.every((r) => r.status === 'forwarded') ? 0 : 1;
}
