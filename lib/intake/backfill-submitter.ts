// Where backfill hands its records: the intake queue, so a backfilled file waits for a slot like any file an S3
// event announced (docs/admission.md). Each record goes as one message whose body is what S3 itself sends to SQS,
// `{"Records":[<record>]}` — the trigger's intake path parses nothing else. SendMessageBatch takes at most 10
// entries and 256 KiB in all, so records are cut into batches under both limits.
// The queue URL is given (--queue-url, INTAKE_QUEUE_URL) or read from the stack's IntakeQueueUrl output.
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { S3EventRecord } from 'aws-lambda';
import type { SubmitOutcome, Submitter } from './backfill';
import { ConfigError } from '../core/errors';
import { stackOutputs } from '../config/stack-outputs';

/** SendMessageBatch limits: entries per call and bytes of all bodies together. */
export const MAX_BATCH_ENTRIES = 10;
export const MAX_BATCH_BYTES = 256 * 1024;
/** The stack output that names the intake queue (serverless.yml Outputs). */
export const INTAKE_QUEUE_OUTPUT = 'IntakeQueueUrl';

/** The body S3 sends to an SQS queue for one ObjectCreated record. */
export function notificationBody(record: S3EventRecord): string {
  return JSON.stringify({ Records: [record] });
}

/** Consecutive groups of bodies, each ≤ MAX_BATCH_ENTRIES and ≤ MAX_BATCH_BYTES (a lone oversized body alone). */
export function sendBatches(bodies: readonly string[]): number[][] {
  const out: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  for (const [i, body] of bodies.entries()) {
    const size = Buffer.byteLength(body);
    if (current.length > 0 && (current.length >= MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(i);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Submits records as S3 notifications into the intake queue; the trigger admits and starts them. */
export function intakeQueueSubmitter(sqs: Pick<SQSClient, 'send'>, queueUrl: string): Submitter {
  return async (records) => {
    const bodies = records.map(notificationBody);
    const outcomes: SubmitOutcome[] = records.map(() => ({ status: 'error', error: 'not sent' }));
    for (const group of sendBatches(bodies)) {
      const res = await sqs.send(new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: group.map((i) => ({ Id: String(i), MessageBody: bodies[i]! })),
      }));
      for (const s of res.Successful ?? []) outcomes[Number(s.Id)] = { status: 'submitted' };
      for (const f of res.Failed ?? []) outcomes[Number(f.Id)] = { status: 'error', error: `SQS ${f.Code ?? 'error'}: ${(f.Message ?? '').slice(0, 300)}` };
    }
    return outcomes;
  };
}

/** The intake queue URL from the deployed stack's outputs (lib/config/stack-outputs.ts). */
export async function intakeQueueUrlOfStack(cfn: Pick<CloudFormationClient, 'send'>, stackName: string): Promise<string> {
  const url = (await stackOutputs(cfn, stackName))?.[INTAKE_QUEUE_OUTPUT];
  // No queue to submit to is a missing setting, named as the flag that gives it.
  if (!url) throw new ConfigError('--queue-url', `stack ${stackName} was not found or has no ${INTAKE_QUEUE_OUTPUT} output: give --queue-url (or INTAKE_QUEUE_URL), or --stage of the deployed stack`);
  return url;
}
