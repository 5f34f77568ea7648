// Trigger. Two event shapes:
// - an SQS batch from the intake queue (S3 notifications of a created bucket, S3's EventBridge events of an
//   existing one through a rule, backfill): each record takes a slot of the semaphore, then starts its execution
//   (lib/intake/batch.ts); the answer is the partial batch response, so only the messages that must wait or failed
//   stay in the queue. A message it cannot read goes to the intake's dead-letter queue with the reason.
// - anything invoked directly (an S3 notification of an older deployment): nothing starts around admission; the
//   event is sent into the intake queue as it is, and waits for a slot like every other. Throws when it could not
//   be sent, so Lambda's async retries and the on-failure destination keep it.
import { randomUUID } from 'node:crypto';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { handleIntakeBatch } from '../lib/intake/batch';
import { queueUrlFromArn, sfnStarter, sqsIntakeQueue } from '../lib/intake/adapters';
import { intakePolicy, slotSemaphore, sqsClient } from '../lib/runtime/admission-clients';
import { reportHeapOnce } from '../lib/runtime/heap-report';
import { log, logger, metrics, MetricUnit } from '../lib/runtime/logging';
import { sfn } from '../lib/runtime/aws-clients';
import { admissionSettings, required, settings } from '../lib/config/settings';
import { admissionGate } from '../lib/admission/health';
import { ostHealth } from '../lib/runtime/ost-health';
import { probeOst } from '../lib/runtime/ost';
import { isOutage } from '../lib/ost/errors';

/** A probe that got no answer in time (aborted) found the gateway down, as an outage-class error does. */
const gatewayDown = (err: unknown): boolean => isOutage(err) || ['TimeoutError', 'AbortError'].includes((err as Error)?.name);

/** An event source mapping's batch: every record an SQS message (an S3 event with a stray record stays an S3 event). */
function isSqsEvent(event: unknown): event is SQSEvent {
  const records = (event as { Records?: unknown })?.Records;
  return Array.isArray(records) && records.length > 0 && records.every((r: { eventSource?: unknown; messageId?: unknown; body?: unknown } | null) =>
    r?.eventSource === 'aws:sqs' && typeof r.messageId === 'string' && typeof r.body === 'string');
}

async function admit(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
  const s = settings();
  const a = admissionSettings();
  const health = ostHealth(a);
  const queueUrl = a.intakeQueueUrl ?? queueUrlFromArn(event.Records[0]!.eventSourceARN);
  const result = await handleIntakeBatch(event.Records, {
    slots: slotSemaphore(a),
    starter: sfnStarter(sfn(), required(s, 'stateMachineArn', 'STATE_MACHINE_ARN')),
    queue: sqsIntakeQueue(sqsClient(), queueUrl, a.intakeDlqUrl),
    settings: s,
    policy: intakePolicy(a),
    // While OST is down (the breaker beside the slots is open) nothing is admitted; one trigger at a time probes.
    ...(health ? { gate: () => admissionGate(health, context?.awsRequestId ?? randomUUID(), () => probeOst(), gatewayDown) } : {}),
    log,
  });
  const c = result.counts;
  metrics.addMetric('ExecutionsStarted', MetricUnit.Count, c.started);
  if (c.waiting > 0) metrics.addMetric('FilesWaiting', MetricUnit.Count, c.waiting);
  if (c.malformed > 0) metrics.addMetric('MalformedRecords', MetricUnit.Count, c.malformed);
  // alarmed (serverless.yml UnreadableIntakeAlarm): every one waits in the dead-letter queue for a person
  metrics.addMetric('IntakeUnreadable', MetricUnit.Count, c.deadLettered);
  metrics.publishStoredMetrics();
  logger.info('intake summary', { ...c });
  return result.response;
}

/** What a direct invocation answers: the event went into the intake queue. */
export interface TriggerSummary {
  queued: true;
}

/** An SQS batch answers the partial batch response; any other event is queued into the intake. */
export interface TriggerHandler {
  (event: SQSEvent, context?: Context): Promise<SQSBatchResponse>;
  (event: unknown, context?: Context): Promise<TriggerSummary>;
}

export const handler = (async (event: unknown, context?: Context): Promise<TriggerSummary | SQSBatchResponse> => {
  if (context) logger.addContext(context);
  reportHeapOnce();
  if (isSqsEvent(event)) return admit(event, context);
  const queueUrl = required(admissionSettings(), 'intakeQueueUrl', 'INTAKE_QUEUE_URL');
  await sqsClient().send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(event ?? null) }));
  logger.info('direct invocation queued into the intake');
  return { queued: true };
}) as TriggerHandler;
