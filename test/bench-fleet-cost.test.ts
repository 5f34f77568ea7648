// The fleet cost model's arithmetic (per 1,000 files: SQS, the DynamoDB slot semaphore, the status-change rule)
// and the fleet phase's plain-limit source (no timings: the phase itself is `node dist/bench.js --fleet`).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeploymentSettings } from '../bench/cost';
import { DEFAULT_FLEET_ASSUMPTIONS, FLEET_PRICES, fleetCostPer1000, fleetCostTable } from '../bench/fleet-cost';
import { plainLimit } from '../bench/fleet';

const d = { memoryMb: { trigger: 256, prepare: 512, uploadWhole: 1024, uploadSlices: 1024, complete: 512, report: 512 } } as DeploymentSettings;

it('counts SQS requests and DynamoDB write units per 1,000 files without waiting', () => {
  const r = fleetCostPer1000('none', 0, d);
  // 1 send + 1/10 receive + 1/10 delete per file
  expect(r.sqsRequests).toBe(1200);
  // acquire + release, 4 units each for an item of up to 32 holders
  expect(r.dynamoWriteUnits).toBe(8000);
  expect(r.lambdaInvocations).toBe(1100);
  expect(r.statusEvents).toBe(1000);
  expect(r.sqsUsd).toBeCloseTo(1200 * FLEET_PRICES.sqsPerRequest, 10);
  expect(r.dynamoUsd).toBeCloseTo(8000 * FLEET_PRICES.dynamoPerWriteUnit, 10);
  expect(r.totalUsd).toBeCloseTo(r.sqsUsd + r.dynamoUsd + r.lambdaUsd, 12);
});

it('adds per wait a share of a receive, a visibility change (or a re-send) and a share of a refused write', () => {
  const eight = fleetCostPer1000('8 waits', 8, d);
  // 8 waits: 8 × 0.1 receives, 7 visibility changes, 1 re-send (send + 0.1 delete)
  expect(eight.sqsRequests).toBe(Math.round(1000 * (1.2 + 0.8 + 7 + 1.1)));
  expect(eight.dynamoWriteUnits).toBe(1000 * (2 + 0.8) * 4);
  const rows = fleetCostTable(d);
  expect(rows.map((r) => r.waitCycles)).toEqual([0, 4, 16]);
  for (let i = 1; i < rows.length; i++) expect(rows[i]!.totalUsd).toBeGreaterThan(rows[i - 1]!.totalUsd);
  // a larger slot item costs more write units per write
  expect(fleetCostPer1000('big', 0, d, { ...DEFAULT_FLEET_ASSUMPTIONS, maxFilesInFlight: 100 }).dynamoWriteUnits).toBe(20_000);
});

it("takes the plain limit from this run's p1, else from the last full run, else none", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-plain-'));
  try {
    const file = join(dir, 'results.json');
    expect(plainLimit({ plainMiBps: 250 }, file)).toEqual({ mibps: 250, source: "this run's p1" });
    expect(plainLimit(undefined, file)).toBeNull();
    await writeFile(file, JSON.stringify({ generatedAt: '2026-11-24T00:00:00Z', p1: { plainMiBps: 269.1 } }));
    expect(plainLimit(undefined, file)).toEqual({ mibps: 269.1, source: 'p1 of the last full run, 2026-11-24' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
