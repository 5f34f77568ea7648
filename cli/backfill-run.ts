// A backfill run as the CLI prints it (the `backfill` command, and `local --existing` on the local stack): a line
// per submitted or failed object (at most MAX_LINES) or JSON per object, a progress line on a terminal, the summary.
import { backfill, type BackfillItem, type BackfillOptions, type BackfillSummary, type Submitter } from '../lib/intake/backfill';
import type { Settings } from '../lib/config/settings';
import { listPages } from '../lib/intake/from-list';
import { formatBytes, safeJson, safeText } from './output';
import type { StackLookup } from './stack';

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
  /** --from-list: the keys from this list (lib/intake/from-list.ts) instead of listing bucket/prefix. */
  fromList?: string;
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
  /** Only these keys (`local --existing`: what was named, not the rest of the bucket). */
  only?: ReadonlySet<string>;
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
    only: r.only,
    ...(r.args.fromList !== undefined ? { pages: listPages(r.s3, r.args.fromList, r.args.bucket) } : {}),
    onItem: (item) => {
      if (r.args.json) { progress.clear(); r.out(itemJson(item)); }
      else if (item.status !== 'skipped' && (r.itemLines ?? true)) {
        if (lines < MAX_LINES) { progress.clear(); r.out(itemLine(item)); lines++; } else hidden++;
      }
      live = live ?? ({ listed: 0, skipped: {}, submitted: 0, wouldSubmit: 0, errors: 0, bytesSubmitted: 0 });
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
