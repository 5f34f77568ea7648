// What a container creates once: AWS SDK clients, the logger and metrics (the OST client: lib/runtime-ost.ts, so
// that a handler which never calls OST neither bundles nor loads undici and the SSM client). Everything is created
// lazily on first use, so a local runner can set the environment first, and resetRuntime() forgets it all.
// Each SDK client is imported here but only bundled into the handlers that call its factory (esbuild drops the
// unused ones: the SDK packages are side-effect free).
// Endpoints: the SDK reads AWS_ENDPOINT_URL_SFN / _EVENTBRIDGE / _SSM by itself (verified with the installed
// v3 clients); S3 uses S3_ENDPOINT / S3_FORCE_PATH_STYLE when set.
import type { Context } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { OstLog } from './ost/client';
import { redact, type OstSecrets } from './secrets';
import { resetSettings, settings } from './settings';
import { stepErrorMessage } from './records';

export const SERVICE_NAME = 'ost-forwarder';
export const METRICS_NAMESPACE = 'OstForwarder';

export const logger = new Logger({ serviceName: SERVICE_NAME });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
export { MetricUnit };

interface Clients {
  s3?: S3Client;
  sfn?: SFNClient;
  events?: EventBridgeClient;
  ssm?: SSMClient;
}

let clients: Clients = {};
let lastSecrets: OstSecrets | undefined;
const resetHooks = new Set<() => Promise<void> | void>();

/** What resetRuntime() must also forget (lib/runtime-ost.ts registers its OST client here). */
export function onResetRuntime(hook: () => Promise<void> | void): void {
  resetHooks.add(hook);
}

/** The secrets last loaded: toStepError redacts them from every error message. */
export function rememberSecrets(secrets: OstSecrets | undefined): void {
  lastSecrets = secrets;
}

export function s3(): S3Client {
  const s = settings();
  return (clients.s3 ??= new S3Client({
    ...(s.s3Endpoint ? { endpoint: s.s3Endpoint } : {}),
    forcePathStyle: s.s3ForcePathStyle,
    maxAttempts: 5,
  }));
}

export function sfn(): SFNClient {
  return (clients.sfn ??= new SFNClient({ maxAttempts: 5 }));
}

export function eventBridge(): EventBridgeClient {
  return (clients.events ??= new EventBridgeClient({ maxAttempts: 5 }));
}

export function ssm(): SSMClient {
  return (clients.ssm ??= new SSMClient({}));
}

/** The logger behind a plain (message, fields) interface, for lib code that knows nothing of Powertools. */
export const log: OstLog & { error(message: string, fields?: Record<string, unknown>): void } = {
  debug: (message, fields) => logger.debug(message, fields ?? {}),
  info: (message, fields) => logger.info(message, fields ?? {}),
  warn: (message, fields) => logger.warn(message, fields ?? {}),
  error: (message, fields) => logger.error(message, fields ?? {}),
};
/** Forgets clients, secrets and settings (the local stack, tests). Open OST connections are closed. */
export async function resetRuntime(): Promise<void> {
  const old = clients;
  clients = {};
  lastSecrets = undefined;
  resetSettings();
  for (const hook of resetHooks) await hook();
  for (const c of [old.s3, old.sfn, old.events, old.ssm]) c?.destroy();
}

/** Persistent log keys from a step's input: bucket, key, execution. */
function logKeys(event: unknown): Record<string, string> {
  const e = (event ?? {}) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const state = e.state ?? e.input ?? e;
  const object = state.object ?? e.object ?? state;
  const keys: Record<string, string> = {};
  if (typeof object.bucket === 'string') keys.bucket = object.bucket;
  if (typeof object.key === 'string') keys.key = object.key;
  const execution = e.execution?.Name ?? e.executionName ?? state.executionName;
  if (typeof execution === 'string') keys.execution = execution;
  return keys;
}

/** An error thrown out of a step: same name (the state machine's Retry/Catch match it), parseable message. */
export function toStepError(err: unknown): Error {
  const name = err instanceof Error ? err.name : 'Error';
  const out = new Error(redact(stepErrorMessage(err), lastSecrets));
  out.name = name;
  // A short trace keeps the Catch's Cause small (it travels in the state).
  out.stack = `${name}: ${out.message}`;
  return out;
}

/**
 * Wraps a step handler: persistent log keys, metrics flushed after every invocation, and errors re-thrown in
 * the step format (toStepError). The wrapped function stays a plain async (event, context) handler.
 */
export function step<I, O>(stepName: string, fn: (input: I, context?: Context) => Promise<O>): (input: I, context?: Context) => Promise<O> {
  return async (input: I, context?: Context): Promise<O> => {
    if (context) logger.addContext(context);
    const keys = { step: stepName, ...logKeys(input) };
    logger.appendPersistentKeys(keys);
    try {
      return await fn(input, context);
    } catch (err) {
      const out = toStepError(err);
      logger.error('step failed', { error: out.name, errorMessage: out.message });
      throw out;
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      logger.removePersistentKeys(Object.keys(keys));
    }
  };
}
