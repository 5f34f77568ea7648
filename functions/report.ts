// Report: the outcome of an execution, as a JSON record in S3 (RESULTS_BUCKET/RESULTS_PREFIX) and an
// EventBridge event (`OST File Forwarded` / `OST File Forward Failed` / `OST File Skipped`, source ost-forwarder). Input
// {outcome, state: $, execution: $$.Execution}. Output: the record plus its location and, on failure,
// `errorName`/`summary` which the Fail state reports as the execution's error. A record or event that could not
// be written (after the retries) fails the step: a partial PutEvents answer (FailedEntryCount > 0) is a failure.
// A failure because OST stayed down past the outage budget sends the file back to the intake for its next round
// (lib/intake/readmission.ts) before the record is written, and the record says so (`readmittedAs`).
import type { Context } from 'aws-lambda';
import { awsCall, EventPublishError } from '../lib/core/aws-errors';
import { buildRecord, recordLocation, writeRecord, type OutcomeRecord } from '../lib/workflow/outcome-records';
import { publishOutcomeEvent } from '../lib/workflow/outcome-events';
import { type ReportInput } from '../lib/workflow/state';
import { eventBridge, s3 } from '../lib/runtime/aws-clients';
import { logger, metrics, MetricUnit } from '../lib/runtime/logging';
import { step } from '../lib/runtime/step';
import { admissionSettings, settings } from '../lib/config/settings';
import { readmission } from '../lib/intake/readmission';
import { sqsIntakeQueue } from '../lib/intake/adapters';
import { sqsClient } from '../lib/runtime/admission-clients';
import type { ExecutionInput } from '../lib/workflow/state';

/** Attempts at publishing before EventPublishError reaches the state machine (which retries it again). */
const PUBLISH_ATTEMPTS = 3;

/** PutEvents with a rejected entry (FailedEntryCount > 0) is tried again in place, then thrown. */
async function publishEvent(put: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await awsCall('PutEvents', put);
    } catch (err) {
      if (!(err instanceof EventPublishError) || attempt >= PUBLISH_ATTEMPTS) throw err;
      logger.warn('PutEvents rejected the event; trying again', { attempt, error: err.message });
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt * Math.random()));
    }
  }
}

/** Sends an outage failure back to the intake for its next round (none without an intake, or past the rounds). */
async function readmit(input: ReportInput, record: OutcomeRecord): Promise<void> {
  const a = admissionSettings();
  if (!a.intakeQueueUrl || a.outage.rounds === 0) return;
  const executionInput = (input.execution?.Input ?? {}) as Partial<ExecutionInput>;
  const object: ExecutionInput = {
    ...executionInput,
    bucket: record.bucket,
    key: record.key,
    versionId: executionInput.versionId ?? record.versionId,
    etag: executionInput.etag ?? record.etag,
    ...(record.bytes !== null ? { size: record.bytes } : {}),
  };
  const plan = readmission(object, record.executionName, a.outage.rounds, a.outage.readmitDelaySeconds, process.env.AWS_REGION);
  if (!plan) return;
  // Transient SQS failures are retried by the state machine (AwsTransientError): the file must not be dropped.
  await awsCall('SendMessage (re-admission)', () => sqsIntakeQueue(sqsClient(), a.intakeQueueUrl!).requeue(plan.message, plan.delaySeconds));
  record.readmittedAs = plan.round;
  metrics.addMetric('FilesReadmitted', MetricUnit.Count, 1);
}

export type ReportOutput = OutcomeRecord & { record: string; errorName?: string; summary?: string };

export const handler = step('report', async (input: ReportInput, _context?: Context): Promise<ReportOutput> => {
  const s = settings();
  const record = buildRecord(input);
  if (record.outage) await readmit(input, record);
  const location = recordLocation(s, record);
  // Both are retried when transient (the SDK first, then the state machine: AwsTransientError, EventPublishError):
  // the file may be at OST already, and without its record and event it would be forwarded with no outcome.
  await awsCall(`PutObject s3://${location.bucket}/${location.key}`, () => writeRecord(s3(), location, record));
  await publishEvent(() => publishOutcomeEvent(eventBridge(), s.eventBusName, record, location));
  const where = `s3://${location.bucket}/${location.key}`;
  if (record.status === 'forwarded') {
    metrics.addMetric('FilesForwarded', MetricUnit.Count, 1);
    if (record.bytes !== null) metrics.addMetric('BytesForwarded', MetricUnit.Bytes, record.bytes);
    if (record.slices > 0) metrics.addMetric('SlicesForwarded', MetricUnit.Count, record.slices);
    logger.info('file forwarded', { url: record.url, sid: record.sid, bytes: record.bytes, slices: record.slices, durationMs: record.durationMs, record: where });
    return { ...record, record: where };
  }
  if (record.status === 'skipped') {
    metrics.addMetric('FilesSkipped', MetricUnit.Count, 1);
    logger.info('file skipped', { skip: record.skip, bytes: record.bytes, record: where });
    return { ...record, record: where };
  }
  metrics.addMetric('FilesFailed', MetricUnit.Count, 1);
  const e = record.error!;
  const summary = [
    `${record.bucket}/${record.key}: ${e.error}`,
    e.ostCode !== undefined ? `code=${e.ostCode}` : '',
    `message=${JSON.stringify(e.message)}`,
    e.sid ? `sid=${e.sid}` : '',
    `cancelled=${record.cancelled}`,
    `record=${where}`,
  ].filter(Boolean).join(' ');
  logger.error('file forward failed', { error: e, cancelled: record.cancelled, record: where, ...(record.readmittedAs ? { readmittedAs: record.readmittedAs } : {}) });
  return { ...record, record: where, errorName: e.error, summary };
});
