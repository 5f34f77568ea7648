// `ost-forward put <file>` as a user runs it: the built CLI (bin/ost-forward.js → dist/cli.js, built by
// `npm test`'s pretest) against the emulator over loopback.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator, type OstEmulator } from '../local/emulator';
import { MiB, sampleFile, sha256File, sha256Url, tempDir } from './support/files';

const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'bin', 'ost-forward.js');
const SECRET = 'cli-test-secret-0123456789abcdef';

let emu: OstEmulator;
let dir: ReturnType<typeof tempDir>;
let small: string;
let big: string;

interface Run { code: number | null; stdout: string; stderr: string }

function put(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const base: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    OST_ENDPOINT: emu.endpoint,
    OST_APP_ID: emu.credentials.appId,
    OST_API_KEY: emu.credentials.apiKey,
    OST_API_SECRET: emu.credentials.apiSecret,
  };
  const merged = Object.fromEntries(Object.entries({ ...base, ...env }).filter(([, v]) => v !== undefined)) as Record<string, string>;
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'put', ...args], { env: merged, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'cli.js'))) {
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT }, (e) => (e ? reject(e) : resolve())));
  }
  dir = tempDir();
  small = (await sampleFile(100_000, { dir: dir.dir, name: 'small clip.wav' })).path;
  big = (await sampleFile(12 * MiB + 5, { dir: dir.dir, name: 'big.bin' })).path;
  emu = await startEmulator({ apiSecret: SECRET });
});

afterAll(async () => {
  await emu?.close();
  dir?.cleanup();
});

beforeEach(() => {
  emu.clearFaults();
  emu.calls.length = 0;
});

describe('ost-forward put <file>', () => {
  it('prints exactly one JSON line for a simple upload with --json', async () => {
    const r = await put([small, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(''); // no progress bar when stderr is not a terminal
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]);
    expect(Object.keys(out).sort()).toEqual(['bytes', 'mode', 'slices', 'url']);
    expect(out).toMatchObject({ bytes: 100_000, mode: 'simple', slices: 1 });
    expect(await sha256Url(out.url)).toEqual({ sha256: await sha256File(small), bytes: 100_000, status: 200 });
  });

  it('forwards a file in slices and prints the URL', async () => {
    const r = await put([big, '--slice-size', String(5 * MiB), '--threshold', String(MiB), '--concurrency', '2']);
    expect(r.code).toBe(0);
    const url = r.stdout.trim();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\//);
    expect((await sha256Url(url)).sha256).toBe(await sha256File(big));
    expect(emu.calls.filter((c) => c.call === 'slice')).toHaveLength(3);
  });

  it('reports multipart in --json with the slice count', async () => {
    const r = await put([big, '--json', '--slice-size', String(5 * MiB), '--threshold', String(MiB)]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ mode: 'multipart', slices: 3, bytes: 12 * MiB + 5 });
  });

  it('lets --endpoint override OST_ENDPOINT', async () => {
    const r = await put([small, '--endpoint', emu.endpoint], { OST_ENDPOINT: 'https://nowhere.invalid' });
    expect(r.code).toBe(0);
  });

  it('fails with one line naming the OST code, message and sid, and no stack', async () => {
    emu.inject({ call: 'upload', code: 10001 });
    const r = await put([small, '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ost-forward put: OstInvalidRequestError code=10001 http=200 message=".+" sid=\S+ call=upload/);
    expect(lines[0]).not.toMatch(/sid=- /);
    expect(r.stderr).not.toContain('    at ');
    expect(r.stderr).not.toContain(SECRET);
  });

  it('names the missing credential', async () => {
    const r = await put([small], { OST_API_SECRET: undefined });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('ost-forward put: OST_API_SECRET: is required (set it in the environment)');
  });

  it('refuses plain http to a non-loopback endpoint', async () => {
    const r = await put([small, '--endpoint', 'http://example.com']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ost-forward put: OST_ENDPOINT: must use https/);
    expect(r.stderr).not.toContain('    at ');
  });

  it('says when the file does not exist', async () => {
    const r = await put([join(dir.dir, 'nope.bin')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`ost-forward put: file not found: ${join(dir.dir, 'nope.bin')}`);
  });

  it('rejects a slice size below the OST minimum without a stack', async () => {
    const r = await put([big, '--slice-size', '1000']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ost-forward put: slice size must be between 5242880/);
  });

  it('honours OST_RETRY_ATTEMPTS as the functions do', async () => {
    emu.inject({ call: 'upload', status: 500 });
    const once = await put([small], { OST_RETRY_ATTEMPTS: '1', OST_RETRY_BASE_MS: '1' });
    expect(once.code).toBe(1);
    expect(emu.calls.filter((c) => c.call === 'upload')).toHaveLength(1);
    emu.calls.length = 0;
    emu.inject({ call: 'upload', status: 500 });
    const retried = await put([small], { OST_RETRY_ATTEMPTS: '2', OST_RETRY_BASE_MS: '1' });
    expect(retried.code).toBe(0);
    expect(emu.calls.filter((c) => c.call === 'upload')).toHaveLength(2);
  });

  it('honours OST_MULTIPART_DIGEST as the functions do', async () => {
    const bad = await put([small], { OST_MULTIPART_DIGEST: 'md5' });
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe(`ost-forward put: OST_MULTIPART_DIGEST: must be 'empty' or 'body', got "md5"`);
    const strict = await startEmulator({ apiSecret: SECRET, strict: true });
    try {
      const r = await put([big, '--endpoint', strict.endpoint, '--threshold', String(MiB), '--json'], { OST_MULTIPART_DIGEST: 'body', OST_APP_ID: strict.credentials.appId, OST_API_KEY: strict.credentials.apiKey, OST_API_SECRET: strict.credentials.apiSecret });
      if (r.code !== 0) throw new Error(r.stderr);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ mode: 'multipart' });
    } finally {
      await strict.close();
    }
  });

  it('exits 2 on usage errors', async () => {
    expect((await put([])).code).toBe(2);
    expect((await put([small, '--bogus'])).code).toBe(2);
    expect((await put([small, '--concurrency', 'x'])).code).toBe(2);
    expect((await put([small, small])).code).toBe(2);
  });

  it('cancels the upload and exits 130 when interrupted', async () => {
    emu.inject({ call: 'slice', sliceId: 1, hang: true });
    const env = {
      PATH: process.env.PATH ?? '', OST_ENDPOINT: emu.endpoint, OST_APP_ID: emu.credentials.appId,
      OST_API_KEY: emu.credentials.apiKey, OST_API_SECRET: emu.credentials.apiSecret,
    };
    const done = new Promise<Run>((resolve) => {
      const child = execFile(process.execPath, [BIN, 'put', big, '--slice-size', String(5 * MiB), '--threshold', String(MiB)], { env, timeout: 30_000 },
        (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }));
      const poll = setInterval(() => {
        const hung = emu.calls.find((c) => c.call === 'slice' && c.sliceId === 1);
        if (hung && hung.bytes > 5 * MiB) { clearInterval(poll); child.kill('SIGINT'); }
      }, 20);
    });
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('interrupted');
    expect(emu.calls.filter((c) => c.call === 'cancel')).toHaveLength(1);
    expect(emu.orphans()).toEqual([]);
  });

  it('retries a transient failure and still succeeds', async () => {
    emu.inject({ call: 'slice', sliceId: 2, code: 10002 });
    const r = await put([big, '--json', '--slice-size', String(5 * MiB), '--threshold', String(MiB)]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).url).toBeDefined();
    expect(r.stderr).toContain('retrying');
    expect(r.stderr).not.toContain(SECRET);
  });
});
