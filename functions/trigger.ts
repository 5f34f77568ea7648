// Trigger: S3 ObjectCreated → one execution per object version (lib/s3-event.ts). Throws after trying every
// record when some could not be started, so Lambda's async retries and the on-failure destination keep the event.
import type { Context, S3Event } from 'aws-lambda';
import { StartExecutionsError, submitS3Event } from '../lib/s3-event';
import { log, logger, metrics, MetricUnit } from '../lib/logging';
import { sfn } from '../lib/aws-clients';
import { required, settings } from '../lib/settings';

export interface TriggerSummary {
  started: number;
  duplicates: number;
  skipped: Array<{ reason: string; key?: string }>;
  malformed: Array<{ reason: string }>;
}

export const handler = async (event: S3Event, context?: Context): Promise<TriggerSummary> => {
  if (context) logger.addContext(context);
  const s = settings();
  const summary = await submitS3Event(event, {
    sfn: sfn(),
    stateMachineArn: required(s, 'stateMachineArn', 'STATE_MACHINE_ARN'),
    settings: s,
    log,
  });
  metrics.addMetric('ExecutionsStarted', MetricUnit.Count, summary.started);
  if (summary.malformed.length > 0) metrics.addMetric('MalformedRecords', MetricUnit.Count, summary.malformed.length);
  metrics.publishStoredMetrics();
  logger.info('trigger summary', { started: summary.started, duplicates: summary.duplicates, skipped: summary.skipped.length, malformed: summary.malformed.length, failed: summary.failed.length });
  if (summary.failed.length > 0) throw new StartExecutionsError(summary);
  return {
    started: summary.started,
    duplicates: summary.duplicates,
    skipped: summary.skipped.map(({ reason, key }) => (key !== undefined ? { reason, key } : { reason })),
    malformed: summary.malformed.map(({ reason }) => ({ reason })),
  };
};
