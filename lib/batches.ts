// How Prepare cuts a multipart plan into batches: each Upload slices invocation handles `count` consecutive
// slices starting at `firstSliceId`, and the Map iterates over these [firstSliceId, count] pairs — never over
// 10,000 slice objects, so the state stays far below 256 KiB even at the 10,000-slice maximum.
//
// Sizing rule: a batch must finish well inside the uploadSlices Lambda timeout even at a conservative
// throughput, leaving half of the timeout for retries inside the OST client, slow starts and cold starts:
//
//     bytes per batch  <=  conservativeMBps * MiB/s  *  timeoutSeconds  *  0.5
//     slices per batch  =  max(1, floor(bytes per batch / sliceSize))
//
// With the defaults (10 MiB/s, 900 s, 16 MiB slices): 4,500 MiB per batch, 281 slices. A single slice larger
// than the budget still gets a batch of its own (fitsBudget = false; Prepare logs a warning).
import { MiB, PlanError } from './plan';

export const BATCH_TIME_SHARE = 0.5;

export interface BatchSizing {
  slicesPerBatch: number;
  /** Bytes a batch may carry under the rule above. */
  budgetBytes: number;
  /** Whether one slice fits the budget. */
  fitsBudget: boolean;
}

export function batchSizing(sliceSize: number, conservativeMBps: number, timeoutSeconds: number): BatchSizing {
  if (!(sliceSize > 0) || !(conservativeMBps > 0) || !(timeoutSeconds > 0)) {
    throw new PlanError(`batch sizing needs positive inputs, got slice ${sliceSize}, ${conservativeMBps} MiB/s, ${timeoutSeconds} s`);
  }
  const budgetBytes = Math.floor(conservativeMBps * MiB * timeoutSeconds * BATCH_TIME_SHARE);
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
