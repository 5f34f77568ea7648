// Backfill: forward the objects of a bucket/prefix that no event announced. Lists page by page (one page in
// memory), skips what needs no forwarding, and hands S3-shaped ObjectCreated records to an injected submit(): the
// intake queue (lib/intake/backfill-submitter.ts), where each waits for an admission slot. `pages` replaces the listing
// with a list's objects (lib/intake/from-list.ts: --from-list). What is skipped and why, the execution names of later
// rounds, the submitted markers and the known limit: docs/backfill.md. A key's records are read per version
// (lib/workflow/record-reader.ts): its other versions are never read.
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client, type _Object } from '@aws-sdk/client-s3';
import type { S3EventRecord } from 'aws-lambda';
import { failureCount, forwardedRecordOf } from '../workflow/record-reader';
import { executionName, parseEventRecord, skipReason } from './s3-event';
import { existingObjectRecord, type ExistingObject } from './event-record';
import { recordsBucket, type Settings } from '../config/settings';
import { unquoteEtag } from '../core/object-version';

export type SkipReason = 'folder' | 'results-prefix' | 'filter' | 'since' | 'suffix' | 'archived' | 'forwarded' | 'not-failed' | 'submitted' | 'missing' | 'other-bucket';

/** A page of objects to judge, from a listing or a list (lib/intake/from-list.ts), and keys a list named in vain. */
export interface ListedPage { contents: _Object[]; skipped: Array<{ key: string; reason: 'missing' | 'other-bucket' }> }

/** Storage classes a GetObject cannot read without a restore: forwarding them would only fail. */
export const ARCHIVED_STORAGE_CLASSES: ReadonlySet<string> = new Set(['GLACIER', 'DEEP_ARCHIVE']);

/** What submit() says of each record of a batch, in order. */
export type SubmitOutcome = { status: 'submitted' } | { status: 'refused'; reason: string } | { status: 'error'; error: string };

/** Hands a batch of S3-shaped records to the pipeline. Returns one outcome per record, in order. */
export type Submitter = (records: S3EventRecord[]) => Promise<SubmitOutcome[]>;

export interface BackfillItem {
  key: string;
  bytes: number;
  etag: string;
  status: 'submitted' | 'would-submit' | 'skipped' | 'error';
  reason?: SkipReason | string;
  /** Failure records of this ETag seen before this run (a retry round when > 0). */
  failures?: number;
  execution?: string;
  error?: string;
}

export interface BackfillSummary {
  listed: number;
  skipped: Partial<Record<SkipReason, number>>;
  submitted: number;
  /** --dry-run: what would have been submitted. */
  wouldSubmit: number;
  errors: number;
  bytesSubmitted: number;
  /** Stopped at --max, or by the abort signal, before the listing ended. */
  stopped?: 'max' | 'interrupted';
}

export interface BackfillOptions {
  s3: Pick<S3Client, 'send'>;
  bucket: string;
  prefix?: string;
  /** Only objects last modified at or after this time. */
  since?: Date;
  /** Only keys ending with one of these. */
  suffixes?: readonly string[];
  failedOnly?: boolean;
  dryRun?: boolean;
  /** Submit (or, with dryRun, count) at most this many. */
  max?: number;
  settings: Pick<Settings, 'resultsBucket' | 'resultsPrefix' | 'keyPrefixes' | 'keySuffixes'>;
  submit: Submitter;
  /** Records per submit() call (default 10, an SQS batch). */
  batchSize?: number;
  /** Record look-ups in flight (default 8). */
  concurrency?: number;
  region?: string;
  onItem?: (item: BackfillItem) => void;
  /** Ends the run after the batch in flight (Ctrl-C). */
  signal?: AbortSignal;
  /** Keys per ListObjectsV2 page (default and maximum 1,000; tests use fewer). */
  pageSize?: number;
  /** Only these keys (`local --existing`): every other object under the prefix is not even counted as listed. */
  only?: ReadonlySet<string>;
  /** The objects from a list instead of listing bucket/prefix (`--from-list`): pages, pulled one at a time. */
  pages?: AsyncIterable<ListedPage>;
}

export const SUBMITTED_MARKER_FOLDER = 'backfill/submitted/';

/** The results location of a source bucket's records. */
export function resultsLocation(s: BackfillOptions['settings'], sourceBucket: string): { bucket: string; prefix: string } {
  return { bucket: recordsBucket(s, sourceBucket), prefix: s.resultsPrefix };
}

async function exists(s3: Pick<S3Client, 'send'>, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.$metadata?.httpStatusCode === 404 || e.name === 'NotFound' || e.name === 'NoSuchKey') return false;
    throw err;
  }
}

/** Runs fn over items with at most n in flight, results in order. */
async function mapLimit<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

interface Candidate { object: ExistingObject; record: S3EventRecord; execution: string; failures: number }

export async function backfill(o: BackfillOptions): Promise<BackfillSummary> {
  const summary: BackfillSummary = { listed: 0, skipped: {}, submitted: 0, wouldSubmit: 0, errors: 0, bytesSubmitted: 0 };
  const results = resultsLocation(o.settings, o.bucket);
  const region = o.region ?? 'us-east-1';
  const batchSize = Math.max(1, o.batchSize ?? 10);
  const emit = (item: BackfillItem) => o.onItem?.(item);
  const skip = (object: { key: string; size: number; etag: string }, reason: SkipReason, extra: Partial<BackfillItem> = {}) => {
    summary.skipped[reason] = (summary.skipped[reason] ?? 0) + 1;
    emit({ key: object.key, bytes: object.size, etag: object.etag, status: 'skipped', reason, ...extra });
  };
  const taken = () => summary.submitted + summary.wouldSubmit;
  const full = () => o.max !== undefined && taken() >= o.max;

  // Cheap filters first (no request), then the record look-ups.
  const cheap = (c: _Object): ExistingObject | undefined => {
    const object: ExistingObject = { bucket: o.bucket, key: c.Key!, size: Number(c.Size ?? 0), etag: unquoteEtag(c.ETag ?? ''), lastModified: c.LastModified };
    const reason = skipReason({ bucket: o.bucket, key: object.key, size: object.size }, o.settings);
    if (reason) {
      skip(object, reason === 'folder marker' ? 'folder' : reason.startsWith('under the results prefix') ? 'results-prefix' : 'filter');
      return undefined;
    }
    if (o.since && (!object.lastModified || object.lastModified.getTime() < o.since.getTime())) { skip(object, 'since'); return undefined; }
    if (o.suffixes && o.suffixes.length > 0 && !o.suffixes.some((s) => object.key.endsWith(s))) { skip(object, 'suffix'); return undefined; }
    if (c.StorageClass && ARCHIVED_STORAGE_CLASSES.has(c.StorageClass)) { skip(object, 'archived'); return undefined; }
    return object;
  };
  const judge = async (object: ExistingObject): Promise<Candidate | undefined> => {
    const forwarded = await forwardedRecordOf(o.s3, results, object);
    if (forwarded) { skip(object, 'forwarded', { execution: forwarded.executionName }); return undefined; }
    const failures = await failureCount(o.s3, results, object);
    if (o.failedOnly && failures === 0) { skip(object, 'not-failed'); return undefined; }
    const withRound: ExistingObject = failures > 0 ? { ...object, sequencer: `backfill-${failures}` } : object;
    const record = existingObjectRecord(withRound, region);
    const execution = executionName(parseEventRecord(record, 0).input);
    if (await exists(o.s3, results.bucket, `${results.prefix}${SUBMITTED_MARKER_FOLDER}${execution}`)) {
      skip(object, 'submitted', { execution, failures });
      return undefined;
    }
    return { object, record, execution, failures };
  };
  const send = async (batch: Candidate[]) => {
    if (batch.length === 0) return;
    if (o.dryRun) {
      for (const c of batch) {
        summary.wouldSubmit++;
        emit({ key: c.object.key, bytes: c.object.size, etag: c.object.etag, status: 'would-submit', execution: c.execution, failures: c.failures });
      }
      return;
    }
    let outcomes: SubmitOutcome[];
    try {
      outcomes = await o.submit(batch.map((c) => c.record));
    } catch (err) {
      const error = `${(err as Error).name ?? 'Error'}: ${(err as Error).message ?? String(err)}`.slice(0, 500);
      outcomes = batch.map(() => ({ status: 'error', error }));
    }
    for (const [i, c] of batch.entries()) {
      const out = outcomes[i] ?? { status: 'error', error: 'the submitter gave no outcome for this record' };
      const base = { key: c.object.key, bytes: c.object.size, etag: c.object.etag, execution: c.execution, failures: c.failures };
      if (out.status === 'submitted') {
        summary.submitted++;
        summary.bytesSubmitted += c.object.size;
        // best effort: without the marker a re-run submits the same name again, a duplicate and no second upload
        await o.s3.send(new PutObjectCommand({
          Bucket: results.bucket,
          Key: `${results.prefix}${SUBMITTED_MARKER_FOLDER}${c.execution}`,
          Body: JSON.stringify({ bucket: c.object.bucket, key: c.object.key, etag: c.object.etag, at: new Date().toISOString() }),
          ContentType: 'application/json',
        })).catch(() => undefined);
        emit({ ...base, status: 'submitted' });
      } else if (out.status === 'refused') {
        summary.errors++;
        emit({ ...base, status: 'error', error: out.reason });
      } else {
        summary.errors++;
        emit({ ...base, status: 'error', error: out.error });
      }
    }
  };

  const listed = o.pages ?? listBucketPages(o);
  listing: for await (const page of listed) {
    if (o.signal?.aborted) { summary.stopped = 'interrupted'; break; }
    for (const k of page.skipped) { summary.listed++; skip({ key: k.key, size: 0, etag: '' }, k.reason); }
    const contents = page.contents.filter((c) => !o.only || o.only.has(c.Key!));
    // Judge in slices of the page so that --max and Ctrl-C do not wait for a whole page of look-ups.
    for (let start = 0; start < contents.length; start += batchSize) {
      if (full()) { summary.stopped = 'max'; break listing; }
      if (o.signal?.aborted) { summary.stopped = 'interrupted'; break listing; }
      const slice = contents.slice(start, start + batchSize);
      summary.listed += slice.length;
      const objects = slice.map(cheap).filter((x): x is ExistingObject => x !== undefined);
      const judged = (await mapLimit(objects, o.concurrency ?? 8, judge)).filter((x): x is Candidate => x !== undefined);
      const room = o.max === undefined ? judged.length : Math.max(0, o.max - taken());
      await send(judged.slice(0, room));
      if (judged.length > room) { summary.stopped = 'max'; break listing; }
    }
  }
  return summary;
}

/** The current objects of bucket/prefix, a ListObjectsV2 page at a time. */
async function* listBucketPages(o: BackfillOptions): AsyncGenerator<ListedPage> {
  let token: string | undefined;
  do {
    const page = await o.s3.send(new ListObjectsV2Command({ Bucket: o.bucket, Prefix: o.prefix || undefined, ContinuationToken: token, MaxKeys: o.pageSize ?? 1000 }));
    yield { contents: page.Contents ?? [], skipped: [] };
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}
