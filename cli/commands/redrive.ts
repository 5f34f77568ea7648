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
// AWS credentials/region from the usual SDK chain. Exit 0 when what was in the queue at the start was redriven,
// 1 when messages remain (kept, or in flight elsewhere and not seen). --dry-run gives back every message it looked
// at before it ends, so the real run right after finds them.
import { parseArgs } from 'node:util';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { SFNClient } from '@aws-sdk/client-sfn';
import { escapeControlCharacters } from '../../lib/core/text';
import { ConfigError } from '../../lib/core/errors';
import { submitS3Event, type SubmitSummary } from '../../lib/intake/s3-event';
import { giveBack, moveMessages, queueDepth } from '../../lib/intake/queue-move';
import { REASON_ATTRIBUTE } from '../../lib/intake/batch';
import { safeText } from '../output';
import { checkStackFlags, stackLookup, type StackLookup } from '../stack';
import { loadSettings, type Settings } from '../../lib/config/settings';
import { urlFlag, UsageError } from '../args';
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
  /** In the queue at the start: visible and in flight (received by another reader, hidden for now). */
  there: number;
  inFlight: number;
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
  const depth = await queueDepth(o.sqs, o.queueUrl);
  const result: RedriveResult = { there: depth.visible + depth.inFlight, inFlight: depth.inFlight, messages: 0, redriven: 0, kept: 0, started: 0, duplicates: 0, skipped: 0, malformed: 0, unreadable: 0 };
  const seen = new Set<string>();
  // a dry run gives back what it looked at, so that the real run right after finds it
  const looked: string[] = [];
  try {
    await pass(o, result, seen, looked, out);
  } finally {
    if (looked.length > 0) await giveBack(o.sqs, o.queueUrl, looked);
  }
  return result;
}

async function pass(o: RedriveOptions, result: RedriveResult, seen: Set<string>, looked: string[], out: (line: string) => void): Promise<void> {
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
        if (m.ReceiptHandle) looked.push(m.ReceiptHandle);
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
}

/** The line of messages a run could not see: in flight elsewhere (another reader, or a dry run a moment ago). */
export function inFlightNote(inFlight: number, handled: number, wanted: number): string {
  if (handled >= wanted || inFlight === 0) return '';
  return `; ${inFlight} in flight (received by another reader, or a dry run in the last minute): run again once they are visible`;
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
    const queueUrl = await stack.resolve('triggerDlqUrl', urlFlag('--queue-url', values['queue-url'] as string | undefined) ?? cliSettings().triggerDlqUrl, '--queue-url URL (or TRIGGER_DLQ_URL)');
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
    const dryRun = Boolean(values['dry-run']);
    const wanted = Math.min(max ?? Infinity, result.there);
    process.stdout.write(`redrive${dryRun ? ' --dry-run' : ''}: ${result.messages} message(s) of ${result.there} there, ${result.redriven} redriven and deleted, ${result.kept} kept; executions started ${result.started}, duplicates ${result.duplicates}${inFlightNote(result.inFlight, result.messages, wanted)}\n`);
    if (dryRun) return 0;
    return result.kept > 0 || result.redriven < wanted ? 1 : 0;
  } catch (err) {
    return reportFailure('redrive', err, USAGE, isUsageError(err) || err instanceof ConfigError ? (err as Error).message : `${(err as Error).name}: ${(err as Error).message}`);
  }
}

/**
 * --intake: moves the intake's dead-letter queue (--queue-url or INTAKE_DLQ_URL) back into the intake queue
 * (--to-url or INTAKE_QUEUE_URL; stack outputs IntakeDeadLetterQueueUrl, IntakeQueueUrl), so each file waits for a
 * slot again instead of starting around admission (lib/intake/queue-move.ts). Exit 0 when what was there at the start
 * moved, 1 otherwise; --dry-run reads the counts only.
 */
async function redriveIntake(values: Record<string, string | boolean | undefined>, stack: StackLookup): Promise<number> {
  const fromUrl = await stack.resolve('intakeDlqUrl', urlFlag('--queue-url', values['queue-url'] as string | undefined) ?? cliSettings().intakeDlqUrl, '--queue-url DLQ_URL with --intake (or INTAKE_DLQ_URL)');
  const toUrl = await stack.resolve('intakeQueueUrl', urlFlag('--to-url', values['to-url'] as string | undefined) ?? cliSettings().intakeQueueUrl, '--to-url INTAKE_URL with --intake (or INTAKE_QUEUE_URL)');
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
    const wanted = Math.min(max ?? Infinity, r.there);
    if (values['dry-run']) {
      // the counts alone: a dry run receives nothing, so it hides nothing from the real run
      process.stdout.write(`redrive --intake --dry-run: ${r.there} message(s) there, ${Math.min(wanted, r.there - r.inFlight)} would move to the intake queue${inFlightNote(r.inFlight, r.there - r.inFlight, wanted)}\n`);
      return 0;
    }
    process.stdout.write(`redrive --intake: ${r.received} message(s) of ${r.there} there, ${r.moved} moved to the intake queue, ${r.kept} kept, ${r.undeleted} copied but not deleted${inFlightNote(r.inFlight, r.moved, wanted)}\n`);
    return r.kept > 0 || r.undeleted > 0 || r.moved < wanted ? 1 : 0;
  } finally {
    sqs.destroy();
  }
}
