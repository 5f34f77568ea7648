import {
  DEFAULT_SLICE_SIZE, DEFAULT_THRESHOLD, GiB, MAX_OBJECT_SIZE, MAX_SLICE_SIZE, MAX_SLICES, MiB, MIN_SLICE_SIZE,
  PlanError, planUpload, sliceRange, UploadPlan,
} from '../lib/ost/plan';

function ranges(plan: UploadPlan) {
  if (plan.mode !== 'multipart') throw new Error('not multipart');
  return Array.from({ length: plan.sliceCount }, (_, i) => sliceRange(plan, i + 1));
}

describe('planUpload', () => {
  it('uploads empty and tiny objects whole', () => {
    expect(planUpload(0)).toEqual({ mode: 'simple', size: 0 });
    expect(planUpload(1)).toEqual({ mode: 'simple', size: 1 });
    expect(planUpload(0, { threshold: 0 })).toEqual({ mode: 'simple', size: 0 });
  });

  it('switches to multipart at the 30 MiB threshold', () => {
    expect(DEFAULT_THRESHOLD).toBe(31_457_280);
    expect(planUpload(30 * MiB - 1)).toEqual({ mode: 'simple', size: 30 * MiB - 1 });
    expect(planUpload(30 * MiB)).toEqual({ mode: 'multipart', size: 30 * MiB, sliceSize: DEFAULT_SLICE_SIZE, sliceCount: 2 });
  });

  it('never makes an empty last slice for exact multiples', () => {
    const plan = planUpload(64 * MiB, { sliceSize: 16 * MiB });
    expect(plan).toMatchObject({ mode: 'multipart', sliceCount: 4 });
    const r = ranges(plan);
    expect(r[3]).toEqual({ start: 48 * MiB, end: 64 * MiB });
    const p5 = planUpload(10 * MiB, { sliceSize: 5 * MiB, threshold: 1 });
    expect(p5).toMatchObject({ sliceCount: 2 });
    expect(ranges(p5).every((x) => x.end > x.start)).toBe(true);
  });

  it('covers the object with contiguous slices, only the last smaller', () => {
    const size = 100 * MiB + 12345;
    const plan = planUpload(size, { sliceSize: 5 * MiB });
    const r = ranges(plan);
    expect(r[0].start).toBe(0);
    expect(r[r.length - 1].end).toBe(size);
    for (let i = 1; i < r.length; i++) expect(r[i].start).toBe(r[i - 1].end);
    for (let i = 0; i < r.length - 1; i++) expect(r[i].end - r[i].start).toBe(5 * MiB);
    expect(r[r.length - 1].end - r[r.length - 1].start).toBe(12345);
  });

  it('raises the slice size (in whole MiB) to stay within 10,000 slices', () => {
    expect(planUpload(MAX_SLICES * 16 * MiB)).toMatchObject({ sliceSize: 16 * MiB, sliceCount: MAX_SLICES });
    const size = MAX_SLICES * 16 * MiB + 1;
    const plan = planUpload(size);
    expect(plan).toMatchObject({ mode: 'multipart', sliceSize: 17 * MiB });
    if (plan.mode !== 'multipart') throw new Error();
    expect(plan.sliceCount).toBeLessThanOrEqual(MAX_SLICES);
    expect(plan.sliceCount).toBe(Math.ceil(size / (17 * MiB)));
  });

  it('caps slices at 5 GiB and accepts exactly 10,000 × 5 GiB', () => {
    expect(MAX_OBJECT_SIZE).toBe(10_000 * 5 * GiB);
    expect(planUpload(MAX_OBJECT_SIZE)).toEqual({ mode: 'multipart', size: MAX_OBJECT_SIZE, sliceSize: MAX_SLICE_SIZE, sliceCount: MAX_SLICES });
    expect(planUpload(MAX_OBJECT_SIZE - 1)).toMatchObject({ sliceSize: MAX_SLICE_SIZE, sliceCount: MAX_SLICES });
  });

  it('rejects objects above 10,000 × 5 GiB', () => {
    expect(() => planUpload(MAX_OBJECT_SIZE + 1)).toThrow(PlanError);
    expect(() => planUpload(MAX_OBJECT_SIZE + 1)).toThrow(/10000 slices/);
  });

  it('rejects bad sizes and options', () => {
    expect(() => planUpload(-1)).toThrow(PlanError);
    expect(() => planUpload(1.5)).toThrow(PlanError);
    expect(() => planUpload(Number.NaN)).toThrow(PlanError);
    expect(() => planUpload(100 * MiB, { sliceSize: MIN_SLICE_SIZE - 1 })).toThrow(PlanError);
    expect(() => planUpload(100 * MiB, { sliceSize: MAX_SLICE_SIZE + 1 })).toThrow(PlanError);
    expect(() => planUpload(100 * MiB, { threshold: -1 })).toThrow(PlanError);
  });

  it('allows tiny slices only when minSliceSize is lowered (emulator mode)', () => {
    const plan = planUpload(10_000, { sliceSize: 1024, threshold: 1, minSliceSize: 1 });
    expect(plan).toEqual({ mode: 'multipart', size: 10_000, sliceSize: 1024, sliceCount: 10 });
    expect(sliceRange(plan as never, 10)).toEqual({ start: 9216, end: 10_000 });
  });

  it('rejects slice ids outside 1..sliceCount (ids start at 1)', () => {
    const plan = planUpload(40 * MiB) as Extract<UploadPlan, { mode: 'multipart' }>;
    expect(() => sliceRange(plan, 0)).toThrow(PlanError);
    expect(() => sliceRange(plan, plan.sliceCount + 1)).toThrow(PlanError);
    expect(sliceRange(plan, 1)).toEqual({ start: 0, end: 16 * MiB });
  });
});
