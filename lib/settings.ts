// Settings of the Lambda functions, read from the environment once per container and validated up front, so a
// bad deployment fails with a ConfigError naming the variable instead of half-way through an upload.
// Secrets are not settings: OST_API_KEY_PARAM / OST_API_SECRET_PARAM only name the SSM parameters (lib/secrets.ts).
import { ConfigError } from './errors';
import { DEFAULT_SLICE_SIZE, DEFAULT_SLICES_IN_FLIGHT, DEFAULT_THRESHOLD, MAX_SLICE_SIZE, MIN_SLICE_SIZE } from './plan';
import { DEFAULT_ENDPOINT, parseEndpoint } from './ost/endpoint';
import { hasControlCharacters, quote } from './ost/text';

export const DEFAULT_RESULTS_PREFIX = 'ost-forwarder/';

export interface Settings {
  /** OST_ENDPOINT: base URL of the OST API. */
  readonly ostEndpoint: string;
  /** OST_APP_ID: required by the functions that call OST (checked on use: the trigger does not need it). */
  readonly ostAppId?: string;
  /** OST_CLOUD_ID: sent as cloud_id when set. */
  readonly ostCloudId?: string;
  /** OST_API_KEY_PARAM / OST_API_SECRET_PARAM: SSM SecureString names (checked on use). */
  readonly apiKeyParam?: string;
  readonly apiSecretParam?: string;
  /** SECRETS_MAX_AGE: seconds the decrypted secrets stay cached. */
  readonly secretsMaxAgeSeconds: number;
  /** OST_MULTIPART_DIGEST: 'empty' | 'body' (see lib/ost/client.ts). */
  readonly multipartDigest: 'empty' | 'body';
  /** SLICE_SIZE: preferred slice size in bytes. */
  readonly sliceSize: number;
  /** SIMPLE_THRESHOLD: objects smaller than this use the simple upload (unless SMALL_FILE_UPLOAD=multipart). */
  readonly simpleThreshold: number;
  /**
   * SMALL_FILE_UPLOAD: how objects under SIMPLE_THRESHOLD go. 'simple' (default): one POST /file/upload — 1 OST
   * call, ~0.4 s and ~$0.06 per 1,000 files less than 'multipart', but the call has no idempotency key: a connection
   * reset after OST stored the body makes the client's retry store it again. 'multipart': init, one slice (a last
   * slice may be under 5 MiB), complete — retry-safe with the init/complete markers (exactly one forward); every
   * non-empty object then goes multipart. The measurement and the decision: docs/failures.md.
   */
  readonly smallFileUpload: 'simple' | 'multipart';
  /** MIN_SLICE_SIZE: lower bound of a slice (only an emulator in tiny-slice mode lowers it). */
  readonly minSliceSize: number;
  /** SLICE_CONCURRENCY: slices in flight inside one Upload slices invocation. */
  readonly sliceConcurrency: number;
  /** MAP_MAX_CONCURRENCY: batches in flight (the Map's MaxConcurrencyPath reads it from Prepare's output). */
  readonly mapMaxConcurrency: number;
  /** CONSERVATIVE_MBPS: per-stream throughput (MiB/s) a batch is sized for, times SLICE_CONCURRENCY; lib/batches.ts. */
  readonly conservativeMBps: number;
  /** UPLOAD_SLICES_TIMEOUT: timeout in seconds of the uploadSlices function (batch sizing). */
  readonly uploadSlicesTimeoutSeconds: number;
  /** RESULTS_BUCKET: where records are written; undefined = the source bucket. */
  readonly resultsBucket?: string;
  /** RESULTS_PREFIX: key prefix of records; the trigger never forwards keys under it. */
  readonly resultsPrefix: string;
  /** EVENT_BUS_NAME: EventBridge bus for the outcome events. */
  readonly eventBusName: string;
  /** KEY_PREFIX_FILTER / KEY_SUFFIX_FILTER: comma-separated; empty = everything. */
  readonly keyPrefixes: readonly string[];
  readonly keySuffixes: readonly string[];
  /** STATE_MACHINE_ARN: required by the trigger (checked on use). */
  readonly stateMachineArn?: string;
  /** MAX_RESTARTS: restarts from init after OstUploadExpiredError (10005). */
  readonly maxRestarts: number;
  /** S3_ENDPOINT / S3_FORCE_PATH_STYLE: an S3-compatible endpoint for local runs. */
  readonly s3Endpoint?: string;
  readonly s3ForcePathStyle: boolean;
  /** POWERTOOLS_LOG_LEVEL: one of LOG_LEVELS (any case); undefined = Powertools' default. */
  readonly logLevel?: LogLevel;
}

/** The levels Powertools' Logger knows. */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** POWERTOOLS_LOG_LEVEL, checked: a level Powertools would reject throws ConfigError naming the variable. */
export function logLevelSetting(env: Env): LogLevel | undefined {
  const v = text(env, 'POWERTOOLS_LOG_LEVEL')?.toUpperCase();
  if (v === undefined) return undefined;
  if (!(LOG_LEVELS as readonly string[]).includes(v)) {
    throw new ConfigError('POWERTOOLS_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got ${quote(env.POWERTOOLS_LOG_LEVEL ?? '')}`);
  }
  return v as LogLevel;
}

type Env = Record<string, string | undefined>;

/** A setting's value without surrounding white space; a control character inside it is refused naming it. */
function text(env: Env, name: string): string | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  const t = v.trim();
  if (hasControlCharacters(t)) throw new ConfigError(name, `contains a control character: ${quote(t.slice(0, 100))}`);
  return t === '' ? undefined : t;
}

function integer(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = text(env, name);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v)) throw new ConfigError(name, `must be a whole number, got ${JSON.stringify(v)}`);
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${v}`);
  return n;
}

function positive(env: Env, name: string, fallback: number): number {
  const v = text(env, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || !Number.isFinite(n) || n <= 0) throw new ConfigError(name, `must be a positive number, got ${JSON.stringify(v)}`);
  return n;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const v = text(env, name)?.toLowerCase();
  if (v === undefined) return fallback;
  if (['1', 'true', 'yes'].includes(v)) return true;
  if (['0', 'false', 'no'].includes(v)) return false;
  throw new ConfigError(name, `must be true or false, got ${JSON.stringify(v)}`);
}

function list(env: Env, name: string): string[] {
  return (text(env, name) ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** Pure: reads and validates every setting. Throws ConfigError naming the variable. */
export function loadSettings(env: Env): Settings {
  const ostEndpoint = text(env, 'OST_ENDPOINT') ?? DEFAULT_ENDPOINT;
  parseEndpoint(ostEndpoint);
  const minSliceSize = integer(env, 'MIN_SLICE_SIZE', MIN_SLICE_SIZE, 1, MAX_SLICE_SIZE);
  const sliceSize = integer(env, 'SLICE_SIZE', DEFAULT_SLICE_SIZE, minSliceSize, MAX_SLICE_SIZE);
  const digest = text(env, 'OST_MULTIPART_DIGEST') ?? 'empty';
  if (digest !== 'empty' && digest !== 'body') throw new ConfigError('OST_MULTIPART_DIGEST', `must be 'empty' or 'body', got ${JSON.stringify(digest)}`);
  const smallFileUpload = text(env, 'SMALL_FILE_UPLOAD') ?? 'simple';
  if (smallFileUpload !== 'simple' && smallFileUpload !== 'multipart') {
    throw new ConfigError('SMALL_FILE_UPLOAD', `must be 'simple' or 'multipart', got ${JSON.stringify(smallFileUpload.slice(0, 40))}`);
  }
  const resultsPrefix = text(env, 'RESULTS_PREFIX') ?? DEFAULT_RESULTS_PREFIX;
  if (resultsPrefix.startsWith('/')) throw new ConfigError('RESULTS_PREFIX', 'must not start with /');
  const s3Endpoint = text(env, 'S3_ENDPOINT');
  if (s3Endpoint !== undefined) {
    try { new URL(s3Endpoint); } catch { throw new ConfigError('S3_ENDPOINT', `not a valid URL: ${JSON.stringify(s3Endpoint)}`); }
  }
  const stateMachineArn = text(env, 'STATE_MACHINE_ARN');
  if (stateMachineArn !== undefined && !stateMachineArn.startsWith('arn:')) {
    throw new ConfigError('STATE_MACHINE_ARN', `must be an ARN, got ${JSON.stringify(stateMachineArn)}`);
  }
  return Object.freeze({
    ostEndpoint,
    ostAppId: text(env, 'OST_APP_ID'),
    ostCloudId: text(env, 'OST_CLOUD_ID'),
    apiKeyParam: text(env, 'OST_API_KEY_PARAM'),
    apiSecretParam: text(env, 'OST_API_SECRET_PARAM'),
    secretsMaxAgeSeconds: integer(env, 'SECRETS_MAX_AGE', 300, 0, 86_400),
    multipartDigest: digest,
    sliceSize,
    simpleThreshold: integer(env, 'SIMPLE_THRESHOLD', DEFAULT_THRESHOLD, 0),
    smallFileUpload,
    minSliceSize,
    sliceConcurrency: integer(env, 'SLICE_CONCURRENCY', DEFAULT_SLICES_IN_FLIGHT, 1, 64),
    mapMaxConcurrency: integer(env, 'MAP_MAX_CONCURRENCY', 8, 1, 10_000),
    conservativeMBps: positive(env, 'CONSERVATIVE_MBPS', 1),
    uploadSlicesTimeoutSeconds: integer(env, 'UPLOAD_SLICES_TIMEOUT', 900, 1, 900),
    resultsBucket: text(env, 'RESULTS_BUCKET'),
    resultsPrefix,
    eventBusName: text(env, 'EVENT_BUS_NAME') ?? 'default',
    keyPrefixes: Object.freeze(list(env, 'KEY_PREFIX_FILTER')),
    keySuffixes: Object.freeze(list(env, 'KEY_SUFFIX_FILTER')),
    stateMachineArn,
    maxRestarts: integer(env, 'MAX_RESTARTS', 2, 0, 10),
    s3Endpoint,
    s3ForcePathStyle: boolean(env, 'S3_FORCE_PATH_STYLE', false),
    logLevel: logLevelSetting(env),
  });
}

/**
 * The OST client's own retry policy and timeouts (lib/ost/retry.ts, lib/ost/client.ts). Unset = the client's
 * defaults (5 attempts, 200 ms base, 10 s cap, 2 s base after throttling; 10 s connect, 60 s headers/body).
 * OST_RETRY_ATTEMPTS, OST_RETRY_BASE_MS, OST_RETRY_MAX_DELAY_MS, OST_RETRY_THROTTLED_BASE_MS,
 * OST_CONNECT_TIMEOUT_MS, OST_RESPONSE_TIMEOUT_MS (response headers and idle body). Tests shorten them.
 */
export interface OstTuning {
  retry: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number; throttledBaseDelayMs?: number };
  timeouts: { connectMs?: number; headersMs?: number; bodyMs?: number };
}

export function loadOstTuning(env: Env): OstTuning {
  const opt = (name: string, min: number, max: number): number | undefined =>
    text(env, name) === undefined ? undefined : integer(env, name, 0, min, max);
  const response = opt('OST_RESPONSE_TIMEOUT_MS', 1, 900_000);
  return {
    retry: {
      attempts: opt('OST_RETRY_ATTEMPTS', 1, 20),
      baseDelayMs: opt('OST_RETRY_BASE_MS', 0, 600_000),
      maxDelayMs: opt('OST_RETRY_MAX_DELAY_MS', 0, 600_000),
      throttledBaseDelayMs: opt('OST_RETRY_THROTTLED_BASE_MS', 0, 600_000),
    },
    timeouts: { connectMs: opt('OST_CONNECT_TIMEOUT_MS', 1, 900_000), headersMs: response, bodyMs: response },
  };
}

let cached: Settings | undefined;

/** The settings of this container, read on first use (so a local runner can set the environment first). */
export function settings(): Settings {
  return (cached ??= loadSettings(process.env));
}

/** Forgets the memoised settings (the local stack changes the environment between runs). */
export function resetSettings(): void {
  cached = undefined;
}

/** A setting some functions need and others do not; throws ConfigError naming the variable when missing. */
export function required<K extends keyof Settings>(s: Settings, key: K, variable: string): NonNullable<Settings[K]> {
  const v = s[key];
  if (v === undefined || v === null || v === '') throw new ConfigError(variable, 'is required by this function');
  return v as NonNullable<Settings[K]>;
}
