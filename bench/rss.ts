// p2: peak memory of one process uploading a single 1 GiB slice. bench/rss-child.ts is bundled the way a Lambda
// is bundled and forked; it loads, reports, does its upload, reports again and waits; the parent reads VmHWM
// (peak resident set) and VmRSS from /proc/<pid>/status, then lets it exit.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { parse as parseYaml } from 'yaml';
import type { BatchInput } from '../lib/workflow/state';
import type { OstTarget } from './naive';

export interface RssResult {
  role: string;
  peakRssMb: number;
  rssAtStartMb: number;
  ms: number;
  bytes: number;
  /** Peaks of process.memoryUsage() sampled every 20 ms during the upload, MiB. */
  sampledPeaksMb: Record<string, number>;
}

/** VmHWM / VmRSS of a live process, in MiB (/proc reports them in kB, which are KiB). */
export function procMemory(pid: number): { hwmMb: number; rssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { hwmMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
}

/** How serverless.yml builds and starts a function: its esbuild options (scripts/lambda-esbuild.cjs) and NODE_OPTIONS. */
export interface LambdaBuild {
  sourcemap: boolean | 'linked' | 'inline' | 'external' | 'both';
  sourcesContent: boolean;
  minify: boolean;
  alias: Record<string, string>;
  /** Every esbuild option of the Lambda bundles (scripts/lambda-esbuild.cjs), for buildChild. */
  esbuild: Record<string, unknown>;
  nodeOptions: string[];
}

export function lambdaBuild(root: string): LambdaBuild {
  const sls = parseYaml(readFileSync(join(root, 'serverless.yml'), 'utf8'), { logLevel: 'error' } /* CloudFormation tags (!Sub, !If…) do not matter here */) as {
    provider?: { environment?: Record<string, unknown> };
  };
  const e = (require(join(root, 'scripts', 'lambda-esbuild.cjs')) as { options: Record<string, unknown> & Partial<LambdaBuild> }).options;
  const { exclude: _exclude, packager: _packager, ...esbuild } = e;
  return {
    sourcemap: e.sourcemap ?? false,
    sourcesContent: e.sourcesContent ?? true,
    minify: e.minify ?? false,
    alias: e.alias ?? {},
    esbuild,
    // BENCH_P2_NODE_OPTIONS tries another setting without editing serverless.yml (e.g. a V8 flag).
    nodeOptions: String(process.env.BENCH_P2_NODE_OPTIONS ?? sls.provider?.environment?.NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean),
  };
}

/** Bundles bench/rss-child.ts with the Lambda bundles' esbuild options (everything bundled, cjs). */
export async function buildChild(root: string, outDir: string, b: LambdaBuild, name = 'rss-child.js'): Promise<string> {
  const outfile = join(outDir, name);
  await build({
    ...b.esbuild,
    entryPoints: [join(root, 'bench', 'rss-child.ts')],
    absWorkingDir: root,
    outfile, bundle: true, platform: 'node', format: 'cjs', logLevel: 'warning',
    sourcemap: b.sourcemap, sourcesContent: b.sourcesContent, minify: b.minify, alias: b.alias,
  });
  return outfile;
}

export interface RssJob {
  role: 'p2-ours' | 'p2-naive';
  batch: BatchInput;
  s3Endpoint: string;
  ost: OstTarget;
  /** The handler's environment (settings, endpoints). */
  env: Record<string, string>;
  /** Node flags (the Lambda's NODE_OPTIONS). */
  execArgv: string[];
}

export async function measurePeakRss(script: string, job: RssJob): Promise<RssResult> {
  const { env, execArgv, ...rest } = job;
  const child = fork(script, [JSON.stringify(rest)], {
    // The handler logs at INFO as deployed; its log lines go to /dev/null, not into the bench's table.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    execArgv,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  return new Promise<RssResult>((resolve, reject) => {
    let startRss = NaN;
    child.once('error', reject);
    child.on('exit', (code) => { if (code !== 0) reject(new Error(`${job.role} child exited with ${code}`)); });
    child.on('message', (m: { type: string; ms?: number; bytes?: number; error?: string; memory?: Record<string, number> }) => {
      if (m.type === 'loaded') { startRss = procMemory(child.pid!).rssMb; child.send({ type: 'go' }); return; }
      if (m.type === 'failed') { child.kill(); reject(new Error(`${job.role}: ${m.error}`)); return; }
      if (m.type === 'done') {
        const { hwmMb } = procMemory(child.pid!);
        child.send({ type: 'exit' });
        resolve({ role: job.role, peakRssMb: hwmMb, rssAtStartMb: startRss, ms: m.ms!, bytes: m.bytes!, sampledPeaksMb: m.memory ?? {} });
      }
    });
  });
}
