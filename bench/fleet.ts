// The fleet phase: 2,000 small files and 20 large ones dropped at once through the local stack with
// admission on — S3 → SQS intake → trigger with slots (dynalite) → executions under the local account limits →
// the OST emulator with its gateway's concurrency limit. Measures the drain time against the ideal at the same caps
// (total bytes at the plain limit's throughput), the peaks, files per second and RSS; every served file is checked
// by sha256. Runs in this process (the local stack is in-process by design), alone as `node dist/bench.js --fleet`
// or as the `fleet` phase of the full bench.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { startLocalStack } from '../local/stack';
import { removeTree } from './files';
import { MiB, progress } from './measure';

/**
 * The caps: MAX_FILES_IN_FLIGHT at its documented default (32, docs/admission.md); the account limits scaled down
 * from AWS's 1,000 / 1,000 so that they bind locally (Lambda 50, open Map Runs 8); the emulator's gateway at 32 in
 * flight, the requests of one file at the defaults (batches × slices per batch).
 */
export const FLEET_CAPS = { maxFilesInFlight: 32, lambdaConcurrency: 50, openMapRuns: 8, gatewayMaxConcurrency: 32 } as const;
const SMALL_FILES = 2000;
const SMALL_BYTES = 16 * 1024;
const LARGE_FILES = 20;
/** Scaled down like the fleet test: 1 MiB slices, 8 per large file, so the phase stays within ~2–3 minutes. */
const SLICE = 1 * MiB;
const LARGE_BYTES = 8 * SLICE + 4321;
/** The issue's measurement before admission and the concurrent executor (1,000 files of 64 KiB). */
export const FLEET_BASELINE = { files: 1000, fileKiB: 64, seconds: 75, filesPerSecond: 13, rssMb: 486 } as const;

export interface FleetResult {
  files: number;
  smallFiles: number; smallBytes: number;
  largeFiles: number; largeBytes: number; sliceBytes: number;
  totalBytes: number;
  caps: typeof FLEET_CAPS;
  drainSeconds: number;
  filesPerSecond: number;
  /** Total bytes at the plain limit's MiB/s (one stream of slices, no per-file work): the floor at these caps. */
  idealSeconds: number | null;
  plainMiBps: number | null;
  plainSource: string;
  forwarded: number;
  failed: number;
  verified: number;
  peakFilesInFlight: number;
  peakMapRuns: number;
  peakLambda: number;
  lambdaRefused: number;
  mapRunsRefused: number;
  gateway: { peakConcurrency: number; throttledConcurrency: number; throttledRate: number };
  peakRssMb: number;
  cpuSeconds: number;
  baseline: typeof FLEET_BASELINE;
}

/** Runs the phase in `dir` (removed afterwards). `plain` is the plain limit's MiB/s and where it came from. */
export async function runFleet(dir: string, plain: { mibps: number; source: string } | null): Promise<FleetResult> {
  await removeTree(dir);
  const input = join(dir, 'input');
  await mkdir(input, { recursive: true });
  progress(`fleet: writing ${SMALL_FILES} files of ${SMALL_BYTES / 1024} KiB and ${LARGE_FILES} of ${(LARGE_BYTES / MiB).toFixed(1)} MiB`);
  const files: Array<{ path: string; sha256: string; size: number }> = [];
  const add = async (name: string, body: Buffer) => {
    const path = join(input, name);
    await writeFile(path, body);
    files.push({ path, size: body.length, sha256: createHash('sha256').update(body).digest('hex') });
  };
  for (let i = 0; i < SMALL_FILES; i++) await add(`s${String(i).padStart(4, '0')}.bin`, randomBytes(SMALL_BYTES));
  for (let i = 0; i < LARGE_FILES; i++) await add(`l${String(i).padStart(2, '0')}.bin`, randomBytes(LARGE_BYTES));
  const totalBytes = files.reduce((n, f) => n + f.size, 0);

  const stack = await startLocalStack({
    emulator: { dir: join(dir, 'emulator'), minSliceSize: SLICE, maxConcurrency: FLEET_CAPS.gatewayMaxConcurrency },
    env: {
      MAX_FILES_IN_FLIGHT: String(FLEET_CAPS.maxFilesInFlight), SLICE_SIZE: String(SLICE), MIN_SLICE_SIZE: String(SLICE),
      SIMPLE_THRESHOLD: String(2 * SLICE),
      // a throttled OST call backs off briefly in the invocation, then waits in the state machine's retrier
      OST_RETRY_THROTTLED_BASE_MS: '20', OST_RETRY_MAX_DELAY_MS: '200',
    },
    fleet: { lambdaConcurrency: FLEET_CAPS.lambdaConcurrency, openMapRuns: FLEET_CAPS.openMapRuns, startExecution: { burst: 50, perSecond: 100 } },
  });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 100);
  try {
    progress(`fleet: ${files.length} files dropped at once (slots ${FLEET_CAPS.maxFilesInFlight}, Lambda ${FLEET_CAPS.lambdaConcurrency}, Map Runs ${FLEET_CAPS.openMapRuns}, gateway ${FLEET_CAPS.gatewayMaxConcurrency})`);
    const cpu0 = process.cpuUsage();
    const started = performance.now();
    let done = 0;
    const results = await stack.forwardFiles(files.map((f) => f.path), {
      keyPrefix: 'fleet/',
      onResult: () => { if (++done % 500 === 0) progress(`fleet: ${done}/${files.length} finished`); },
    });
    const drainSeconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpu0);
    clearInterval(sampler);
    const summary = await stack.fleetSummary();
    const gateway = stack.emulator!.stats();
    progress(`fleet: drained in ${drainSeconds.toFixed(1)} s; checking every served file by sha256`);
    let verified = 0;
    const mismatched: string[] = [];
    for (const [i, r] of results.entries()) {
      if (r.status !== 'forwarded' || !r.url) continue;
      const got = await sha256Url(r.url);
      if (got === files[i]!.sha256) verified++;
      else mismatched.push(r.key);
    }
    if (mismatched.length) throw new Error(`fleet: ${mismatched.length} served files differ (first: ${mismatched.slice(0, 3).join(', ')})`);
    const failed = results.filter((r) => r.status !== 'forwarded');
    if (failed.length) progress(`fleet: ${failed.length} failed, first: ${failed.slice(0, 3).map((r) => `${r.key} ${r.error?.code}`).join('; ')}`.slice(0, 300));
    const idealSeconds = plain ? (totalBytes / MiB) / plain.mibps : null;
    return {
      files: files.length, smallFiles: SMALL_FILES, smallBytes: SMALL_BYTES, largeFiles: LARGE_FILES, largeBytes: LARGE_BYTES,
      sliceBytes: SLICE, totalBytes, caps: FLEET_CAPS,
      drainSeconds: round(drainSeconds, 1),
      filesPerSecond: round(files.length / drainSeconds, 1),
      idealSeconds: idealSeconds === null ? null : round(idealSeconds, 2),
      plainMiBps: plain?.mibps ?? null,
      plainSource: plain?.source ?? 'none',
      forwarded: results.length - failed.length,
      failed: failed.length,
      verified,
      ...summary,
      gateway: { peakConcurrency: gateway.peakConcurrency, throttledConcurrency: gateway.throttled.concurrency, throttledRate: gateway.throttled.rate },
      peakRssMb: Math.round(peakRss / MiB),
      cpuSeconds: round((cpu.user + cpu.system) / 1e6, 1),
      baseline: FLEET_BASELINE,
    };
  } finally {
    clearInterval(sampler);
    await stack.close();
    await removeTree(dir);
  }
}

async function sha256Url(url: string): Promise<string> {
  const res = await request(url);
  const hash = createHash('sha256');
  for await (const chunk of res.body) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

/** The result as a table (terminal and docs/fleet.md). */
export function formatFleet(r: FleetResult): string {
  const b = r.baseline;
  const rows: Array<[string, string]> = [
    ['files', `${r.files} (${r.smallFiles} × ${r.smallBytes / 1024} KiB, ${r.largeFiles} × ${(r.largeBytes / MiB).toFixed(1)} MiB in ${r.sliceBytes / MiB} MiB slices), ${(r.totalBytes / MiB).toFixed(1)} MiB`],
    ['caps', `MAX_FILES_IN_FLIGHT ${r.caps.maxFilesInFlight}, Lambda concurrency ${r.caps.lambdaConcurrency}, open Map Runs ${r.caps.openMapRuns}, emulator --max-concurrency ${r.caps.gatewayMaxConcurrency}`],
    ['forwarded', `${r.forwarded} of ${r.files} (${r.failed} failed); ${r.verified} byte-exact by sha256 of the served file`],
    ['drain time', `${r.drainSeconds} s`],
    ['ideal at these caps', r.idealSeconds === null ? 'n/a (no plain-limit measurement)' : `${r.idealSeconds} s (total bytes at ${r.plainMiBps} MiB/s, the plain limit, ${r.plainSource}); drain / ideal ${(r.drainSeconds / r.idealSeconds).toFixed(0)}×`],
    ['files per second', `${r.filesPerSecond} (baseline ${b.filesPerSecond}: ${b.files} files of ${b.fileKiB} KiB in ${b.seconds} s)`],
    ['peak files in flight', `${r.peakFilesInFlight} (cap ${r.caps.maxFilesInFlight})`],
    ['peak Map Runs', `${r.peakMapRuns} (cap ${r.caps.openMapRuns}; ${r.mapRunsRefused} refused)`],
    ['peak Lambda', `${r.peakLambda} (cap ${r.caps.lambdaConcurrency}; ${r.lambdaRefused} refused)`],
    ['OST gateway', `peak ${r.gateway.peakConcurrency} in flight; ${r.gateway.throttledConcurrency} answered 11202, ${r.gateway.throttledRate} 11203`],
    ['peak RSS', `${r.peakRssMb} MB (baseline ${b.rssMb} MB), one process: stack, emulator, S3, dynalite, SQS`],
    ['CPU', `${r.cpuSeconds} s over ${r.drainSeconds} s of drain`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

/** The plain limit measured in this run's p1, else in the last full run (bench/results.json). */
export function plainLimit(current: { plainMiBps?: unknown } | undefined, resultsFile: string): { mibps: number; source: string } | null {
  if (typeof current?.plainMiBps === 'number') return { mibps: current.plainMiBps, source: "this run's p1" };
  try {
    const last = JSON.parse(readFileSync(resultsFile, 'utf8')) as { generatedAt?: string; p1?: { plainMiBps?: unknown } };
    if (typeof last.p1?.plainMiBps === 'number') return { mibps: last.p1.plainMiBps, source: `p1 of the last full run, ${last.generatedAt?.slice(0, 10)}` };
  } catch { /* no earlier run: no ideal */ }
  return null;
}
