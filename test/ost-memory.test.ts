// Peak memory of `ost-forward put`: payloads stream, so the peak must not grow with the file. A 256 MiB file runs
// by default; OST_MEMORY_TEST_GIB=1 forwards a 1 GiB file (the budget: peak RSS under 150 MB).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator, type OstEmulator } from '../local/emulator';
import { GiB, MiB, sampleFile, sha256File, sha256Url, tempDir } from './support/files';

const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'bin', 'ost-forward.js');
const BUDGET_KB = 150 * 1000;

/** Runs the CLI and samples its peak RSS (VmHWM) from /proc until it exits. */
function putMeasured(file: string, emu: OstEmulator): Promise<{ code: number | null; stdout: string; peakKb: number; ms: number }> {
  const env = {
    PATH: process.env.PATH ?? '',
    OST_ENDPOINT: emu.endpoint,
    OST_APP_ID: emu.credentials.appId,
    OST_API_KEY: emu.credentials.apiKey,
    OST_API_SECRET: emu.credentials.apiSecret,
  };
  const started = Date.now();
  return new Promise((resolve) => {
    let peakKb = 0;
    const child = execFile(process.execPath, [BIN, 'put', file, '--json'], { env, timeout: 120_000 }, (err, stdout) => {
      clearInterval(timer);
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, peakKb, ms: Date.now() - started });
    });
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch { /* exited */ }
    };
    const timer = setInterval(sample, 20);
  });
}

const linux = existsSync('/proc/self/status');
const size = process.env.OST_MEMORY_TEST_GIB ? Number(process.env.OST_MEMORY_TEST_GIB) * GiB : 256 * MiB;

(linux ? describe : describe.skip)('memory of ost-forward put', () => {
  let emu: OstEmulator;
  let dir: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    dir = tempDir();
    emu = await startEmulator();
  });
  afterAll(async () => {
    await emu?.close();
    dir?.cleanup();
  });

  it(`forwards ${size / MiB} MiB with a peak RSS under 150 MB`, async () => {
    const file = (await sampleFile(size, { dir: dir.dir, name: 'big.bin' })).path;
    const r = await putMeasured(file, emu);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ bytes: size, mode: 'multipart' });
    console.log(`put ${size / MiB} MiB: peak RSS ${(r.peakKb / 1024).toFixed(1)} MiB, ${r.ms} ms`);
    expect(r.peakKb).toBeGreaterThan(0);
    expect(r.peakKb).toBeLessThan(BUDGET_KB);
    expect((await sha256Url(out.url)).sha256).toBe(await sha256File(file));
  });
});
