// `ost-forward backfill s3://bucket[/prefix] [...]`: forwards the objects no event announced (lib/intake/backfill.ts)
// by sending S3-shaped notifications into the intake queue (--queue-url, INTAKE_QUEUE_URL or the stack's
// IntakeQueueUrl output; never a guessed stage), or with --direct through StartExecution, bypassing admission, for a
// stack without the intake. Options, output and exit codes: docs/cli.md and docs/backfill.md.
import { parseArgs } from 'node:util';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { intakeQueueSubmitter, intakeQueueUrlOfStack } from '../../lib/intake/backfill-submitter';
import { startExecutionSubmitter, type Submitter } from '../../lib/intake/backfill';
import { stackNameOf } from '../../lib/config/stack-outputs';
import { ConfigError } from '../../lib/core/errors';
import { submitS3Event } from '../../lib/intake/s3-event';
import { loadAdmissionSettings, loadSettings, type Settings } from '../../lib/config/settings';
import { integer, urlFlag, UsageError } from '../args';
import { EXIT, isUsageError, reportFailure } from '../exit';
import { commandS3Client, parseS3Url, parseSince, safeJson, safeText } from '../output';
import { runBackfill, summaryLine, type BackfillArgs } from '../backfill-run';

export const BACKFILL_USAGE = 'usage: ost-forward backfill s3://bucket[/prefix] [--since ISO-DATE] [--suffix .wav,...] [--failed-only] [--dry-run] [--max N] [--json] [--queue-url URL | --stage STAGE | --direct [--state-machine-arn ARN]]';

export function parseBackfillArgs(argv: string[]): BackfillArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      since: { type: 'string' },
      suffix: { type: 'string' },
      'failed-only': { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      max: { type: 'string' },
      json: { type: 'boolean', default: false },
      'queue-url': { type: 'string' },
      stage: { type: 'string' },
      direct: { type: 'boolean', default: false },
      'state-machine-arn': { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing s3://bucket[/prefix]' : `one location only, got ${positionals.length}`);
  const { bucket, prefix } = parseS3Url(positionals[0]!);
  const suffixes = (values.suffix ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (values.suffix !== undefined && suffixes.length === 0) throw new UsageError('--suffix needs at least one suffix, e.g. --suffix .wav,.mp3');
  if (values.direct && (values['queue-url'] !== undefined || values.stage !== undefined)) throw new UsageError('--direct starts executions itself: it takes no --queue-url or --stage');
  if (!values.direct && values['state-machine-arn'] !== undefined) throw new UsageError('--state-machine-arn goes with --direct (which bypasses admission); without it backfill submits to the intake queue');
  if (values.stage !== undefined && !/^[A-Za-z0-9-]{1,64}$/.test(values.stage)) throw new UsageError(`--stage: letters, digits and '-', got ${JSON.stringify(values.stage.slice(0, 100))}`);
  return {
    bucket,
    prefix,
    since: parseSince(values.since),
    suffixes,
    failedOnly: values['failed-only'] ?? false,
    dryRun: values['dry-run'] ?? false,
    max: integer('--max', values.max, 1),
    json: values.json ?? false,
    queueUrl: urlFlag('--queue-url', values['queue-url']),
    stage: values.stage,
    direct: values.direct ?? false,
    stateMachineArn: values['state-machine-arn'],
  };
}

/** Where submissions go: the intake queue (given, configured, or the stack's output), or --direct StartExecution. */
async function submitterFor(args: BackfillArgs, settings: Settings, configuredQueueUrl: string | undefined): Promise<Submitter> {
  if (args.dryRun) return async (records) => records.map(() => ({ status: 'error', error: 'dry run' }));
  if (args.direct) {
    const arn = args.stateMachineArn ?? settings.stateMachineArn;
    if (args.stateMachineArn !== undefined && !args.stateMachineArn.startsWith('arn:')) throw new UsageError(`--state-machine-arn: must be an ARN, got ${JSON.stringify(args.stateMachineArn.slice(0, 200))}`);
    if (!arn) throw new UsageError('--direct: needs --state-machine-arn (or STATE_MACHINE_ARN; see the stack output StateMachineArn)');
    const sfn = new SFNClient({ maxAttempts: 5 });
    return startExecutionSubmitter((event) => submitS3Event(event, { sfn, stateMachineArn: arn, settings }));
  }
  const given = args.queueUrl ?? configuredQueueUrl;
  if (!given && !args.stage) throw new UsageError('backfill submits into the intake queue: give --queue-url URL, INTAKE_QUEUE_URL, or --stage STAGE (the queue is then read from the stack ost-forwarder-STAGE); or --direct --state-machine-arn ARN (bypasses admission); or use --dry-run');
  const queueUrl = given ?? await intakeQueueUrlOfStack(new CloudFormationClient({ maxAttempts: 5 }), stackNameOf(args.stage!));
  return intakeQueueSubmitter(new SQSClient({ maxAttempts: 5 }), queueUrl);
}

export async function run(argv: string[]): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let args: BackfillArgs;
  let settings: Settings;
  let submit: Submitter;
  try {
    args = parseBackfillArgs(argv);
    settings = loadSettings(process.env);
    submit = await submitterFor(args, settings, args.direct || args.queueUrl ? undefined : loadAdmissionSettings(process.env).intakeQueueUrl);
  } catch (err) {
    if (isUsageError(err) || err instanceof ConfigError) return reportFailure('backfill', err, BACKFILL_USAGE, safeText((err as Error).message, 500));
    // the stack look-up failed (no credentials, no network, access denied): one line, exit 1
    const e = err as Error;
    return reportFailure('backfill', err, BACKFILL_USAGE, `finding the intake queue: ${safeText(`${e.name ?? 'Error'}: ${e.message ?? String(err)}`, 500)}`);
  }
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(EXIT.SIGINT);
    controller.abort();
    process.stderr.write('\nost-forward backfill: stopping after the batch in flight (Ctrl-C again to quit now)\n');
  };
  process.on('SIGINT', onSigint);
  const where = `s3://${args.bucket}/${args.prefix}`;
  try {
    const summary = await runBackfill({
      args, settings, submit, s3: commandS3Client(settings), signal: controller.signal,
      out: (line) => process.stdout.write(line + '\n'), err: process.stderr,
    });
    if (args.json) process.stdout.write(safeJson({ summary: { location: where, dryRun: args.dryRun, ...summary } }) + '\n');
    else process.stdout.write(summaryLine(where, summary, args.dryRun) + '\n');
    if (summary.stopped === 'interrupted') return EXIT.SIGINT;
    return summary.errors > 0 ? 1 : 0;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return reportFailure('backfill', err, BACKFILL_USAGE, `${safeText(`${e.name ?? 'Error'}: ${e.message ?? String(err)}`, 500)}${e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : ''} (${safeText(where)})`);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
