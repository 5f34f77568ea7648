// Errors of the AWS calls the workflow makes besides reading the source (records, events, attempt markers): an
// SDK error that is transient (5xx, throttling, a reset, a timeout) after the SDK's own retries becomes
// AwsTransientError, which every state of the state machine retries; anything else (AccessDenied, a missing
// bucket) is passed on as it is and fails loudly. EventPublishError is a PutEvents answer that rejected an entry
// (FailedEntryCount > 0): the event was not published, and it is retried too.

/** A transient AWS failure (after the SDK's retries). Retried by the state machine (AWS_RETRYABLE_ERROR_NAMES). */
export class AwsTransientError extends Error {
  static readonly errorName = 'AwsTransientError';
  static readonly handling: ErrorHandling = 'retry';
  readonly code = 'AWS_TRANSIENT';
  constructor(message: string, options?: { cause?: unknown }) { super(message, options); this.name = AwsTransientError.errorName; }
}

/** PutEvents answered but rejected the entry (FailedEntryCount > 0): no event was published. Retried. */
export class EventPublishError extends Error {
  static readonly errorName = 'EventPublishError';
  static readonly handling: ErrorHandling = 'retry';
  readonly code = 'EVENT_NOT_PUBLISHED';
  constructor(message: string) { super(message); this.name = EventPublishError.errorName; }
}

/** The names the state machine retries in every Task (test/definition.test.ts checks they are). */
export const AWS_RETRYABLE_ERROR_NAMES = errorNames([AwsTransientError, EventPublishError], 'retry');

import { errorNames, type ErrorHandling } from './error-handling';

/**
 * The AWS error names (and Node network codes) that mean "try again later", for every service the code calls:
 * S3, Step Functions, DynamoDB, EventBridge, SQS. One set: the source reads, the attempt markers, the intake's
 * StartExecution and the admission table all classify by it, each adding its own rule for HTTP statuses.
 */
export const TRANSIENT_AWS_ERROR_NAMES: ReadonlySet<string> = new Set([
  // throttling
  'SlowDown', 'ThrottlingException', 'Throttling', 'ThrottledException', 'TooManyRequestsException', 'RequestLimitExceeded',
  'ProvisionedThroughputExceededException', 'EC2ThrottledException', 'LimitExceededException', 'ExecutionLimitExceeded',
  // the service failed or timed out
  'InternalError', 'InternalFailure', 'InternalException', 'InternalServerError', 'ServiceUnavailable',
  'ServiceUnavailableException', 'RequestTimeout', 'RequestTimeoutException', 'TimeoutError',
  'TransactionConflictException',
  // no answer at all
  'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'EAI_AGAIN', 'NetworkingError', 'UND_ERR_SOCKET',
]);

/** True when an error's name or code is in TRANSIENT_AWS_ERROR_NAMES. */
export function hasTransientAwsName(err: unknown): boolean {
  const e = (err ?? {}) as AwsLikeError;
  return TRANSIENT_AWS_ERROR_NAMES.has(e.name ?? '') || TRANSIENT_AWS_ERROR_NAMES.has(e.code ?? '');
}

/** The fields an AWS SDK (or Node network) error may carry. */
export interface AwsLikeError { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown }

/** True for an SDK error worth another try: 5xx, 429, 408, throttling, or no answer at all (reset, timeout). */
export function isTransientAwsError(err: unknown): boolean {
  if (err instanceof AwsTransientError || err instanceof EventPublishError) return true;
  const e = (err ?? {}) as AwsLikeError;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429 || status === 408)) return true;
  if (hasTransientAwsName(e)) return true;
  return Boolean(e.$retryable);
}

/** One line, bounded, naming the call: `<where>: <Name> (HTTP n): <message>`. */
export function describeAwsError(err: unknown, where: string): string {
  const e = (err ?? {}) as AwsLikeError;
  const status = e.$metadata?.httpStatusCode;
  const text = `${where}: ${e.name || 'Error'}${status ? ` (HTTP ${status})` : ''}${e.message ? `: ${e.message}` : ''}`;
  return text.replace(/\s+/g, ' ').slice(0, 300);
}

/** Runs an AWS call; a transient failure becomes AwsTransientError (retried), anything else is thrown as is. */
export async function awsCall<T>(where: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AwsTransientError || err instanceof EventPublishError) throw err;
    if (isTransientAwsError(err)) throw new AwsTransientError(describeAwsError(err, where), { cause: err });
    throw err;
  }
}
