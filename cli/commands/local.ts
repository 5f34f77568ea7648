// `ost-forward local <file...>`: forwards files through the whole pipeline on this machine — each file is put
// into the bucket as <prefix><basename>, its notification goes through the intake to the real trigger, and the real state
// machine definition runs the real step handlers (local/stack/index.ts).
//   --slice-size BYTES   SLICE_SIZE of the handlers (below 5 MiB only with the emulator, in tiny-slice mode)
//   --threshold BYTES    SIMPLE_THRESHOLD: smaller files use the simple upload
//   --concurrency N      SLICE_CONCURRENCY: slices in flight inside one batch
//   --key-prefix P       key prefix in the bucket (default none)
//   --json               one JSON line per file: {"key","status","url","bytes","slices","error"}, then one line
//                        {"summary":{"files","forwarded","failed","peakFilesInFlight","peakMapRuns","seconds"}}
// Admission as deployed (S3 → SQS intake → trigger with MAX_FILES_IN_FLIGHT slots; local/stack/fleet.ts), the
// records in a bucket of their own: the stack runs the template's configuration (docs/local.md).
// OST: the emulator, unless OST_ENDPOINT, OST_APP_ID, OST_API_KEY and OST_API_SECRET are all set.
// S3: an embedded s3rver, unless S3_ENDPOINT is set (credentials AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
// Bucket: LOCAL_BUCKET, default ost-forwarder-local, created if missing.
// Exit 0 when every file was forwarded, 1 when any failed or a setting is bad, 2 on a usage error (a bad --key-prefix:
// no empty, "." or ".." segment, segments of at most 255 bytes). SIGTERM is handled as SIGINT.
import { basename } from 'node:path';
import { ConfigError } from '../../lib/core/errors';
import type { ForwardResult, LocalStack } from '../../local/stack';
import { isUsageError, reportFailure } from '../exit';
import { checkFiles, parseLocalArgs, type LocalArgs } from '../local/args';
import { stackOptions, withStack } from '../local/stack';
import { humanLine, resultLine, summaryLine } from '../local/lines';

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
  if (args.existing) return (await import('../local/existing')).runExisting(args, stackOpts, progress);
  const started = Date.now();
  const results = await withStack({ ...stackOpts, log: progress }, async (stack) => {
    const done = await forwardAll(stack, args, progress);
    if (args.json) process.stdout.write(summaryLine(done, await stack.fleetSummary(), (Date.now() - started) / 1000) + '\n');
    return done;
  });
  return results.every((r) => r.status === 'forwarded') ? 0 : 1;
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
