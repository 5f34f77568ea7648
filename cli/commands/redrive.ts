// `ost-forward redrive [--queue-url URL] [--state-machine-arn ARN] [--max N] [--dry-run]`
// Re-submits the S3 events the trigger could not start. The trigger's async invocations go, after Lambda's own
// retries, to an SQS on-failure destination whose messages are `{ requestContext, requestPayload: <S3 event>,
// responseContext, responsePayload }`. Each event's records are started again through the same lib code as the
// trigger (lib/intake/s3-event.ts: same filters, same deterministic execution names, so anything already started is a
// duplicate, not a second upload). A message is deleted only after all its records were started or recognised
// as duplicates/skipped/malformed; otherwise it stays and returns after its visibility timeout.
// Settings: --queue-url or TRIGGER_DLQ_URL; --state-machine-arn or STATE_MACHINE_ARN; else, with --stage S
// [--region R], the stack's outputs (cli/stack.ts); filters and results prefix from the same variables as the
// trigger (KEY_PREFIX_FILTER, KEY_SUFFIX_FILTER, RESULTS_PREFIX).
// AWS credentials/region from the usual SDK chain. Exit 0 when the queue was drained, 1 when messages remain.
import { parseArgs } from 'node:util';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { SFNClient } from '@aws-sdk/client-sfn';
import { escapeControlCharacters } from '../../lib/core/text';
import { ConfigError } from '../../lib/core/errors';
import { submitS3Event, type SubmitSummary } from '../../lib/intake/s3-event';
import { moveMessages } from '../../lib/intake/queue-move';
import { REASON_ATTRIBUTE } from '../../lib/intake/batch';
import { safeText } from '../output';
import { checkStackFlags, stackLookup, type StackLookup } from '../stack';
import { loadSettings, type Settings } from '../../lib/config/settings';
import { UsageError } from './args';
import { cliSettings } from '../settings';
import { isUsageError, reportFailure } from '../exit';

const USAGE = 'usage: ost-forward redrive [--queue-url URL] [--state-machine-arn ARN] [--stage STAGE [--region R]] [--max N] [--dry-run]\n' +
  '       ost-forward redrive --intake [--queue-url DLQ_URL] [--to-url INTAKE_URL] [--stage STAGE [--region R]] [--max N] [--dry-run]';

export interface RedriveOptions {
  sqs: Pick<SQSClient, 'send'>;
  sfn: Pick<SFNClient, 'send'>;
  queueUrl: string;
  stateMachineArn: string;
  settings: Pick<Settings, 'resultsPrefix' | 'keyPrefixes' | 'keySuffixes'>;
  /** Stop after this many messages (default: until the queue is empty). */
  max?: number;
  dryRun?: boolean;
  out?: (line: string) => void;
}

export interface RedriveResult {
  messages: number;
  redriven: number;
  kept: number;
  started: number;
  duplicates: number;
  skipped: number;
  malformed: number;
  unreadable: number;
}

/** The original S3 event of a destination record (or a bare S3 event, if someone sent one). */
export function eventOfMessage(body: string | undefined): unknown {
  const parsed = JSON.parse(body ?? '') as Record<string, unknown>;
  if (parsed && typeof parsed === 'object' && 'requestPayload' in parsed) return parsed.requestPayload;
  if (parsed && typeof parsed === 'object' && Array.isArray(parsed.Records)) return parsed;
  throw new Error('message is neither a Lambda destination record nor an S3 event');
}

export async function redrive(o: RedriveOptions): Promise<RedriveResult> {
  const out = o.out ?? (() => undefined);
  const result: RedriveResult = { messages: 0, redriven: 0, kept: 0, started: 0, duplicates: 0, skipped: 0, malformed: 0, unreadable: 0 };
  const seen = new Set<string>();
  for (;;) {
    if (o.max !== undefined && result.messages >= o.max) break;
    const res = await o.sqs.send(new ReceiveMessageCommand({
      QueueUrl: o.queueUrl,
      MaxNumberOfMessages: Math.min(10, o.max !== undefined ? o.max - result.messages : 10),
      WaitTimeSeconds: 1,
      VisibilityTimeout: 60,
    }));
    const messages = (res.Messages ?? []).filter((m: Message) => !seen.has(m.MessageId ?? ''));
    if (messages.length === 0) break;
    for (const m of messages) {
      seen.add(m.MessageId ?? '');
      result.messages++;
      let event: unknown;
      try {
        event = eventOfMessage(m.Body);
      } catch (err) {
        result.unreadable++;
        result.kept++;
        out(`kept ${m.MessageId}: ${(err as Error).message}`);
        continue;
      }
      if (o.dryRun) {
        const n = Array.isArray((event as { Records?: unknown[] }).Records) ? (event as { Records: unknown[] }).Records.length : 0;
        out(`would redrive ${m.MessageId}: ${n} record(s)`);
        result.kept++;
        continue;
      }
      const summary: SubmitSummary = await submitS3Event(event, { sfn: o.sfn, stateMachineArn: o.stateMachineArn, settings: o.settings });
      result.started += summary.started;
      result.duplicates += summary.duplicates;
      result.skipped += summary.skipped.length;
      result.malformed += summary.malformed.length;
      if (summary.failed.length > 0) {
        result.kept++;
        out(`kept ${m.MessageId}: ${summary.failed.length} record(s) could not be started: ${summary.failed.map((f) => f.error).join('; ')}`);
        continue;
      }
      await o.sqs.send(new DeleteMessageCommand({ QueueUrl: o.queueUrl, ReceiptHandle: m.ReceiptHandle }));
      result.redriven++;
      out(`redriven ${m.MessageId}: started ${summary.started}, duplicates ${summary.duplicates}, skipped ${summary.skipped.length}, malformed ${summary.malformed.length}`);
    }
  }
  return result;
}

export async function run(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        'queue-url': { type: 'string' },
        'state-machine-arn': { type: 'string' },
        max: { type: 'string' },
        'dry-run': { type: 'boolean' },
        intake: { type: 'boolean' },
        'to-url': { type: 'string' },
        stage: { type: 'string' },
        region: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return reportFailure('redrive', err, USAGE);
  }
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  try {
    checkStackFlags(values.stage as string | undefined, values.region as string | undefined);
    const stack = stackLookup(values.stage as string | undefined, values.region as string | undefined);
    if (values.intake) return await redriveIntake(values, stack);
    const queueUrl = await stack.resolve('triggerDlqUrl', (values['queue-url'] as string | undefined) ?? cliSettings().triggerDlqUrl, '--queue-url URL (or TRIGGER_DLQ_URL)');
    const arn = await stack.resolve('stateMachineArn', (values['state-machine-arn'] as string | undefined) ?? process.env.STATE_MACHINE_ARN, '--state-machine-arn ARN (or STATE_MACHINE_ARN)');
    const settings = loadSettings({ ...process.env, STATE_MACHINE_ARN: arn });
    if (!settings.stateMachineArn) throw new UsageError('--state-machine-arn: is required (or set STATE_MACHINE_ARN); see the stack output StateMachineArn');
    const max = values.max !== undefined ? Number(values.max) : undefined;
    if (max !== undefined && (!Number.isSafeInteger(max) || max < 1)) throw new UsageError(`--max: must be a positive whole number, got ${values.max}`);
    const region = stack.region ? { region: stack.region } : {};
    const result = await redrive({
      sqs: new SQSClient({ ...region }),
      sfn: new SFNClient({ ...region }),
      queueUrl,
      stateMachineArn: settings.stateMachineArn,
      settings,
      max,
      dryRun: Boolean(values['dry-run']),
      // lines quote message ids and errors read from the queue: no control character reaches the terminal
      out: (line) => process.stdout.write(escapeControlCharacters(line) + '\n'),
    });
    process.stdout.write(`redrive: ${result.messages} message(s), ${result.redriven} redriven and deleted, ${result.kept} kept; executions started ${result.started}, duplicates ${result.duplicates}\n`);
    return result.kept > 0 ? 1 : 0;
  } catch (err) {
    return reportFailure('redrive', err, USAGE, isUsageError(err) || err instanceof ConfigError ? (err as Error).message : `${(err as Error).name}: ${(err as Error).message}`);
  }
}

/**
 * --intake: moves the intake's dead-letter queue (--queue-url or INTAKE_DLQ_URL) back into the intake queue
 * (--to-url or INTAKE_QUEUE_URL; stack outputs IntakeDeadLetterQueueUrl, IntakeQueueUrl), so each file waits for a
 * slot again instead of starting around admission (lib/intake/queue-move.ts). Exit 0 when everything moved, 1 otherwise.
 */
async function redriveIntake(values: Record<string, string | boolean | undefined>, stack: StackLookup): Promise<number> {
  const fromUrl = await stack.resolve('intakeDlqUrl', (values['queue-url'] as string | undefined) ?? cliSettings().intakeDlqUrl, '--queue-url DLQ_URL with --intake (or INTAKE_DLQ_URL)');
  const toUrl = await stack.resolve('intakeQueueUrl', (values['to-url'] as string | undefined) ?? cliSettings().intakeQueueUrl, '--to-url INTAKE_URL with --intake (or INTAKE_QUEUE_URL)');
  const max = values.max !== undefined ? Number(values.max) : undefined;
  if (max !== undefined && (!Number.isSafeInteger(max) || max < 1)) throw new UsageError(`--max: must be a positive whole number, got ${values.max}`);
  const sqs = new SQSClient({ ...(stack.region ? { region: stack.region } : {}) });
  try {
    const r = await moveMessages({
      sqs, fromUrl, toUrl, max, dryRun: Boolean(values['dry-run']),
      // what the trigger could not read stays, with its reason: moved back it would only be dead-lettered again
      leave: (m) => m.attributes[REASON_ATTRIBUTE],
      onKept: (id, reason) => process.stdout.write(`unreadable ${safeText(id, 100)}: ${safeText(reason, 300)}\n`),
    });
    process.stdout.write(`redrive --intake: ${r.received} message(s), ${r.moved} moved to the intake queue, ${r.kept} kept, ${r.undeleted} copied but not deleted\n`);
    return r.kept > 0 || r.undeleted > 0 ? 1 : 0;
  } finally {
    sqs.destroy();
  }
}
