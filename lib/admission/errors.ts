// Errors of the admission control (the slot semaphore). Every class has a stable `code`, and its `name` is what a
// Lambda reports as errorType, so a state machine's Retry/Catch can list these names (see the name lists below).
// Messages name the table and the operation, never credentials, and are bounded in length.

import { TRANSIENT_AWS_ERROR_NAMES, type AwsLikeError } from '../core/aws-errors';
import { declaredName, errorNames, handlingOf, type DeclaredError, type ErrorHandling } from '../core/error-handling';

export type AdmissionOperation = 'acquire' | 'release' | 'renew' | 'reclaim' | 'read' | 'create';

export interface AdmissionErrorDetails {
  table?: string;
  operation?: AdmissionOperation;
  /** The AWS error name underneath (e.g. ProvisionedThroughputExceededException, ECONNREFUSED), when there was one. */
  awsError?: string;
  cause?: unknown;
}

const MAX_MESSAGE = 300;

export class AdmissionError extends Error {
  readonly code: string = 'ADMISSION_ERROR';
  readonly table?: string;
  readonly operation?: AdmissionOperation;
  readonly awsError?: string;

  constructor(message: string, details: AdmissionErrorDetails = {}) {
    super(message.length > MAX_MESSAGE ? message.slice(0, MAX_MESSAGE - 1) + '…' : message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = declaredName(new.target, 'AdmissionError');
    this.table = details.table;
    this.operation = details.operation;
    this.awsError = details.awsError;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, table: this.table, operation: this.operation, awsError: this.awsError };
  }
}

/**
 * The semaphore table could not be reached or answered with a transient fault (throttled, 5xx, connection refused
 * or reset, timeout). Retryable: the caller keeps the message (or the state retries) and tries again later.
 */
export class AdmissionUnavailableError extends AdmissionError {
  static readonly errorName = 'AdmissionUnavailableError';
  static readonly handling: ErrorHandling = 'retry';
  override readonly code = 'ADMISSION_UNAVAILABLE';
}
/** The table is missing, access is denied or a request was rejected as invalid: a deployment fault. Not retried. */
export class AdmissionConfigError extends AdmissionError {
  static readonly errorName = 'AdmissionConfigError';
  static readonly handling: ErrorHandling = 'fatal';
  override readonly code = 'ADMISSION_MISCONFIGURED';
}
/** A bad argument from the caller (holder name, slot count, lease length). A bug; not retried. */
export class AdmissionInputError extends AdmissionError {
  static readonly errorName = 'AdmissionInputError';
  static readonly handling: ErrorHandling = 'fatal';
  override readonly code = 'ADMISSION_BAD_INPUT';
}

/** Names a state machine may list in Retry (retryable) or Catch (fatal). */
const ADMISSION_ERRORS: readonly DeclaredError[] = [AdmissionUnavailableError, AdmissionConfigError, AdmissionInputError];
export const ADMISSION_RETRYABLE_ERROR_NAMES = errorNames(ADMISSION_ERRORS, 'retry');
export const ADMISSION_FATAL_ERROR_NAMES = errorNames(ADMISSION_ERRORS, 'fatal');

/** The one place that decides whether an admission failure is retried: the class's declared handling. */
export function isAdmissionRetryable(e: unknown): boolean {
  return e instanceof AdmissionError && handlingOf(e) === 'retry';
}

/**
 * Maps an SDK (or network) error to the admission error class: a transient name (lib/core/aws-errors.ts), a 5xx or
 * no HTTP answer at all is unavailable (retried); every other answered error is a deployment fault.
 * ConditionalCheckFailed is handled by the caller.
 */
export function admissionErrorFrom(err: unknown, details: Omit<AdmissionErrorDetails, 'cause' | 'awsError'>): AdmissionError {
  if (err instanceof AdmissionError) return err;
  const e = (err ?? {}) as AwsLikeError;
  const awsError = e.code && e.name === 'Error' ? e.code : (e.name ?? e.code ?? 'Error');
  const status = e.$metadata?.httpStatusCode;
  const what = `semaphore table ${details.table ?? '?'}: ${details.operation ?? 'request'} failed: ${awsError}: ${String(e.message ?? err).split('\n')[0]}`;
  const transient = TRANSIENT_AWS_ERROR_NAMES.has(awsError) || status === undefined || status >= 500;
  const d = { ...details, awsError, cause: err };
  return transient ? new AdmissionUnavailableError(what, d) : new AdmissionConfigError(what, d);
}
