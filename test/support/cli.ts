// The bundled CLI in a child process, as a user runs it: stdout, stderr and the exit code.
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(__dirname, '..', '..');

export interface CliRun { code: number | null; stdout: string; stderr: string }

export interface Cli {
  run(args: string[], env?: Record<string, string | undefined>, options?: { timeoutMs?: number; nodeOptions?: string[] }): Promise<CliRun>;
  remove(): void;
}

/** Bundles cli/main.ts once; each run starts it with a clean environment (no OST_, S3_, RESULTS_, … of this one). */
export async function bundledCli(name: string): Promise<Cli> {
  const outfile = join(root, 'node_modules', '.cache', name, `cli-${process.pid}.js`);
  mkdirSync(join(outfile, '..'), { recursive: true });
  await build({ entryPoints: [join(root, 'cli', 'main.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', outfile, logLevel: 'silent' });
  return {
    run(args, env = {}, options = {}) {
      const clean: Record<string, string | undefined> = { ...process.env };
      for (const k of Object.keys(clean)) if (/^(OST_|S3_|RESULTS_|STATE_MACHINE|KEY_|AWS_|INTAKE_|TRIGGER_|MAX_FILES|LOCAL_BUCKET)/.test(k)) delete clean[k];
      return new Promise((res) => {
        execFile(process.execPath, [...(options.nodeOptions ?? []), outfile, ...args], { cwd: root, env: { ...clean, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 90_000 }, (err, stdout, stderr) => {
          res({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
        });
      });
    },
    remove() { rmSync(outfile, { force: true }); },
  };
}
