// Cancel: best-effort abandon of the multipart upload after a failure (after a failed Prepare: the upload its init
// marker names). Never throws for an OST or Map-run lookup failure (the original error must not be masked), except
// an outage (the gateway down: OUTAGE_ERROR_NAMES), which the state machine waits out so the upload is not left open;
// returns {cancelled, sid?, reason?, error, uploadId?}. An init marker that cannot be read is thrown (retried).
// `error` is the original Catch output, except when a Distributed Map run failed: on AWS the Map then reports
// States.ExceedToleratedFailureThreshold, and the failing child's own {Error, Cause} is looked up so the
// restart decision and the failure record see the real OST error (the local runner propagates it directly).
import type { Context } from 'aws-lambda';
import type { CancelInput, CancelResult } from '../lib/workflow/state';
import { log, logger } from '../lib/runtime/logging';
import { s3, sfn } from '../lib/runtime/aws-clients';
import { step } from '../lib/runtime/step';
import { ostClient } from '../lib/runtime/ost';
import { forExecution } from '../lib/workflow/attempt-markers';
import { resolveMapRunError } from '../lib/workflow/map-run-lookup';
import { stepErrorMessage } from '../lib/workflow/step-errors';
import { settings } from '../lib/config/settings';
import { isOutage } from '../lib/ost/errors';

async function initMarkerUpload(input: CancelInput): Promise<string | undefined> {
  const bucket = input.input?.bucket ?? input.object?.bucket;
  if (!bucket) return undefined;
  const markers = forExecution({ s3: s3(), settings: settings(), bucket, log }, input.execution?.Name, input.input?.restarts ?? 0);
  return (await markers?.init.read())?.uploadId;
}

export const handler = step('cancel', async (input: CancelInput, _context?: Context): Promise<CancelResult> => {
  let error = input.error ?? { Error: 'Unknown', Cause: 'no error information' };
  if (error.Error === 'States.ExceedToleratedFailureThreshold' && input.execution?.Id) {
    try {
      error = (await resolveMapRunError(sfn(), input.execution.Id)) ?? error;
    } catch (err) {
      logger.warn('could not look up the failed batch', { error: stepErrorMessage(err) });
    }
  }
  // After a failed Prepare the state has no uploadId: the upload a run of it initialised is in its init marker.
  // A marker that cannot be read throws (AwsTransientError is retried): "no upload" must not be a guess.
  const uploadId = input.uploadId ?? await initMarkerUpload(input);
  if (!uploadId) return { cancelled: false, reason: 'no multipart upload to cancel', error };
  try {
    const ost = await ostClient();
    const { sid } = await ost.cancel(uploadId);
    logger.info('multipart upload cancelled', { uploadId, sid, cause: error.Error });
    return { cancelled: true, sid, error, uploadId };
  } catch (err) {
    if (isOutage(err)) throw err;
    const reason = `${err instanceof Error ? err.name : 'Error'}: ${stepErrorMessage(err)}`;
    logger.warn('cancel failed (best effort)', { uploadId, reason });
    return { cancelled: false, reason, error, uploadId };
  }
});
