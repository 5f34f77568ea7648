// `ost-forward check` as a user runs it (the built CLI) against the emulator and the local AWS endpoint: it passes
// with good credentials and names the cause of each failure (wrong secret, dead endpoint, skewed clock, missing SSM
// parameter or stack output).
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChecks, STACK_OUTPUTS } from '../cli/commands/check';
import { startAwsServer, type AwsServer } from '../local/aws/endpoint';
import { startEmulator, type OstEmulator } from '../local/emulator';

const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'bin', 'ost-forward.js');

interface Run { code: number | null; stdout: string; stderr: string }

function check(args: string[], env: Record<string, string | undefined>): Promise<Run> {
  const merged = Object.fromEntries(Object.entries({ PATH: process.env.PATH, HOME: process.env.HOME, ...env })
    .filter(([, v]) => v !== undefined)) as Record<string, string>;
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'check', ...args], { env: merged, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

/** The line of one check: `<status> <check> <detail>`. */
const line = (out: string, name: string): string => out.split('\n').find((l) => l.slice(5).startsWith(`${name} `)) ?? `(no ${name} line)`;

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

let emu: OstEmulator;
let ostEnv: Record<string, string>;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'cli.js'))) {
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT }, (e) => (e ? reject(e) : resolve())));
  }
  emu = await startEmulator();
  ostEnv = { OST_ENDPOINT: emu.endpoint, OST_APP_ID: emu.credentials.appId, OST_API_KEY: emu.credentials.apiKey, OST_API_SECRET: emu.credentials.apiSecret };
});
afterAll(async () => { await emu?.close(); });

describe('ost-forward check', () => {
  it('passes against the emulator: endpoint, clock, credentials; the init it made is cancelled', async () => {
    const seq0 = emu.stats().calls;
    const r = await check([], ostEnv);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => l.slice(0, 5).trim() + ' ' + l.slice(5).split(' ')[0])).toEqual(['ok endpoint', 'ok clock', 'ok credentials']);
    expect(line(r.stdout, 'endpoint')).toMatch(/answered HTTP 404 in \d+ ms; plain http \(loopback\)/);
    expect(line(r.stdout, 'clock')).toMatch(/in step with|\d s (ahead of|behind)/);
    expect(emu.calls.filter((c) => c.seq > seq0).map((c) => [c.call, c.code])).toEqual([['init', 0], ['cancel', 0]]);
    expect(emu.orphans()).toEqual([]);
  });

  it('names a wrong secret, and prints neither the key nor the secret', async () => {
    const r = await check([], { ...ostEnv, OST_API_SECRET: 'a-wrong-secret-123' });
    expect(r.code).toBe(1);
    expect(line(r.stdout, 'credentials')).toMatch(/^FAIL credentials +the gateway refused the signature: OST_API_KEY or OST_API_SECRET is wrong/);
    expect(line(r.stdout, 'endpoint')).toMatch(/^ok /);
    expect(r.stdout).not.toContain('a-wrong-secret-123');
    expect(r.stdout).not.toContain(emu.credentials.apiKey);
  });

  it('names a wrong app_id', async () => {
    const r = await check([], { ...ostEnv, OST_APP_ID: 'someone-else' });
    expect(r.code).toBe(1);
    expect(line(r.stdout, 'credentials')).toMatch(/OST refused init: is OST_APP_ID the app these keys belong to\? .*code=10001/);
  });

  it('names a dead endpoint and skips what needs it', async () => {
    const r = await check([], { ...ostEnv, OST_ENDPOINT: `http://127.0.0.1:${await deadPort()}` });
    expect(r.code).toBe(1);
    expect(line(r.stdout, 'endpoint')).toMatch(/^FAIL endpoint .*could not be reached: ECONNREFUSED/);
    expect(line(r.stdout, 'clock')).toMatch(/^skip clock/);
    expect(line(r.stdout, 'credentials')).toMatch(/^skip credentials/);
  });

  it('names a TLS failure: an https endpoint speaking plain http', async () => {
    const r = await check([], { ...ostEnv, OST_ENDPOINT: emu.endpoint.replace('http:', 'https:') });
    expect(r.code).toBe(1);
    expect(line(r.stdout, 'endpoint')).toMatch(/^FAIL endpoint +OstTlsError .*TLS with 127\.0\.0\.1:\d+ failed/);
  });

  it('shows the TLS protocol and the certificate\'s expiry of a trusted https endpoint, and refuses an untrusted one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'check-tls-'));
    try {
      try {
        execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'),
          '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
      } catch { return; /* no openssl: nothing to test with */ }
      const server = createHttpsServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (_req, res) => res.writeHead(404).end());
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        const endpoint = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
        const trusted = await check([], { ...ostEnv, OST_ENDPOINT: endpoint, NODE_EXTRA_CA_CERTS: join(dir, 'c.pem') });
        expect(line(trusted.stdout, 'endpoint')).toMatch(/^ok +endpoint +https:\/\/127\.0\.0\.1:\d+ answered HTTP 404 in \d+ ms; TLSv1\.[23], certificate valid until \w{3} +\d+ [\d:]+ \d{4} GMT$/);
        expect(line(trusted.stdout, 'clock')).toMatch(/^ok /);
        const untrusted = await check([], { ...ostEnv, OST_ENDPOINT: endpoint });
        expect(line(untrusted.stdout, 'endpoint')).toMatch(/^FAIL .*DEPTH_ZERO_SELF_SIGNED_CERT/);
      } finally {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a skewed clock, and the credentials failure it causes', async () => {
    const lines = await runChecks({ env: ostEnv, now: () => Date.now() + 600_000 });
    expect(lines.map((l) => [l.check, l.status])).toEqual([['endpoint', 'ok'], ['clock', 'FAIL'], ['credentials', 'FAIL']]);
    expect(lines[1]!.detail).toMatch(/clock is 60\d s ahead of the endpoint's Date .* more than 300 s off/);
    expect(lines[2]!.detail).toMatch(/refused the request's date: this machine's clock is off/);
    const behind = await runChecks({ env: ostEnv, now: () => Date.now() - 400_000 });
    expect(behind[1]!.detail).toMatch(/40\d s behind/);
  });

  it('exits 2 on a usage error', async () => {
    const r = await check(['--stage', 'a b'], ostEnv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--stage/);
  });

  describe('--stage (SSM parameters and stack outputs, on the local AWS endpoint)', () => {
    let aws: AwsServer;
    const outputs = Object.fromEntries(STACK_OUTPUTS.map((k) => [k, `value-of-${k}`]));
    beforeAll(async () => {
      aws = await startAwsServer({
        stepFunctions: { startExecution: () => { throw new Error('unused'); }, describeExecution: () => { throw new Error('unused'); } },
        parameters: { '/ost-forwarder/test/api-key': emu.credentials.apiKey, '/ost-forwarder/test/api-secret': `${emu.credentials.apiSecret}\n` },
        stacks: { 'ost-forwarder-test': outputs, 'ost-forwarder-old': { StateMachineArn: 'arn:x', SourceBucket: 'b' } },
      });
    });
    afterAll(async () => { await aws?.close(); });
    const stageEnv = () => ({ ...aws.env(), OST_ENDPOINT: emu.endpoint, OST_APP_ID: emu.credentials.appId });

    it('passes with the credentials read from SSM and every output present', async () => {
      const r = await check(['--stage', 'test'], stageEnv());
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split('\n').map((l) => l.slice(0, 4).trim())).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
      expect(line(r.stdout, 'stack')).toMatch(/ost-forwarder-test: all 10 outputs present/);
      expect(line(r.stdout, 'ssm api-key')).toMatch(/\/ost-forwarder\/test\/api-key is readable and not empty \(SecureString\)/);
      expect(r.stdout).not.toContain(emu.credentials.apiSecret);
    });

    it('names a missing parameter, an empty one, missing outputs and a missing stack', async () => {
      aws.parameters.set('/ost-forwarder/old/api-key', '  ');
      const r = await check(['--stage', 'old'], stageEnv());
      expect(r.code).toBe(1);
      expect(line(r.stdout, 'ssm api-key')).toMatch(/^FAIL .*OST_API_KEY_PARAM.*SSM parameter \/ost-forwarder\/old\/api-key is empty/);
      expect(line(r.stdout, 'ssm api-secret')).toMatch(/^FAIL .*\/ost-forwarder\/old\/api-secret does not exist/);
      expect(line(r.stdout, 'stack')).toMatch(/^FAIL .*ost-forwarder-old lacks the outputs RecordsBucket, ResultsPrefix, IntakeQueueUrl/);
      // no credentials anywhere: named as the setting
      expect(line(r.stdout, 'credentials')).toMatch(/^FAIL .*OST_API_KEY/);
      const none = await check(['--stage', 'nope'], { ...stageEnv(), ...ostEnv });
      expect(line(none.stdout, 'stack')).toMatch(/^FAIL .*stack ost-forwarder-nope was not found/);
      expect(line(none.stdout, 'credentials')).toMatch(/^ok /);
    });

    it('checks exactly the outputs serverless.yml declares', () => {
      const yml = readFileSync(join(ROOT, 'serverless.yml'), 'utf8');
      const block = yml.slice(yml.indexOf('\n  Outputs:\n'));
      const declared = [...block.matchAll(/^ {4}([A-Za-z]+):$/gm)].map((m) => m[1]);
      expect(declared).toEqual([...STACK_OUTPUTS]);
    });
  });
});
