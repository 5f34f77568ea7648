// `ost-forward local`, `ost-forward demo` and `ost-forward put s3://…` as a user runs them: the bundled CLI in a
// child process (its own bundle, so other tests building dist/ at the same time do not interfere).
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { sampleFile, sha256Url, tempDir, MiB } from './support/files';
import { startEmbeddedS3 } from '../local/aws/s3';
import { startEmulator } from '../local/emulator';

const root = resolve(__dirname, '..');
const outfile = join(root, 'node_modules', '.cache', 'local-cli-test', `cli-${process.pid}.js`);

interface Run { code: number | null; stdout: string; stderr: string }
function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const clean = { ...process.env };
  for (const k of ['OST_ENDPOINT', 'OST_APP_ID', 'OST_API_KEY', 'OST_API_SECRET', 'S3_ENDPOINT']) delete clean[k];
  return new Promise((res) => {
    execFile(process.execPath, [outfile, ...args], { cwd: root, env: { ...clean, ...env }, maxBuffer: 16 * MiB, timeout: 60_000 }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

describe('ost-forward local / demo / put s3:// (CLI)', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    tmp = tempDir();
    mkdirSync(join(outfile, '..'), { recursive: true });
    await build({ entryPoints: [join(root, 'cli', 'main.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', outfile, logLevel: 'silent' });
  });
  afterAll(async () => {
    rmSync(outfile, { force: true });
    tmp?.cleanup();
  });

  it('local --json: one line per file, in argument order, exit 0 when all were forwarded', async () => {
    const a = await sampleFile(6 * MiB + 1, { dir: tmp.dir, name: 'b 会议.wav' });
    const b = await sampleFile(10, { dir: tmp.dir, name: 'a+1.txt' });
    const r = await cli(['local', a.path, b.path, '--json', '--key-prefix', 'up/', '--threshold', String(5 * MiB), '--slice-size', String(5 * MiB)]);
    expect(r.stderr).toBe(''); // progress only on a TTY
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { key: 'up/b 会议.wav', status: 'forwarded', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/files\//), bytes: a.size, slices: 2, error: null },
      { key: 'up/a+1.txt', status: 'forwarded', url: expect.any(String), bytes: 10, slices: 1, error: null },
      { summary: { files: 2, forwarded: 2, failed: 0, peakFilesInFlight: expect.any(Number), peakMapRuns: expect.any(Number), seconds: expect.any(Number) } },
    ]);
    expect(Object.keys(lines[2].summary)).toEqual(['files', 'forwarded', 'failed', 'peakFilesInFlight', 'peakMapRuns', 'seconds']);
    expect(lines[2].summary.peakFilesInFlight).toBeGreaterThanOrEqual(1);
    expect(lines[2].summary.peakMapRuns).toBe(1);
    // the stack is gone when the command exits: the URLs were served by its emulator
    await expect(sha256Url(lines[0].url)).rejects.toThrow();
  });

  it('local --json with MAX_FILES_IN_FLIGHT: admission through the intake queue, peaks within the slots', async () => {
    const files = await Promise.all(Array.from({ length: 6 }, (_, i) => sampleFile(1000 + i, { dir: tmp.dir, name: `slot${i}.bin` })));
    const r = await cli(['local', ...files.map((f) => f.path), '--json', '--key-prefix', 'slots/'], { MAX_FILES_IN_FLIGHT: '2' });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.slice(0, 6).map((l) => l.status)).toEqual(Array(6).fill('forwarded'));
    expect(lines[6].summary).toMatchObject({ files: 6, forwarded: 6, failed: 0, peakMapRuns: 0 });
    expect(lines[6].summary.peakFilesInFlight).toBeGreaterThanOrEqual(1);
    expect(lines[6].summary.peakFilesInFlight).toBeLessThanOrEqual(2);
  });

  it('local: exit 1 and an error code when OST refuses; exit 2 on usage errors', async () => {
    const emulator = await startEmulator();
    try {
      const f = await sampleFile(100, { dir: tmp.dir, name: 'refused.bin' });
      const r = await cli(['local', f.path, '--json'], { OST_ENDPOINT: emulator.endpoint, OST_APP_ID: emulator.credentials.appId, OST_API_KEY: emulator.credentials.apiKey, OST_API_SECRET: 'wrong-secret' });
      expect(r.code).toBe(1);
      const [line, summary] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(line).toMatchObject({ key: 'refused.bin', status: 'failed', url: null, error: { code: 'OST_AUTH', message: expect.any(String) } });
      expect(summary.summary).toMatchObject({ files: 1, forwarded: 0, failed: 1 });
      expect(r.stdout + r.stderr).not.toContain('wrong-secret');
    } finally {
      await emulator.close();
    }
    expect((await cli(['local'])).code).toBe(2);
    expect((await cli(['local', join(tmp.dir, 'missing.bin')])).code).toBe(2);
    expect((await cli(['local', '--slice-size', 'x', 'f'])).code).toBe(2);
  });

  it('demo with files: forwards them and prints the sha256 comparison', async () => {
    const f = await sampleFile(2000, { dir: tmp.dir, name: 'demo me.bin' });
    const r = await cli(['demo', f.path]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('sha256     source');
    expect(r.stdout).toContain('identical');
    expect(r.stdout).toMatch(/1 of 1 file forwarded byte-exact/);
  });

  it('put s3://bucket/key reads through S3RangeSource and sends to OST (no workflow)', async () => {
    const s3 = await startEmbeddedS3({ buckets: ['src-bucket'] });
    const emulator = await startEmulator();
    try {
      const f = await sampleFile(11 * MiB, { dir: tmp.dir, name: 'whole.bin' });
      const { readFile } = await import('node:fs/promises');
      await s3.client.send(new PutObjectCommand({ Bucket: 'src-bucket', Key: 'dir/会议 1+1.bin', Body: await readFile(f.path) }));
      const env = {
        S3_ENDPOINT: s3.endpoint, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: 'us-east-1',
        OST_ENDPOINT: emulator.endpoint, OST_APP_ID: emulator.credentials.appId, OST_API_KEY: emulator.credentials.apiKey, OST_API_SECRET: emulator.credentials.apiSecret,
      };
      const r = await cli(['put', 's3://src-bucket/dir/会议 1+1.bin', '--json', '--threshold', String(5 * MiB), '--slice-size', String(5 * MiB)], env);
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout.trim());
      expect(out).toMatchObject({ bytes: f.size, mode: 'multipart', slices: 3 });
      expect((await sha256Url(out.url)).sha256).toBe(f.sha256);
      const missing = await cli(['put', 's3://src-bucket/nope'], env);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/no such object/);
    } finally {
      await emulator.close();
      await s3.close();
    }
  });
});
