// Status: what happened to the files, read from the outcome records (lib/workflow/outcome-records.ts) under
// `<resultsPrefix>forwarded/` and `<resultsPrefix>failed/`. The listing streams page by page; only the summary is
// kept, and it is bounded: one row per day, at most MAX_ERROR_GROUPS failure groups, the SLOWEST_N slowest files.
// --since skips records whose object was last written before it without reading them (a record is written once,
// when its execution ends). Records are read through lib/workflow/record-reader.ts: an object too large to be a
// record, or whose fields have other types, counts as unreadable and the rest is reported.
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { OutcomeRecord } from './outcome-records';
import { readRecord, type Unreadable } from './record-reader';

export const MAX_ERROR_GROUPS = 20;
export const SLOWEST_N = 5;

export interface DayRow { day: string; forwarded: number; forwardedBytes: number; failed: number; failedBytes: number }
export interface ErrorGroup { error: string; ostCode: number | null; count: number; exampleKey: string; exampleSid: string | null; message: string }
export interface SlowFile { key: string; durationMs: number; bytes: number | null; mode: string | null; finishedAt: string }

export interface StatusSummary {
  records: number;
  forwarded: number;
  failed: number;
  forwardedBytes: number;
  failedBytes: number;
  /** Record files that could not be read as records. */
  unreadable: number;
  days: DayRow[];
  errors: ErrorGroup[];
  /** Failures beyond MAX_ERROR_GROUPS distinct errors, counted here. */
  otherErrors: number;
  slowest: SlowFile[];
}

export interface StatusOptions {
  s3: Pick<S3Client, 'send'>;
  bucket: string;
  /** The results prefix, e.g. `ost-forwarder/`. */
  prefix: string;
  since?: Date;
  failedOnly?: boolean;
  /** Each record read, for the detail lines. */
  onRecord?: (record: OutcomeRecord, location: string) => void;
  /** Record reads in flight (default 8). */
  concurrency?: number;
}

/** Adds records one at a time; holds only the bounded summary. */
export class StatusAggregator {
  readonly #days = new Map<string, DayRow>();
  readonly #errors = new Map<string, ErrorGroup>();
  #slowest: SlowFile[] = [];
  #s = { records: 0, forwarded: 0, failed: 0, forwardedBytes: 0, failedBytes: 0, unreadable: 0, otherErrors: 0 };

  unreadable(): void { this.#s.unreadable++; }

  add(r: OutcomeRecord): void {
    const bytes = typeof r.bytes === 'number' && Number.isFinite(r.bytes) ? r.bytes : 0;
    const day = typeof r.finishedAt === 'string' && /^\d{4}-\d{2}-\d{2}/.test(r.finishedAt) ? r.finishedAt.slice(0, 10) : 'unknown';
    const row = this.#days.get(day) ?? { day, forwarded: 0, forwardedBytes: 0, failed: 0, failedBytes: 0 };
    this.#days.set(day, row);
    this.#s.records++;
    if (r.status === 'forwarded') {
      this.#s.forwarded++; this.#s.forwardedBytes += bytes; row.forwarded++; row.forwardedBytes += bytes;
      if (typeof r.durationMs === 'number') this.#slow({ key: r.key, durationMs: r.durationMs, bytes: r.bytes, mode: r.mode, finishedAt: r.finishedAt });
    } else {
      this.#s.failed++; this.#s.failedBytes += bytes; row.failed++; row.failedBytes += bytes;
      const error = r.error?.error ?? 'Unknown';
      const ostCode = typeof r.error?.ostCode === 'number' ? r.error.ostCode : null;
      const id = `${error}\0${ostCode ?? ''}`;
      const g = this.#errors.get(id);
      if (g) g.count++;
      else if (this.#errors.size < MAX_ERROR_GROUPS) {
        this.#errors.set(id, { error, ostCode, count: 1, exampleKey: r.key, exampleSid: r.error?.sid ?? r.sid ?? null, message: String(r.error?.message ?? '').slice(0, 300) });
      } else this.#s.otherErrors++;
    }
  }

  #slow(f: SlowFile): void {
    if (this.#slowest.length === SLOWEST_N && f.durationMs <= this.#slowest[SLOWEST_N - 1]!.durationMs) return;
    this.#slowest = [...this.#slowest, f].sort((a, b) => b.durationMs - a.durationMs).slice(0, SLOWEST_N);
  }

  summary(): StatusSummary {
    return {
      ...this.#s,
      days: [...this.#days.values()].sort((a, b) => a.day.localeCompare(b.day)),
      errors: [...this.#errors.values()].sort((a, b) => b.count - a.count),
      slowest: this.#slowest,
    };
  }
}

export async function readStatus(o: StatusOptions): Promise<StatusSummary> {
  const agg = new StatusAggregator();
  const statuses: Array<'forwarded' | 'failed'> = o.failedOnly ? ['failed'] : ['forwarded', 'failed'];
  for (const status of statuses) {
    const folder = `${o.prefix}${status}/`;
    let token: string | undefined;
    do {
      const page = await o.s3.send(new ListObjectsV2Command({ Bucket: o.bucket, Prefix: folder, ContinuationToken: token }));
      const objects = (page.Contents ?? [])
        .filter((c) => c.Key!.endsWith('.json') && !(o.since && c.LastModified && c.LastModified.getTime() < o.since.getTime()))
        .map((c) => ({ key: c.Key!, size: c.Size }));
      const records = await readAll(o.s3, o.bucket, objects, o.concurrency ?? 8);
      for (const [i, r] of records.entries()) {
        // a foreign object (too large, not JSON, fields of other types) or one of the other folder: unreadable
        if (typeof r === 'string' || r.status !== status) { agg.unreadable(); continue; }
        if (o.since && !(Date.parse(r.finishedAt) >= o.since.getTime())) continue;
        agg.add(r);
        o.onRecord?.(r, `s3://${o.bucket}/${objects[i]!.key}`);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
  return agg.summary();
}

async function readAll(s3: Pick<S3Client, 'send'>, bucket: string, objects: Array<{ key: string; size?: number }>, n: number): Promise<Array<OutcomeRecord | Unreadable>> {
  const out = new Array<OutcomeRecord | Unreadable>(objects.length);
  let next = 0;
  const worker = async () => {
    while (next < objects.length) {
      const i = next++;
      out[i] = await readRecord(s3, bucket, objects[i]!.key, objects[i]!.size);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, objects.length) }, worker));
  return out;
}
