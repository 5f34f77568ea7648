// Upload slices: one batch [firstSliceId, count] of consecutive slices, SLICE_CONCURRENCY at a time, each read
// with a ranged GetObject pinned to the version and streamed into the OST request (lib/ost/send.ts sendSlices, as
// the CLI's send). The first failure stops the batch (remaining slices are not started) and is thrown for the
// state machine's Retry/Catch.
import type { Context } from 'aws-lambda';
import { sendSlices } from '../lib/ost/send';
import type { BatchInput } from '../lib/workflow/state';
import { logger, metrics, MetricUnit } from '../lib/logging';
import { s3 } from '../lib/aws-clients';
import { step } from '../lib/step';
import { ostClient } from '../lib/runtime-ost';
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
  const started = Date.now();
  const { bytes } = await sendSlices(ost, source, item.plan, item.uploadId, {
    firstSliceId: first,
    count,
    concurrency: settings().sliceConcurrency,
  });
  metrics.addMetric('SlicesUploaded', MetricUnit.Count, count);
  metrics.addMetric('BytesUploaded', MetricUnit.Bytes, bytes);
  logger.info('batch uploaded', { firstSliceId: first, slices: count, bytes, uploadId: item.uploadId, ms: Date.now() - started });
  return { firstSliceId: first, slices: count, bytes };
});
