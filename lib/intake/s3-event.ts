// An S3 event notification record → the execution of one object version: its input, its name, whether it is
// forwarded at all. The intake batch (lib/intake/batch.ts) reads every record through this, whatever shape announced
// it (a notification, S3's EventBridge event, backfill's notification, a re-driven dead letter).
//
// - Keys arrive URL-encoded the way S3 encodes them: '+' is a space, then percent-decoding.
// - Execution names are deterministic (bucket, key, version), so a duplicate delivery of the same event is
//   rejected by Step Functions with ExecutionAlreadyExists: counted, not failed.
// - A malformed record is reported with its reason and never blocks the others.
import { createHash } from 'node:crypto';
import type { ExecutionInput } from '../workflow/state';
import type { Settings } from '../config/settings';
import type { ErrorHandling } from '../core/error-handling';
import { immutableVersionId, unquoteEtag } from '../core/object-version';

/** A record no execution can be started from: counted and skipped, never retried. */
export class MalformedEventRecordError extends Error {
  static readonly errorName = 'MalformedEventRecordError';
  static readonly handling: ErrorHandling = 'fatal';
  readonly code = 'S3_RECORD_MALFORMED';
  constructor(message: string) { super(message); this.name = MalformedEventRecordError.errorName; }
}

/** Decodes an S3 event key: '+' → ' ', then percent-decoding (a literal '+' arrives as %2B). */
export function decodeS3Key(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new MalformedEventRecordError(`object key is not valid URL encoding: ${JSON.stringify(raw.slice(0, 200))}`);
  }
}

export interface ParsedEventRecord {
  index: number;
  eventName: string;
  input: ExecutionInput;
}

export interface RecordProblem {
  index: number;
  reason: string;
  bucket?: string;
  key?: string;
}

const MAX_EXECUTION_NAME = 80;

/**
 * Step Functions execution name: a readable slug of the key's tail + '-' + 40 hex of sha256(bucket, key,
 * version), at most 80 characters of [A-Za-z0-9-_]. Version = versionId, else ETag + sequencer.
 */
export function executionName(input: Pick<ExecutionInput, 'bucket' | 'key' | 'versionId' | 'etag' | 'sequencer'>, round = 0): string {
  // The sequencer in one notation (S3 notifications: upper case, zero-padded; EventBridge: lower case, unpadded).
  const raw = input.sequencer ?? '';
  const sequencer = /^[0-9A-Fa-f]+$/.test(raw) ? raw.toUpperCase().replace(/^0+(?=.)/, '') : raw;
  const version = input.versionId ? `v:${input.versionId}` : `e:${input.etag ?? ''}:${sequencer}`;
  const hash = createHash('sha256').update(`${input.bucket}\0${input.key}\0${version}`).digest('hex').slice(0, 40);
  // A round after an outage (lib/intake/readmission.ts) is another execution of the same version: `-r<round>`.
  const suffix = round > 0 ? `-r${round}` : '';
  const room = MAX_EXECUTION_NAME - hash.length - 1 - suffix.length;
  const slug = input.key
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
  const tail = slug.slice(-room).replace(/^-+/, '');
  return `${tail ? `${tail}-${hash}` : hash}${suffix}`;
}

/** The outage round of an execution name (`…-<40 hex>-r<n>`), 0 for a file's first execution. */
export function roundOfExecution(name: string | undefined): number {
  const m = /[0-9a-f]{40}-r(\d{1,3})$/.exec(name ?? '');
  return m ? Number(m[1]) : 0;
}

/** Parses one event record; throws MalformedEventRecordError with the reason. */
export function parseEventRecord(record: unknown, index: number): ParsedEventRecord {
  if (!record || typeof record !== 'object') throw new MalformedEventRecordError('record is not an object');
  const r = record as Record<string, any>;
  if (r.eventSource !== undefined && r.eventSource !== 'aws:s3') throw new MalformedEventRecordError(`eventSource is ${JSON.stringify(r.eventSource)}, not aws:s3`);
  const eventName = typeof r.eventName === 'string' ? r.eventName : '';
  if (!eventName.startsWith('ObjectCreated:')) throw new MalformedEventRecordError(`eventName ${JSON.stringify(eventName)} is not ObjectCreated:*`);
  const bucket = r.s3?.bucket?.name;
  if (typeof bucket !== 'string' || bucket === '') throw new MalformedEventRecordError('s3.bucket.name is missing');
  const rawKey = r.s3?.object?.key;
  if (typeof rawKey !== 'string' || rawKey === '') throw new MalformedEventRecordError('s3.object.key is missing');
  const key = decodeS3Key(rawKey);
  const o = r.s3.object as Record<string, unknown>;
  const size = o.size;
  if (size !== undefined && (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)) {
    throw new MalformedEventRecordError(`s3.object.size is not a non-negative integer: ${JSON.stringify(size)}`);
  }
  const versionId = immutableVersionId(o.versionId);
  const etag = typeof o.eTag === 'string' && o.eTag !== '' ? unquoteEtag(o.eTag) : undefined;
  const sequencer = typeof o.sequencer === 'string' && o.sequencer !== '' ? o.sequencer : undefined;
  if (!versionId && !etag && !sequencer) throw new MalformedEventRecordError('record has no versionId, eTag or sequencer to identify the object version');
  const input: ExecutionInput = { bucket, key };
  if (versionId) input.versionId = versionId;
  if (etag) input.etag = etag;
  if (size !== undefined) input.size = size as number;
  if (sequencer) input.sequencer = sequencer;
  return { index, eventName, input };
}

/** Why a well-formed record is not forwarded, or undefined to forward it. */
export function skipReason(input: ExecutionInput, s: Pick<Settings, 'resultsPrefix' | 'keyPrefixes' | 'keySuffixes'>): string | undefined {
  const { key } = input;
  if (key.endsWith('/') && (input.size ?? 0) === 0) return 'folder marker';
  // Records written by this project live under the results prefix: never forward them (no loops), whatever bucket.
  if (s.resultsPrefix && key.startsWith(s.resultsPrefix)) return `under the results prefix ${s.resultsPrefix}`;
  if (s.keyPrefixes.length > 0 && !s.keyPrefixes.some((p) => key.startsWith(p))) return `key does not start with ${s.keyPrefixes.join(' or ')}`;
  if (s.keySuffixes.length > 0 && !s.keySuffixes.some((x) => key.endsWith(x))) return `key does not end with ${s.keySuffixes.join(' or ')}`;
  return undefined;
}
