// p2: peak memory of one process uploading a single 1 GiB slice. bench/rss-child.ts is bundled the way a Lambda
// is bundled and forked; it loads, reports, does its upload, reports again and waits; the parent reads VmHWM
// (peak resident set) and VmRSS from /proc/<pid>/status, then lets it exit.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { BatchInput } from '../lib/records';
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

/** Bundles bench/rss-child.ts like serverless.yml's esbuild settings (bundle all, cjs, linked source map). */
export async function buildChild(root: string, outDir: string): Promise<string> {
  const outfile = join(outDir, 'rss-child.js');
  await build({
    entryPoints: [join(root, 'bench', 'rss-child.ts')],
    outfile, bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: 'linked', minify: false, logLevel: 'warning',
    ...(process.env.BENCH_P2_SOURCES_CONTENT === '0' ? { sourcesContent: false } : {}),
  });
  return outfile;
}

export interface RssJob {
  role: 'p2-ours' | 'p2-naive';
  batch: BatchInput;
  s3Endpoint: string;
  ost: OstTarget;
  /** The handler's environment (settings, endpoints); the Lambda's NODE_OPTIONS is applied as execArgv. */
  env: Record<string, string>;
}

export async function measurePeakRss(script: string, job: RssJob): Promise<RssResult> {
  const { env, ...rest } = job;
  const child = fork(script, [JSON.stringify(rest)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: process.env.BENCH_P2_EXECARGV !== undefined ? process.env.BENCH_P2_EXECARGV.split(' ').filter(Boolean) : ['--enable-source-maps'],
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
