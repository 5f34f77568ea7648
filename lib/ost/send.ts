// Sends a whole ByteSource to OST: a simple upload when the plan says so, else init → slices in parallel →
// complete. After any failure that follows init the upload is cancelled (best effort) and the original error is
// rethrown; an expired upload (10005) starts again from init, a bounded number of times.
import { setMaxListeners } from 'node:events';
import pLimit from 'p-limit';
import { DEFAULT_SLICES_IN_FLIGHT, planUpload, PlanOptions, sliceRange, UploadPlan } from './plan';
import type { OstClient } from './client';
import { silentLog, type Log } from '../core/log';
import { OstError, OstUploadExpiredError } from './errors';
import type { ByteSource } from './source';

export interface SendProgress {
  /** Bytes of slices that succeeded plus bytes read by slices in flight (a retry starts its slice from 0). */
  bytesDone: number;
  bytesTotal: number;
  slicesDone: number;
  slicesTotal: number;
}

export interface SendOptions {
  plan?: PlanOptions;
  /** Slices in flight at once; give the client as many connections. Default DEFAULT_SLICES_IN_FLIGHT. */
  concurrency?: number;
  onProgress?: (progress: SendProgress) => void;
  signal?: AbortSignal;
  /** How many times an expired upload (10005) starts again from init. Default 2. */
  maxRestarts?: number;
  /** Where a failed cancel is reported. Default: one line on stderr. */
  log?: Log;
}

export interface SendResult {
  url: string;
  /** sid of the call that produced the URL (upload or complete). */
  sid: string;
  mode: 'simple' | 'multipart';
  bytes: number;
  /** 1 for a simple upload, the slice count for a multipart one. */
  slices: number;
  uploadId?: string;
  /** Times the multipart upload started again from init after 10005. */
  restarts: number;
}

/** The calls send() needs; OstClient has them all. */
export type OstCalls = Pick<OstClient, 'upload' | 'init' | 'uploadSlice' | 'complete' | 'cancel'>;

const stderrLog: Log = {
  ...silentLog,
  warn: (message, fields) => process.stderr.write(`${message} ${JSON.stringify(fields ?? {})}\n`),
};

export async function send(client: OstCalls, source: ByteSource, options: SendOptions = {}): Promise<SendResult> {
  const plan = planUpload(source.size, options.plan);
  const concurrency = options.concurrency ?? DEFAULT_SLICES_IN_FLIGHT;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  const maxRestarts = options.maxRestarts ?? 2;
  const log = options.log ?? stderrLog;
  const { signal, onProgress } = options;

  if (plan.mode === 'simple') {
    const report = (bytesDone: number, slicesDone: number) =>
      onProgress?.({ bytesDone, bytesTotal: plan.size, slicesDone, slicesTotal: 1 });
    report(0, 0);
    const { url, sid } = await client.upload(source, { signal, onBytes: (b) => report(b, 0) });
    report(plan.size, 1);
    return { url, sid, mode: 'simple', bytes: plan.size, slices: 1, restarts: 0 };
  }

  for (let restarts = 0; ; restarts++) {
    signal?.throwIfAborted();
    const { uploadId } = await client.init({ signal });
    try {
      await sendSlices(client, source, plan, uploadId, { concurrency, signal, onProgress });
      const { url, sid } = await client.complete(uploadId, { signal });
      return { url, sid, mode: 'multipart', bytes: plan.size, slices: plan.sliceCount, uploadId, restarts };
    } catch (err) {
      await cancelQuietly(client, uploadId, err, log);
      if (err instanceof OstUploadExpiredError && restarts < maxRestarts && !signal?.aborted) {
        log.warn('ost upload expired, starting again from init', { uploadId, restart: restarts + 1, error: err.describe() });
        continue;
      }
      throw err;
    }
  }
}

export interface SliceRunOptions {
  /** Slices in flight. */
  concurrency: number;
  /** First slice id of the run (default 1). */
  firstSliceId?: number;
  /** Number of consecutive slices (default: through the last slice of the plan). */
  count?: number;
  /** Of those, the ones to send (default all): a retried batch leaves out what OST acknowledged already. */
  only?: (sliceId: number) => boolean;
  /** Called as OST acknowledges each slice. */
  onSliceDone?: (sliceId: number) => void;
  signal?: AbortSignal;
  onProgress?: SendOptions['onProgress'];
}

/**
 * Uploads slices [firstSliceId, firstSliceId + count) of an initialised upload, `concurrency` at a time: the whole
 * plan for `send`, one batch for the workflow's UploadSlices step. The first failure stops the others (they are
 * aborted and no new slice starts) and is thrown; nothing is cancelled here. Returns the slices and bytes sent.
 */
export async function sendSlices(
  client: OstCalls,
  source: ByteSource,
  plan: Extract<UploadPlan, { mode: 'multipart' }>,
  uploadId: string,
  { concurrency, firstSliceId = 1, count = plan.sliceCount - firstSliceId + 1, only, onSliceDone, signal, onProgress }: SliceRunOptions,
): Promise<{ slices: number; bytes: number }> {
  const ids = Array.from({ length: count }, (_, i) => firstSliceId + i).filter((id) => only?.(id) ?? true);
  const ranges = new Map(ids.map((id) => [id, sliceRange(plan, id)] as const));
  let bytesTotal = 0;
  for (const r of ranges.values()) bytesTotal += r.end - r.start;
  // One failed slice stops the others: they are aborted and no new slice starts.
  const stop = new AbortController();
  // Every slice in flight listens on it (its request, its source stream, its retry sleep).
  setMaxListeners(Math.max(10, concurrency * 4), stop.signal);
  const onAbort = () => stop.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  let failure: { error: unknown } | undefined;
  let completedBytes = 0;
  let slicesDone = 0;
  const inFlight = new Map<number, number>();
  const report = () => {
    if (!onProgress) return;
    let bytesDone = completedBytes;
    for (const b of inFlight.values()) bytesDone += b;
    onProgress({ bytesDone, bytesTotal, slicesDone, slicesTotal: ids.length });
  };
  report();
  const limit = pLimit(concurrency);
  try {
    await Promise.all(ids.map((sliceId) => limit(async () => {
      if (failure || stop.signal.aborted) return;
      const range = ranges.get(sliceId)!;
      try {
        await client.uploadSlice(uploadId, sliceId, source, range, {
          signal: stop.signal,
          onBytes: (b) => { inFlight.set(sliceId, b); report(); },
        });
        inFlight.delete(sliceId);
        completedBytes += range.end - range.start;
        slicesDone++;
        onSliceDone?.(sliceId);
        report();
      } catch (err) {
        inFlight.delete(sliceId);
        if (!failure) {
          failure = { error: err };
          stop.abort(err);
        }
      }
    })));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (failure) throw failure.error;
  return { slices: slicesDone, bytes: completedBytes };
}

async function cancelQuietly(client: OstCalls, uploadId: string, cause: unknown, log: Log): Promise<void> {
  try {
    // No caller signal: a cancelled transfer should still release its upload on the service.
    await client.cancel(uploadId);
  } catch (err) {
    log.warn('ost cancel failed (ignored; the original error is reported)', {
      uploadId,
      error: err instanceof OstError ? err.describe() : String(err),
      original: cause instanceof OstError ? cause.describe() : String(cause),
    });
  }
}
