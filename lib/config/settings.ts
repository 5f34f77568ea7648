// Settings of the Lambda functions, read from the environment once per container and validated up front, so a
// bad deployment fails with a ConfigError naming the variable instead of half-way through an upload.
// Secrets are not settings: OST_API_KEY_PARAM / OST_API_SECRET_PARAM only name the SSM parameters (lib/runtime/secrets.ts).
import { ConfigError } from '../core/errors';
import type { Env } from './parsers';
import { DEFAULT_RESULTS_PREFIX, LOG_LEVELS, readSetting, settingDefault, type Consumer, type LogLevel } from './table';

export { DEFAULT_RESULTS_PREFIX, LOG_LEVELS, type LogLevel };

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
  /** CONSUMER: whose eligibility rules Prepare applies ('none': every file is forwarded). */
  readonly consumer: Consumer;
  /** MIN_SLICE_SIZE: lower bound of a slice (only an emulator in tiny-slice mode lowers it). */
  readonly minSliceSize: number;
  /** SLICE_CONCURRENCY: slices in flight inside one Upload slices invocation. */
  readonly sliceConcurrency: number;
  /** MAP_MAX_CONCURRENCY: batches in flight (the Map's MaxConcurrencyPath reads it from Prepare's output). */
  readonly mapMaxConcurrency: number;
  /** CONSERVATIVE_MBPS: per-stream throughput (MiB/s) a batch is sized for, times SLICE_CONCURRENCY; lib/workflow/batches.ts. */
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

/** POWERTOOLS_LOG_LEVEL, checked: a level Powertools would reject throws ConfigError naming the variable. */
export function logLevelSetting(env: Env): LogLevel | undefined {
  return readSetting(env, 'POWERTOOLS_LOG_LEVEL');
}

/** Pure: reads and validates every setting of the functions (lib/config/table.ts). Throws ConfigError naming the variable. */
export function loadSettings(env: Env): Settings {
  const read = <T>(variable: string): T => readSetting<T>(env, variable);
  const ostEndpoint = read<string>('OST_ENDPOINT');
  const minSliceSize = read<number>('MIN_SLICE_SIZE');
  const sliceSize = read<number>('SLICE_SIZE');
  const multipartDigest = read<'empty' | 'body'>('OST_MULTIPART_DIGEST');
  const smallFileUpload = read<'simple' | 'multipart'>('SMALL_FILE_UPLOAD');
  const resultsPrefix = read<string>('RESULTS_PREFIX');
  const s3Endpoint = read<string | undefined>('S3_ENDPOINT');
  const stateMachineArn = read<string | undefined>('STATE_MACHINE_ARN');
  return Object.freeze({
    ostEndpoint,
    ostAppId: read<string | undefined>('OST_APP_ID'),
    ostCloudId: read<string | undefined>('OST_CLOUD_ID'),
    apiKeyParam: read<string | undefined>('OST_API_KEY_PARAM'),
    apiSecretParam: read<string | undefined>('OST_API_SECRET_PARAM'),
    secretsMaxAgeSeconds: read<number>('SECRETS_MAX_AGE'),
    multipartDigest,
    sliceSize,
    simpleThreshold: read<number>('SIMPLE_THRESHOLD'),
    smallFileUpload,
    consumer: read<Consumer>('CONSUMER'),
    minSliceSize,
    sliceConcurrency: read<number>('SLICE_CONCURRENCY'),
    mapMaxConcurrency: read<number>('MAP_MAX_CONCURRENCY'),
    conservativeMBps: read<number>('CONSERVATIVE_MBPS'),
    uploadSlicesTimeoutSeconds: read<number>('UPLOAD_SLICES_TIMEOUT'),
    resultsBucket: read<string | undefined>('RESULTS_BUCKET'),
    resultsPrefix,
    eventBusName: read<string>('EVENT_BUS_NAME'),
    keyPrefixes: Object.freeze(read<string[]>('KEY_PREFIX_FILTER')),
    keySuffixes: Object.freeze(read<string[]>('KEY_SUFFIX_FILTER')),
    stateMachineArn,
    maxRestarts: read<number>('MAX_RESTARTS'),
    s3Endpoint,
    s3ForcePathStyle: read<boolean>('S3_FORCE_PATH_STYLE'),
    logLevel: logLevelSetting(env),
  });
}

/**
 * The OST client's own retry policy and timeouts (lib/ost/retry.ts, lib/ost/client.ts). Unset = the client's
 * defaults (lib/config/table.ts lists them). Tests shorten them.
 */
export interface OstTuning {
  retry: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number; throttledBaseDelayMs?: number };
  timeouts: { connectMs?: number; headersMs?: number; bodyMs?: number };
}

export function loadOstTuning(env: Env): OstTuning {
  const read = (variable: string): number | undefined => readSetting(env, variable);
  const response = read('OST_RESPONSE_TIMEOUT_MS');
  return {
    retry: {
      attempts: read('OST_RETRY_ATTEMPTS'),
      baseDelayMs: read('OST_RETRY_BASE_MS'),
      maxDelayMs: read('OST_RETRY_MAX_DELAY_MS'),
      throttledBaseDelayMs: read('OST_RETRY_THROTTLED_BASE_MS'),
    },
    timeouts: { connectMs: read('OST_CONNECT_TIMEOUT_MS'), headersMs: response, bodyMs: response },
  };
}

let cached: Settings | undefined;
let cachedTuning: OstTuning | undefined;

/** The settings of this container, read on first use (so a local runner can set the environment first). */
export function settings(): Settings {
  return (cached ??= loadSettings(process.env));
}

/** The OST client's tuning in this container, read once like settings(). */
export function ostTuning(): OstTuning {
  return (cachedTuning ??= loadOstTuning(process.env));
}

/** Forgets the memoised settings (the local stack changes the environment between runs). */
export function resetSettings(): void {
  cached = undefined;
  cachedAdmission = undefined;
  cachedTuning = undefined;
}

/** The bucket that holds the records and attempt markers of a source bucket's objects: RESULTS_BUCKET, else the source. */
export function recordsBucket(s: Pick<Settings, 'resultsBucket'>, sourceBucket: string): string {
  return s.resultsBucket ?? sourceBucket;
}

/** A setting some functions need and others do not; throws ConfigError naming the variable when missing. */
export function required<S extends object, K extends keyof S>(s: S, key: K, variable: string): NonNullable<S[K]> {
  const v = s[key];
  if (v === undefined || v === null || v === '') throw new ConfigError(variable, 'is required by this function');
  return v as NonNullable<S[K]>;
}

// --- admission (docs/admission.md) ------------------------------------------------------------------------------
// MAX_FILES_IN_FLIGHT, SLOT_TABLE, SLOT_LEASE_SECONDS, INTAKE_QUEUE_URL, INTAKE_DLQ_URL, INTAKE_MAX_RECEIVE_COUNT,
// INTAKE_WAIT_BASE_SECONDS / INTAKE_WAIT_MAX_SECONDS, THROTTLE_BUDGET_SECONDS, OUTAGE_* (the outage budget, the
// breaker's threshold, window and probe pauses, the rounds after the budget): described (defaults, bounds) in
// lib/config/table.ts, the one place a default is written.
export interface AdmissionSettings {
  readonly maxFilesInFlight: number;
  readonly slotTable?: string;
  readonly slotLeaseSeconds: number;
  readonly intakeQueueUrl?: string;
  /** INTAKE_DLQ_URL: where the trigger sends a message it cannot read, with the reason. */
  readonly intakeDlqUrl?: string;
  readonly intakeMaxReceiveCount: number;
  readonly intakeWaitBaseSeconds: number;
  readonly intakeWaitMaxSeconds: number;
  readonly throttleBudgetSeconds: number;
  /** OST outages (docs/admission.md): the breaker beside the slots and the rounds after the budget. */
  readonly outage: {
    readonly budgetSeconds: number;
    readonly threshold: number;
    readonly windowMs: number;
    readonly probeBaseMs: number;
    readonly probeMaxMs: number;
    readonly rounds: number;
    readonly readmitDelaySeconds: number;
  };
}

export const DEFAULT_MAX_FILES_IN_FLIGHT: number = settingDefault('MAX_FILES_IN_FLIGHT');

/** Pure: reads and validates the admission settings (described in lib/config/table.ts). */
export function loadAdmissionSettings(env: Env): AdmissionSettings {
  const read = <T>(variable: string): T => readSetting<T>(env, variable);
  const intakeWaitBaseSeconds = read<number>('INTAKE_WAIT_BASE_SECONDS');
  const intakeWaitMaxSeconds = read<number>('INTAKE_WAIT_MAX_SECONDS');
  if (intakeWaitMaxSeconds < intakeWaitBaseSeconds) throw new ConfigError('INTAKE_WAIT_MAX_SECONDS', `must be at least INTAKE_WAIT_BASE_SECONDS (${intakeWaitBaseSeconds}), got ${intakeWaitMaxSeconds}`);
  return Object.freeze({
    maxFilesInFlight: read<number>('MAX_FILES_IN_FLIGHT'),
    slotTable: read<string | undefined>('SLOT_TABLE'),
    slotLeaseSeconds: read<number>('SLOT_LEASE_SECONDS'),
    intakeQueueUrl: read<string | undefined>('INTAKE_QUEUE_URL'),
    intakeDlqUrl: read<string | undefined>('INTAKE_DLQ_URL'),
    intakeMaxReceiveCount: read<number>('INTAKE_MAX_RECEIVE_COUNT'),
    intakeWaitBaseSeconds,
    intakeWaitMaxSeconds,
    throttleBudgetSeconds: read<number>('THROTTLE_BUDGET_SECONDS'),
    outage: Object.freeze({
      budgetSeconds: read<number>('OUTAGE_BUDGET_SECONDS'),
      threshold: read<number>('OUTAGE_THRESHOLD'),
      windowMs: read<number>('OUTAGE_WINDOW_SECONDS') * 1000,
      probeBaseMs: read<number>('OUTAGE_PROBE_BASE_MS'),
      probeMaxMs: Math.max(read<number>('OUTAGE_PROBE_BASE_MS'), read<number>('OUTAGE_PROBE_MAX_MS')),
      rounds: read<number>('OUTAGE_ROUNDS'),
      readmitDelaySeconds: read<number>('OUTAGE_READMIT_DELAY_SECONDS'),
    }),
  });
}

let cachedAdmission: AdmissionSettings | undefined;

/** The admission settings of this container, read once (resetSettings forgets them too). */
export function admissionSettings(): AdmissionSettings {
  return (cachedAdmission ??= loadAdmissionSettings(process.env));
}
