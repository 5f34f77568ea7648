// `ost-forward backfill s3://bucket[/prefix] [...]`: forwards the objects no event announced (lib/intake/backfill.ts)
// by sending S3-shaped notifications into the intake queue, where each waits for an admission slot like any file.
// Each resource comes from its flag, else its variable, else the stack
// ost-forwarder-<--stage> (cli/stack.ts): the queue (--queue-url, INTAKE_QUEUE_URL, IntakeQueueUrl) and the records
// that tell what was forwarded (--records, RESULTS_BUCKET [+ RESULTS_PREFIX], RecordsBucket + ResultsPrefix). --from-list reads the keys from a list (lib/intake/from-list.ts); a run that submitted
// ends with a summary record and an `OST Backfill Finished` event (cli/backfill-finish.ts). Options, output and exit
// codes: docs/cli.md and docs/backfill.md.
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { intakeQueueSubmitter } from '../../lib/intake/backfill-submitter';
import type { Submitter } from '../../lib/intake/backfill';
import { ConfigError } from '../../lib/core/errors';
import { loadAdmissionSettings, loadSettings, type Settings } from '../../lib/config/settings';
import { integer, urlFlag, UsageError } from '../args';
import { bucketOf, finishBackfill } from '../backfill-finish';
import { failureExamples } from '../../lib/intake/backfill-report';
import { EXIT, isUsageError, reportFailure } from '../exit';
import { commandS3Client, parseS3Url, parseSince, safeJson, safeText } from '../output';
import { recordsSettings, runBackfill, summaryLine, type BackfillArgs } from '../backfill-run';
import { checkStackFlags, stackLookup, type StackLookup } from '../stack';

export const BACKFILL_USAGE = 'usage: ost-forward backfill s3://bucket[/prefix] | --from-list FILE|s3://bucket/key [s3://bucket] [--since ISO-DATE] [--suffix .wav,...] [--failed-only] [--dry-run] [--max N] [--json] [--records s3://bucket/prefix] [--queue-url URL] [--stage STAGE [--region R]]';

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
    queueUrl: urlFlag('--queue-url', values['queue-url']),
    stage: values.stage,
    region: values.region,
    ...(values.records !== undefined ? { records: parseS3Url(values.records, '--records') } : {}),
    ...(fromList !== undefined ? { fromList } : {}),
  };
}

/** Where submissions go: the intake queue (given, configured, or the stack's output). */
async function submitterFor(args: BackfillArgs, configuredQueueUrl: string | undefined, stack: StackLookup): Promise<Submitter> {
  if (args.dryRun) return async (records) => records.map(() => ({ status: 'error', error: 'dry run' }));
  const queueUrl = await stack.resolve('intakeQueueUrl', args.queueUrl ?? configuredQueueUrl, 'backfill submits into the intake queue: --queue-url URL (or INTAKE_QUEUE_URL), or --dry-run');
  return intakeQueueSubmitter(new SQSClient({ maxAttempts: 5, ...(stack.region ? { region: stack.region } : {}) }), queueUrl);
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
    submit = await submitterFor(args, args.queueUrl ? undefined : loadAdmissionSettings(process.env).intakeQueueUrl, stack);
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
  const s3 = commandS3Client(settings, args.region);
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
