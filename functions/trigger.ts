// Trigger. Two event shapes:
// - an SQS batch from the intake queue (the deployed path: S3 → SQS → event source mapping): each record takes a
//   slot of the semaphore, then starts its execution (lib/intake/batch.ts); the answer is the partial batch response, so
//   only the messages that must wait or failed stay in the queue.
// - an S3 event invoked directly (an existing bucket notified through the framework's custom resource, older
//   deployments): one execution per object version (lib/intake/s3-event.ts), without admission. Throws after trying every
//   record when some could not be started, so Lambda's async retries and the on-failure destination keep the event.
import type { Context, S3Event, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { StartExecutionsError, submitS3Event } from '../lib/intake/s3-event';
import { handleIntakeBatch } from '../lib/intake/batch';
import { queueUrlFromArn, sfnStarter, sqsIntakeQueue } from '../lib/intake/adapters';
import { intakePolicy, slotSemaphore, sqsClient } from '../lib/runtime/admission-clients';
import { reportHeapOnce } from '../lib/runtime/heap-report';
import { log, logger, metrics, MetricUnit } from '../lib/runtime/logging';
import { sfn } from '../lib/runtime/aws-clients';
import { admissionSettings, required, settings } from '../lib/config/settings';

export interface TriggerSummary {
  started: number;
  duplicates: number;
  skipped: Array<{ reason: string; key?: string }>;
  malformed: Array<{ reason: string }>;
}

/** An event source mapping's batch: every record an SQS message (an S3 event with a stray record stays an S3 event). */
function isSqsEvent(event: unknown): event is SQSEvent {
  const records = (event as { Records?: unknown })?.Records;
  return Array.isArray(records) && records.length > 0 && records.every((r: { eventSource?: unknown; messageId?: unknown; body?: unknown } | null) =>
    r?.eventSource === 'aws:sqs' && typeof r.messageId === 'string' && typeof r.body === 'string');
}

async function admit(event: SQSEvent): Promise<SQSBatchResponse> {
  const s = settings();
  const a = admissionSettings();
  const queueUrl = a.intakeQueueUrl ?? queueUrlFromArn(event.Records[0]!.eventSourceARN);
  const result = await handleIntakeBatch(event.Records, {
    slots: slotSemaphore(a),
    starter: sfnStarter(sfn(), required(s, 'stateMachineArn', 'STATE_MACHINE_ARN')),
    queue: sqsIntakeQueue(sqsClient(), queueUrl),
    settings: s,
    policy: intakePolicy(a),
    log,
  });
  const c = result.counts;
  metrics.addMetric('ExecutionsStarted', MetricUnit.Count, c.started);
  if (c.waiting > 0) metrics.addMetric('FilesWaiting', MetricUnit.Count, c.waiting);
  if (c.malformed > 0) metrics.addMetric('MalformedRecords', MetricUnit.Count, c.malformed);
  metrics.publishStoredMetrics();
  logger.info('intake summary', { ...c });
  return result.response;
}

/** An SQS batch answers the partial batch response; an S3 event the summary. */
export interface TriggerHandler {
  (event: SQSEvent, context?: Context): Promise<SQSBatchResponse>;
  (event: S3Event, context?: Context): Promise<TriggerSummary>;
}

export const handler = (async (event: S3Event | SQSEvent, context?: Context): Promise<TriggerSummary | SQSBatchResponse> => {
  if (context) logger.addContext(context);
  reportHeapOnce();
  if (isSqsEvent(event)) return admit(event);
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
}) as TriggerHandler;
