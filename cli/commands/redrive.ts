// `ost-forward redrive [--intake] [--queue-url URL] [--to-url URL] [--stage S [--region R]] [--max N] [--dry-run]`
// Moves dead letters back into the intake queue, so every re-driven file waits for an admission slot like any other
// (nothing here starts an execution: that would bypass the slots). Two dead-letter queues:
// - the trigger's (default; --queue-url or TRIGGER_DLQ_URL): Lambda's on-failure destination records
//   `{ requestContext, requestPayload: <event>, responseContext, responsePayload }` of direct invocations the trigger
//   could not queue; the event inside goes to the intake (a bare event, if someone sent one, as it is). The trigger
//   then filters, names and admits each record as for a notification: anything already started is a duplicate.
// - the intake's (--intake; --queue-url or INTAKE_DLQ_URL): the notifications as they were; what the trigger could not
//   read (the reason in a message attribute) stays, listed with its reason.
// The target: --to-url or INTAKE_QUEUE_URL; with --stage S [--region R], the stack's outputs (cli/stack.ts).
// A message is deleted only after the intake accepted its copy (lib/intake/queue-move.ts). Exit 0 when what was there
// at the start moved, 1 when messages remain (kept, or in flight elsewhere and not seen). --dry-run reads the counts
// only: it receives nothing, so it hides nothing from the real run right after.
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ConfigError } from '../../lib/core/errors';
import { moveMessages } from '../../lib/intake/queue-move';
import { REASON_ATTRIBUTE } from '../../lib/intake/batch';
import { safeText } from '../output';
import { checkStackFlags, stackLookup, type StackLookup } from '../stack';
import { urlFlag, UsageError } from '../args';
import { cliSettings } from '../settings';
import { isUsageError, reportFailure } from '../exit';

const USAGE = 'usage: ost-forward redrive [--intake] [--queue-url DLQ_URL] [--to-url INTAKE_URL] [--stage STAGE [--region R]] [--max N] [--dry-run]';

/** The event of a trigger dead letter: a Lambda destination record's payload (or a bare event someone sent). */
export function eventOfMessage(body: string | undefined): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body ?? '');
  } catch {
    throw new Error('message is not JSON');
  }
  const p = parsed as Record<string, unknown> | null;
  if (p && typeof p === 'object' && 'requestPayload' in p) return p.requestPayload;
  if (p && typeof p === 'object' && Array.isArray(p.Records)) return p;
  throw new Error('message is neither a Lambda destination record nor an S3 event');
}

/** The line of messages a run could not see: in flight elsewhere (another reader, or a run a moment ago). */
export function inFlightNote(inFlight: number, handled: number, wanted: number): string {
  if (handled >= wanted || inFlight === 0) return '';
  return `; ${inFlight} in flight (received by another reader, or a run in the last minute): run again once they are visible`;
}

export async function run(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        'queue-url': { type: 'string' },
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
    return await redriveInto(values, stack);
  } catch (err) {
    return reportFailure('redrive', err, USAGE, isUsageError(err) || err instanceof ConfigError ? (err as Error).message : `${(err as Error).name}: ${(err as Error).message}`);
  }
}

/** Moves one dead-letter queue (the trigger's, or the intake's with --intake) into the intake queue. */
async function redriveInto(values: Record<string, string | boolean | undefined>, stack: StackLookup): Promise<number> {
  const intake = Boolean(values.intake);
  const given = urlFlag('--queue-url', values['queue-url'] as string | undefined);
  const fromUrl = intake
    ? await stack.resolve('intakeDlqUrl', given ?? cliSettings().intakeDlqUrl, '--queue-url DLQ_URL with --intake (or INTAKE_DLQ_URL)')
    : await stack.resolve('triggerDlqUrl', given ?? cliSettings().triggerDlqUrl, '--queue-url URL (or TRIGGER_DLQ_URL)');
  const toUrl = await stack.resolve('intakeQueueUrl', urlFlag('--to-url', values['to-url'] as string | undefined) ?? cliSettings().intakeQueueUrl, '--to-url INTAKE_URL (or INTAKE_QUEUE_URL)');
  const max = values.max !== undefined ? Number(values.max) : undefined;
  if (max !== undefined && (!Number.isSafeInteger(max) || max < 1)) throw new UsageError(`--max: must be a positive whole number, got ${values.max}`);
  const dryRun = Boolean(values['dry-run']);
  const label = `redrive${intake ? ' --intake' : ''}${dryRun ? ' --dry-run' : ''}`;
  const sqs = new SQSClient({ ...(stack.region ? { region: stack.region } : {}) });
  try {
    const r = await moveMessages({
      sqs, fromUrl, toUrl, max, dryRun,
      ...(intake
        // what the trigger could not read stays, with its reason: moved back it would only be dead-lettered again
        ? { leave: (m: { attributes: Record<string, string> }) => m.attributes[REASON_ATTRIBUTE] }
        // the event the trigger could not queue, as the trigger would have queued it
        : { rewrite: (body: string) => JSON.stringify(eventOfMessage(body)) }),
      onKept: (id, reason) => process.stdout.write(`${intake ? 'unreadable' : 'kept'} ${safeText(id, 100)}: ${safeText(reason, 300)}\n`),
    });
    const wanted = Math.min(max ?? Infinity, r.there);
    if (dryRun) {
      process.stdout.write(`${label}: ${r.there} message(s) there, ${Math.min(wanted, r.there - r.inFlight)} would move to the intake queue${inFlightNote(r.inFlight, r.there - r.inFlight, wanted)}\n`);
      return 0;
    }
    process.stdout.write(`${label}: ${r.received} message(s) of ${r.there} there, ${r.moved} moved to the intake queue, ${r.kept} kept, ${r.undeleted} copied but not deleted${inFlightNote(r.inFlight, r.moved, wanted)}\n`);
    return r.kept > 0 || r.undeleted > 0 || r.moved < wanted ? 1 : 0;
  } finally {
    sqs.destroy();
  }
}
