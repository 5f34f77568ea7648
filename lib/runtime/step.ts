// The wrapper every step handler is built with: persistent log keys, metrics flushed after every invocation, and
// errors re-thrown in the step format (lib/workflow/step-errors.ts) with the OST secrets redacted.
import type { Context } from 'aws-lambda';
import { reportHeapOnce } from './heap-report';
import { logger, metrics } from './logging';
import { redact, type OstSecrets } from './secrets';
import { stepErrorMessage } from '../workflow/step-errors';

let lastSecrets: OstSecrets | undefined;

/** The secrets last loaded (lib/runtime/ost.ts): toStepError redacts them from every error message. */
export function rememberSecrets(secrets: OstSecrets | undefined): void {
  lastSecrets = secrets;
}

/** Persistent log keys from a step's input: bucket, key, execution. */
function logKeys(event: unknown): Record<string, string> {
  const e = (event ?? {}) as Record<string, any>;
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
    reportHeapOnce();
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
