// Reading outcome records back (status, backfill, the local stack). A records prefix is a place anyone with write
// access to the bucket can put objects, so what is read there is foreign until checked: an object larger than a
// record can be is skipped unread, and a record is taken only when every field has its type; it comes back with
// every text bounded. Anything else is "unreadable", counted and never thrown.
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { FailureInfo } from './step-errors';
import { recordFolder, versionFolder, type OutcomeRecord } from './outcome-records';
import { boundedBody } from '../core/bounded-read';
import { unquoteEtag } from '../core/object-version';

/** The largest record object read. A record is under 20 KiB: its texts are bounded where it is written. */
export const MAX_RECORD_BYTES = 64 * 1024;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A string field clipped to `max` characters; null when absent; undefined (foreign) when of another type. */
function str(v: unknown, max: number): string | null | undefined {
  if (v === undefined || v === null) return null;
  return typeof v === 'string' ? v.slice(0, max) : undefined;
}

/** A finite number ≥ 0; null when absent; undefined (foreign) otherwise. */
function count(v: unknown): number | null | undefined {
  if (v === undefined || v === null) return null;
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

function failureOf(v: unknown): FailureInfo | null | undefined {
  if (v === undefined || v === null) return null;
  if (!isObject(v)) return undefined;
  const error = str(v.error, 200);
  const message = str(v.message, 4096);
  const sid = str(v.sid, 256);
  const ostCode = count(v.ostCode);
  if (error === undefined || message === undefined || sid === undefined || ostCode === undefined) return undefined;
  return { error: error ?? 'Unknown', message: message ?? '', ...(ostCode !== null ? { ostCode } : {}), ...(sid ? { sid } : {}) };
}

/**
 * The record in `value` with its fields typed and bounded, or undefined when it is not one: no status, no key, or a
 * field of the wrong type (a number where a text goes, an object where a number goes).
 */
export function parseRecord(value: unknown): OutcomeRecord | undefined {
  if (!isObject(value)) return undefined;
  const status = value.status;
  if (status !== 'forwarded' && status !== 'failed') return undefined;
  const key = str(value.key, 1100);
  if (!key) return undefined;
  const texts = {
    bucket: str(value.bucket, 255), versionId: str(value.versionId, 1024), etag: str(value.etag, 256), url: str(value.url, 4096),
    sid: str(value.sid, 256), uploadId: str(value.uploadId, 256), executionName: str(value.executionName, 256), finishedAt: str(value.finishedAt, 40),
  };
  const numbers = { bytes: count(value.bytes), slices: count(value.slices), // duration_ms: the field's name in records written before the fields were camelCase
    durationMs: count(value.durationMs ?? value.duration_ms), restarts: count(value.restarts) };
  const mode = value.mode === undefined || value.mode === null ? null : value.mode === 'simple' || value.mode === 'multipart' ? value.mode : undefined;
  const error = failureOf(value.error);
  if (Object.values(texts).includes(undefined) || Object.values(numbers).includes(undefined) || mode === undefined || error === undefined) return undefined;
  if (typeof texts.finishedAt === 'string' && !Number.isFinite(Date.parse(texts.finishedAt))) return undefined;
  const record: OutcomeRecord = {
    status, key,
    bucket: texts.bucket ?? '', versionId: texts.versionId ?? null, etag: texts.etag ?? null, bytes: numbers.bytes ?? null, mode,
    slices: numbers.slices ?? 0, url: texts.url ?? null, sid: texts.sid ?? null, uploadId: texts.uploadId ?? null,
    durationMs: numbers.durationMs ?? null, executionName: texts.executionName ?? '', restarts: numbers.restarts ?? 0,
    finishedAt: texts.finishedAt ?? '',
  };
  if (error) record.error = error;
  if (typeof value.cancelled === 'boolean') record.cancelled = value.cancelled;
  if (typeof value.cancelSid === 'string') record.cancelSid = value.cancelSid.slice(0, 256);
  if (typeof value.cancelReason === 'string') record.cancelReason = value.cancelReason.slice(0, 4096);
  return record;
}

/** Why a record object could not be used. */
export type Unreadable = 'too-large' | 'not-a-record' | 'gone';

/**
 * Reads one record object: skipped unread when the listing (`size`) or the answer says it is larger than
 * MAX_RECORD_BYTES, and never more than that read from its body. A missing object (deleted since the listing) is
 * 'gone'; other S3 errors (access, network) are thrown.
 */
export async function readRecord(s3: Pick<S3Client, 'send'>, bucket: string, key: string, size?: number): Promise<OutcomeRecord | Unreadable> {
  if (size !== undefined && size > MAX_RECORD_BYTES) return 'too-large';
  let res;
  try {
    res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.$metadata?.httpStatusCode === 404 || e.name === 'NoSuchKey') return 'gone';
    throw err;
  }
  if (!res.Body) return 'not-a-record';
  const bytes = await boundedBody(res, MAX_RECORD_BYTES);
  if (!bytes) return 'too-large';
  let value: unknown;
  try { value = JSON.parse(bytes.toString('utf8')); } catch { return 'not-a-record'; }
  return parseRecord(value) ?? 'not-a-record';
}

/** Where records are: the records bucket and the results prefix. */
export interface RecordsPlace { bucket: string; prefix: string }

/** One version of a key, as a listing knows it: the ETag (quoted or not). */
export interface VersionOf { key: string; etag: string }

/** Record files of one version read at most when looking for its forwarded record (normally there is one). */
export const MAX_VERSION_RECORD_READS = 20;
/** Listing pages of one version's failure records counted at most (1,000 keys a page). */
export const MAX_FAILURE_PAGES = 10;

/** The `<name>.json` files directly in `folder` (not those of a longer key that shares the prefix), a page at a time. */
async function* recordFiles(s3: Pick<S3Client, 'send'>, bucket: string, folder: string, maxPages: number, pageSize?: number): AsyncGenerator<{ key: string; size?: number }> {
  let token: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: folder, ContinuationToken: token, ...(pageSize ? { MaxKeys: pageSize } : {}) }));
    for (const o of res.Contents ?? []) {
      const rest = o.Key!.slice(folder.length);
      if (!rest.includes('/') && rest.endsWith('.json')) yield { key: o.Key!, size: o.Size };
    }
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
    if (!token) return;
  }
}

/**
 * The forwarded record of this version of a key, or undefined: one listing of the version's folder and a bounded
 * read of at most MAX_VERSION_RECORD_READS records in it, never the key's other versions.
 */
export async function forwardedRecordOf(s3: Pick<S3Client, 'send'>, place: RecordsPlace, object: VersionOf): Promise<OutcomeRecord | undefined> {
  let reads = 0;
  for await (const f of recordFiles(s3, place.bucket, versionFolder(place.prefix, 'forwarded', object.key, object.etag), 1, MAX_VERSION_RECORD_READS)) {
    if (++reads > MAX_VERSION_RECORD_READS) break;
    const r = await readRecord(s3, place.bucket, f.key, f.size);
    // a sha256/<hex> folder of a long key is shared by nothing else, but check the key and ETag all the same
    if (typeof r !== 'string' && r.status === 'forwarded' && r.key === object.key && unquoteEtag(r.etag ?? '') === unquoteEtag(object.etag)) return r;
  }
  return undefined;
}

/**
 * How many executions of this version failed: the record files in its failure folder, counted from the listing
 * alone (one file per execution name), at most MAX_FAILURE_PAGES pages.
 */
export async function failureCount(s3: Pick<S3Client, 'send'>, place: RecordsPlace, object: VersionOf): Promise<number> {
  let n = 0;
  for await (const _ of recordFiles(s3, place.bucket, versionFolder(place.prefix, 'failed', object.key, object.etag), MAX_FAILURE_PAGES)) n++;
  return n;
}

/** Every record of a key, all versions (the local stack's per-file results): at most `max` read. */
export async function keyRecords(s3: Pick<S3Client, 'send'>, place: RecordsPlace, key: string, max = 1000): Promise<OutcomeRecord[]> {
  const out: OutcomeRecord[] = [];
  let reads = 0;
  for (const status of ['forwarded', 'failed'] as const) {
    const folder = recordFolder(place.prefix, status, key);
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: place.bucket, Prefix: folder, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        // <version>/<name>.json: one level below the key's folder, not a longer key's records
        const rest = o.Key!.slice(folder.length).split('/');
        if (rest.length !== 2 || !rest[1]!.endsWith('.json')) continue;
        if (++reads > max) return out;
        const r = await readRecord(s3, place.bucket, o.Key!, o.Size);
        if (typeof r !== 'string' && r.key === key && r.status === status) out.push(r);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
  return out;
}
