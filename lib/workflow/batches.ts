// How Prepare cuts a multipart plan into batches: each Upload slices invocation handles `count` consecutive slices
// from `firstSliceId`, and the Map iterates over these [firstSliceId, count] pairs, so the state stays far below
// 256 KiB at 10,000 slices. A batch is sized to finish in half the uploadSlices timeout at a per-stream rate it can
// rely on: bytes ≤ streams × CONSERVATIVE_MBPS × timeout × 0.5 (the numbers behind it: docs/wan.md).
import { MiB, PlanError } from '../ost/plan';

export const BATCH_TIME_SHARE = 0.5;

export interface BatchSizing {
  slicesPerBatch: number;
  /** Bytes a batch may carry under the rule above. */
  budgetBytes: number;
  /** Whether one slice fits the budget. */
  fitsBudget: boolean;
}

export function batchSizing(sliceSize: number, conservativeMBps: number, timeoutSeconds: number, streams = 1): BatchSizing {
  if (!(sliceSize > 0) || !(conservativeMBps > 0) || !(timeoutSeconds > 0) || !(streams >= 1)) {
    throw new PlanError(`batch sizing needs positive inputs, got slice ${sliceSize}, ${streams} x ${conservativeMBps} MiB/s, ${timeoutSeconds} s`);
  }
  const budgetBytes = Math.floor(streams * conservativeMBps * MiB * timeoutSeconds * BATCH_TIME_SHARE);
  const slicesPerBatch = Math.max(1, Math.floor(budgetBytes / sliceSize));
  return { slicesPerBatch, budgetBytes, fitsBudget: sliceSize <= budgetBytes };
}

/** [firstSliceId, count] pairs covering slices 1..sliceCount in order, each count <= slicesPerBatch. */
export function sliceBatches(sliceCount: number, slicesPerBatch: number): Array<[number, number]> {
  if (!Number.isSafeInteger(sliceCount) || sliceCount < 1) throw new PlanError(`slice count must be >= 1, got ${sliceCount}`);
  if (!Number.isSafeInteger(slicesPerBatch) || slicesPerBatch < 1) throw new PlanError(`slices per batch must be >= 1, got ${slicesPerBatch}`);
  const batches: Array<[number, number]> = [];
  for (let first = 1; first <= sliceCount; first += slicesPerBatch) {
    batches.push([first, Math.min(slicesPerBatch, sliceCount - first + 1)]);
  }
  return batches;
}
