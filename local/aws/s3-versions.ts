// Object versions for the embedded S3 (s3rver keeps one file per key and knows no versioning): bucket versioning
// (Unversioned → Enabled ⇄ Suspended), version ids, the `null` version, and reads that never tear.
//
// Every write lands in a new immutable file (streamed to a temporary file, closed, then hard-linked over s3rver's
// object file with an atomic rename), and the version becomes visible only when that is done. GET and HEAD of an
// object the index knows are answered from the index, so a read sees one whole version — old or new, never half of
// a PUT in progress, never the old ETag over new bytes — and keeps reading it when the key is overwritten.
//
// S3's rules, as far as the forwarder depends on them:
//   - Enabled: each PUT makes a new version with a unique id; GET ?versionId= reads any version; a DELETE without a
//     version id adds a delete marker (the old versions stay readable by id).
//   - Suspended: each PUT replaces the `null` version (versions made while Enabled stay); its id is "null" in
//     x-amz-version-id and in the event record, and ?versionId=null reads whatever the null version is now.
//   - Unversioned (never enabled): no x-amz-version-id at all; a PUT replaces the object.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { unquoteEtag } from '../../lib/core/object-version';

export type VersioningStatus = 'Unversioned' | 'Enabled' | 'Suspended';

export interface StoredVersion {
  /** A unique id, or "null" (written while versioning was off or suspended). */
  readonly versionId: string;
  /** Quoted, as S3 sends it. */
  readonly etag: string;
  readonly size: number;
  /** The immutable file holding the bytes. */
  readonly path: string;
  readonly lastModified: Date;
  /** content-type and the other stored headers (x-amz-meta-*). */
  readonly metadata: Readonly<Record<string, string>>;
}

interface KeyHistory {
  /** Oldest first. */
  versions: StoredVersion[];
  /** The current object is a delete marker (or was deleted). */
  deleted: boolean;
}

/** S3-style version id: 32 URL-safe characters. */
function newVersionId(): string {
  return randomBytes(24).toString('base64url');
}

export class VersionIndex {
  readonly #status = new Map<string, VersioningStatus>();
  readonly #keys = new Map<string, KeyHistory>();

  status(bucket: string): VersioningStatus {
    return this.#status.get(bucket) ?? 'Unversioned';
  }

  setStatus(bucket: string, status: 'Enabled' | 'Suspended'): void {
    this.#status.set(bucket, status);
  }

  /** True once versioning was ever enabled on the bucket: responses then carry x-amz-version-id. */
  versioned(bucket: string): boolean {
    return this.status(bucket) !== 'Unversioned';
  }

  knows(bucket: string, key: string): boolean {
    return this.#keys.has(`${bucket}/${key}`);
  }

  /** The current version, or undefined (unknown key, deleted, delete marker). */
  current(bucket: string, key: string): StoredVersion | undefined {
    const h = this.#keys.get(`${bucket}/${key}`);
    return h && !h.deleted ? h.versions[h.versions.length - 1] : undefined;
  }

  find(bucket: string, key: string, versionId: string): StoredVersion | undefined {
    return this.#keys.get(`${bucket}/${key}`)?.versions.find((v) => v.versionId === versionId);
  }

  /** Adds a version as the current one; in an unversioned or suspended bucket it replaces the null version. */
  add(bucket: string, key: string, facts: Omit<StoredVersion, 'versionId'>): StoredVersion {
    const id = `${bucket}/${key}`;
    const h = this.#keys.get(id) ?? { versions: [], deleted: false };
    const enabled = this.status(bucket) === 'Enabled';
    const version: StoredVersion = { ...facts, versionId: enabled ? newVersionId() : 'null' };
    if (!enabled) h.versions = h.versions.filter((v) => v.versionId !== 'null');
    h.versions.push(version);
    h.deleted = false;
    this.#keys.set(id, h);
    return version;
  }

  /**
   * DELETE: without a version id the current object goes (a delete marker when Enabled; the null version
   * otherwise); with one, that version goes. Returns the version that is current afterwards, if any.
   */
  remove(bucket: string, key: string, versionId?: string): StoredVersion | undefined {
    const h = this.#keys.get(`${bucket}/${key}`);
    if (!h) return undefined;
    if (versionId === undefined) {
      if (this.status(bucket) !== 'Enabled') h.versions = h.versions.filter((v) => v.versionId !== 'null');
      h.deleted = true;
    } else {
      h.versions = h.versions.filter((v) => v.versionId !== versionId);
      if (h.versions.length === 0) h.deleted = true;
    }
    return this.current(bucket, key);
  }

  /** Forgets a key (an object written behind the index's back): s3rver serves it again. */
  forget(bucket: string, key: string): void {
    this.#keys.delete(`${bucket}/${key}`);
  }
}

/** The version a request made (PUT, POST, CompleteMultipartUpload), for its response header and its event. */
export const requestVersion = new AsyncLocalStorage<{ version?: StoredVersion }>();

const STORED_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'content-type', 'x-amz-storage-class'];

function storedMetadata(metadata: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata ?? {})) {
    if (v === undefined || v === null) continue;
    if (STORED_HEADERS.includes(k) || k.startsWith('x-amz-meta-')) out[k] = String(v);
  }
  out['content-type'] ??= 'binary/octet-stream';
  return out;
}

// s3rver ships no types; the part of its filesystem store used here.
export interface S3rverFsStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, string | number>>;
  putMetadata(bucket: string, key: string, metadata: Record<string, unknown>, md5?: string): Promise<void>;
  putObject(object: { bucket: string; key: string; content: Readable | Buffer; metadata: Record<string, unknown> }): Promise<{ size: number; md5: string }>;
  copyObject(srcBucket: string, srcKey: string, destBucket: string, destKey: string, replacementMetadata?: unknown): Promise<unknown>;
  deleteObject(bucket: string, key: string): Promise<void>;
}

/**
 * Makes the store's writes atomic and versioned: putObject (also behind CompleteMultipartUpload and POST) writes
 * a new file in `versionsDir`, links it over s3rver's object file with a rename, and records the version; copyObject
 * and deleteObject keep the index in step.
 */
export function versionStore(store: S3rverFsStore, index: VersionIndex, versionsDir: string): void {
  const publish = async (bucket: string, key: string, file: string, md5: string, size: number, metadata: Record<string, string>): Promise<StoredVersion> => {
    const objectPath = store.getResourcePath(bucket, key, 'object');
    await mkdir(dirname(objectPath), { recursive: true });
    // s3rver's listing and its fallback reads use this path; a rename swaps it whole (its open readers keep theirs).
    const tmp = `${objectPath}.${randomUUID()}.tmp`;
    await link(file, tmp);
    await rename(tmp, objectPath);
    await store.putMetadata(bucket, key, metadata, md5);
    const version = index.add(bucket, key, { etag: JSON.stringify(md5), size, path: file, lastModified: new Date(), metadata });
    const holder = requestVersion.getStore();
    if (holder) holder.version = version;
    return version;
  };

  store.putObject = async (object) => {
    await mkdir(versionsDir, { recursive: true });
    const file = join(versionsDir, randomUUID());
    const hash = createHash('md5');
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, cb) { hash.update(chunk); size += chunk.length; cb(null, chunk); },
    });
    const source: Readable = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
    try {
      // Resolves once the file is closed: every byte is on disk before the version is visible.
      await pipeline(source, count, createWriteStream(file));
    } catch (err) {
      await unlink(file).catch(() => undefined);
      throw err;
    }
    const md5 = hash.digest('hex');
    await publish(object.bucket, object.key, file, md5, size, storedMetadata(object.metadata));
    return { size, md5 };
  };

  const copyObject = store.copyObject.bind(store);
  store.copyObject = async (srcBucket, srcKey, destBucket, destKey, replacementMetadata) => {
    // The copy is written by s3rver into its own file: read it into a new version like a PUT.
    const destPath = store.getResourcePath(destBucket, destKey, 'object');
    const same = store.getResourcePath(srcBucket, srcKey, 'object') === destPath;
    if (!same) await unlink(destPath).catch(() => undefined); // never write into a version's file
    const result = await copyObject(srcBucket, srcKey, destBucket, destKey, replacementMetadata);
    const meta = await store.getMetadata(destBucket, destKey);
    await mkdir(versionsDir, { recursive: true });
    const file = join(versionsDir, randomUUID());
    await pipeline(createReadStream(destPath), createWriteStream(file));
    await publish(destBucket, destKey, file, unquoteEtag(String(meta.etag)), Number(meta['content-length']), storedMetadata(meta as Record<string, unknown>));
    return result;
  };

  const deleteObject = store.deleteObject.bind(store);
  store.deleteObject = async (bucket, key) => {
    await deleteObject(bucket, key);
    index.remove(bucket, key);
  };
}

/** Parses a PutBucketVersioning body: the Status, or undefined when it is neither Enabled nor Suspended. */
export function parseVersioningStatus(xml: string): 'Enabled' | 'Suspended' | undefined {
  const m = /<Status>\s*(Enabled|Suspended)\s*<\/Status>/.exec(xml);
  return m ? (m[1] as 'Enabled' | 'Suspended') : undefined;
}

export function versioningXml(status: VersioningStatus): string {
  const body = status === 'Unversioned' ? '' : `<Status>${status}</Status>`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${body}</VersioningConfiguration>`;
}
