// `ost-forward backfill s3://bucket[/prefix] [--since ISO-DATE] [--suffix .wav,...] [--failed-only] [--dry-run]
// [--max N] [--json] [--queue-url URL | --stage STAGE | --direct [--state-machine-arn ARN]]`: forwards the objects
// no event announced (lib/intake/backfill.ts). Submission: S3-shaped notifications into the intake queue
// (lib/intake/backfill-submitter.ts), so backfilled files wait for admission slots like any other. The queue is --queue-url,
// else INTAKE_QUEUE_URL, else the IntakeQueueUrl output of the stack ost-forwarder-<--stage> (never a guessed stage:
// with none of these, submitting is a usage error).
// --direct keeps the old path (StartExecution through the trigger's code, STATE_MACHINE_ARN or
// --state-machine-arn): it bypasses admission, for a stack without the intake. The deployment's filters and
// results prefix apply either way (KEY_PREFIX_FILTER, KEY_SUFFIX_FILTER, RESULTS_PREFIX, RESULTS_BUCKET).
// --from-list FILE|s3://bucket/key: the keys of a text list, an S3 Batch Operations CSV or an S3 Inventory
// manifest.json instead of a listing (lib/intake/from-list.ts); the bucket is s3://bucket, else the one the list names.
// A run that submitted ends with a summary record and an `OST Backfill Finished` event (backfill-finish.ts).
// Output: a progress line on a terminal (stderr); one JSON line per object with --json, else a line per submitted
// or failed object (at most MAX_LINES); then the summary. Exit 0, 1 when any submission failed (or on an S3
// error), 2 on a usage error, 130 when interrupted (the summary still printed; a re-run resumes).
import { parseArgs } from 'node:util';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { intakeQueueSubmitter, intakeQueueUrlOfStack } from '../../lib/intake/backfill-submitter';
import { backfill, startExecutionSubmitter, type BackfillItem, type BackfillOptions, type BackfillSummary, type Submitter } from '../../lib/intake/backfill';
import { ConfigError } from '../../lib/core/errors';
import { submitS3Event } from '../../lib/intake/s3-event';
import { loadAdmissionSettings, loadSettings, type Settings } from '../../lib/config/settings';
import { integer, UsageError } from './args';
import { bucketOf, finishBackfill } from './backfill-finish';
import { failureExamples } from '../../lib/intake/backfill-report';
import { listPages } from '../../lib/intake/from-list';
import { EXIT, isUsageError, reportFailure } from '../exit';
import { commandS3Client, formatBytes, parseS3Url, parseSince, safeJson, safeText } from '../output';

export const BACKFILL_USAGE = 'usage: ost-forward backfill s3://bucket[/prefix] | --from-list FILE|s3://bucket/key [s3://bucket] [--since ISO-DATE] [--suffix .wav,...] [--failed-only] [--dry-run] [--max N] [--json] [--queue-url URL | --stage STAGE | --direct [--state-machine-arn ARN]]';
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
  /** The deployed stack to find the queue in (ost-forwarder-<stage>). */
  stage?: string;
  /** StartExecution directly, bypassing admission. */
  direct: boolean;
  stateMachineArn?: string;
  /** --from-list: the keys from this list (lib/intake/from-list.ts) instead of listing bucket/prefix. */
  fromList?: string;
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
      direct: { type: 'boolean', default: false },
      'state-machine-arn': { type: 'string' },
      'from-list': { type: 'string' },
    },
  });
  const fromList = values['from-list'];
  if (positionals.length > 1 || (positionals.length === 0 && fromList === undefined)) throw new UsageError(positionals.length === 0 ? 'missing s3://bucket[/prefix]' : `one location only, got ${positionals.length}`);
  if (fromList !== undefined && fromList.trim() === '') throw new UsageError('--from-list needs a file or s3://bucket/key');
  // With --from-list the bucket may come from the list itself (an inventory's sourceBucket, a manifest's rows).
  const { bucket, prefix } = positionals[0] !== undefined ? parseS3Url(positionals[0]) : { bucket: '', prefix: '' };
  if (fromList !== undefined && prefix !== '') throw new UsageError('--from-list takes the keys of the list: give s3://bucket without a prefix');
  const suffixes = (values.suffix ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (values.suffix !== undefined && suffixes.length === 0) throw new UsageError('--suffix needs at least one suffix, e.g. --suffix .wav,.mp3');
  if (values.direct && (values['queue-url'] !== undefined || values.stage !== undefined)) throw new UsageError('--direct starts executions itself: it takes no --queue-url or --stage');
  if (!values.direct && values['state-machine-arn'] !== undefined) throw new UsageError('--state-machine-arn goes with --direct (which bypasses admission); without it backfill submits to the intake queue');
  if (values['queue-url'] !== undefined && !/^https?:\/\/\S+$/.test(values['queue-url'])) throw new UsageError(`--queue-url: must be an SQS queue URL, got ${JSON.stringify(values['queue-url'].slice(0, 200))}`);
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
    queueUrl: values['queue-url'],
    stage: values.stage,
    direct: values.direct ?? false,
    stateMachineArn: values['state-machine-arn'],
    ...(fromList !== undefined ? { fromList } : {}),
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
  const queueUrl = given ?? await intakeQueueUrlOfStack(new CloudFormationClient({ maxAttempts: 5 }), `ost-forwarder-${args.stage}`);
  return intakeQueueSubmitter(new SQSClient({ maxAttempts: 5 }), queueUrl);
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
    ...(r.args.fromList !== undefined ? { pages: listPages(r.s3, r.args.fromList, r.args.bucket) } : {}),
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
  const s3 = commandS3Client(settings);
  let where = args.fromList ?? `s3://${args.bucket}/${args.prefix}`;
  try {
    args.bucket = await bucketOf(args, s3);
    if (args.fromList) where = `${args.fromList} (s3://${args.bucket})`;
    const startedAt = new Date();
    const failures = failureExamples();
    const summary = await runBackfill({
      args, settings, submit, s3, signal: controller.signal, onItem: failures.onItem,
      out: (line) => process.stdout.write(line + '\n'), err: process.stderr,
    });
    if (args.json) process.stdout.write(safeJson({ summary: { location: where, dryRun: args.dryRun, ...summary } }) + '\n');
    else process.stdout.write(summaryLine(where, summary, args.dryRun) + '\n');
    if (!args.dryRun) {
      const record = await finishBackfill({ args, settings, s3, summary, failures: failures.list, startedAt });
      process.stdout.write(args.json ? safeJson({ finished: record }) + '\n' : `backfill finished: summary record ${safeText(record)}\n`);
    }
    if (summary.stopped === 'interrupted') return EXIT.SIGINT;
    return summary.errors > 0 ? 1 : 0;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    if (isUsageError(err)) return reportFailure('backfill', err, BACKFILL_USAGE, safeText((err as Error).message, 500));
    return reportFailure('backfill', err, BACKFILL_USAGE, `${safeText(`${e.name ?? 'Error'}: ${e.message ?? String(err)}`, 500)}${e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : ''} (${safeText(where)})`);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
