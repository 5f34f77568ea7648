// Complete: assembles the slices. Output {url, sid}.
// A Complete that runs again (a state machine retry after a crash or timeout) may have completed the upload the
// first time: an attempt marker (lib/workflow/attempt-markers.ts) tells the client, which then reports a 10005 as
// OstCompleteUncertainError (fail, never restart: a restart would forward the file twice).
import type { Context } from 'aws-lambda';
import { forUpload } from '../lib/workflow/attempt-markers';
import { type PreparedState, type UploadResult } from '../lib/workflow/state';
import { log, logger } from '../lib/runtime/logging';
import { s3 } from '../lib/runtime/aws-clients';
import { step } from '../lib/runtime/step';
import { ostClient } from '../lib/runtime/ost';
import { settings } from '../lib/config/settings';

export const handler = step('complete', async (state: PreparedState, _context?: Context): Promise<UploadResult> => {
  if (!state.uploadId) throw new TypeError('complete needs an uploadId');
  const ost = await ostClient();
  const previousAttempt = await forUpload({ s3: s3(), settings: settings(), bucket: state.object?.bucket ?? '', log }, state.uploadId).claim();
  if (previousAttempt) logger.warn('complete runs again for this upload', { uploadId: state.uploadId });
  const { url, sid } = await ost.complete(state.uploadId, { previousAttempt });
  logger.info('multipart upload completed', { uploadId: state.uploadId, sid });
  return { url, sid };
});
