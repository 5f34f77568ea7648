// Upload slices: one batch [firstSliceId, count] of consecutive slices, SLICE_CONCURRENCY at a time, each read
// with a ranged GetObject pinned to the version and streamed into the OST request (lib/ost/send.ts sendSlices, as
// the CLI's send). The first failure stops the batch (remaining slices are not started) and is thrown for the
// state machine's Retry/Catch.
// Slices OST acknowledged are recorded per batch (lib/workflow/batch-progress.ts) and skipped by a retry. The handler stops
// itself shortly before its Lambda timeout, so that it can write that progress and say which case it was:
// BatchCutShortError (some slices acknowledged: retried) or SliceTooSlowError (none in a whole invocation: fatal).
import type { Context } from 'aws-lambda';
import { BatchCutShortError, SliceTooSlowError } from '../lib/workflow/batch-errors';
import { BatchProgress } from '../lib/workflow/batch-progress';
import { sendSlices } from '../lib/ost/send';
import type { BatchInput } from '../lib/workflow/state';
import { log, logger, metrics, MetricUnit } from '../lib/runtime/logging';
import { s3 } from '../lib/runtime/aws-clients';
import { step } from '../lib/runtime/step';
import { ostClient } from '../lib/runtime/ost';
import { S3RangeSource } from '../lib/sources/s3';
import { settings } from '../lib/config/settings';

export interface BatchResult { firstSliceId: number; slices: number; bytes: number }

/** Time kept back from the Lambda timeout to write the progress and return: 10 % of it, within 0.5–30 s. */
export function stopMarginMs(remainingMs: number): number {
  return Math.min(30_000, Math.max(500, remainingMs * 0.1));
}

export const handler = step('uploadSlices', async (item: BatchInput, context?: Context): Promise<BatchResult> => {
  const [first, count] = item.batch;
  if (!Number.isInteger(first) || !Number.isInteger(count) || first < 1 || count < 1 || first + count - 1 > item.plan.sliceCount) {
    throw new RangeError(`batch [${first}, ${count}] is outside slices 1..${item.plan.sliceCount}`);
  }
  const s = settings();
  const ost = await ostClient();
  const source = new S3RangeSource(s3(), item.object);
  const progress = await BatchProgress.load(s3(), s, item.object.bucket, item.uploadId, first, log);
  const started = Date.now();
  const remainingMs = context?.getRemainingTimeInMillis?.();
  const deadline = new AbortController();
  const timer = remainingMs === undefined ? undefined : setTimeout(() => deadline.abort(new Error('batch deadline')), remainingMs - stopMarginMs(remainingMs));
  let acknowledged = 0;
  let bytes = 0;
  try {
    ({ bytes } = await sendSlices(ost, source, item.plan, item.uploadId, {
      firstSliceId: first,
      count,
      concurrency: s.sliceConcurrency,
      only: (id) => !progress.has(id),
      onSliceDone: (id) => { acknowledged++; progress.add(id); },
      signal: deadline.signal,
    }));
  } catch (err) {
    // Whatever stopped the batch, what OST acknowledged is kept for the retry.
    await progress.flush();
    if (!deadline.signal.aborted) throw err;
    const seconds = (Date.now() - started) / 1000;
    if (acknowledged === 0) throw new SliceTooSlowError(item.plan.sliceSize, seconds);
    let remaining = 0;
    for (let id = first; id < first + count; id++) if (!progress.has(id)) remaining++;
    logger.warn('batch cut short by its deadline; progress kept for the retry', { firstSliceId: first, acknowledged, remaining, uploadId: item.uploadId });
    throw new BatchCutShortError(acknowledged, remaining, seconds);
  } finally {
    clearTimeout(timer);
  }
  await progress.flush();
  metrics.addMetric('SlicesUploaded', MetricUnit.Count, acknowledged);
  metrics.addMetric('BytesUploaded', MetricUnit.Bytes, bytes);
  logger.info('batch uploaded', { firstSliceId: first, slices: count, sentNow: acknowledged, bytes, uploadId: item.uploadId, ms: Date.now() - started });
  return { firstSliceId: first, slices: count, bytes };
});
