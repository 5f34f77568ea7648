// The cost model's arithmetic and the chart's shape (no timings: the benchmark itself is `npm run bench`).
import { resolve } from 'node:path';
import { costRow, costTable, deploymentSettings, DEFAULT_ASSUMPTIONS, mediaProbeCost, PRICES, type DeploymentSettings } from '../bench/cost';
import { throughputSvg } from '../bench/chart';
import { batchSizing } from '../lib/workflow/batches';
import { GiB, MiB } from '../lib/ost/plan';

const ROOT = resolve(__dirname, '..');

const defaults: DeploymentSettings = {
  memoryMb: { trigger: 256, prepare: 512, uploadWhole: 1024, uploadSlices: 1024, complete: 512, report: 512 },
  uploadSlicesTimeoutSeconds: 900,
  sliceSize: 16 * MiB,
  simpleThreshold: 30 * MiB,
  sliceConcurrency: 4,
  conservativeMBps: 10,
  source: 'test',
};

describe('cost model', () => {
  it('reads memory sizes, the uploadSlices timeout and the slicing params from serverless.yml', () => {
    const d = deploymentSettings(ROOT);
    expect(d.uploadSlicesTimeoutSeconds).toBeGreaterThan(0);
    expect(d.uploadSlicesTimeoutSeconds).toBeLessThanOrEqual(900);
    expect(d.sliceSize).toBeGreaterThanOrEqual(5 * MiB);
    for (const mb of Object.values(d.memoryMb)) expect(mb).toBeGreaterThanOrEqual(128);
  });

  it('counts one Step Functions transition per batch child plus the five parent states', () => {
    const row = costRow('100 GB', 100 * GiB, 'batched (default)', defaults);
    const perBatch = batchSizing(16 * MiB, defaults.conservativeMBps, 900, defaults.sliceConcurrency).slicesPerBatch;
    expect(row.slices).toBe(6400);
    expect(row.transitions).toBe(5 + Math.ceil(6400 / perBatch));
    const single = costRow('100 GB', 100 * GiB, 'one slice per invocation', defaults);
    expect(single.transitions).toBe(5 + 6400);
    expect(single.invocations).toBe(3 + 6400 + 1);
  });

  it('keeps egress out of the AWS subtotal and prices it per GB', () => {
    const row = costRow('1 GB', GiB, 'batched (default)', defaults);
    expect(row.egressUsd).toBeCloseTo(PRICES.egressPerGb, 10);
    expect(row.awsUsd).toBeCloseTo(row.lambdaUsd + row.stepFunctionsUsd + row.s3Usd, 12);
    expect(row.totalUsd).toBeCloseTo(row.awsUsd + row.egressUsd, 12);
  });

  it('bills the data seconds at the assumed throughput', () => {
    const row = costRow('1 GB', GiB, 'batched (default)', defaults);
    const c = DEFAULT_ASSUMPTIONS.controlSeconds;
    const expected = (1024 / DEFAULT_ASSUMPTIONS.throughputMiBps + DEFAULT_ASSUMPTIONS.invocationOverheadSeconds) * 1
      + 0.25 * c.trigger + 0.5 * (c.prepare + DEFAULT_ASSUMPTIONS.mediaProbeSeconds + c.complete + c.report);
    expect(row.lambdaGbSeconds).toBeCloseTo(expected, 6);
  });

  it('uses the simple upload below the threshold (one invocation, four transitions)', () => {
    const row = costRow('10 MB', 10 * MiB, 'batched (default)', defaults);
    expect(row.slices).toBe(1);
    expect(row.transitions).toBe(4);
    expect(row.s3Requests).toBe(5); // HEAD, the head GET, GET, the attempt marker, the record
  });

  it('counts the media probe once per file, whatever its size: one GET and Prepare\'s probe seconds', () => {
    const p = mediaProbeCost(defaults);
    expect(p.s3Requests).toBe(1);
    expect(p.usd).toBeCloseTo(PRICES.s3GetPerRequest + 0.5 * DEFAULT_ASSUMPTIONS.mediaProbeSeconds * PRICES.lambdaArmPerGbSecond, 12);
    const without = { ...DEFAULT_ASSUMPTIONS, mediaProbeSeconds: 0 };
    for (const size of [10 * MiB, 100 * GiB]) {
      const a = costRow('x', size, 'batched (default)', defaults);
      const b = costRow('x', size, 'batched (default)', defaults, without);
      expect(a.s3Requests - b.s3Requests).toBe(0); // the GET is counted in both: only the seconds differ
      expect(a.awsUsd - b.awsUsd).toBeCloseTo(p.lambdaUsd, 12);
    }
  });

  it('has both designs for every size', () => {
    expect(costTable(defaults)).toHaveLength(10);
  });
});

describe('throughput chart', () => {
  it('draws one bar per point, a limit mark per group, axis titles and a legend', () => {
    const svg = throughputSvg(
      [1, 2].flatMap((c) => [5, 16].map((s) => ({ concurrency: c, sliceMiB: s, mibps: 100 * c + s }))),
      [{ concurrency: 1, mibps: 150 }, { concurrency: 2, mibps: 260 }],
      { title: 'T <&>', subtitle: 'S' },
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<title>/g)).toHaveLength(4);
    expect(svg.match(/stroke-dasharray/g)).toHaveLength(3); // two marks + the legend sample
    expect(svg).toContain('throughput (MiB/s)');
    expect(svg).toContain('slices in flight');
    expect(svg).toContain('T &lt;&amp;&gt;');
  });
});
