// `ost-forward status [s3://results-bucket/prefix] [--stage S [--region R]] [--since ISO-DATE] [--failed] [--json]`:
// what happened to the files, from the outcome records (lib/workflow/status.ts). Without a location:
// RESULTS_BUCKET and RESULTS_PREFIX, else the stack's RecordsBucket and ResultsPrefix outputs (cli/stack.ts).
// A person gets a summary: forwarded/failed counts and bytes per day, failures grouped by error with an example
// key and sid, the slowest files. --json prints one line per record (bounded fields) and then the summary line.
// --report out.html|out.csv: a page a person reads, or one CSV row per record (cli/report/).
// --failed: failures only. Exit 0 (even when records hold failures: the command worked), 1 on an S3 error, 2 on
// a usage error.
import { parseArgs } from 'node:util';
import { ConfigError } from '../../lib/core/errors';
import type { OutcomeRecord } from '../../lib/workflow/outcome-records';
import { loadSettings, type Settings } from '../../lib/config/settings';
import { readStatus, type StatusSummary } from '../../lib/workflow/status';
import { UsageError } from '../args';
import { openReport, reportKind, type ReportWriter } from '../report';
import { isUsageError, reportFailure } from '../exit';
import { commandS3Client, formatBytes, parseS3Url, parseSince, safeJson, safeText } from '../output';
import { checkStackFlags, stackLookup } from '../stack';

export const STATUS_USAGE = 'usage: ost-forward status [s3://results-bucket/prefix] [--stage STAGE [--region R]] [--since ISO-DATE] [--failed] [--json] [--report out.html|out.csv]';

export interface StatusArgs { bucket: string; prefix: string; since?: Date; failed: boolean; json: boolean; report?: string; region?: string }

/** The arguments, the location resolved: given, else RESULTS_BUCKET (+ RESULTS_PREFIX), else the stack's outputs. */
export async function parseStatusArgs(argv: string[], s: Pick<Settings, 'resultsBucket' | 'resultsPrefix'>): Promise<StatusArgs> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { since: { type: 'string' }, failed: { type: 'boolean', default: false }, json: { type: 'boolean', default: false }, report: { type: 'string' }, stage: { type: 'string' }, region: { type: 'string' } },
  });
  if (positionals.length > 1) throw new UsageError(`one location only, got ${positionals.length}`);
  checkStackFlags(values.stage, values.region);
  const since = parseSince(values.since);
  let bucket: string;
  let prefix: string;
  if (positionals[0] !== undefined) {
    ({ bucket, prefix } = parseS3Url(positionals[0], 'the results location'));
    if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  } else {
    const stack = stackLookup(values.stage, values.region);
    bucket = await stack.resolve('recordsBucket', s.resultsBucket, 'the records location: s3://records-bucket/prefix (or RESULTS_BUCKET)');
    prefix = s.resultsBucket ? s.resultsPrefix : await stack.resolve('resultsPrefix', undefined, 'RESULTS_PREFIX');
  }
  if (values.report !== undefined) reportKind(values.report);
  return { bucket, prefix, since, failed: values.failed ?? false, json: values.json ?? false, ...(values.report !== undefined ? { report: values.report } : {}), region: values.region };
}

/** One record as a bounded JSON line: every text clipped (a record's texts are bounded when read; these are tighter). */
export function recordJson(r: OutcomeRecord, location: string): string {
  const clip = (v: string | null | undefined, n = 300) => (typeof v === 'string' ? v.slice(0, n) : null);
  return safeJson({
    status: r.status,
    key: clip(r.key, 1100),
    bucket: clip(r.bucket, 100),
    bytes: r.bytes,
    mode: r.mode,
    url: clip(r.url, 1100),
    sid: clip(r.sid, 100),
    durationMs: r.durationMs,
    finishedAt: clip(r.finishedAt, 40),
    execution: clip(r.executionName, 80),
    ...(r.error ? { error: { name: clip(r.error.error, 100), ostCode: r.error.ostCode ?? null, message: clip(r.error.message), sid: clip(r.error.sid, 100) } } : {}),
    record: clip(location, 1200),
  });
}

function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** The summary a person takes in at a glance. */
export function statusText(where: string, s: StatusSummary, failedOnly: boolean): string {
  const lines: string[] = [];
  lines.push(`status ${safeText(where)}: ${failedOnly ? '' : `forwarded ${s.forwarded} (${formatBytes(s.forwardedBytes)}), `}failed ${s.failed} (${formatBytes(s.failedBytes)})${s.skipped ? `, skipped ${s.skipped}` : ''}${s.unreadable ? `, unreadable records ${s.unreadable}` : ''}`);
  if (s.days.length > 0) {
    lines.push('', 'day          forwarded        bytes     failed        bytes');
    for (const d of s.days.slice(-31)) {
      lines.push(`${d.day.padEnd(10)} ${String(d.forwarded).padStart(11)} ${formatBytes(d.forwardedBytes).padStart(12)} ${String(d.failed).padStart(10)} ${formatBytes(d.failedBytes).padStart(12)}`);
    }
    if (s.days.length > 31) lines.push(`(${s.days.length - 31} earlier days not shown; --json has every record)`);
  }
  if (s.errors.length > 0) {
    lines.push('', 'failures by error:');
    for (const g of s.errors) {
      lines.push(`  ${String(g.count).padStart(6)}  ${safeText(g.error, 80)}${g.ostCode !== null ? ` code=${g.ostCode}` : ''}: ${safeText(g.message, 160)}`);
      lines.push(`          e.g. ${safeText(g.exampleKey, 200)}${g.exampleSid ? ` sid=${safeText(g.exampleSid, 80)}` : ''}`);
    }
    if (s.otherErrors > 0) lines.push(`  ${String(s.otherErrors).padStart(6)}  (other errors)`);
  }
  if (!failedOnly && s.slowest.length > 0) {
    lines.push('', 'slowest files:');
    for (const f of s.slowest) lines.push(`  ${duration(f.durationMs).padStart(9)}  ${safeText(f.key, 200)} (${f.bytes !== null ? formatBytes(f.bytes) : '? bytes'}, ${safeText(f.mode ?? '?', 20)})`);
  }
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let args: StatusArgs;
  let settings: Settings;
  try {
    settings = loadSettings(process.env);
    args = await parseStatusArgs(argv, settings);
  } catch (err) {
    if (isUsageError(err) || err instanceof ConfigError) return reportFailure('status', err, STATUS_USAGE, safeText((err as Error).message, 500));
    // the stack look-up failed (no credentials, no network, access denied): one line, exit 1
    const e = err as Error;
    return reportFailure('status', err, STATUS_USAGE, `finding the stack's records: ${safeText(`${e.name ?? 'Error'}: ${e.message ?? String(err)}`, 500)}`);
  }
  const where = `s3://${args.bucket}/${args.prefix}`;
  let report: ReportWriter | undefined;
  try {
    report = args.report !== undefined ? openReport(args.report) : undefined;
    const json = args.json ? (r: OutcomeRecord, location: string) => { process.stdout.write(recordJson(r, location) + '\n'); } : undefined;
    const summary = await readStatus({
      s3: commandS3Client(settings, args.region),
      bucket: args.bucket,
      prefix: args.prefix,
      since: args.since,
      failedOnly: args.failed,
      onRecord: json || report ? (r, location) => { json?.(r, location); report?.onRecord(r, location); } : undefined,
    });
    await report?.finish(where, summary);
    if (report) process.stderr.write(`report written: ${safeText(args.report!)}\n`);
    if (args.json) process.stdout.write(safeJson({ summary: { location: where, ...summary } }) + '\n');
    else process.stdout.write(statusText(where, summary, args.failed) + '\n');
    return 0;
  } catch (err) {
    report?.abort();
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return reportFailure('status', err, STATUS_USAGE, `${safeText(`${e.name ?? 'Error'}: ${e.message ?? String(err)}`, 500)}${e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : ''} (${safeText(where)})`);
  }
}
