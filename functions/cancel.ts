// Cancel: best-effort abandon of the multipart upload after a failure. Never throws for an OST or lookup
// failure (the original error must not be masked); returns {cancelled, sid?, reason?, error}.
// `error` is the original Catch output, except when a Distributed Map run failed: on AWS the Map then reports
// States.ExceedToleratedFailureThreshold, and the failing child's own {Error, Cause} is looked up so the
// restart decision and the failure record see the real OST error (the local runner propagates it directly).
import type { Context } from 'aws-lambda';
import type { CancelInput, CancelResult } from '../lib/records';
import { logger, sfn, step } from '../lib/runtime';
import { ostClient } from '../lib/runtime-ost';
import { resolveMapRunError, stepErrorMessage } from '../lib/records';

export const handler = step('cancel', async (input: CancelInput, _context?: Context): Promise<CancelResult> => {
  let error = input.error ?? { Error: 'Unknown', Cause: 'no error information' };
  if (error.Error === 'States.ExceedToleratedFailureThreshold' && input.execution?.Id) {
    try {
      error = (await resolveMapRunError(sfn(), input.execution.Id)) ?? error;
    } catch (err) {
      logger.warn('could not look up the failed batch', { error: stepErrorMessage(err) });
    }
  }
  if (!input.uploadId) return { cancelled: false, reason: 'no multipart upload to cancel', error };
  try {
    const ost = await ostClient();
    const { sid } = await ost.cancel(input.uploadId);
    logger.info('multipart upload cancelled', { uploadId: input.uploadId, sid, cause: error.Error });
    return { cancelled: true, sid, error };
  } catch (err) {
    const reason = `${err instanceof Error ? err.name : 'Error'}: ${stepErrorMessage(err)}`;
    logger.warn('cancel failed (best effort)', { uploadId: input.uploadId, reason });
    return { cancelled: false, reason, error };
  }
});
