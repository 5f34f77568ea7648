// What a container creates once: AWS SDK clients, the OST client, the logger and metrics. Everything is created
// lazily on first use, so a local runner can set the environment first, and resetRuntime() forgets it all.
// Endpoints: the SDK reads AWS_ENDPOINT_URL_SFN / _EVENTBRIDGE / _SSM by itself (verified with the installed
// v3 clients); S3 uses S3_ENDPOINT / S3_FORCE_PATH_STYLE when set.
import type { Context } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SSMClient } from '@aws-sdk/client-ssm';
import { preferBaselineWasmCompiler } from './memory';
import { OstClient, type OstLog } from './ost/client';
import { loadSecrets, redact, secretsProvider, type OstSecrets } from './secrets';
import { loadOstTuning, required, resetSettings, settings } from './settings';
import { stepErrorMessage } from './records';

// Before the OST client's first request: keeps undici's parser from costing ~35 MB of RSS (lib/memory.ts).
preferBaselineWasmCompiler();

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
  secrets?: SSMProvider;
  ost?: { client: OstClient; secrets: OstSecrets };
}

let clients: Clients = {};
let lastSecrets: OstSecrets | undefined;

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
const ostLog: OstLog = log;

/**
 * The OST client of this container. Secrets are re-read through the SSM cache (maxAge) on each call; when they
 * changed (rotation), a new client replaces the old one.
 */
export async function ostClient(): Promise<OstClient> {
  const s = settings();
  clients.secrets ??= secretsProvider(ssm());
  const secrets = await loadSecrets(clients.secrets, s);
  lastSecrets = secrets;
  const current = clients.ost;
  if (current && current.secrets.apiKey === secrets.apiKey && current.secrets.apiSecret === secrets.apiSecret) return current.client;
  const client = new OstClient({
    endpoint: s.ostEndpoint,
    appId: required(s, 'ostAppId', 'OST_APP_ID'),
    apiKey: secrets.apiKey,
    apiSecret: secrets.apiSecret,
    ...(s.ostCloudId !== undefined ? { cloudId: s.ostCloudId } : {}),
    multipartDigest: s.multipartDigest,
    ...loadOstTuning(process.env),
    connections: Math.max(2, s.sliceConcurrency),
    log: ostLog,
  });
  clients.ost = { client, secrets };
  if (current) void current.client.close().catch(() => undefined);
  return client;
}

/** Forgets clients, secrets and settings (the local stack, tests). Open OST connections are closed. */
export async function resetRuntime(): Promise<void> {
  const old = clients;
  clients = {};
  lastSecrets = undefined;
  resetSettings();
  old.secrets?.clearCache();
  for (const c of [old.s3, old.sfn, old.events, old.ssm]) c?.destroy();
  if (old.ost) await old.ost.client.close().catch(() => undefined);
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
