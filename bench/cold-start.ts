// Cold start of each Lambda handler: its bundle built exactly as serverless-esbuild builds it (the options of
// scripts/lambda-esbuild.cjs), its size, and the time to load it (require) in a fresh Node process, median of
// `runs` processes. The load is timed inside the child, so Node's own start-up is not counted; the child runs
// with the flags the Lambda bootstrap passes for the function's memory size.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { median } from './measure';

/** serverless.yml function key → handler file and memory size (MB). */
export const HANDLERS: ReadonlyArray<{ fn: string; file: string; memoryMB: number }> = [
  { fn: 'trigger', file: 'functions/trigger.ts', memoryMB: 256 },
  { fn: 'prepare', file: 'functions/prepare.ts', memoryMB: 512 },
  { fn: 'uploadWhole', file: 'functions/upload-whole.ts', memoryMB: 1024 },
  { fn: 'uploadSlices', file: 'functions/upload-slices.ts', memoryMB: 1024 },
  { fn: 'complete', file: 'functions/complete.ts', memoryMB: 512 },
  { fn: 'cancel', file: 'functions/cancel.ts', memoryMB: 512 },
  { fn: 'report', file: 'functions/report.ts', memoryMB: 512 },
  { fn: 'release', file: 'functions/release.ts', memoryMB: 256 },
];

export interface ColdStartRow { fn: string; bundleBytes: number; mapBytes: number; loadMs: number; loadMsRuns: number[] }
export interface ColdStartResult { node: string; runs: number; rows: ColdStartRow[] }

/** The Lambda nodejs bootstrap's heap flags for a memory size (new space = 10 %, semi space = half of it). */
export function bootstrapHeapFlags(memoryMB: number): string[] {
  const newSpace = Math.floor(memoryMB / 10);
  return [`--max-semi-space-size=${Math.floor(newSpace / 2)}`, `--max-old-space-size=${memoryMB - newSpace}`];
}

const CHILD = `const t = process.hrtime.bigint(); const m = require(process.argv[1]);
if (typeof m.handler !== 'function') throw new Error('no handler export');
process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`;

export async function coldStart(root: string, runs = 9): Promise<ColdStartResult> {
  // esbuild stays external to the bench bundle (scripts/build.mjs: packages external)
  const { build } = await import('esbuild');
  const { options } = require(join(root, 'scripts', 'lambda-esbuild.cjs')) as { options: Record<string, unknown> };
  const { exclude: _exclude, packager: _packager, ...esbuildOptions } = options;
  const out = mkdtempSync(join(tmpdir(), 'ost-cold-'));
  try {
    const rows: ColdStartRow[] = [];
    for (const h of HANDLERS) {
      const outfile = join(out, `${h.fn}.js`);
      await build({ ...esbuildOptions, absWorkingDir: root, entryPoints: [join(root, h.file)], outfile, logLevel: 'error' });
      const loadMsRuns: number[] = [];
      for (let i = 0; i < runs; i++) {
        const { stdout } = await promisify(execFile)(process.execPath, [...bootstrapHeapFlags(h.memoryMB), '-e', CHILD, outfile], {
          cwd: out,
          env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(h.memoryMB) },
        });
        loadMsRuns.push(Math.round(Number(stdout) * 10) / 10);
      }
      const mapBytes = (() => { try { return statSync(`${outfile}.map`).size; } catch { return 0; } })();
      rows.push({ fn: h.fn, bundleBytes: statSync(outfile).size, mapBytes, loadMs: median(loadMsRuns), loadMsRuns });
    }
    return { node: process.version, runs, rows };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export function formatColdStart(r: ColdStartResult): string[] {
  const lines = [
    `Cold start per handler (Node ${r.node}; module load = require() of the bundle in a fresh process, median of ${r.runs}; Lambda bootstrap heap flags)`,
    '| function | bundle (JS) | source map (not loaded) | module load |',
    '| --- | --- | --- | --- |',
  ];
  for (const row of r.rows) {
    lines.push(`| ${row.fn} | ${(row.bundleBytes / 1e6).toFixed(2)} MB | ${(row.mapBytes / 1e6).toFixed(2)} MB | ${row.loadMs} ms |`);
  }
  return lines;
}
