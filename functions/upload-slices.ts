// Upload slices: one batch [firstSliceId, count] of consecutive slices, SLICE_CONCURRENCY at a time, each read
// with a ranged GetObject pinned to the version and streamed into the OST request. The first failure stops the
// batch (remaining slices are not started) and is thrown for the state machine's Retry/Catch.
import type { Context } from 'aws-lambda';
import pLimit from 'p-limit';
import { sliceRange } from '../lib/plan';
import type { BatchInput } from '../lib/records';
import { logger, metrics, MetricUnit, ostClient, s3, step } from '../lib/runtime';
import { S3RangeSource } from '../lib/s3-source';
import { settings } from '../lib/settings';

export interface BatchResult { firstSliceId: number; slices: number; bytes: number }

export const handler = step('uploadSlices', async (item: BatchInput, _context?: Context): Promise<BatchResult> => {
  const [first, count] = item.batch;
  if (!Number.isInteger(first) || !Number.isInteger(count) || first < 1 || count < 1 || first + count - 1 > item.plan.sliceCount) {
    throw new RangeError(`batch [${first}, ${count}] is outside slices 1..${item.plan.sliceCount}`);
  }
  const ost = await ostClient();
  const source = new S3RangeSource(s3(), item.object);
  const limit = pLimit(settings().sliceConcurrency);
  const abort = new AbortController();
  const started = Date.now();
  let bytes = 0;
  const ids = Array.from({ length: count }, (_, i) => first + i);
  const results = await Promise.allSettled(ids.map((sliceId) => limit(async () => {
    if (abort.signal.aborted) throw abort.signal.reason;
    const range = sliceRange(item.plan, sliceId);
    try {
      const { sid } = await ost.uploadSlice(item.uploadId, sliceId, source, range, { signal: abort.signal });
      bytes += range.end - range.start;
      logger.debug('slice uploaded', { sliceId, sid, bytes: range.end - range.start });
    } catch (err) {
      if (!abort.signal.aborted) abort.abort(err);
      throw err;
    }
  })));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw abort.signal.reason ?? failure.reason;
  metrics.addMetric('SlicesUploaded', MetricUnit.Count, count);
  metrics.addMetric('BytesUploaded', MetricUnit.Bytes, bytes);
  logger.info('batch uploaded', { firstSliceId: first, slices: count, bytes, uploadId: item.uploadId, ms: Date.now() - started });
  return { firstSliceId: first, slices: count, bytes };
});
