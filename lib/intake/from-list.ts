// `backfill --from-list`: the objects to forward, read from a list instead of a listing. Streamed line by line and
// handed on in pages of at most PAGE_KEYS (memory holds one page, whatever the list's length):
//   a text list (any other name)  one key per line, as written (blank lines and `#` comments ignored)
//   `*.csv` / `*.csv.gz`          an S3 Batch Operations manifest: bucket,key[,versionId], the key URL-encoded
//   `manifest.json`               an S3 Inventory manifest: its CSV / CSV.GZ parts (fileSchema names the columns;
//                                 keys URL-encoded), read one after the other from the destination bucket
// The list is a local file or s3://bucket/key (GetObject, streamed). Rows of an inventory carry size, ETag and
// storage class; keys from a text list or a Batch Operations manifest are looked up with HeadObject (a missing
// object is skipped as `missing`). Keys of another bucket than the backfill's are skipped as `other-bucket`.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, type S3Client, type _Object } from '@aws-sdk/client-s3';
import { parse as parseCsv } from 'csv-parse';
import { ConfigError } from '../core/errors';
import type { ListedPage } from './backfill';

/** Keys per page handed to the backfill (the size of a ListObjectsV2 page). */
export const PAGE_KEYS = 1000;
/** A manifest.json is small (a list of part files); a larger one is not a manifest. */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

export interface ListEntry { bucket?: string; key: string; size?: number; etag?: string; lastModified?: Date; storageClass?: string }

type S3 = Pick<S3Client, 'send'>;

export function parseS3Location(s: string): { bucket: string; key: string } | undefined {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(s);
  return m ? { bucket: m[1]!, key: m[2]! } : undefined;
}

/** The bytes of a list: a local file or an S3 object, gunzipped when its name ends in .gz. */
async function openList(s3: S3, where: string): Promise<Readable> {
  const loc = parseS3Location(where);
  let raw: Readable;
  if (loc) {
    const res = await s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
    raw = res.Body as Readable;
  } else {
    raw = createReadStream(where);
  }
  if (!/\.gz$/i.test(where)) return raw;
  const gunzip = createGunzip();
  raw.on('error', (err) => gunzip.destroy(err));
  return raw.pipe(gunzip);
}

function decodeKey(s: string): string {
  try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch { return s; }
}

async function* textEntries(input: Readable): AsyncGenerator<ListEntry> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    yield { key: line };
  }
}

/** CSV rows as arrays of fields (csv-parse, streamed). */
function csvRows(input: Readable): AsyncIterable<string[]> {
  const parser = parseCsv({ relax_column_count: true, skip_empty_lines: true });
  input.on('error', (err) => parser.destroy(err));
  return input.pipe(parser);
}

async function* batchManifestEntries(input: Readable): AsyncGenerator<ListEntry> {
  for await (const row of csvRows(input)) {
    if (row.length < 2) continue;
    yield { bucket: row[0]!, key: decodeKey(row[1]!) };
  }
}

interface InventoryManifest { sourceBucket?: string; destinationBucket?: string; fileFormat?: string; fileSchema?: string; files?: Array<{ key?: string }> }

async function readManifest(s3: S3, where: string): Promise<InventoryManifest> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of await openList(s3, where)) {
    n += (c as Buffer).length;
    if (n > MAX_MANIFEST_BYTES) throw new ConfigError('--from-list', `${where}: over ${MAX_MANIFEST_BYTES} bytes, not an S3 Inventory manifest.json`);
    chunks.push(c as Buffer);
  }
  let m: InventoryManifest;
  try { m = JSON.parse(Buffer.concat(chunks).toString('utf8')) as InventoryManifest; } catch {
    throw new ConfigError('--from-list', `${where}: not JSON (an S3 Inventory manifest.json)`);
  }
  if (m.fileFormat !== 'CSV') {
    throw new ConfigError('--from-list', `${where}: fileFormat ${JSON.stringify(String(m.fileFormat).slice(0, 40))}: only CSV inventories are read`);
  }
  if (!m.fileSchema || !Array.isArray(m.files)) throw new ConfigError('--from-list', `${where}: no fileSchema or files: not an S3 Inventory manifest`);
  return m;
}

async function* inventoryEntries(s3: S3, where: string): AsyncGenerator<ListEntry> {
  const m = await readManifest(s3, where);
  const columns = m.fileSchema!.split(',').map((c) => c.trim());
  const col = (name: string) => columns.indexOf(name);
  const [iBucket, iKey, iSize, iModified, iEtag, iClass, iLatest, iDeleted] =
    ['Bucket', 'Key', 'Size', 'LastModifiedDate', 'ETag', 'StorageClass', 'IsLatest', 'IsDeleteMarker'].map(col);
  if (iKey! < 0) throw new ConfigError('--from-list', `${where}: fileSchema has no Key column`);
  // destinationBucket is an ARN (arn:aws:s3:::name); the part keys are in it
  const partsBucket = (m.destinationBucket ?? '').replace(/^arn:[^:]+:s3:::/, '') || parseS3Location(where)?.bucket;
  if (!partsBucket) throw new ConfigError('--from-list', `${where}: no destinationBucket to read the parts from`);
  for (const file of m.files!) {
    if (typeof file.key !== 'string') continue;
    for await (const row of csvRows(await openList(s3, `s3://${partsBucket}/${file.key}`))) {
      // a versioned inventory lists every version: only the current ones, never delete markers
      if (iLatest! >= 0 && row[iLatest!] === 'false') continue;
      if (iDeleted! >= 0 && row[iDeleted!] === 'true') continue;
      const size = iSize! >= 0 && row[iSize!] !== '' ? Number(row[iSize!]) : undefined;
      const modified = iModified! >= 0 && row[iModified!] ? new Date(row[iModified!]!) : undefined;
      yield {
        bucket: iBucket! >= 0 ? row[iBucket!] : m.sourceBucket,
        key: decodeKey(row[iKey!] ?? ''),
        ...(size !== undefined && Number.isFinite(size) ? { size } : {}),
        ...(iEtag! >= 0 && row[iEtag!] ? { etag: row[iEtag!] } : {}),
        ...(modified && !Number.isNaN(modified.getTime()) ? { lastModified: modified } : {}),
        ...(iClass! >= 0 && row[iClass!] ? { storageClass: row[iClass!] } : {}),
      };
    }
  }
}

/** The entries of a list, streamed, in its order. */
export async function* listEntries(s3: S3, where: string): AsyncGenerator<ListEntry> {
  const name = (parseS3Location(where)?.key ?? where).split('/').pop() ?? '';
  if (/manifest\.json$/i.test(name)) yield* inventoryEntries(s3, where);
  else if (/\.csv(\.gz)?$/i.test(name)) yield* batchManifestEntries(await openList(s3, where));
  else yield* textEntries(await openList(s3, where));
}

/** The bucket a list names, when it names one (an inventory's sourceBucket, a manifest row's bucket). */
export async function listBucket(s3: S3, where: string): Promise<string | undefined> {
  for await (const e of listEntries(s3, where)) return e.bucket;
  return undefined;
}

async function head(s3: S3, bucket: string, key: string): Promise<_Object | undefined> {
  try {
    const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { Key: key, Size: Number(h.ContentLength ?? 0), ETag: h.ETag, LastModified: h.LastModified, StorageClass: h.StorageClass };
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.$metadata?.httpStatusCode === 404 || e.name === 'NotFound' || e.name === 'NoSuchKey') return undefined;
    throw err;
  }
}

/**
 * The list as pages of listed objects for `backfill` (its `pages` option): entries that already carry size and
 * ETag pass as they are; the others are looked up (`concurrency` HEADs in flight). Bounded: one page at a time.
 */
export async function* listPages(s3: S3, where: string, bucket: string, o: { concurrency?: number; pageKeys?: number } = {}): AsyncGenerator<ListedPage> {
  const pageKeys = o.pageKeys ?? PAGE_KEYS;
  let entries: ListEntry[] = [];
  const flush = async (): Promise<ListedPage> => {
    const page: ListedPage = { contents: [], skipped: [] };
    const slots = new Array<_Object | undefined>(entries.length);
    let next = 0;
    const worker = async () => {
      while (next < entries.length) {
        const i = next++;
        const e = entries[i]!;
        if (e.size !== undefined && e.etag !== undefined) {
          slots[i] = { Key: e.key, Size: e.size, ETag: e.etag, LastModified: e.lastModified, StorageClass: e.storageClass as _Object['StorageClass'] };
        } else {
          slots[i] = await head(s3, bucket, e.key);
          if (!slots[i]) page.skipped.push({ key: e.key, reason: 'missing' });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 8, entries.length) }, worker));
    for (const s of slots) if (s) page.contents.push(s);
    entries = [];
    return page;
  };
  const others: ListedPage = { contents: [], skipped: [] };
  for await (const e of listEntries(s3, where)) {
    if (e.bucket !== undefined && e.bucket !== bucket) {
      others.skipped.push({ key: e.key, reason: 'other-bucket' });
      if (others.skipped.length >= pageKeys) { yield others; others.skipped = []; }
      continue;
    }
    entries.push(e);
    if (entries.length >= pageKeys) yield await flush();
  }
  if (entries.length > 0) yield await flush();
  if (others.skipped.length > 0) yield others;
}
