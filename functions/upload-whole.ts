// Upload whole: the simple upload of a small object, streamed from a ranged GetObject. Output {url, sid}.
// The simple upload has no idempotency key, so a run that ended without an answer (crash, Lambda timeout) must not
// be followed by a second send: an attempt marker (lib/records.ts markAttempt) is written before the upload and
// removed when the upload failed for sure; a re-run that finds it fails with OstUploadUncertainError.
import type { Context } from 'aws-lambda';
import { OstUploadUncertainError } from '../lib/ost/errors';
import { clearAttempt, markAttempt, type PreparedState, type UploadResult } from '../lib/records';
import { log, logger, metrics, MetricUnit, s3, step } from '../lib/runtime';
import { ostClient } from '../lib/runtime-ost';
import { S3RangeSource } from '../lib/s3-source';
import { settings } from '../lib/settings';

export const handler = step('uploadWhole', async (state: PreparedState, _context?: Context): Promise<UploadResult> => {
  const ost = await ostClient();
  // Markers are keyed by execution: without its name (a direct invocation) there is no earlier run to detect.
  const marker = state.executionName && state.executionName !== 'unknown' ? `upload/${state.executionName}/${state.attempt ?? 0}` : undefined;
  if (marker && await markAttempt(s3(), settings(), state.object.bucket, marker, log)) {
    throw new OstUploadUncertainError(
      'an earlier run of this simple upload ended without an answer: the file may be at OST already; not sending it again',
      { call: 'upload' },
    );
  }
  const started = Date.now();
  try {
    const { url, sid } = await ost.upload(new S3RangeSource(s3(), state.object));
    metrics.addMetric('BytesUploaded', MetricUnit.Bytes, state.object.size);
    logger.info('simple upload done', { bytes: state.object.size, sid, ms: Date.now() - started });
    return { url, sid };
  } catch (err) {
    // Any answer other than "uncertain" means OST did not take the file: a retry may send it again.
    if (marker && !(err instanceof OstUploadUncertainError)) await clearAttempt(s3(), settings(), state.object.bucket, marker, log);
    throw err;
  }
});
