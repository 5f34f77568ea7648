// Errors of a batch that ran out of its Lambda's time (functions/upload-slices.ts). The handler stops itself just
// before the timeout so it can keep what OST acknowledged (lib/workflow/batch-progress.ts) and say which of the two
// it was. Both declare their name and handling once (lib/core/error-handling.ts).
import { errorNames, type DeclaredError, type ErrorHandling } from '../core/error-handling';

/** The batch ran out of time after OST acknowledged some slices: retried, and the retry sends only the rest. */
export class BatchCutShortError extends Error {
  static readonly errorName = 'BatchCutShortError';
  static readonly handling: ErrorHandling = 'retry';
  readonly code = 'BATCH_CUT_SHORT';
  constructor(readonly acknowledged: number, readonly remaining: number, seconds: number) {
    super(`the batch ran out of its ${seconds.toFixed(0)} s: ${acknowledged} slice(s) acknowledged in this attempt, ${remaining} left for the retry`);
    this.name = BatchCutShortError.errorName;
  }
}

/**
 * Not one slice was acknowledged in a whole invocation: the link is too slow for a slice to fit in the timeout,
 * and retrying would only repeat that. Fatal: lower SLICE_SIZE or raise the uploadSlices timeout.
 */
export class SliceTooSlowError extends Error {
  static readonly errorName = 'SliceTooSlowError';
  static readonly handling: ErrorHandling = 'fatal';
  readonly code = 'SLICE_TOO_SLOW';
  constructor(sliceSize: number, seconds: number) {
    super(`no slice of ${sliceSize} bytes was acknowledged within ${seconds.toFixed(0)} s: the link is too slow for this slice size and timeout (lower SLICE_SIZE or raise the uploadSlices timeout)`);
    this.name = SliceTooSlowError.errorName;
  }
}

export const BATCH_ERRORS: readonly DeclaredError[] = [BatchCutShortError, SliceTooSlowError];
/** Names the state machine's UploadSlices Retry matches (statemachine/definition.yml &batchCutShort). */
export const BATCH_RETRYABLE_ERROR_NAMES = errorNames(BATCH_ERRORS, 'retry');
export const BATCH_FATAL_ERROR_NAMES = errorNames(BATCH_ERRORS, 'fatal');
