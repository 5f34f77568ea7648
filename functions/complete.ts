// Complete: assembles the slices. Output {url, sid}.
import type { Context } from 'aws-lambda';
import type { PreparedState, UploadResult } from '../lib/records';
import { logger, ostClient, step } from '../lib/runtime';

export const handler = step('complete', async (state: PreparedState, _context?: Context): Promise<UploadResult> => {
  if (!state.uploadId) throw new TypeError('complete needs an uploadId');
  const ost = await ostClient();
  const { url, sid } = await ost.complete(state.uploadId);
  logger.info('multipart upload completed', { uploadId: state.uploadId, sid });
  return { url, sid };
});
