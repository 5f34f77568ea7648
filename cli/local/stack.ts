// The local stack as the local commands start it: options from the environment (OST_ENDPOINT…, S3_ENDPOINT…,
// LOCAL_BUCKET) and the handlers' settings, and a stack that closes on exit and on SIGINT or SIGTERM.
import { MIN_SLICE_SIZE } from '../../lib/ost/plan';
import { logLevelSetting } from '../../lib/config/settings';
import { credentialValue, parseEndpoint } from '../../lib/ost/client';
import { readSetting, SETTINGS } from '../../lib/config/table';
import type { LocalStack, LocalStackOptions } from '../../local/stack';
import { UsageError } from '../args';
import { onTermination } from '../signals';
import type { LocalArgs } from './args';

/** Where the stack points: emulator or OST_ENDPOINT, embedded S3 or S3_ENDPOINT, and the handlers' settings. */
export function stackOptions(args: Pick<LocalArgs, 'sliceSize' | 'threshold' | 'concurrency'>, env: NodeJS.ProcessEnv = process.env): LocalStackOptions & { notices: string[] } {
  const notices: string[] = [];
  logLevelSetting(env); // a level the handlers' logger would reject: ConfigError naming POWERTOOLS_LOG_LEVEL
  // the settings the stack reads, through their one reader, before anything starts: a bad one is a ConfigError
  for (const v of ['MAX_FILES_IN_FLIGHT', 'RESULTS_PREFIX', 'RESULTS_BUCKET', 'KEY_PREFIX_FILTER', 'KEY_SUFFIX_FILTER']) readSetting(env, v);
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

export async function withStack<T>(opts: LocalStackOptions, fn: (stack: LocalStack) => Promise<T>): Promise<T> {
  // Loaded lazily: the pipeline pulls in the handlers, s3rver and the engine.
  const { startLocalStack } = await import('../../local/stack');
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
