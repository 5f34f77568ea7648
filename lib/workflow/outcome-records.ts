// Outcome records: one JSON object per execution that reached Report, at
// `<prefix><forwarded|failed>/<source key>/<etag>/<execution name>.json` in RESULTS_BUCKET (default: the source
// bucket). The ETag folder holds the outcomes of one version of the key, so whether that version was forwarded,
// and how often it failed, is one listing of a small folder however often the key was overwritten.
// In this code base "record" means this; an entry of an S3 event notification is an "event record".
import { createHash } from 'node:crypto';
import { unquoteEtag } from '../core/object-version';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { recordsBucket, type Settings } from '../config/settings';
import { UNKNOWN_EXECUTION } from './attempt-markers';
import { parseStepError, type FailureInfo } from './step-errors';
import type { ExecutionContext, ExecutionInput, ReportInput, WorkflowState } from './state';

export interface OutcomeRecord {
  status: 'forwarded' | 'failed';
  bucket: string;
  key: string;
  versionId: string | null;
  etag: string | null;
  bytes: number | null;
  mode: 'simple' | 'multipart' | null;
  /** Pieces sent: the slice count, 1 for a simple upload, 0 when nothing was planned. */
  slices: number;
  url: string | null;
  sid: string | null;
  uploadId: string | null;
  durationMs: number | null;
  executionName: string;
  /** Restarts from init before this outcome (0: the first run). */
  restarts: number;
  finishedAt: string;
  /** Failure only. */
  error?: FailureInfo;
  cancelled?: boolean;
  cancelSid?: string;
  cancelReason?: string;
}


function executionNameOf(input: ReportInput): string {
  return input.execution?.Name ?? input.state.executionName ?? input.execution?.Id?.split(':').pop() ?? UNKNOWN_EXECUTION;
}

function sourceOf(state: WorkflowState, execution?: ExecutionContext): { bucket: string; key: string; versionId: string | null; etag: string | null; bytes: number | null } {
  if (state.object) {
    return { bucket: state.object.bucket, key: state.object.key, versionId: state.object.versionId, etag: state.object.etag, bytes: state.object.size };
  }
  const input = (execution?.Input ?? {}) as Partial<ExecutionInput>;
  const bucket = state.bucket ?? input.bucket ?? 'unknown';
  const key = state.key ?? input.key ?? 'unknown';
  return {
    bucket,
    key,
    versionId: state.versionId ?? input.versionId ?? null,
    etag: state.etag ?? input.etag ?? null,
    bytes: state.size ?? input.size ?? null,
  };
}

/** Builds the record of an outcome from Report's input. */
export function buildRecord(input: ReportInput, now: Date = new Date()): OutcomeRecord {
  const { state } = input;
  const plan = state.plan;
  const started = input.execution?.StartTime ?? state.startedAt;
  const startedMs = started ? Date.parse(started) : NaN;
  const record: OutcomeRecord = {
    status: input.outcome,
    ...sourceOf(state, input.execution),
    mode: plan?.mode ?? null,
    // The pieces sent: a simple upload is one (as `put --json` says); no plan (Prepare failed) is none.
    slices: plan ? (plan.mode === 'multipart' ? plan.sliceCount : 1) : 0,
    url: state.upload?.url ?? null,
    sid: state.upload?.sid ?? null,
    // After a failed Prepare the upload it initialised is known from its init marker (Cancel found it).
    uploadId: state.uploadId ?? state.cancel?.uploadId ?? null,
    durationMs: Number.isFinite(startedMs) ? Math.max(0, now.getTime() - startedMs) : null,
    executionName: executionNameOf(input),
    restarts: state.restarts ?? 0,
    finishedAt: now.toISOString(),
  };
  if (input.outcome === 'failed') {
    record.url = null;
    // The cancel step resolves a Distributed Map failure to the failing child's error; prefer it.
    const error = state.cancel?.error ?? state.error;
    record.error = parseStepError(error);
    if (!record.sid && record.error.sid) record.sid = record.error.sid;
    record.cancelled = state.cancel?.cancelled ?? false;
    if (state.cancel?.sid) record.cancelSid = state.cancel.sid;
    const reason = state.cancel?.reason ?? (state.cancelFailure ? parseStepError(state.cancelFailure).message : undefined);
    if (reason) record.cancelReason = reason;
  }
  return record;
}

/** S3 refuses keys longer than 1,024 UTF-8 bytes (KeyTooLongError). */
export const MAX_S3_KEY_BYTES = 1024;

/** Room left in a record's key for `<etag segment>/<execution name, at most 80>.json`. */
const RECORD_NAME_ROOM = 64 + 1 + 85;

/**
 * `<prefix><status>/<source key>/` — the folder of a key's records, one subfolder per version. When that would not
 * leave room for the record name within S3's 1,024-byte key limit (a long source key), the source key is replaced by
 * `sha256/<hex of it>`.
 */
export function recordFolder(prefix: string, status: 'forwarded' | 'failed', key: string): string {
  const folder = `${prefix}${status}/${key}/`;
  if (Buffer.byteLength(folder) + RECORD_NAME_ROOM <= MAX_S3_KEY_BYTES) return folder;
  return `${prefix}${status}/sha256/${createHash('sha256').update(key).digest('hex')}/`;
}

/**
 * The folder name of one version: its ETag (quotes removed) when it is a plain token, else `_sha256-<hex>` of it, or
 * `_` when unknown. A plain ETag never starts with `_`, so the three never meet.
 */
export function versionSegment(etag: string | null | undefined): string {
  const e = unquoteEtag(etag ?? '');
  if (e === '') return '_';
  if (/^[0-9A-Za-z-]{1,64}$/.test(e)) return e;
  return `_sha256-${createHash('sha256').update(e).digest('hex').slice(0, 40)}`;
}

/** `<prefix><status>/<source key>/<etag>/`: the records of one version of a key. */
export function versionFolder(prefix: string, status: 'forwarded' | 'failed', key: string, etag: string | null | undefined): string {
  return `${recordFolder(prefix, status, key)}${versionSegment(etag)}/`;
}

export function recordLocation(s: Pick<Settings, 'resultsBucket' | 'resultsPrefix'>, record: Pick<OutcomeRecord, 'bucket' | 'status' | 'key' | 'etag' | 'executionName'>): { bucket: string; key: string } {
  return {
    bucket: recordsBucket(s, record.bucket),
    key: `${versionFolder(s.resultsPrefix, record.status, record.key, record.etag)}${record.executionName}.json`,
  };
}

export async function writeRecord(s3: S3Client, location: { bucket: string; key: string }, record: OutcomeRecord): Promise<void> {
  await s3.send(new PutObjectCommand({
    Bucket: location.bucket,
    Key: location.key,
    Body: JSON.stringify(record, null, 2) + '\n',
    ContentType: 'application/json',
  }));
}
