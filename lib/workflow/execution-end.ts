// Every end has a record: an execution that ended ABORTED or TIMED_OUT (or FAILED without writing its record)
// never reached Report, so the status-change rule's function writes its failure record and event here, after it
// cancelled the multipart upload the execution's init marker names. `status` counts it and `backfill
// --failed-only` retries it like any other failure. Pure of AWS clients: the caller injects S3 reads and writes,
// the cancel call and the event publisher (functions/release.ts binds them).
import type { Settings } from '../config/settings';
import { bounded } from '../core/text';
import { recordLocation, type OutcomeRecord } from './outcome-records';
import type { ExecutionInput } from './state';

/** What the status-change event tells of an ended execution. */
export interface EndedExecution {
  name: string;
  status: string;
  input?: ExecutionInput;
  error?: string;
  cause?: string;
  startDate?: number;
  stopDate?: number;
}

/** The ended execution of a "Step Functions Execution Status Change" event's detail; its input parsed when it is an object's. */
export function endedExecution(detail: Record<string, unknown>, name: string, status: string): EndedExecution {
  let input: ExecutionInput | undefined;
  try {
    const parsed = typeof detail.input === 'string' ? JSON.parse(detail.input) as Partial<ExecutionInput> : undefined;
    if (parsed && typeof parsed.bucket === 'string' && typeof parsed.key === 'string') input = parsed as ExecutionInput;
  } catch { /* an input that is not JSON: no object to record */ }
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const time = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && Number.isFinite(Date.parse(v)) ? Date.parse(v) : undefined);
  return { name, status, input, error: text(detail.error), cause: text(detail.cause), startDate: time(detail.startDate), stopDate: time(detail.stopDate) };
}

export interface EndDeps {
  settings: Pick<Settings, 'resultsBucket' | 'resultsPrefix' | 'maxRestarts'>;
  /** True when an object exists at the location (HeadObject). */
  exists(location: { bucket: string; key: string }): Promise<boolean>;
  /** The upload the init marker of run `restarts` names, if any. */
  initUpload(bucket: string, execution: string, restarts: number): Promise<string | undefined>;
  /** Cancels the upload at OST (best effort: throws its failure). */
  cancel(uploadId: string): Promise<{ sid?: string }>;
  write(location: { bucket: string; key: string }, record: OutcomeRecord): Promise<void>;
  publish(record: OutcomeRecord, location: { bucket: string; key: string }): Promise<void>;
  now?: () => Date;
}

export type EndOutcome =
  | { written: false; reason: string }
  | { written: true; record: OutcomeRecord; location: { bucket: string; key: string } };

const ERROR_OF: Record<string, string> = { ABORTED: 'States.Aborted', TIMED_OUT: 'States.Timeout', FAILED: 'States.Runtime' };
const MESSAGE_OF: Record<string, string> = {
  ABORTED: 'the execution was stopped before the file was forwarded',
  TIMED_OUT: 'the execution ran past the state machine\'s timeout',
  FAILED: 'the execution failed without writing its record',
};

/** Writes the failure record and event of an execution that ended without one; idempotent (same location). */
export async function recordExecutionEnd(e: EndedExecution, deps: EndDeps): Promise<EndOutcome> {
  if (e.status === 'SUCCEEDED' || !(e.status in ERROR_OF)) return { written: false, reason: `status ${e.status}` };
  if (!e.input) return { written: false, reason: 'the execution\'s input names no object' };
  const now = (deps.now ?? (() => new Date()))();
  const base: OutcomeRecord = {
    status: 'failed',
    bucket: e.input.bucket,
    key: e.input.key,
    versionId: e.input.versionId ?? null,
    etag: e.input.etag ?? null,
    bytes: typeof e.input.size === 'number' ? e.input.size : null,
    mode: null,
    slices: 0,
    url: null,
    sid: null,
    uploadId: null,
    durationMs: e.startDate !== undefined ? Math.max(0, (e.stopDate ?? now.getTime()) - e.startDate) : null,
    executionName: e.name,
    restarts: 0,
    finishedAt: new Date(e.stopDate ?? now.getTime()).toISOString(),
    error: { error: e.error ? bounded(e.error, 256) : ERROR_OF[e.status]!, message: bounded(e.cause ?? MESSAGE_OF[e.status]!, 4_096) },
    cancelled: false,
  };
  const location = recordLocation(deps.settings as Settings, base);
  // A FAILED execution normally reached Report: its record is there already.
  if (e.status === 'FAILED' && await deps.exists(location)) return { written: false, reason: 'the execution wrote its record' };
  // The latest run from init holds the open upload (an earlier run's was cancelled before the restart).
  for (let r = deps.settings.maxRestarts; r >= 0; r--) {
    const uploadId = await deps.initUpload(e.input.bucket, e.name, r);
    if (!uploadId) continue;
    base.uploadId = uploadId;
    base.restarts = r;
    try {
      const { sid } = await deps.cancel(uploadId);
      base.cancelled = true;
      if (sid) base.cancelSid = sid;
    } catch (err) {
      base.cancelReason = bounded(`${(err as Error).name ?? 'Error'}: ${(err as Error).message ?? String(err)}`, 500);
    }
    break;
  }
  if (!base.uploadId) base.cancelReason = 'no multipart upload to cancel';
  await deps.write(location, base);
  await deps.publish(base, location);
  return { written: true, record: base, location };
}
