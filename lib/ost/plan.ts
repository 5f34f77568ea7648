// The slice plan: a pure function of the object size. OST accepts 1..10,000 slices of 5 MiB..5 GiB, and only
// the last slice may be smaller than 5 MiB. Slice ids start at 1.
import type { ErrorHandling } from '../core/error-handling';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
export const MIN_SLICE_SIZE = 5 * MiB;
export const MAX_SLICE_SIZE = 5 * GiB;
export const MAX_SLICES = 10_000;
/** The largest object the multipart API can take: 10,000 slices of 5 GiB. */
export const MAX_OBJECT_SIZE = MAX_SLICES * MAX_SLICE_SIZE;
export const DEFAULT_SLICE_SIZE = 16 * MiB;
/**
 * Slices in flight by default (put --concurrency, SLICE_CONCURRENCY), each on its own connection. On a WAN the
 * speed is streams x per-stream rate: 8 doubles the measured 4 (docs/wan.md) while staying at what OST's vendor
 * demo never exceeds per upload; the workflow multiplies it by MAP_MAX_CONCURRENCY (see docs/wan.md's bound).
 */
export const DEFAULT_SLICES_IN_FLIGHT = 8;
/** The vendor's demos upload files under 30 MiB in one request. */
export const DEFAULT_THRESHOLD = 30 * MiB;

export interface PlanOptions {
  /** Preferred slice size in bytes (raised when the object would need more than 10,000 slices). */
  sliceSize?: number;
  /** Objects smaller than this go through the simple upload. */
  threshold?: number;
  /** Lower bound for the slice size; only an emulator run in tiny-slice mode lowers it. */
  minSliceSize?: number;
}

export type UploadPlan =
  | { mode: 'simple'; size: number }
  | { mode: 'multipart'; size: number; sliceSize: number; sliceCount: number };

export class PlanError extends Error {
  static readonly errorName = 'PlanError';
  static readonly handling: ErrorHandling = 'fatal';
  readonly code = 'PLAN_INVALID';
  constructor(message: string) { super(message); this.name = PlanError.errorName; }
}

export function planUpload(size: number, options: PlanOptions = {}): UploadPlan {
  const minSlice = options.minSliceSize ?? MIN_SLICE_SIZE;
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  const preferred = options.sliceSize ?? DEFAULT_SLICE_SIZE;
  if (!Number.isSafeInteger(size) || size < 0) throw new PlanError(`object size must be a non-negative integer, got ${size}`);
  if (!Number.isSafeInteger(preferred) || preferred < minSlice || preferred > MAX_SLICE_SIZE) {
    throw new PlanError(`slice size must be between ${minSlice} and ${MAX_SLICE_SIZE} bytes, got ${preferred}`);
  }
  if (!Number.isSafeInteger(threshold) || threshold < 0) throw new PlanError(`threshold must be a non-negative integer, got ${threshold}`);
  if (size > MAX_SLICES * MAX_SLICE_SIZE) {
    throw new PlanError(`object of ${size} bytes exceeds the OST limit of ${MAX_SLICES} slices of ${MAX_SLICE_SIZE} bytes`);
  }
  if (size < threshold || size === 0) return { mode: 'simple', size };
  // Raise the slice size (in whole MiB when the preferred size is) until the count fits.
  let sliceSize = preferred;
  if (Math.ceil(size / sliceSize) > MAX_SLICES) {
    const needed = Math.ceil(size / MAX_SLICES);
    sliceSize = Math.min(MAX_SLICE_SIZE, Math.ceil(needed / MiB) * MiB);
  }
  const sliceCount = Math.ceil(size / sliceSize);
  return { mode: 'multipart', size, sliceSize, sliceCount };
}

/** Byte range [start, end) of slice `sliceId` (1-based). The last slice is never empty. */
export function sliceRange(plan: { size: number; sliceSize: number; sliceCount: number }, sliceId: number): { start: number; end: number } {
  if (!Number.isInteger(sliceId) || sliceId < 1 || sliceId > plan.sliceCount) {
    throw new PlanError(`slice id ${sliceId} is outside 1..${plan.sliceCount}`);
  }
  const start = (sliceId - 1) * plan.sliceSize;
  const end = Math.min(plan.size, start + plan.sliceSize);
  return { start, end };
}
