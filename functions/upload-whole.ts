// Upload whole: the simple upload of a small object, streamed from a ranged GetObject. Output {url, sid}.
import type { Context } from 'aws-lambda';
import type { PreparedState, UploadResult } from '../lib/records';
import { logger, metrics, MetricUnit, ostClient, s3, step } from '../lib/runtime';
import { S3RangeSource } from '../lib/s3-source';

export const handler = step('uploadWhole', async (state: PreparedState, _context?: Context): Promise<UploadResult> => {
  const ost = await ostClient();
  const started = Date.now();
  const { url, sid } = await ost.upload(new S3RangeSource(s3(), state.object));
  metrics.addMetric('BytesUploaded', MetricUnit.Bytes, state.object.size);
  logger.info('simple upload done', { bytes: state.object.size, sid, ms: Date.now() - started });
  return { url, sid };
});
