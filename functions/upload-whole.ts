// Upload whole: the simple upload of a small object, streamed from a ranged GetObject. Output {url, sid}.
// The simple upload has no idempotency key, so a run that ended without an answer (crash, Lambda timeout) must not
// be followed by a second send: an attempt marker (lib/workflow/attempt-markers.ts) is written before the upload and
// removed when the upload failed for sure; a re-run that finds it fails with OstUploadUncertainError.
import type { Context } from 'aws-lambda';
import { OstUploadUncertainError } from '../lib/ost/errors';
import { forExecution } from '../lib/workflow/attempt-markers';
import { type PreparedState, type UploadResult } from '../lib/workflow/state';
import { log, logger, metrics, MetricUnit } from '../lib/runtime/logging';
import { s3 } from '../lib/runtime/aws-clients';
import { step } from '../lib/runtime/step';
import { ostClient } from '../lib/runtime/ost';
import { S3RangeSource } from '../lib/sources/s3';
import { settings } from '../lib/config/settings';

export const handler = step('uploadWhole', async (state: PreparedState, _context?: Context): Promise<UploadResult> => {
  const ost = await ostClient();
  // Undefined for a direct invocation (no execution name): there is no earlier run to detect.
  const marker = forExecution({ s3: s3(), settings: settings(), bucket: state.object.bucket, log }, state.executionName, state.restarts ?? 0)?.upload;
  if (marker && await marker.begin()) {
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
    if (marker && !(err instanceof OstUploadUncertainError)) await marker.clear();
    throw err;
  }
});
