// The emulator's outage window (local/emulator/outage.ts): OST calls answered by a gateway that is down — HTTP 503
// with an HTML page and connection resets alternating, or a port that refuses connections — for a window, from the
// API, the HTTP controls and `ost-forward emulator --outage`; and the OST client reading each as an outage.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { request } from 'undici';
import { startEmulator, CONTROL_TOKEN_HEADER, type OstEmulator } from '../local/emulator';
import { OstClient } from '../lib/ost/client';
import { isOutage, OstHttpError, TransportError } from '../lib/ost/errors';

let emu: OstEmulator;
let client: OstClient;
beforeEach(async () => {
  emu = await startEmulator();
  client = new OstClient({ endpoint: emu.endpoint, ...emu.credentials, retry: { attempts: 1 } });
});
afterEach(async () => { await client.close(); await emu.close(); });

const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error);

it('answers 503 with an HTML page and resets, alternating, for the window; then OST answers again', async () => {
  emu.outage({ ms: 400 });
  const first = await failure(client.init());
  const second = await failure(client.init());
  expect(first).toBeInstanceOf(OstHttpError);
  expect((first as OstHttpError).status).toBe(503);
  expect(second).toBeInstanceOf(TransportError);
  expect(second!.message).toMatch(/ECONNRESET|UND_ERR_SOCKET|other side closed/);
  expect([first, second].every(isOutage)).toBe(true);
  expect(emu.calls.map((c) => c.outage)).toEqual(['503', 'reset']);
  expect(emu.uploads()).toEqual([]); // nothing took effect
  await new Promise((r) => setTimeout(r, 450));
  expect((await client.init()).uploadId).toMatch(/^up_/);
  expect(emu.outageStatus()).toMatchObject({ active: false, answered503: 1, resets: 1 });
});

it('the 503 page is HTML, not OST JSON', async () => {
  emu.outage({ ms: 1_000, modes: ['503'] });
  const res = await request(`${emu.endpoint}/file/mpupload/init`, { method: 'POST', body: '{}' });
  expect(res.statusCode).toBe(503);
  expect(res.headers['content-type']).toBe('text/html');
  expect(await res.body.text()).toMatch(/^<html>[\s\S]*503 Service Temporarily Unavailable/);
});

it('refuses connections for a refuse window, then listens on the same port again', async () => {
  expect((await client.init()).uploadId).toMatch(/^up_/); // a keep-alive connection is open
  emu.outage({ ms: 300, modes: ['refuse'] });
  const refused = await failure(client.init());
  expect(refused).toBeInstanceOf(TransportError);
  expect(refused!.message).toMatch(/ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET|other side closed/);
  const again = await failure(client.init());
  expect(again!.message).toMatch(/ECONNREFUSED/);
  await new Promise((r) => setTimeout(r, 400));
  expect((await client.init()).uploadId).toMatch(/^up_/);
  expect(emu.outageStatus().refusals).toBe(1);
});

it('opens and ends windows through the HTTP controls, and rejects bad ones', async () => {
  const headers = { [CONTROL_TOKEN_HEADER]: emu.controlToken, 'content-type': 'application/json' };
  const post = (body: unknown) => request(`${emu.endpoint}/__emulator/outage`, { method: 'POST', headers, body: JSON.stringify(body) });
  const opened = await post({ seconds: 60, modes: ['reset'] });
  expect(await opened.body.json()).toMatchObject({ active: true, modes: ['reset'] });
  expect(await failure(client.init())).toBeInstanceOf(TransportError);
  const ended = await request(`${emu.endpoint}/__emulator/outage`, { method: 'DELETE', headers });
  expect(await ended.body.json()).toMatchObject({ active: false, resets: 1 });
  expect((await client.init()).uploadId).toMatch(/^up_/);
  for (const bad of [{ seconds: 0 }, { ms: 10, modes: ['refuse', '503'] }, { ms: 10, modes: ['down'] }, { ms: 10, extra: 1 }]) {
    const res = await post(bad);
    expect(res.statusCode).toBe(400);
    await res.body.dump();
  }
  const noToken = await request(`${emu.endpoint}/__emulator/outage`, { method: 'POST', body: '{"seconds":1}' });
  expect(noToken.statusCode).toBe(403);
  await noToken.body.dump();
});

describe('ost-forward emulator --outage', () => {
  const root = join(__dirname, '..');
  const outfile = join(root, 'node_modules', '.cache', 'emulator-cli-test', `outage-${process.pid}.js`);
  beforeAll(async () => {
    mkdirSync(join(outfile, '..'), { recursive: true });
    await build({
      stdin: { contents: "import { run } from './cli/commands/emulator'; run(process.argv.slice(2)).then((c) => { process.exitCode = c; });", resolveDir: root, loader: 'ts' },
      bundle: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', outfile, logLevel: 'silent',
    });
  });
  afterAll(() => rmSync(outfile, { force: true }));

  it('starts with the gateway down for the window it is given', async () => {
    const child = spawn(process.execPath, [outfile, '--port', '0', '--outage', '30', '--outage-modes', '503'], { cwd: root });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(out)), 10_000);
        child.stdout.on('data', (d: Buffer) => { out += d.toString(); if (/Press Ctrl-C/.test(out)) { clearTimeout(t); resolve(); } });
      });
      const endpoint = /^export OST_ENDPOINT=(\S+)/m.exec(out)![1]!;
      const res = await request(`${endpoint}/file/upload`, { method: 'POST', body: 'x' });
      expect(res.statusCode).toBe(503);
      await res.body.dump();
      expect(err).toMatch(/gateway down for 30 s \(503\)/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it.each([[['--outage', 'x']], [['--outage', '5', '--outage-modes', 'refuse,503']], [['--outage-modes', '503']]])('rejects %j with exit 2', async (args) => {
    const child = spawn(process.execPath, [outfile, '--port', '0', ...args], { cwd: root });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(2);
    expect(err).toMatch(/outage/);
  });
});
