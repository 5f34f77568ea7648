// `ost-forward backfill s3://bucket[/prefix] [--since ISO-DATE] [--suffix .wav,...] [--failed-only] [--dry-run]
// [--max N] [--json] [--records s3://bucket/prefix] [--queue-url URL] [--stage STAGE [--region R]]
// [--direct [--state-machine-arn ARN]]`: forwards the objects no event announced (lib/intake/backfill.ts).
// Submission: S3-shaped notifications into the intake queue (lib/intake/backfill-submitter.ts), so backfilled files
// wait for admission slots like any other. Each resource comes from its flag, else its variable, else the stack
// ost-forwarder-<--stage> (cli/stack.ts): the queue (--queue-url, INTAKE_QUEUE_URL, IntakeQueueUrl) and the records
// that tell what was forwarded (--records, RESULTS_BUCKET [+ RESULTS_PREFIX], RecordsBucket + ResultsPrefix). None:
// a usage error; the records are never looked for in the source bucket unless named.
// --direct keeps the old path (StartExecution through the trigger's code, STATE_MACHINE_ARN or
// --state-machine-arn): it bypasses admission, for a stack without the intake. The deployment's filters apply
// either way (KEY_PREFIX_FILTER, KEY_SUFFIX_FILTER).
// Output: a progress line on a terminal (stderr); one JSON line per object with --json, else a line per submitted
// or failed object (at most MAX_LINES); then the summary. Exit 0, 1 when any submission failed (or on an S3
// error), 2 on a usage error, 130 when interrupted (the summary still printed; a re-run resumes).
import { parseArgs } from 'node:util';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { intakeQueueSubmitter } from '../../lib/intake/backfill-submitter';
import { backfill, startExecutionSubmitter, type BackfillItem, type BackfillOptions, type BackfillSummary, type Submitter } from '../../lib/intake/backfill';
import { ConfigError } from '../../lib/core/errors';
import { submitS3Event } from '../../lib/intake/s3-event';
import { loadAdmissionSettings, loadSettings, type Settings } from '../../lib/config/settings';
import { integer, UsageError } from './args';
import { EXIT, isUsageError, reportFailure } from '../exit';
import { commandS3Client, formatBytes, parseS3Url, parseSince, safeJson, safeText } from '../output';
import { checkStackFlags, stackLookup, type StackLookup } from '../stack';

export const BACKFILL_USAGE = 'usage: ost-forward backfill s3://bucket[/prefix] [--since ISO-DATE] [--suffix .wav,...] [--failed-only] [--dry-run] [--max N] [--json] [--records s3://bucket/prefix] [--queue-url URL] [--stage STAGE [--region R]] [--direct [--state-machine-arn ARN]]';
const MAX_LINES = 50;

export interface BackfillArgs {
  bucket: string;
  prefix: string;
  since?: Date;
  suffixes: string[];
  failedOnly: boolean;
  dryRun: boolean;
  max?: number;
  json: boolean;
  /** The intake queue; else INTAKE_QUEUE_URL, else the stack of `stage`. */
  queueUrl?: string;
  /** The deployed stack to find the queue and the records in (ost-forwarder-<stage>), and its region. */
  stage?: string;
  region?: string;
  /** Where the outcome records are: s3://bucket/prefix. */
  records?: { bucket: string; prefix: string };
  /** StartExecution directly, bypassing admission. */
  direct: boolean;
  stateMachineArn?: string;
}

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
      region: { type: 'string' },
      records: { type: 'string' },
      direct: { type: 'boolean', default: false },
      'state-machine-arn': { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing s3://bucket[/prefix]' : `one location only, got ${positionals.length}`);
  const { bucket, prefix } = parseS3Url(positionals[0]!);
  const suffixes = (values.suffix ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (values.suffix !== undefined && suffixes.length === 0) throw new UsageError('--suffix needs at least one suffix, e.g. --suffix .wav,.mp3');
  if (values.direct && values['queue-url'] !== undefined) throw new UsageError('--direct starts executions itself: it takes no --queue-url');
  if (!values.direct && values['state-machine-arn'] !== undefined) throw new UsageError('--state-machine-arn goes with --direct (which bypasses admission); without it backfill submits to the intake queue');
  if (values['queue-url'] !== undefined && !/^https?:\/\/\S+$/.test(values['queue-url'])) throw new UsageError(`--queue-url: must be an SQS queue URL, got ${JSON.stringify(values['queue-url'].slice(0, 200))}`);
  checkStackFlags(values.stage, values.region);
  return {
    bucket,
    prefix,
    since: parseSince(values.since),
    suffixes,
    failedOnly: values['failed-only'] ?? false,
    dryRun: values['dry-run'] ?? false,
    max: integer('--max', values.max, 1),
    json: values.json ?? false,
    queueUrl: values['queue-url'],
    stage: values.stage,
    region: values.region,
    ...(values.records !== undefined ? { records: parseS3Url(values.records, '--records') } : {}),
    direct: values.direct ?? false,
    stateMachineArn: values['state-machine-arn'],
  };
}

/** The summary in one line a person reads. */
export function summaryLine(where: string, s: BackfillSummary, dryRun: boolean): string {
  const skipped = Object.entries(s.skipped).filter(([, n]) => n).map(([k, n]) => `${k} ${n}`).join(', ');
  const skippedTotal = Object.values(s.skipped).reduce((a, n) => a + (n ?? 0), 0);
  const sent = dryRun ? `would submit ${s.wouldSubmit}` : `submitted ${s.submitted} (${formatBytes(s.bytesSubmitted)})`;
  const stop = s.stopped === 'max' ? '; stopped at --max' : s.stopped === 'interrupted' ? '; interrupted (run again to resume)' : '';
  return `backfill ${safeText(where)}: listed ${s.listed}; skipped ${skippedTotal}${skipped ? ` (${skipped})` : ''}; ${sent}; errors ${s.errors}${stop}`;
}

export function itemJson(item: BackfillItem): string {
  return safeJson({
    key: item.key,
    status: item.status,
    bytes: item.bytes,
    ...(item.reason ? { reason: item.reason } : {}),
    ...(item.execution ? { execution: item.execution } : {}),
    ...(item.failures ? { failures: item.failures } : {}),
    ...(item.error ? { error: item.error.slice(0, 500) } : {}),
  });
}

function itemLine(item: BackfillItem): string {
  const key = safeText(item.key);
  if (item.status === 'error') return `error     ${key}: ${safeText(item.error ?? '', 500)}`;
  const retry = item.failures ? ` (retry after ${item.failures} failure${item.failures === 1 ? '' : 's'})` : '';
  return `${item.status === 'submitted' ? 'submitted' : 'would submit'} ${key} (${formatBytes(item.bytes)})${retry}`;
}

/** A progress line on a terminal, rewritten at most every 200 ms. */
function progressLine(stream: NodeJS.WriteStream): { update(s: BackfillSummary): void; clear(): void } {
  if (!stream.isTTY) return { update: () => undefined, clear: () => undefined };
  let last = 0;
  let shown = false;
  return {
    update(s) {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      const skipped = Object.values(s.skipped).reduce((a, n) => a + (n ?? 0), 0);
      stream.write(`\r\x1b[2Kbackfill: listed ${s.listed}, skipped ${skipped}, submitted ${s.submitted + s.wouldSubmit}, errors ${s.errors}`);
      shown = true;
    },
    clear() { if (shown) stream.write('\r\x1b[2K'); shown = false; },
  };
}

export interface BackfillRun {
  args: BackfillArgs;
  settings: Pick<Settings, 'resultsBucket' | 'resultsPrefix' | 'keyPrefixes' | 'keySuffixes'>;
  s3: BackfillOptions['s3'];
  submit: Submitter;
  region?: string;
  out: (line: string) => void;
  err: NodeJS.WriteStream;
  signal?: AbortSignal;
  /** Human mode: print a line per submitted object (default true). */
  itemLines?: boolean;
  /** Every decision, after it is printed. */
  onItem?: (item: BackfillItem) => void;
}

/** Where submissions go: the intake queue (given, configured, or the stack's output), or --direct StartExecution. */
async function submitterFor(args: BackfillArgs, settings: Settings, configuredQueueUrl: string | undefined, stack: StackLookup): Promise<Submitter> {
  if (args.dryRun) return async (records) => records.map(() => ({ status: 'error', error: 'dry run' }));
  const region = stack.region ? { region: stack.region } : {};
  if (args.direct) {
    if (args.stateMachineArn !== undefined && !args.stateMachineArn.startsWith('arn:')) throw new UsageError(`--state-machine-arn: must be an ARN, got ${JSON.stringify(args.stateMachineArn.slice(0, 200))}`);
    const arn = await stack.resolve('stateMachineArn', args.stateMachineArn ?? settings.stateMachineArn, '--direct: --state-machine-arn ARN (or STATE_MACHINE_ARN)');
    const sfn = new SFNClient({ maxAttempts: 5, ...region });
    return startExecutionSubmitter((event) => submitS3Event(event, { sfn, stateMachineArn: arn, settings }));
  }
  const queueUrl = await stack.resolve('intakeQueueUrl', args.queueUrl ?? configuredQueueUrl, 'backfill submits into the intake queue: --queue-url URL (or INTAKE_QUEUE_URL), --direct --state-machine-arn ARN (bypasses admission), or --dry-run');
  return intakeQueueSubmitter(new SQSClient({ maxAttempts: 5, ...region }), queueUrl);
}

/**
 * The records location: --records, else RESULTS_BUCKET (with RESULTS_PREFIX), else the stack's RecordsBucket and
 * ResultsPrefix outputs. The settings the backfill then runs with name it.
 */
export async function recordsSettings(args: Pick<BackfillArgs, 'records'>, settings: Settings, env: Record<string, string | undefined>, stack: StackLookup): Promise<Settings> {
  if (args.records) return { ...settings, resultsBucket: args.records.bucket, resultsPrefix: args.records.prefix };
  const bucket = await stack.resolve('recordsBucket', settings.resultsBucket, 'the records bucket: --records s3://bucket/prefix (or RESULTS_BUCKET)');
  // an explicit RESULTS_PREFIX wins; with the bucket from the stack, so does the stack's prefix over the default
  const prefix = (env.RESULTS_PREFIX?.trim() || settings.resultsBucket) ? settings.resultsPrefix : await stack.resolve('resultsPrefix', undefined, 'RESULTS_PREFIX');
  return { ...settings, resultsBucket: bucket, resultsPrefix: prefix };
}

/** Runs a backfill and prints as the command does; returns the summary. */
export async function runBackfill(r: BackfillRun): Promise<BackfillSummary> {
  const progress = progressLine(r.err);
  let lines = 0;
  let hidden = 0;
  let live: BackfillSummary | undefined;
  const summary = await backfill({
    s3: r.s3,
    bucket: r.args.bucket,
    prefix: r.args.prefix,
    since: r.args.since,
    suffixes: r.args.suffixes,
    failedOnly: r.args.failedOnly,
    dryRun: r.args.dryRun,
    max: r.args.max,
    settings: r.settings,
    submit: r.submit,
    region: r.region,
    signal: r.signal,
    onItem: (item) => {
      if (r.args.json) { progress.clear(); r.out(itemJson(item)); }
      else if (item.status !== 'skipped' && (r.itemLines ?? true)) {
        if (lines < MAX_LINES) { progress.clear(); r.out(itemLine(item)); lines++; } else hidden++;
      }
      live = live ?? ({ listed: 0, skipped: {}, submitted: 0, wouldSubmit: 0, duplicates: 0, errors: 0, bytesSubmitted: 0 });
      if (item.status === 'skipped') live.skipped[item.reason as 'forwarded'] = (live.skipped[item.reason as 'forwarded'] ?? 0) + 1;
      else if (item.status === 'submitted') live.submitted++;
      else if (item.status === 'would-submit') live.wouldSubmit++;
      else live.errors++;
      live.listed++;
      progress.update(live);
      r.onItem?.(item);
    },
  });
  progress.clear();
  if (hidden > 0) r.out(`… and ${hidden} more (--json lists every object)`);
  return summary;
}

export async function run(argv: string[]): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let args: BackfillArgs;
  let settings: Settings;
  let submit: Submitter;
  try {
    args = parseBackfillArgs(argv);
    const stack = stackLookup(args.stage, args.region);
    settings = await recordsSettings(args, loadSettings(process.env), process.env, stack);
    submit = await submitterFor(args, settings, args.direct || args.queueUrl ? undefined : loadAdmissionSettings(process.env).intakeQueueUrl, stack);
  } catch (err) {
    if (isUsageError(err) || err instanceof ConfigError) return reportFailure('backfill', err, BACKFILL_USAGE, safeText((err as Error).message, 500));
    // the stack look-up failed (no credentials, no network, access denied): one line, exit 1
    const e = err as Error;
    return reportFailure('backfill', err, BACKFILL_USAGE, `finding the stack's resources: ${safeText(`${e.name ?? 'Error'}: ${e.message ?? String(err)}`, 500)}`);
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
      args, settings, submit, s3: commandS3Client(settings, args.region), signal: controller.signal,
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
