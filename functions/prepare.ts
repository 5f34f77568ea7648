// Prepare: HeadObject (pinned to the event's version), plan, and for multipart init + batch descriptors.
// Input {input: ExecutionInput, execution: $$.Execution}; output PreparedState (lib/workflow/state.ts).
// The upload_id is recorded in an init marker right after init: a re-run of Prepare (its first run crashed or
// timed out after init) continues that upload rather than initialising another and leaving the first orphaned, and
// a Prepare that gives up after init is followed by Cancel (statemachine: CancelPrepared), which finds it there.
// HeadObject is compared with the event (ETag, size, version): a mismatch fails before anything is planned. One
// ranged GET of the head tells the content type and media facts; a file the consumer's rules refuse is not initialised.
import type { Context } from 'aws-lambda';
import { batchSizing, sliceBatches } from '../lib/workflow/batches';
import { planUpload } from '../lib/ost/plan';
import { forExecution, UNKNOWN_EXECUTION } from '../lib/workflow/attempt-markers';
import { stepErrorMessage } from '../lib/workflow/step-errors';
import { type PrepareInput, type PreparedState } from '../lib/workflow/state';
import { log, logger } from '../lib/runtime/logging';
import { s3 } from '../lib/runtime/aws-clients';
import { step } from '../lib/runtime/step';
import { ostClient } from '../lib/runtime/ost';
import { checkEventSize, headSource } from '../lib/sources/s3';
import { describeObject } from '../lib/sources/media-probe';
import { eligibility } from '../lib/workflow/eligibility';
import { settings } from '../lib/config/settings';

export const handler = step('prepare', async (event: PrepareInput, _context?: Context): Promise<PreparedState> => {
  const s = settings();
  const input = event.input;
  const restarts = input.restarts ?? 0;
  const object = await headSource(s3(), input);
  // PlanError (e.g. larger than 10,000 x 5 GiB) is thrown here, before any init.
  // SMALL_FILE_UPLOAD=multipart: every non-empty object goes multipart (a small one as one last slice), which a
  // retry can never forward twice; an empty object has no slice to send and stays simple.
  const threshold = s.smallFileUpload === 'multipart' ? 1 : s.simpleThreshold;
  const plan = planUpload(object.size, { sliceSize: s.sliceSize, threshold, minSliceSize: s.minSliceSize });
  // The bytes HEAD reports must be the bytes the event announced (else a truncated forward would be recorded).
  checkEventSize(input, object);
  // What the file is (Content-Type, audio facts from its head), and whether the consumer's rules take it.
  const { contentType, media } = await describeObject(s3(), object);
  const skip = eligibility(s.consumer, { key: object.key, size: object.size, contentType, media });
  const base = {
    object,
    plan,
    restarts,
    maxRestarts: s.maxRestarts,
    mapMaxConcurrency: s.mapMaxConcurrency,
    executionName: event.execution?.Name ?? UNKNOWN_EXECUTION,
    startedAt: event.execution?.StartTime ?? new Date().toISOString(),
    contentType,
    ...(media ? { media } : {}),
  };
  if (skip) {
    logger.info('not forwarded: the consumer\'s rules refuse the file', { ...skip, size: object.size });
    return { ...base, batches: [], slicesPerBatch: 0, skip };
  }
  if (plan.mode === 'simple') {
    logger.info('planned simple upload', { size: object.size, versionId: object.versionId, restarts });
    return { ...base, batches: [], slicesPerBatch: 0 };
  }
  const sizing = batchSizing(plan.sliceSize, s.conservativeMBps, s.uploadSlicesTimeoutSeconds, s.sliceConcurrency);
  if (!sizing.fitsBudget) {
    logger.warn('one slice exceeds the batch time budget', { sliceSize: plan.sliceSize, budgetBytes: sizing.budgetBytes });
  }
  const batches = sliceBatches(plan.sliceCount, sizing.slicesPerBatch);
  // Undefined for a direct invocation (no execution name): there is nothing to continue.
  const marker = forExecution({ s3: s3(), settings: s, bucket: object.bucket, log }, event.execution?.Name, restarts)?.init;
  const earlier = await marker?.read();
  let uploadId: string;
  let sid: string | undefined;
  if (earlier) {
    uploadId = earlier.uploadId;
    logger.warn('continuing the upload an earlier run of Prepare initialised', { uploadId, restarts });
  } else {
    const ost = await ostClient();
    ({ uploadId, sid } = await ost.init());
    if (marker) {
      try {
        await marker.write(uploadId);
      } catch (err) {
        // Unrecorded, the upload would be orphaned by the retry's fresh init (and by a failure, whose Cancel looks
        // for the marker): cancel it now, then fail (AwsTransientError is retried).
        await ost.cancel(uploadId).catch((e: unknown) => logger.warn('could not cancel the unrecorded upload', { uploadId, error: stepErrorMessage(e) }));
        throw err;
      }
    }
  }
  logger.info('multipart upload initialised', {
    size: object.size, sliceSize: plan.sliceSize, sliceCount: plan.sliceCount, batches: batches.length,
    slicesPerBatch: sizing.slicesPerBatch, uploadId, sid, restarts,
  });
  return { ...base, uploadId, initSid: sid, batches, slicesPerBatch: sizing.slicesPerBatch };
});
