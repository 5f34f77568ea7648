// Every setting, described once: its environment variable, its serverless stage param (serverless.yml `params`),
// how it is parsed, its default, what it means and who reads it. lib/config/settings.ts reads the Lambda's settings
// through it, the CLI reads its own through it (cli/settings.ts), docs/configuration.md's table is generated
// from it (`ost-forward settings --markdown`) and `ost-forward settings` shows each one's effective value.
import { ConfigError } from '../core/errors';
import { DEFAULT_SLICE_SIZE, DEFAULT_SLICES_IN_FLIGHT, DEFAULT_THRESHOLD, MAX_SLICE_SIZE, MIN_SLICE_SIZE } from '../ost/plan';
import { DEFAULT_ENDPOINT, parseEndpoint } from '../ost/endpoint';
import { quote, withoutUserInfo } from '../core/text';
import { boolean, integer, list, oneOf, optionalInteger, positive, text, type Env } from './parsers';

/** Who reads a setting: the deployed functions, the command line (`put`, `redrive`, `backfill`, `status`), the local stack. */
export type Reader = 'lambda' | 'cli' | 'local';

export interface SettingSpec {
  /** The environment variable; undefined for a param that only shapes the template. */
  readonly variable?: string;
  /** The serverless stage param (`--param "name=value"`) that sets it when deployed. */
  readonly param?: string;
  /** The default, as a person reads it. */
  readonly default: string;
  readonly meaning: string;
  readonly readers: readonly Reader[];
  /** Never shown: `ost-forward settings` says only whether it is set. */
  readonly secret?: boolean;
  /** Parses and checks the variable (ConfigError naming it); the value when unset is the default. */
  readonly read?: (env: Env) => unknown;
}

export const DEFAULT_RESULTS_PREFIX = 'ost-forwarder/';

/** CONSUMER: the consumers whose eligibility rules are known (lib/workflow/eligibility.ts holds the rules). */
export const CONSUMERS = ['none', 'speed-transcription'] as const;
export type Consumer = (typeof CONSUMERS)[number];

/** POWERTOOLS_LOG_LEVEL: the levels Powertools' Logger knows. */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const L: Reader[] = ['lambda'];
const LC: Reader[] = ['lambda', 'cli'];
const LCL: Reader[] = ['lambda', 'cli', 'local'];
const CL: Reader[] = ['cli', 'local'];

/** A secret is checked where it is used (credentialValue), whose error never quotes it; here it is only trimmed. */
function secretText(env: Env, name: string): string | undefined {
  return env[name]?.trim() || undefined;
}

function endpoint(env: Env): string {
  const v = text(env, 'OST_ENDPOINT') ?? DEFAULT_ENDPOINT;
  parseEndpoint(v);
  return v;
}

function logLevel(env: Env): LogLevel | undefined {
  const v = text(env, 'POWERTOOLS_LOG_LEVEL')?.toUpperCase();
  if (v === undefined) return undefined;
  if (!(LOG_LEVELS as readonly string[]).includes(v)) {
    throw new ConfigError('POWERTOOLS_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got ${quote(env.POWERTOOLS_LOG_LEVEL ?? '')}`);
  }
  return v as LogLevel;
}

/**
 * An endpoint or queue URL. It may not carry a user or password (`https://user:password@host`): the CLI prints
 * endpoints and a settings error quotes them; credentials come from the SDK's chain. An error never quotes them.
 */
function url(name: string) {
  return (env: Env): string | undefined => {
    const v = text(env, name);
    if (v !== undefined) checkUrl(name, v);
    return v;
  };
}

/** Throws ConfigError naming `name` when `v` is not an absolute http(s) URL, or carries credentials. */
export function checkUrl(name: string, v: string): URL {
  let u: URL;
  try { u = new URL(v); } catch { throw new ConfigError(name, `not a valid URL: ${quote(withoutUserInfo(v).slice(0, 200))}`); }
  if (u.username || u.password) throw new ConfigError(name, 'must not contain a user or password (user:password@): give credentials through the AWS variables or profile');
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new ConfigError(name, `must be an http(s) URL, got ${quote(u.protocol)}`);
  return u;
}
/** The state machine's TimeoutSeconds (statemachine/definition.yml; a test keeps them equal): a slot's lease outlasts it. */
export const EXECUTION_TIMEOUT_SECONDS = 86_400;

/** The retention periods CloudWatch Logs accepts (days). */
const LOG_RETENTION_DAYS = ['1', '3', '5', '7', '14', '30', '60', '90', '120', '150', '180', '365', '400', '545', '731', '1096', '1827', '2192', '2557', '2922', '3288', '3653'] as const;

/** Unset = the OST client's own default (lib/ost/retry.ts, lib/ost/client.ts). */
const opt = (name: string, min: number, max: number) => (env: Env) => optionalInteger(env, name, min, max);

export const SETTINGS: readonly SettingSpec[] = [
  { variable: 'OST_ENDPOINT', param: 'ostEndpoint', default: `\`${DEFAULT_ENDPOINT}\``, meaning: 'OST base URL (https; http only for loopback)', readers: LCL, read: endpoint },
  { variable: 'OST_APP_ID', param: 'ostAppId', default: '— (**required**)', meaning: 'iFlytek app_id', readers: LCL, read: (env) => text(env, 'OST_APP_ID') },
  { variable: 'OST_CLOUD_ID', param: 'ostCloudId', default: 'unset', meaning: 'cloud_id sent on upload/init (`0` = public cloud)', readers: LC, read: (env) => text(env, 'OST_CLOUD_ID') },
  { variable: 'OST_API_KEY', default: '— (**required** by the CLI)', meaning: 'api_key of `put` and the local stack (the functions read it from SSM)', readers: CL, secret: true, read: (env) => secretText(env, 'OST_API_KEY') },
  { variable: 'OST_API_SECRET', default: '— (**required** by the CLI)', meaning: 'api_secret of `put` and the local stack (the functions read it from SSM)', readers: CL, secret: true, read: (env) => secretText(env, 'OST_API_SECRET') },
  { variable: 'OST_API_KEY_PARAM', param: 'apiKeyParam', default: '`/ost-forwarder/<stage>/api-key`', meaning: 'SSM SecureString holding api_key', readers: L, read: (env) => text(env, 'OST_API_KEY_PARAM') },
  { variable: 'OST_API_SECRET_PARAM', param: 'apiSecretParam', default: '`/ost-forwarder/<stage>/api-secret`', meaning: 'SSM SecureString holding api_secret', readers: L, read: (env) => text(env, 'OST_API_SECRET_PARAM') },
  { variable: 'SECRETS_MAX_AGE', default: '300', meaning: 'seconds decrypted secrets stay cached in a container', readers: L, read: (env) => integer(env, 'SECRETS_MAX_AGE', 300, 0, 86_400) },
  { variable: 'OST_MULTIPART_DIGEST', default: '`empty`', meaning: '`empty` or `body`: the Digest of a slice upload (above)', readers: LC, read: (env) => oneOf(env, 'OST_MULTIPART_DIGEST', ['empty', 'body'] as const, 'empty') },
  { variable: 'SLICE_SIZE', param: 'sliceSize', default: '16777216 (16 MiB)', meaning: 'preferred slice size (5 MiB–5 GiB; raised to stay ≤ 10,000 slices)', readers: L, read: (env) => integer(env, 'SLICE_SIZE', DEFAULT_SLICE_SIZE, integer(env, 'MIN_SLICE_SIZE', MIN_SLICE_SIZE, 1, MAX_SLICE_SIZE), MAX_SLICE_SIZE) },
  { variable: 'SIMPLE_THRESHOLD', param: 'simpleThreshold', default: '31457280 (30 MiB)', meaning: 'smaller objects use the simple upload', readers: L, read: (env) => integer(env, 'SIMPLE_THRESHOLD', DEFAULT_THRESHOLD, 0) },
  { variable: 'SMALL_FILE_UPLOAD', default: '`simple`', meaning: '`simple` (one call) or `multipart` (retry-safe) for objects under SIMPLE_THRESHOLD (docs/failures.md)', readers: L, read: (env) => oneOf(env, 'SMALL_FILE_UPLOAD', ['simple', 'multipart'] as const, 'simple', 40) },
  { variable: 'CONSUMER', param: 'consumer', default: '`none`', meaning: '`none` or `speed-transcription`: files that consumer would refuse are skipped, with a record (lib/workflow/eligibility.ts)', readers: L, read: (env) => oneOf(env, 'CONSUMER', CONSUMERS, 'none', 40) },
  { variable: 'MIN_SLICE_SIZE', default: '5242880 (5 MiB)', meaning: 'lower bound of a slice (only the emulator\'s tiny-slice mode lowers it)', readers: ['lambda', 'local'], read: (env) => integer(env, 'MIN_SLICE_SIZE', MIN_SLICE_SIZE, 1, MAX_SLICE_SIZE) },
  { variable: 'SLICE_CONCURRENCY', param: 'sliceConcurrency', default: String(DEFAULT_SLICES_IN_FLIGHT), meaning: 'slices in flight inside one batch, each on its own connection (docs/wan.md: the WAN data behind the default)', readers: L, read: (env) => integer(env, 'SLICE_CONCURRENCY', DEFAULT_SLICES_IN_FLIGHT, 1, 64) },
  { variable: 'MAP_MAX_CONCURRENCY', param: 'mapMaxConcurrency', default: '8', meaning: 'batches in flight (protects the destination)', readers: L, read: (env) => integer(env, 'MAP_MAX_CONCURRENCY', 8, 1, 10_000) },
  { variable: 'CONSERVATIVE_MBPS', param: 'conservativeMBps', default: '1', meaning: 'MiB/s **per slice stream** a batch is sized for: bytes per batch ≤ streams × this × UPLOAD_SLICES_TIMEOUT × 0.5 (lib/workflow/batches.ts)', readers: L, read: (env) => positive(env, 'CONSERVATIVE_MBPS', 1) },
  { variable: 'UPLOAD_SLICES_TIMEOUT', default: '900', meaning: 'uploadSlices timeout (s), from `custom.uploadSlicesTimeout`', readers: L, read: (env) => integer(env, 'UPLOAD_SLICES_TIMEOUT', 900, 1, 900) },
  { variable: 'MAX_RESTARTS', param: 'maxRestarts', default: '2', meaning: 'restarts from init after 10005', readers: L, read: (env) => integer(env, 'MAX_RESTARTS', 2, 0, 10) },
  { variable: 'OST_RETRY_ATTEMPTS', default: '5', meaning: 'attempts per OST call (exponential backoff, full jitter)', readers: LC, read: opt('OST_RETRY_ATTEMPTS', 1, 20) },
  { variable: 'OST_RETRY_BASE_MS', default: '200', meaning: 'backoff base', readers: LC, read: opt('OST_RETRY_BASE_MS', 0, 600_000) },
  { variable: 'OST_RETRY_MAX_DELAY_MS', default: '10000', meaning: 'backoff cap', readers: LC, read: opt('OST_RETRY_MAX_DELAY_MS', 0, 600_000) },
  { variable: 'OST_RETRY_THROTTLED_BASE_MS', default: '2000', meaning: 'backoff base after 429/11202/11203', readers: LC, read: opt('OST_RETRY_THROTTLED_BASE_MS', 0, 600_000) },
  { variable: 'OST_CONNECT_TIMEOUT_MS', default: '10000', meaning: 'connect timeout (happy-eyeballs attempts: 1 s each)', readers: LC, read: opt('OST_CONNECT_TIMEOUT_MS', 1, 900_000) },
  { variable: 'OST_RESPONSE_TIMEOUT_MS', default: '60000', meaning: 'waiting for response headers, and idle response body', readers: LC, read: opt('OST_RESPONSE_TIMEOUT_MS', 1, 900_000) },
  { param: 'bucketName', default: '`ost-forwarder-<stage>-inbox-<account>-<region>`', meaning: 'source bucket', readers: [] },
  {
    param: 'existingBucket', default: '`false`', readers: [], read: (env) => oneOf(env, 'existingBucket', ['true', 'false'] as const, 'false'),
    meaning: '`true`: an existing bucket announces its objects through its EventBridge setting (turned on by the stack) and a rule into the intake queue, instead of the stack creating a versioned one',
  },
  { variable: 'RESULTS_BUCKET', param: 'resultsBucket', default: 'a records bucket the stack creates', meaning: 'where records are written (`status` reads them)', readers: LC, read: (env) => text(env, 'RESULTS_BUCKET') },
  {
    variable: 'RESULTS_PREFIX', param: 'resultsPrefix', default: `\`${DEFAULT_RESULTS_PREFIX}\``, meaning: 'records\' prefix; the trigger never forwards keys under it', readers: LCL,
    read: (env) => {
      const v = text(env, 'RESULTS_PREFIX') ?? DEFAULT_RESULTS_PREFIX;
      if (v.startsWith('/')) throw new ConfigError('RESULTS_PREFIX', 'must not start with /');
      return v;
    },
  },
  { variable: 'EVENT_BUS_NAME', param: 'eventBusName', default: '`default`', meaning: 'EventBridge bus of the outcome events (and of `backfill`\'s finished event)', readers: LC, read: (env) => text(env, 'EVENT_BUS_NAME') ?? 'default' },
  { variable: 'KEY_PREFIX_FILTER', param: 'keyPrefixFilter', default: 'empty (all)', meaning: 'comma-separated key prefixes to forward', readers: LC, read: (env) => list(env, 'KEY_PREFIX_FILTER') },
  { variable: 'KEY_SUFFIX_FILTER', param: 'keySuffixFilter', default: 'empty (all)', meaning: 'comma-separated key suffixes, e.g. `.wav,.mp3`', readers: LC, read: (env) => list(env, 'KEY_SUFFIX_FILTER') },
  { param: 'logRetentionDays', default: '30', meaning: 'CloudWatch Logs retention', readers: [], read: (env) => oneOf(env, 'logRetentionDays', LOG_RETENTION_DAYS, '30') },
  { variable: 'POWERTOOLS_LOG_LEVEL', param: 'logLevel', default: 'INFO', meaning: `one of ${LOG_LEVELS.join(', ')} (any case)`, readers: ['lambda', 'local'], read: logLevel },
  { param: 'alarmTopicArn', default: 'none', meaning: 'SNS topic for the alarms', readers: [] },
  {
    variable: 'STATE_MACHINE_ARN', default: 'set on the trigger', meaning: 'the state machine the trigger starts (built with `!Sub`)', readers: L,
    read: (env) => {
      const v = text(env, 'STATE_MACHINE_ARN');
      if (v !== undefined && !v.startsWith('arn:')) throw new ConfigError('STATE_MACHINE_ARN', `must be an ARN, got ${JSON.stringify(v)}`);
      return v;
    },
  },
  { variable: 'INTAKE_DLQ_URL', default: 'the stack\'s queue', meaning: 'the intake\'s dead-letter queue: the trigger sends what it cannot read there with the reason (`redrive --intake`; stack output IntakeDeadLetterQueueUrl)', readers: LC, read: url('INTAKE_DLQ_URL') },
  { variable: 'TRIGGER_DLQ_URL', default: 'none', meaning: 'the trigger\'s dead-letter queue (`redrive`; stack output TriggerDeadLetterQueueUrl)', readers: ['cli'], read: url('TRIGGER_DLQ_URL') },
  { variable: 'S3_ENDPOINT', default: 'AWS', meaning: 'an S3-compatible endpoint (path-style), for local runs', readers: LCL, read: url('S3_ENDPOINT') },
  { variable: 'S3_FORCE_PATH_STYLE', default: '`false` (`true` with S3_ENDPOINT in the CLI)', meaning: 'path-style S3 URLs', readers: LCL, read: (env) => boolean(env, 'S3_FORCE_PATH_STYLE', false) },
  { variable: 'AWS_REGION', default: 'the SDK\'s chain; `us-east-1` for `put s3://` and the local stack', meaning: 'AWS region of the CLI\'s and the local stack\'s clients', readers: CL, read: (env) => text(env, 'AWS_REGION') },
  // admission (docs/admission.md)
  { variable: 'MAX_FILES_IN_FLIGHT', param: 'maxFilesInFlight', default: '32', meaning: 'executions open at once: the slot semaphore\'s size (well under the 1,000 open Map Runs and the account\'s Lambda concurrency)', readers: ['lambda', 'local'], read: (env) => integer(env, 'MAX_FILES_IN_FLIGHT', 32, 1, 1000) },
  { param: 'triggerMaxConcurrency', default: '2', meaning: 'trigger invocations at once on the intake queue (the event source mapping\'s maximum concurrency)', readers: [], read: (env) => integer(env, 'triggerMaxConcurrency', 2, 2, 1000) },
  { variable: 'SLOT_TABLE', default: 'the stack\'s table', meaning: 'the slot semaphore\'s DynamoDB table (the trigger and the release function)', readers: L, read: (env) => text(env, 'SLOT_TABLE') },
  { variable: 'SLOT_LEASE_SECONDS', param: 'slotLeaseSeconds', default: '90000', meaning: 'a slot\'s lease, the last resort when no release arrives; at least the state machine\'s 86,400 s timeout, so a running execution never loses its slot', readers: L, read: (env) => integer(env, 'SLOT_LEASE_SECONDS', 90_000, EXECUTION_TIMEOUT_SECONDS, 366 * 86_400) },
  { variable: 'INTAKE_QUEUE_URL', default: 'the stack\'s queue', meaning: 'the intake queue (a message that waits long is re-sent to it; `redrive --intake` and `backfill` send to it)', readers: LC, read: url('INTAKE_QUEUE_URL') },
  { variable: 'INTAKE_MAX_RECEIVE_COUNT', param: 'intakeMaxReceiveCount', default: '10', meaning: 'the intake queue\'s maxReceiveCount, told to the trigger so a waiting message never reaches the DLQ', readers: L, read: (env) => integer(env, 'INTAKE_MAX_RECEIVE_COUNT', 10, 3, 1000) },
  { variable: 'INTAKE_WAIT_BASE_SECONDS', default: '20', meaning: 'first visibility backoff of a message that found no free slot', readers: L, read: (env) => integer(env, 'INTAKE_WAIT_BASE_SECONDS', 20, 1, 43_200) },
  { variable: 'INTAKE_WAIT_MAX_SECONDS', default: '300', meaning: 'longest visibility backoff of a waiting message', readers: L, read: (env) => integer(env, 'INTAKE_WAIT_MAX_SECONDS', 300, 1, 43_200) },
  { variable: 'THROTTLE_BUDGET_SECONDS', default: '1800', meaning: 'how long throttled OST calls (11202/11203/429) wait in the state machine\'s retriers (the definition is sized for the default)', readers: L, read: (env) => integer(env, 'THROTTLE_BUDGET_SECONDS', 1800, 1, 366 * 86_400) },
  // OST outages (docs/admission.md, "OST outages")
  { variable: 'OUTAGE_BUDGET_SECONDS', default: '14400', meaning: 'how long a file in flight waits out an OST outage (5xx/HTML answers, refused, reset, timeouts) in the state machine\'s retriers, its upload kept open (the definition is sized for the default: 4 h, longer than a maintenance window)', readers: L, read: (env) => integer(env, 'OUTAGE_BUDGET_SECONDS', 14_400, 1, 366 * 86_400) },
  { variable: 'OUTAGE_THRESHOLD', default: '5', meaning: 'outage-class step failures within OUTAGE_WINDOW_SECONDS that pause admission (the breaker beside the slots opens)', readers: L, read: (env) => integer(env, 'OUTAGE_THRESHOLD', 5, 1, 10_000) },
  { variable: 'OUTAGE_WINDOW_SECONDS', default: '60', meaning: 'the window those failures are counted in', readers: L, read: (env) => integer(env, 'OUTAGE_WINDOW_SECONDS', 60, 1, 86_400) },
  { variable: 'OUTAGE_PROBE_BASE_MS', default: '30000', meaning: 'pause before the first recovery probe (init + cancel) while admission is paused; doubled per failed probe', readers: L, read: (env) => integer(env, 'OUTAGE_PROBE_BASE_MS', 30_000, 1, 86_400_000) },
  { variable: 'OUTAGE_PROBE_MAX_MS', default: '300000', meaning: 'longest pause between recovery probes', readers: L, read: (env) => integer(env, 'OUTAGE_PROBE_MAX_MS', 300_000, 1, 86_400_000) },
  { variable: 'OUTAGE_ROUNDS', default: '3', meaning: 'times a file that failed past the outage budget is sent back to the intake by itself (0: never)', readers: L, read: (env) => integer(env, 'OUTAGE_ROUNDS', 3, 0, 100) },
  { variable: 'OUTAGE_READMIT_DELAY_SECONDS', default: '300', meaning: 'delay of that message in the intake (the breaker holds it further while OST is down)', readers: L, read: (env) => integer(env, 'OUTAGE_READMIT_DELAY_SECONDS', 300, 0, 900) },
  {
    variable: 'LOCAL_BUCKET', default: '`ost-forwarder-local`', meaning: 'the local stack\'s bucket, created if missing', readers: ['local'], read: (env) => {
      const v = text(env, 'LOCAL_BUCKET');
      if (v !== undefined && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v)) throw new ConfigError('LOCAL_BUCKET', `must be an S3 bucket name (3–63 lowercase letters, digits, '.' and '-'), got ${quote(v.slice(0, 100))}`);
      return v;
    },
  },
  { variable: 'OST_FORWARD_DEBUG', default: 'unset', meaning: '`1`: an unexpected CLI error prints its stack', readers: ['cli'], read: (env) => text(env, 'OST_FORWARD_DEBUG') === '1' },
];

const byVariable = new Map(SETTINGS.filter((s) => s.variable).map((s) => [s.variable!, s]));

/** The parsed value of one variable, through its one description (ConfigError naming it when bad). */
export function readSetting<T>(env: Env, variable: string): T {
  const spec = byVariable.get(variable);
  if (!spec?.read) throw new Error(`no setting described as ${variable}`);
  return spec.read(env) as T;
}

/** A variable's value when unset: the one place its default is written (module constants are read from here). */
export function settingDefault<T>(variable: string): T {
  return readSetting<T>({}, variable);
}

/** The environment key a spec's reader takes: its variable, else (a template-only param) the param's own name. */
export function specKey(s: SettingSpec): string {
  return s.variable ?? s.param!;
}

/**
 * The problem with a stage param's value, as the function that reads it would see it (the same parser), or
 * undefined when it is fine. Packaging (scripts/param-check.js) refuses a value with this one line.
 */
export function paramProblem(param: string, value: string): string | undefined {
  const spec = SETTINGS.find((s) => s.param === param);
  if (!spec?.read) return undefined;
  try {
    spec.read({ [specKey(spec)]: value });
    return undefined;
  } catch (err) {
    const message = err instanceof ConfigError ? err.message.slice(err.setting.length + 2) : (err as Error).message;
    return `param ${param}${spec.variable ? ` (${spec.variable})` : ''}: ${message}`;
  }
}

/** docs/configuration.md's table of settings, generated (a test keeps the page equal to it). */
export function settingsMarkdown(): string {
  const cell = (v: string | undefined) => (v ?? '—').replace(/\|/g, '\\|');
  const rows = SETTINGS.map((s) => `| ${cell(s.param)} | ${cell(s.variable)} | ${cell(s.default)} | ${cell(s.meaning)} | ${s.readers.length ? s.readers.join(', ') : 'template'} |`);
  return ['| param | variable | default | meaning | read by |', '|---|---|---|---|---|', ...rows].join('\n');
}

/** Each variable's effective value in `env`: secrets only as set/unset, a bad value as its ConfigError's message. */
export function effectiveSettings(env: Env): Array<{ variable: string; value: string; ok: boolean }> {
  return SETTINGS.filter((s) => s.variable && s.read).map((s) => {
    const variable = s.variable!;
    if (s.secret) return { variable, value: env[variable]?.trim() ? '(set, not shown)' : '(unset)', ok: true };
    try {
      const v = s.read!(env);
      const shown = v === undefined ? (/^(unset|none)$/.test(s.default) ? '(unset)' : `(unset: ${s.default})`) : Array.isArray(v) ? (v.length ? v.join(',') : '(empty)') : String(v);
      return { variable, value: shown, ok: true };
    } catch (err) {
      return { variable, value: `invalid: ${(err as Error).message}`, ok: false };
    }
  });
}
