// How Prepare cuts a multipart plan into batches: each Upload slices invocation handles `count` consecutive
// slices starting at `firstSliceId`, and the Map iterates over these [firstSliceId, count] pairs — never over
// 10,000 slice objects, so the state stays far below 256 KiB even at the 10,000-slice maximum.
//
// Sizing rule: a batch must finish well inside the uploadSlices Lambda timeout even at the per-stream rate a
// batch can rely on, leaving half of the timeout for retries inside the OST client, slow starts and cold starts.
// On a WAN the speed is streams x per-stream rate (docs/wan.md), so the rate is per stream (CONSERVATIVE_MBPS,
// default 1 MiB/s: the worst per-stream rate measured to China) and the streams are SLICE_CONCURRENCY:
//
//     bytes per batch  <=  streams * conservativeMBps * MiB/s  *  timeoutSeconds  *  0.5
//     slices per batch  =  max(1, floor(bytes per batch / sliceSize))
//
// With the defaults (8 streams, 1 MiB/s, 900 s, 16 MiB slices): 3,600 MiB per batch, 225 slices. Should a link
// still be slower, a batch cut short keeps its acknowledged slices (lib/workflow/batch-progress.ts). A single slice larger
// than the budget still gets a batch of its own (fitsBudget = false; Prepare logs a warning).
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
