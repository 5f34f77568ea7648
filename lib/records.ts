// The workflow's state shapes, the outcome records (JSON in S3 + EventBridge events), and the error format that
// crosses the state machine: a handler error reaches a Catch as {Error: errorType, Cause: Lambda error JSON}, and
// the only structured part AWS keeps is errorType (the class name) and errorMessage. So handlers throw errors
// whose message is OstError.describe() (`Name code=.. http=.. message="..." sid=.. call=.. slice=..`), and
// parseStepError() reads it back. Nothing here ever holds a credential.
import { createHash } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DescribeExecutionCommand, ListExecutionsCommand, ListMapRunsCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { AwsTransientError, describeAwsError, EventPublishError, isTransientAwsError } from './aws-errors';
import { OstError } from './ost/errors';
import { bounded } from './ost/text';
import type { UploadPlan } from './plan';
import type { Settings } from './settings';

// --- state shapes --------------------------------------------------------------------------------------------

/** Execution input, as the trigger starts it (and as the Restart state rebuilds it). */
export interface ExecutionInput {
  bucket: string;
  key: string;
  versionId?: string | null;
  etag?: string | null;
  size?: number;
  sequencer?: string;
  /** Restarts so far (absent on the first run). */
  attempt?: number;
}

/** The object as HeadObject saw it; every field present (null when S3 has none) so JSONPath never misses. */
export interface SourceObject {
  bucket: string;
  key: string;
  versionId: string | null;
  etag: string | null;
  size: number;
}

/** [firstSliceId, count]: one Upload slices invocation. */
export type BatchDescriptor = [number, number];

/** The `$$.Execution` context object (the local runner provides Id and Name as AWS does). */
export interface ExecutionContext {
  Id?: string;
  Name?: string;
  StartTime?: string;
  Input?: unknown;
}

/** Prepare's input: the state (execution input or Restart's output) and the context object. */
export interface PrepareInput {
  input: ExecutionInput;
  execution?: ExecutionContext;
}

/** Prepare's output = the workflow state for the rest of the run. */
export interface PreparedState {
  object: SourceObject;
  plan: UploadPlan;
  /** Multipart only. */
  uploadId?: string;
  initSid?: string;
  batches: BatchDescriptor[];
  slicesPerBatch: number;
  attempt: number;
  maxRestarts: number;
  mapMaxConcurrency: number;
  executionName: string;
  startedAt: string;
}

/** One Map item (ItemSelector). */
export interface BatchInput {
  object: SourceObject;
  plan: Extract<UploadPlan, { mode: 'multipart' }>;
  uploadId: string;
  batch: BatchDescriptor;
  executionName?: string;
}

export interface UploadResult { url: string; sid: string }

/** What a Catch with ResultPath puts in the state. */
export interface StepErrorOutput { Error: string; Cause?: string }

export interface CancelInput {
  uploadId?: string;
  /** After a failed Prepare: the state Prepare had (execution input or Restart output), to find its init marker. */
  input?: ExecutionInput;
  object?: SourceObject;
  error?: StepErrorOutput;
  execution?: ExecutionContext;
}

export interface CancelResult {
  /** True when OST acknowledged the cancel. */
  cancelled: boolean;
  sid?: string;
  /** Why the cancel did not happen or failed (best effort: never thrown). */
  reason?: string;
  /** The original error, resolved to the failing child's error when a Distributed Map run failed. */
  error: StepErrorOutput;
  /** The upload cancelled (or not): the state's uploadId, or after a failed Prepare the one in its init marker. */
  uploadId?: string;
}

export type WorkflowState = Partial<PreparedState> & Partial<ExecutionInput> & {
  upload?: UploadResult;
  error?: StepErrorOutput;
  cancel?: CancelResult;
  cancelFailure?: StepErrorOutput;
};

export interface ReportInput {
  outcome: 'forwarded' | 'failed';
  state: WorkflowState;
  execution?: ExecutionContext;
}

// --- errors across the state machine -------------------------------------------------------------------------

export interface FailureInfo {
  /** The error name (Lambda errorType / Catch Error), e.g. OstServerError, States.Timeout. */
  error: string;
  message: string;
  ostCode?: number;
  httpStatus?: number;
  sid?: string;
  call?: string;
  sliceId?: number;
  requestId?: string;
}

/**
 * Longest error message that crosses the state machine. The Catch copies it into the state (escaped once more in
 * the Cause JSON), so an unbounded one (an OST message of any length) could exceed the 256 KiB state limit and
 * kill the execution before Report writes its record. OstError bounds its own texts below this.
 */
export const MAX_STEP_MESSAGE_CHARS = 4_096;

/** The message a handler throws: describe() for OST errors (parseable), the plain message otherwise; bounded. */
export function stepErrorMessage(err: unknown): string {
  if (err instanceof OstError) return bounded(err.describe().slice(err.name.length).trimStart(), MAX_STEP_MESSAGE_CHARS);
  if (err instanceof Error) return bounded(String(err.message), MAX_STEP_MESSAGE_CHARS);
  return bounded(String(err), MAX_STEP_MESSAGE_CHARS);
}

/** Reads `key=value` pairs where a value is a JSON string or runs to the next space. */
function describePairs(text: string): Record<string, string> | undefined {
  const pairs: Record<string, string> = {};
  let i = 0;
  let found = false;
  while (i < text.length) {
    while (text[i] === ' ') i++;
    const m = /^([a-z_]+)=/.exec(text.slice(i));
    if (!m) return found ? pairs : undefined;
    i += m[0].length;
    let value: string;
    if (text[i] === '"') {
      const q = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(i));
      if (!q) return undefined;
      try { value = JSON.parse(q[0]) as string; } catch { return undefined; }
      i += q[0].length;
    } else {
      const end = text.indexOf(' ', i);
      value = text.slice(i, end === -1 ? text.length : end);
      i = end === -1 ? text.length : end;
    }
    pairs[m[1]!] = value;
    found = true;
  }
  return found ? pairs : undefined;
}

/**
 * Parses a Catch output. Cause is the Lambda error JSON `{"errorType","errorMessage","trace"}` on AWS (and in
 * the local runner); a plain string is accepted too. An errorMessage in describe() form yields code/sid/etc.
 */
export function parseStepError(raw: StepErrorOutput | undefined): FailureInfo {
  if (!raw || typeof raw !== 'object') return { error: 'Unknown', message: 'no error information' };
  const name = typeof raw.Error === 'string' && raw.Error ? bounded(raw.Error, 256) : 'Unknown';
  // A Cause from elsewhere (States.*, a runtime crash, an older handler) may be any size: the record stays bounded.
  let message = typeof raw.Cause === 'string' ? bounded(raw.Cause, 4 * MAX_STEP_MESSAGE_CHARS) : '';
  try {
    const cause = JSON.parse(message) as { errorMessage?: unknown; errorType?: unknown };
    if (cause && typeof cause === 'object' && typeof cause.errorMessage === 'string') message = cause.errorMessage;
  } catch { /* not JSON: States.* causes are plain text */ }
  // Tolerate a message that still starts with the name (describe() unsliced).
  const body = message.startsWith(name + ' ') ? message.slice(name.length + 1) : message;
  const pairs = body.includes('message="') ? describePairs(body) : undefined;
  if (!pairs || pairs.message === undefined) return { error: name, message: bounded(message, MAX_STEP_MESSAGE_CHARS) };
  const info: FailureInfo = { error: name, message: bounded(pairs.message, MAX_STEP_MESSAGE_CHARS) };
  const int = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);
  if (int(pairs.code) !== undefined) info.ostCode = int(pairs.code);
  if (int(pairs.http) !== undefined) info.httpStatus = int(pairs.http);
  if (pairs.sid && pairs.sid !== '-') info.sid = bounded(pairs.sid, 256);
  if (pairs.call) info.call = bounded(pairs.call, 32);
  if (int(pairs.slice) !== undefined) info.sliceId = int(pairs.slice);
  if (pairs.request_id) info.requestId = bounded(pairs.request_id, 256);
  return info;
}

/** How resolveMapRunError waits for ListMapRuns / ListExecutions, which AWS documents as eventually consistent. */
export interface MapRunLookupOptions {
  /** Lookups in all (the first included); default 5. */
  attempts?: number;
  /** Delay before the second lookup, doubled for each further one; default 500 ms (0.5 + 1 + 2 + 4 s at most). */
  firstDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * On AWS a Distributed Map whose child failed reports States.ExceedToleratedFailureThreshold; the child's own
 * error (the Lambda errorType and the error JSON) is on the failed child execution. Returns it, or undefined when
 * no failed child shows up. ListMapRuns and ListExecutions are eventually consistent: a child that just failed may
 * not be listed yet (and with it the 10005 that would restart the upload), so an empty answer is asked again with
 * a doubling delay before giving up.
 */
export async function resolveMapRunError(client: Pick<SFNClient, 'send'>, executionArn: string, options: MapRunLookupOptions = {}): Promise<StepErrorOutput | undefined> {
  const attempts = Math.max(1, options.attempts ?? 5);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let delay = options.firstDelayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    const found = await lookUpMapRunError(client, executionArn);
    if (found || attempt >= attempts) return found;
    await sleep(delay);
    delay *= 2;
  }
}

async function lookUpMapRunError(client: Pick<SFNClient, 'send'>, executionArn: string): Promise<StepErrorOutput | undefined> {
  const runs = await client.send(new ListMapRunsCommand({ executionArn, maxResults: 10 }));
  const newest = [...(runs.mapRuns ?? [])].sort((a, b) => (b.startDate?.getTime() ?? 0) - (a.startDate?.getTime() ?? 0))[0];
  if (!newest?.mapRunArn) return undefined;
  for (const statusFilter of ['FAILED', 'TIMED_OUT'] as const) {
    const list = await client.send(new ListExecutionsCommand({ mapRunArn: newest.mapRunArn, statusFilter, maxResults: 1 }));
    const child = list.executions?.[0]?.executionArn;
    if (!child) continue;
    const d = await client.send(new DescribeExecutionCommand({ executionArn: child }));
    if (d.error) return { Error: d.error, Cause: d.cause ?? '' };
    if (statusFilter === 'TIMED_OUT') return { Error: 'States.Timeout', Cause: `batch execution ${child} timed out` };
  }
  return undefined;
}

// --- records ---------------------------------------------------------------------------------------------------

export interface ResultRecord {
  status: 'forwarded' | 'failed';
  bucket: string;
  key: string;
  versionId: string | null;
  etag: string | null;
  bytes: number | null;
  mode: 'simple' | 'multipart' | null;
  slices: number;
  url: string | null;
  sid: string | null;
  upload_id: string | null;
  duration_ms: number | null;
  executionName: string;
  attempt: number;
  finishedAt: string;
  /** Failure only. */
  error?: FailureInfo;
  cancelled?: boolean;
  cancelSid?: string;
  cancelReason?: string;
}

export const EVENT_SOURCE = 'ost-forwarder';
export const DETAIL_TYPE_FORWARDED = 'OST File Forwarded';
export const DETAIL_TYPE_FAILED = 'OST File Forward Failed';

function executionNameOf(input: ReportInput): string {
  return input.execution?.Name ?? input.state.executionName ?? input.execution?.Id?.split(':').pop() ?? 'unknown';
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
export function buildRecord(input: ReportInput, now: Date = new Date()): ResultRecord {
  const { state } = input;
  const plan = state.plan;
  const started = input.execution?.StartTime ?? state.startedAt;
  const startedMs = started ? Date.parse(started) : NaN;
  const record: ResultRecord = {
    status: input.outcome,
    ...sourceOf(state, input.execution),
    mode: plan?.mode ?? null,
    slices: plan?.mode === 'multipart' ? plan.sliceCount : 0,
    url: state.upload?.url ?? null,
    sid: state.upload?.sid ?? null,
    // After a failed Prepare the upload it initialised is known from its init marker (Cancel found it).
    upload_id: state.uploadId ?? state.cancel?.uploadId ?? null,
    duration_ms: Number.isFinite(startedMs) ? Math.max(0, now.getTime() - startedMs) : null,
    executionName: executionNameOf(input),
    attempt: state.attempt ?? 0,
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

/** `<prefix><forwarded|failed>/<source key>/<execution name>.json` in RESULTS_BUCKET (default: the source bucket). */
/** S3 refuses keys longer than 1,024 UTF-8 bytes (KeyTooLongError). */
export const MAX_S3_KEY_BYTES = 1024;

/**
 * `<prefix><status>/<source key>/` — the folder of a key's records. When that would not leave room for the record
 * name within S3's 1,024-byte key limit (a long source key), the source key is replaced by `sha256/<hex of it>`.
 */
export function recordFolder(prefix: string, status: 'forwarded' | 'failed', key: string): string {
  const folder = `${prefix}${status}/${key}/`;
  // room for '<execution name, at most 80>.json'
  if (Buffer.byteLength(folder) + 85 <= MAX_S3_KEY_BYTES) return folder;
  return `${prefix}${status}/sha256/${createHash('sha256').update(key).digest('hex')}/`;
}

export function recordLocation(s: Settings, record: ResultRecord): { bucket: string; key: string } {
  return {
    bucket: s.resultsBucket ?? record.bucket,
    key: `${recordFolder(s.resultsPrefix, record.status, record.key)}${record.executionName}.json`,
  };
}

/**
 * Notes that a step is about to do something it must know about if it runs again (complete: a retried Complete
 * that gets 10005 may be looking at its own earlier success). A conditional PutObject (If-None-Match: *) of a
 * small marker under `<resultsPrefix>attempts/`; returns true when the marker was already there. When the marker
 * cannot be written the answer is unknown, and true is the safe one (the caller then never starts again).
 */
export async function markAttempt(s3: S3Client, s: Pick<Settings, 'resultsBucket' | 'resultsPrefix'>, bucket: string, name: string, log?: { warn(m: string, f?: Record<string, unknown>): void }): Promise<boolean> {
  const key = `${s.resultsPrefix}attempts/${name}`;
  try {
    const body = JSON.stringify({ attempt: name, at: new Date().toISOString() });
    await s3.send(new PutObjectCommand({ Bucket: s.resultsBucket ?? bucket, Key: key, Body: body, ContentType: 'application/json', IfNoneMatch: '*' }));
    return false;
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.$metadata?.httpStatusCode === 412 || e.name === 'PreconditionFailed') return true;
    // Nothing was started yet: a transient failure is retried (the step again), not taken as an earlier attempt.
    if (isTransientAwsError(err)) throw new AwsTransientError(describeAwsError(err, `PutObject s3://${s.resultsBucket ?? bucket}/${key} (attempt marker)`), { cause: err });
    log?.warn('could not write the attempt marker; treating this as a repeated attempt', { marker: key, error: `${e.name}: ${(err as Error).message}` });
    return true;
  }
}

/**
 * Reads the multipart upload an earlier run of Prepare initialised for this execution and attempt (its answer may
 * have been lost with that run). Undefined when there is none (or it is unreadable for a lasting reason: logged);
 * AwsTransientError when reading it failed transiently: initialising another upload then could orphan the first.
 */
export async function readInitMarker(s3: S3Client, s: Pick<Settings, 'resultsBucket' | 'resultsPrefix'>, bucket: string, name: string, log?: { warn(m: string, f?: Record<string, unknown>): void }): Promise<{ uploadId: string } | undefined> {
  const key = `${s.resultsPrefix}attempts/${name}`;
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: s.resultsBucket ?? bucket, Key: key }));
    const marker = JSON.parse(await res.Body!.transformToString()) as { uploadId?: unknown };
    return typeof marker.uploadId === 'string' && marker.uploadId ? { uploadId: marker.uploadId } : undefined;
  } catch (err) {
    const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    // Without s3:ListBucket (the deployed role has none) S3 answers a missing key with 403, not 404: both are "no
    // marker" (a role that cannot read the marker cannot write it either, and writing it is checked).
    if (e.$metadata?.httpStatusCode === 404 || e.$metadata?.httpStatusCode === 403 || e.name === 'NoSuchKey') return undefined;
    // A transient failure leaves it unknown whether an earlier run initialised an upload: a fresh init could orphan
    // it, so the step fails and is retried. Anything else (a marker that is not ours) is logged and taken as none.
    const where = `GetObject s3://${s.resultsBucket ?? bucket}/${key} (init marker)`;
    if (isTransientAwsError(err)) throw new AwsTransientError(describeAwsError(err, where), { cause: err });
    log?.warn('could not read the init marker; taking it as absent', { marker: key, error: `${e.name}: ${e.message}` });
    return undefined;
  }
}

/**
 * Records the upload_id right after init, so a re-run of Prepare continues it instead of leaving it orphaned, and a
 * Prepare that gives up is followed by a cancel of it. Throws when the marker cannot be written.
 */
export async function writeInitMarker(s3: S3Client, s: Pick<Settings, 'resultsBucket' | 'resultsPrefix'>, bucket: string, name: string, uploadId: string, log?: { warn(m: string, f?: Record<string, unknown>): void }): Promise<void> {
  const key = `${s.resultsPrefix}attempts/${name}`;
  try {
    await s3.send(new PutObjectCommand({ Bucket: s.resultsBucket ?? bucket, Key: key, Body: JSON.stringify({ uploadId, at: new Date().toISOString() }), ContentType: 'application/json' }));
  } catch (err) {
    // Thrown: the caller cancels the upload it cannot record (a re-run would initialise another, orphaning it).
    log?.warn('could not write the init marker', { marker: key, error: `${(err as Error).name}: ${(err as Error).message}` });
    if (isTransientAwsError(err)) throw new AwsTransientError(describeAwsError(err, `PutObject s3://${s.resultsBucket ?? bucket}/${key} (init marker)`), { cause: err });
    throw err;
  }
}

/** Removes an attempt marker (the attempt failed for sure); a marker that cannot be removed is logged and kept. */
export async function clearAttempt(s3: S3Client, s: Pick<Settings, 'resultsBucket' | 'resultsPrefix'>, bucket: string, name: string, log?: { warn(m: string, f?: Record<string, unknown>): void }): Promise<void> {
  const key = `${s.resultsPrefix}attempts/${name}`;
  try {
    await s3.send(new DeleteObjectCommand({ Bucket: s.resultsBucket ?? bucket, Key: key }));
  } catch (err) {
    log?.warn('could not remove the attempt marker; a retry of this step will fail as uncertain', { marker: key, error: `${(err as Error).name}: ${(err as Error).message}` });
  }
}

export async function writeRecord(s3: S3Client, location: { bucket: string; key: string }, record: ResultRecord): Promise<void> {
  await s3.send(new PutObjectCommand({
    Bucket: location.bucket,
    Key: location.key,
    Body: JSON.stringify(record, null, 2) + '\n',
    ContentType: 'application/json',
  }));
}

export { EventPublishError };

export async function putRecordEvent(events: EventBridgeClient, busName: string, record: ResultRecord, location: { bucket: string; key: string }): Promise<void> {
  const res = await events.send(new PutEventsCommand({
    Entries: [{
      Source: EVENT_SOURCE,
      DetailType: record.status === 'forwarded' ? DETAIL_TYPE_FORWARDED : DETAIL_TYPE_FAILED,
      Detail: JSON.stringify({ ...record, record: `s3://${location.bucket}/${location.key}` }),
      EventBusName: busName,
      Resources: [],
    }],
  }));
  if ((res.FailedEntryCount ?? 0) > 0) {
    const entry = res.Entries?.find((e) => e.ErrorCode);
    throw new EventPublishError(`PutEvents rejected the event: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim());
  }
}
