// The S3 side of the local stack: an embedded s3rver on loopback (default) or any S3-compatible endpoint
// (S3_ENDPOINT, e.g. radosgw), and the AWS-shaped "ObjectCreated" event records the trigger handler receives.
//
// s3rver emits its own event objects on the server ('event'); they are close to AWS's but not equal (version
// 2.0, raw keys, a millisecond sequencer, multipart completions named "Post"), so they are rebuilt here from
// their facts. An external endpoint emits nothing in-process: callers build the record from HeadObject.
import { encodeS3EventKey } from '../../lib/intake/event-record';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { requestVersion, VersionIndex, versionStore, type S3rverFsStore } from './s3-versions';
import { s3rverFixes, versionedObjects, type KoaMiddleware, type S3rverStore } from './s3rver-middleware';
import { LOCAL_REGION } from './account';
import { immutableVersionId, unquoteEtag } from '../../lib/core/object-version';

// Importable from here as before the middleware had its own file.
export { resolveRange } from './s3rver-middleware';


export interface S3Connection {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** What an ObjectCreated notification says about an object, before it is shaped as an AWS record. */
export interface ObjectCreatedFacts {
  bucket: string;
  /** The object key, decoded (as stored). */
  key: string;
  size: number;
  eTag?: string;
  versionId?: string;
  eventName?: string;
  sequencer?: string;
  eventTime?: Date;
}

/** The key as S3 writes it into event notifications: one encoder for the embedded S3 and backfill. */
export const encodeEventKey = encodeS3EventKey;

let lastSequencer = 0n;
/**
 * A sequencer like S3's: an upper-case hex string that grows for later events on a key. AWS compares them
 * after left-padding; a fixed width of 18 digits keeps string comparison right too.
 */
export function nextSequencer(): string {
  let now = BigInt(Date.now()) << 16n;
  if (now <= lastSequencer) now = lastSequencer + 1n;
  lastSequencer = now;
  return now.toString(16).toUpperCase().padStart(18, '0');
}

/** One AWS-shaped S3 event record (eventVersion 2.1, key encoded as S3 encodes it, no versionId when absent). */
export function objectCreatedRecord(facts: ObjectCreatedFacts, region = LOCAL_REGION): S3EventRecord {
  const object: S3EventRecord['s3']['object'] = {
    key: encodeEventKey(facts.key),
    size: facts.size,
    eTag: unquoteEtag(facts.eTag ?? ''),
    sequencer: facts.sequencer ?? nextSequencer(),
  };
  if (facts.versionId) object.versionId = facts.versionId;
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: region,
    eventTime: (facts.eventTime ?? new Date()).toISOString(),
    eventName: facts.eventName ?? 'ObjectCreated:Put',
    userIdentity: { principalId: 'AWS:AIDALOCAL' + randomBytes(6).toString('hex').toUpperCase() },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: {
      'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(),
      'x-amz-id-2': randomBytes(32).toString('base64'),
    },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'ost-forwarder-local',
      bucket: {
        name: facts.bucket,
        ownerIdentity: { principalId: 'A' + randomBytes(6).toString('hex').toUpperCase() },
        arn: `arn:aws:s3:::${facts.bucket}`,
      },
      object,
    },
  };
}

export function s3Event(records: S3EventRecord[]): S3Event {
  return { Records: records };
}

/** Builds the record for an object on an endpoint that sends no notifications in-process (radosgw, AWS). */
export async function recordFromHead(client: S3Client, bucket: string, key: string, eventName = 'ObjectCreated:Put'): Promise<S3EventRecord> {
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  const versionId = immutableVersionId(head.VersionId);
  return objectCreatedRecord({ bucket, key, size: head.ContentLength ?? 0, eTag: head.ETag, versionId, eventName });
}

/**
 * An S3 client for the local stack. Checksums only when required: s3rver and older radosgw do not understand
 * the aws-chunked trailer encoding the SDK uses for streamed bodies by default.
 */
export function localS3Client(conn: S3Connection): S3Client {
  return new S3Client({
    endpoint: conn.endpoint,
    region: conn.region,
    forcePathStyle: true,
    credentials: { accessKeyId: conn.accessKeyId, secretAccessKey: conn.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
  }
}

// s3rver ships no types; this is the part of it used here.
interface S3rverEventPayload {
  Records: Array<{
    eventName: string;
    eventTime: string;
    s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string } };
  }>;
}
interface S3rverInstance {
  middleware: KoaMiddleware[];
  store: S3rverStore;
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  on(event: 'event', listener: (event: S3rverEventPayload) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

export type ObjectCreatedListener = (record: S3EventRecord) => void;

export interface EmbeddedS3 extends S3Connection {
  client: S3Client;
  directory: string;
  /** Called once per ObjectCreated event, after the request that caused it has been answered. */
  onObjectCreated(listener: ObjectCreatedListener): () => void;
  close(): Promise<void>;
}

/** Starts s3rver on 127.0.0.1 (port 0 by default) over a temporary directory, silent, with `buckets` created. */
export async function startEmbeddedS3(options: { port?: number; directory?: string; buckets?: string[] } = {}): Promise<EmbeddedS3> {
  const S3rver = require('s3rver') as S3rverConstructor;
  const ownDir = options.directory === undefined;
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'ost-forwarder-s3-')));
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory,
    // SDK v3 signs headers s3rver does not canonicalise the same way; signatures are not what is tested here.
    allowMismatchedSignatures: true,
    vhostBuckets: false,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  // Runs before s3rver's router: it answers what s3rver gets wrong and passes everything else on.
  server.middleware.unshift(s3rverFixes(server.store));
  // Versions and whole reads (local/aws/s3-versions.ts): s3rver overwrites an object file in place, so a GET during a
  // PUT would serve the old ETag over new, half-written bytes; every write lands in a new immutable file.
  // Beside s3rver's directory, on the same filesystem: a version file is hard-linked over the object file (a
  // directory inside would be listed as a bucket; one under the system temp dir fails with EXDEV on /dev/shm).
  await mkdir(dirname(resolvePath(directory)), { recursive: true });
  const versionsDir = await mkdtemp(join(dirname(resolvePath(directory)), `${basename(directory)}-versions-`));
  const index = new VersionIndex();
  versionStore(server.store as unknown as S3rverFsStore, index, versionsDir);
  server.middleware.unshift(versionedObjects(index, server.store as unknown as S3rverFsStore));
  const listeners = new Set<ObjectCreatedListener>();
  server.on('error', () => { /* request errors are answered to the client; nothing to log locally */ });
  server.on('event', (event) => {
    for (const r of event.Records) {
      if (!r.eventName.startsWith('ObjectCreated:')) continue;
      const eTag = r.s3.object.eTag ?? '';
      // s3rver names CompleteMultipartUpload "Post"; a multipart ETag carries "-<parts>".
      const eventName = r.eventName === 'ObjectCreated:Post' && eTag.includes('-') ? 'ObjectCreated:CompleteMultipartUpload' : r.eventName;
      // Emitted inside the request: the version it made is known (an id, or "null" in a suspended bucket).
      const made = requestVersion.getStore()?.version;
      const versionId = made && index.versioned(r.s3.bucket.name) ? made.versionId : undefined;
      const record = objectCreatedRecord({ bucket: r.s3.bucket.name, key: r.s3.object.key, size: r.s3.object.size ?? 0, eTag, eventName, ...(versionId ? { versionId } : {}) });
      // S3 notifies after the write is acknowledged, never inside the request.
      setImmediate(() => { for (const l of listeners) l(record); });
    }
  });
  const address = await server.run();
  const conn: S3Connection = { endpoint: `http://127.0.0.1:${address.port}`, region: LOCAL_REGION, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const client = localS3Client(conn);
  let closed = false;
  return {
    ...conn,
    client,
    directory,
    onObjectCreated(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      client.destroy();
      await server.close();
      if (ownDir) await rm(directory, { recursive: true, force: true });
      await rm(versionsDir, { recursive: true, force: true });
    },
  };
}
