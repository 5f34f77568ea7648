// `ost-forward emulator` as a user runs it: a separate process, its exports pasted into a signed call, stopped
// with SIGTERM. The command is bundled on the fly (only it, not the whole CLI).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { request } from 'undici';
import { digestOf, signedHeaders } from './support/signing';

const root = join(__dirname, '..');
const outfile = join(root, 'node_modules', '.cache', 'emulator-cli-test', `emulator-${process.pid}.js`);

function waitFor(child: ChildProcessWithoutNullStreams, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; got: ${out}`)), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (pattern.test(out)) { clearTimeout(timer); resolve(out); }
    });
    child.once('exit', () => { clearTimeout(timer); reject(new Error(`exited early; got: ${out}`)); });
  });
}

describe('ost-forward emulator (CLI)', () => {
  beforeAll(async () => {
    mkdirSync(join(outfile, '..'), { recursive: true });
    await build({
      stdin: {
        contents: "import { run } from './cli/commands/emulator'; run(process.argv.slice(2)).then((c) => { process.exitCode = c; });",
        resolveDir: root, loader: 'ts',
      },
      bundle: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', outfile, logLevel: 'silent',
    });
  });

  afterAll(() => rmSync(outfile, { force: true }));

  it('prints pasteable exports, serves signed calls, logs them without secrets and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [outfile, '--port', '0'], { cwd: root });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    try {
      const out = await waitFor(child, /^export .*\n/m);
      const line = out.split('\n').find((l) => l.startsWith('export '))!;
      const env = Object.fromEntries([...line.matchAll(/(OST_[A-Z_]+)=(\S+)/g)].map((m) => [m[1], m[2]]));
      expect(env).toEqual({
        OST_ENDPOINT: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
        OST_APP_ID: 'emulator', OST_API_KEY: 'emulator-api-key', OST_API_SECRET: 'emulator-api-secret',
      });

      const path = '/file/mpupload/init';
      const body = Buffer.from(JSON.stringify({ app_id: env.OST_APP_ID, request_id: 'cli-1' }));
      const signer = { endpoint: env.OST_ENDPOINT!, credentials: { apiKey: env.OST_API_KEY!, apiSecret: env.OST_API_SECRET! } };
      const res = await request(`${env.OST_ENDPOINT}${path}`, {
        method: 'POST', body, headers: { 'content-type': 'application/json', ...signedHeaders(signer, path, digestOf(body)) },
      });
      const answer = (await res.body.json()) as { code: number; data: { upload_id: string } };
      expect(answer.code).toBe(0);

      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      await new Promise((r) => setTimeout(r, 50));
      expect(stderr).toMatch(/#1 init upload_id=up_\d+ request_id=cli-1 -> 200 code=0 sid=ost/);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).not.toContain('emulator-api-secret');
      expect(stderr).toMatch(/1 upload\(s\) were left neither completed nor cancelled/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('takes --strict, --max-concurrency and --max-qps, and prints the token the controls need', async () => {
    const child = spawn(process.execPath, [outfile, '--port', '0', '--strict', '--max-concurrency', '2', '--max-qps', '50'], { cwd: root });
    try {
      const out = await waitFor(child, /Press Ctrl-C/);
      expect(out).toMatch(/strict mode/);
      expect(out).toMatch(/flow control: more than 2 in flight get 11202; more than 50 per second get 11203/);
      const endpoint = /^export OST_ENDPOINT=(\S+)/m.exec(out)![1]!;
      const token = /x-emulator-token: ([0-9a-f]{32})/.exec(out)![1]!;
      const refused = await request(`${endpoint}/__emulator/stats`);
      expect(refused.statusCode).toBe(403);
      await refused.body.dump();
      const stats = await request(`${endpoint}/__emulator/stats`, { headers: { 'x-emulator-token': token } });
      expect(await stats.body.json()).toMatchObject({ strict: true, limits: { maxConcurrency: 2, maxQps: 50 }, calls: 0, peakConcurrency: 0 });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it.each([['--max-concurrency', '0'], ['--max-qps', 'x'], ['--max-concurrency', '1.5']])('rejects %s %s', async (flag, value) => {
    const child = spawn(process.execPath, [outfile, '--port', '0', flag, value], { cwd: root });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain(`${flag} must be a positive integer, got '${value}'`);
  });

  it('rejects a bad --port', async () => {
    const child = spawn(process.execPath, [outfile, '--port', 'x'], { cwd: root });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/--port/);
  });
});
