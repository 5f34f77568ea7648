// Release: the EventBridge rule on "Step Functions Execution Status Change" (final statuses of this state machine)
// → the execution's slot back to the semaphore (lib/admission/status-event.ts). Every end releases here — success,
// failure, abort, timeout — so no workflow step is needed; a lost event is covered by the lease expiry.
// Every end has a record too: an execution that ended ABORTED or TIMED_OUT (or FAILED without its record) gets its
// failure record and event here, after the upload its init marker names is cancelled (lib/workflow/execution-end.ts).
// The slot is given back first; a record that could not be written throws, and EventBridge delivers again.
import type { Context } from 'aws-lambda';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { releaseOnStatusChange } from '../lib/admission/status-event';
import { slotSemaphore } from '../lib/runtime/admission-clients';
import { eventBridge, s3 } from '../lib/runtime/aws-clients';
import { log, logger, metrics, MetricUnit } from '../lib/runtime/logging';
import { reportHeapOnce } from '../lib/runtime/heap-report';
import { ostClient } from '../lib/runtime/ost';
import { awsCall } from '../lib/core/aws-errors';
import { forExecution } from '../lib/workflow/attempt-markers';
import { endedExecution, recordExecutionEnd } from '../lib/workflow/execution-end';
import { writeRecord } from '../lib/workflow/outcome-records';
import { publishOutcomeEvent } from '../lib/workflow/outcome-events';
import { settings } from '../lib/config/settings';

async function exists(location: { bucket: string; key: string }): Promise<boolean> {
  try {
    await s3().send(new HeadObjectCommand({ Bucket: location.bucket, Key: location.key }));
    return true;
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) return false;
    throw err;
  }
}

export const handler = async (event: unknown, context?: Context): Promise<{ released: boolean; execution?: string; recorded?: boolean }> => {
  if (context) logger.addContext(context);
  reportHeapOnce();
  const s = settings();
  const r = await releaseOnStatusChange(event, slotSemaphore(), s.stateMachineArn);
  if (!r) return { released: false };
  logger.info('slot release', { execution: r.execution, status: r.status, released: r.released });
  if (r.status === 'SUCCEEDED') return { released: r.released, execution: r.execution };
  const detail = ((event as { detail?: Record<string, unknown> }).detail ?? {});
  const end = await recordExecutionEnd(endedExecution(detail, r.execution, r.status), {
    settings: s,
    exists: (location) => awsCall('HeadObject', () => exists(location)),
    initUpload: async (bucket, execution, restarts) => (await forExecution({ s3: s3(), settings: s, bucket, log }, execution, restarts)?.init.read())?.uploadId,
    cancel: async (uploadId) => (await ostClient()).cancel(uploadId),
    write: (location, record) => awsCall(`PutObject s3://${location.bucket}/${location.key}`, () => writeRecord(s3(), location, record)),
    publish: (record, location) => awsCall('PutEvents', () => publishOutcomeEvent(eventBridge(), s.eventBusName, record, location)),
  });
  if (end.written) {
    metrics.addMetric('FilesFailed', MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    logger.error('file forward failed', { execution: r.execution, status: r.status, error: end.record.error, cancelled: end.record.cancelled, record: `s3://${end.location.bucket}/${end.location.key}` });
  } else {
    logger.info('no record to write', { execution: r.execution, status: r.status, reason: end.reason });
  }
  return { released: r.released, execution: r.execution, recorded: end.written };
};
