// Bad input through the real trigger and the whole pipeline: every bad record gets a clear logged reason and never
// stops the good records of the same event; odd but legal keys and sizes are forwarded byte-exact.
import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startEmulator, type OstEmulator } from '../local/emulator';
import { startLocalStack, type LocalStack } from '../local/stack';
import { sampleFile, tempDir } from './support/files';
import { recordLocation, type OutcomeRecord } from '../lib/workflow/outcome-records';
import { bytesFor, startHarness, type Harness, MiB } from './support/faults';
import { objectCreatedRecord, s3Event, encodeEventKey } from '../local/aws/s3';
import type { TriggerSummary } from '../functions/trigger';

let h: Harness;
beforeAll(async () => { h = await startHarness({ env: { KEY_SUFFIX_FILTER: '', SIMPLE_THRESHOLD: String(6 * MiB) } }); });
afterAll(() => h?.close());

async function put(key: string, body: Buffer): Promise<void> {
  await h.stack.s3.client.send(new PutObjectCommand({ Bucket: h.stack.bucket, Key: key, Body: body, ContentLength: body.length }));
}
const good = (key: string, size = 3) => objectCreatedRecord({ bucket: h.stack.bucket, key, size, eTag: 'e1' });
const logged = (text: string) => h.capture.lines().some((l) => l.includes(text));

describe('malformed events: the message to the intake\'s dead-letter queue with a reason each, the good record still starts', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['missing s3 block', { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put' }, /s3\.bucket\.name is missing/],
    ['missing key', { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { size: 1, eTag: 'x' } } }, /s3\.object\.key is missing/],
    ['key of the wrong type', { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 42, eTag: 'x' } } }, /s3\.object\.key is missing/],
    ['size of the wrong type', { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'k', size: '12', eTag: 'x' } } }, /size is not a non-negative integer/],
    ['negative size', { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'k', size: -1, eTag: 'x' } } }, /size is not a non-negative integer/],
    ['no version, etag or sequencer', { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'k', size: 1 } } }, /no versionId, eTag or sequencer/],
    ['bad URL encoding', { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'a%ZZ', eTag: 'x' } } }, /not valid URL encoding/],
    ['a removal event', { eventSource: 'aws:s3', eventName: 'ObjectRemoved:Delete', s3: { bucket: { name: 'b' }, object: { key: 'k', eTag: 'x' } } }, /not ObjectCreated/],
    ['another service', { eventSource: 'aws:sqs', eventName: 'ObjectCreated:Put' }, /aws:sqs/],
    ['a string', 'not a record', /not an object/],
    ['null', null, /not an object/],
  ];
  it.each(cases)('%s', async (_n, bad, reason) => {
    const key = `bad-input/good next to ${_n}.bin`;
    await put(key, Buffer.from('abc'));
    // the embedded S3 delivered its own event; this one carries the bad record first
    const body = { Records: [bad, good(key)] };
    await h.stack.notify(body);
    expect(h.stack.intakeDeadLetters()).toContainEqual({ body: JSON.stringify(body), reason: expect.stringMatching(reason) });
    expect(logged('"message":"unreadable message"')).toBe(true);
    const exec = await h.stack.waitForExecution(key);
    expect(exec?.status).toBe('SUCCEEDED');
  });

  it.each([
    ['not JSON (a string payload)', 'this is not an event'],
    ['no Records', { hello: 'world' }],
    ['Records not an array', { Records: { 0: 'x' } }],
  ])('a whole event that is %s: to the dead-letter queue with the reason, nothing started', async (_n, event) => {
    const before = h.stack.executor.executions.size;
    await h.stack.notify(event);
    expect(h.stack.intakeDeadLetters()).toContainEqual({ body: JSON.stringify(event), reason: expect.stringMatching(/^unreadable message body: /) });
    expect(h.stack.executor.executions.size).toBe(before);
  });

  it('the S3 test event is skipped', async () => {
    const before = h.stack.intakeDeadLetters().length;
    await h.stack.notify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: h.stack.bucket });
    expect(h.stack.intakeDeadLetters()).toHaveLength(before);
  });
});

describe('keys and sizes', () => {
  const odd = [
    'bad-input/line\r\nbreak.bin',
    'bad-input/quote "double" \'single\'.bin',
    'bad-input/100% sure %41 %2B.bin',
    'bad-input/a+b plus+.bin',
    'bad-input/emoji 🎙️ 录音.wav',
    // 1,024 bytes, the S3 maximum (in 200-byte folders: the embedded S3 stores keys as file paths)
    `bad-input/${Array.from({ length: 5 }, (_, i) => `${i}`.repeat(199)).join('/')}/${'k'.repeat(10)}.bin`,
  ];
  it.each(odd.map((k) => [JSON.stringify(k).slice(0, 60), k]))('forwards %s byte-exact', async (_n, key) => {
    expect(Buffer.byteLength(key)).toBeLessThanOrEqual(1024);
    const body = bytesFor(2048, key);
    await put(key, body);
    const exec = await h.stack.waitForExecution(key);
    expect(exec?.status).toBe('SUCCEEDED');
    // read the record where Report wrote it: a listing would hand back a CR/LF key XML-normalised
    const etag = createHash('md5').update(body).digest('hex');
    const loc = recordLocation({ resultsPrefix: 'ost-forwarder/' } as never, { status: 'forwarded', key, etag, executionName: exec!.name, bucket: h.stack.bucket } as OutcomeRecord);
    const got = await h.stack.s3.client.send(new GetObjectCommand({ Bucket: h.stack.recordsBucket, Key: loc.key }));
    const record = JSON.parse(await got.Body!.transformToString()) as OutcomeRecord;
    expect(Buffer.byteLength(loc.key)).toBeLessThanOrEqual(1024);
    expect(record).toMatchObject({ status: 'forwarded', key, bytes: 2048 });
    const served = Buffer.from(await (await fetch(record!.url!)).arrayBuffer());
    expect(served.equals(body)).toBe(true);
  });

  it('forwards a 0-byte object as an (empty) simple upload', async () => {
    const key = 'bad-input/empty.bin';
    await put(key, Buffer.alloc(0));
    const exec = await h.stack.waitForExecution(key);
    expect(exec?.status).toBe('SUCCEEDED');
    const [record] = await h.stack.recordsFor(key);
    expect(record).toMatchObject({ status: 'forwarded', bytes: 0, mode: 'simple' });
  });

  it('skips folder markers and the results prefix with a logged reason', async () => {
    const before = h.stack.executor.executions.size;
    await h.stack.notify(s3Event([
      objectCreatedRecord({ bucket: h.stack.bucket, key: 'bad-input/folder/', size: 0, eTag: 'd41d8cd98f00b204e9800998ecf8427e' }),
      objectCreatedRecord({ bucket: h.stack.bucket, key: 'ost-forwarder/forwarded/x/y.json', size: 10, eTag: 'e' }),
    ]));
    expect(h.stack.executor.executions.size).toBe(before);
    expect(logged('"reason":"folder marker"')).toBe(true);
    expect(logged('"reason":"under the results prefix ost-forwarder/"')).toBe(true);
  });

  it('an object past 10,000 x 5 GiB (size faked at HEAD) fails with PlanError before any init', async () => {
    const key = 'bad-input/too big.bin';
    h.s3.inject({ method: 'HEAD', key, headers: { 'content-length': String(10_000 * 5 * 1024 * MiB + 1) } });
    const inits = h.stack.emulator!.calls.filter((c) => c.call === 'init').length;
    await put(key, Buffer.from('x'));
    const exec = await h.stack.waitForExecution(key);
    expect(exec).toMatchObject({ status: 'FAILED', error: 'PlanError' });
    const [record] = await h.stack.recordsFor(key);
    expect(record).toMatchObject({ status: 'failed', error: { error: 'PlanError', message: expect.stringMatching(/exceeds the OST limit/) } });
    expect(h.stack.emulator!.calls.filter((c) => c.call === 'init').length).toBe(inits);
  });

  it('encodes keys in records the way S3 does (sanity of the event path)', () => {
    expect(encodeEventKey('a b+c')).toBe('a+b%2Bc');
  });
});

describe('filters', () => {
  let f: Harness;
  beforeAll(async () => { f = await startHarness({ env: { KEY_PREFIX_FILTER: 'in/', KEY_SUFFIX_FILTER: '.wav,.mp3' } }); });
  afterAll(() => f?.close());
  it('forwards only keys matching both filters, and says why for the others', async () => {
    const rec = (key: string) => objectCreatedRecord({ bucket: f.stack.bucket, key, size: 3, eTag: 'e' });
    await f.stack.s3.client.send(new PutObjectCommand({ Bucket: f.stack.bucket, Key: 'in/a.wav', Body: 'abc' }));
    // S3 itself sends only what the notification's filter rules pass (the template's, as the local S3 applies them)
    expect(f.stack.wires.notificationRules).toEqual([{ prefix: 'in/', suffix: '.wav' }, { prefix: 'in/', suffix: '.mp3' }]);
    // and the trigger skips the rest of a notification that carries them anyway, with reasons
    await f.stack.notify(s3Event([rec('out/a.wav'), rec('in/a.txt'), rec('in/a.wav')]));
    expect(f.capture.lines().filter((l) => l.includes('"message":"record skipped"')).map((l) => JSON.parse(l).reason)).toEqual(expect.arrayContaining(['key does not start with in/', 'key does not end with .wav or .mp3']));
    const keys = [...f.stack.executor.executions.values()].filter((e) => !e.parentArn).map((e) => (e.input as { key: string }).key);
    expect(keys).not.toContain('out/a.wav');
    expect(keys).not.toContain('in/a.txt');
    // the object's own notification forwards it (the hand-made record names another ETag: that version is not there)
    await f.stack.waitForExecution('in/a.wav');
    const mine = [...f.stack.executor.executions.values()].filter((e) => !e.parentArn && (e.input as { key: string }).key === 'in/a.wav');
    expect((await Promise.all(mine.map((e) => e.done))).map((e) => e.status)).toContain('SUCCEEDED');
  });
});

// --- the CLI as an unlucky or hostile user runs it ------------------------------------------------------------------

const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'bin', 'ost-forward.js');
interface Run { code: number | null; signal?: string | null; stdout: string; stderr: string }
const OST_VARS = ['OST_ENDPOINT', 'OST_APP_ID', 'OST_API_KEY', 'OST_API_SECRET', 'OST_CLOUD_ID', 'S3_ENDPOINT', 'POWERTOOLS_LOG_LEVEL'];

function cli(args: string[], env: Record<string, string> = {}, onChild?: (c: ChildProcess) => void, file = process.execPath, argv0: string[] = [BIN]): Promise<Run> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !OST_VARS.includes(k)) clean[k] = v;
  return new Promise((resolve) => {
    const child = execFile(file, [...argv0, ...args], { env: { ...clean, ...env }, timeout: 60_000, maxBuffer: 8 * MiB }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
    onChild?.(child);
  });
}
/** One line on stderr naming the problem, no stack trace. */
const oneLine = (r: Run, pattern: RegExp) => {
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
};

describe('ost-forward put: hostile files and answers', () => {
  let emu: OstEmulator;
  let dir: ReturnType<typeof tempDir>;
  let ostEnv: Record<string, string>;
  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'cli.js'))) execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT });
    emu = await startEmulator();
    dir = tempDir();
    ostEnv = { OST_ENDPOINT: emu.endpoint, OST_APP_ID: emu.credentials.appId, OST_API_KEY: emu.credentials.apiKey, OST_API_SECRET: emu.credentials.apiSecret };
  });
  afterAll(async () => { await emu?.close(); dir?.cleanup(); });
  beforeEach(() => { emu.clearFaults(); });

  it('a file rewritten in place (same size) while it is sent fails with SourceChangedError, never exit 0 with mixed bytes', async () => {
    const path = (await sampleFile(16 * MiB, { dir: dir.dir, name: 'recording.wav' })).path;
    let rewritten = false;
    // a slow OST: after the first chunk of the body it stops reading until the file was rewritten
    const server = createServer((req, res) => {
      let paused = false;
      req.on('data', () => {
        if (paused || rewritten) return;
        paused = true;
        req.pause();
        void (async () => {
          const h = await fs.open(path, 'r+');
          await h.write(Buffer.alloc(16 * MiB, 0x41), 0, 16 * MiB, 0);
          await h.close();
          rewritten = true;
          req.resume();
        })();
      });
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 0, sid: 's', data: { url: 'https://x.example/f' } })));
      req.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const r = await cli(['put', path], { ...ostEnv, OST_ENDPOINT: endpoint, OST_RETRY_ATTEMPTS: '1' });
    server.closeAllConnections();
    server.close();
    expect(rewritten).toBe(true);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    oneLine(r, /SourceChangedError .*recording\.wav.*(modified|while it was read)/);
  });

  it('refuses a /proc pseudo-file (stat size 0, has content) instead of sending 0 bytes', async () => {
    const r = await cli(['put', '/proc/self/status'], ostEnv);
    expect(r.code).toBe(1);
    oneLine(r, /size is not stable/);
  });

  it('SIGTERM cancels the multipart upload like SIGINT (exit 143)', async () => {
    const big = (await sampleFile(12 * MiB + 5, { dir: dir.dir, name: 'big.bin' })).path;
    emu.inject({ call: 'slice', sliceId: 1, hang: true });
    const cancels = emu.calls.filter((c) => c.call === 'cancel').length;
    const seen = emu.calls.length;
    const r = await cli(['put', big, '--slice-size', String(5 * MiB), '--threshold', String(MiB)], ostEnv, (child) => {
      const poll = setInterval(() => {
        const hung = emu.calls.slice(seen).find((c) => c.call === 'slice' && c.sliceId === 1);
        if (hung && hung.bytes > 5 * MiB) { clearInterval(poll); child.kill('SIGTERM'); }
      }, 20);
      child.on('exit', () => clearInterval(poll));
    });
    expect(r.code).toBe(143);
    oneLine(r, /interrupted \(SIGTERM\): the upload was cancelled/);
    expect(emu.calls.filter((c) => c.call === 'cancel').length).toBe(cancels + 1);
    expect(emu.orphans()).toEqual([]);
  });

  it('a data.url with a line break and an escape sequence is OstProtocolError, never printed raw', async () => {
    const server = createServer((req, res) => { req.resume(); req.on('end', () => res.end(JSON.stringify({ code: 0, sid: 's\u001b[2J', data: { url: 'https://x.example/f\n\u001b[31mFORWARDED OK' } }))); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const small = (await sampleFile(1000, { dir: dir.dir, name: 'small.bin' })).path;
    const r = await cli(['put', small], { ...ostEnv, OST_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    server.close();
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toContain('\u001b');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    oneLine(r, /OstProtocolError .*data\.url/);
  });

  it.each([
    ['OST_API_KEY with a control character', { OST_API_KEY: 'key\u0001x' }, /OST_API_KEY: contains a control character/],
    ['OST_APP_ID with a newline', { OST_APP_ID: 'app\nx' }, /OST_APP_ID: contains a control character/],
  ])('%s: one line naming it, exit 1', async (_n, env, pattern) => {
    const small = (await sampleFile(10, { dir: dir.dir, name: 'ctl.bin' })).path;
    const r = await cli(['put', small], { ...ostEnv, ...env });
    expect(r.code).toBe(1);
    oneLine(r, pattern);
  });

  it('a TLS failure (an https URL to a plain http server) is one line, exit 1', async () => {
    const server = createServer((_q, s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const small = (await sampleFile(10, { dir: dir.dir, name: 'tls.bin' })).path;
    const r = await cli(['put', small], { ...ostEnv, OST_ENDPOINT: `https://127.0.0.1:${(server.address() as AddressInfo).port}` });
    server.close();
    expect(r.code).toBe(1);
    oneLine(r, /OstTlsError .*(wrong version number|SSL)/i);
  });

  it('a file name that is not UTF-8 is reported as such, not as "not found"', async () => {
    writeFileSync(Buffer.concat([Buffer.from(dir.dir + '/latin1-'), Buffer.from([0xe9]), Buffer.from('.wav')]), 'abc');
    const r = await cli([], ostEnv, undefined, '/bin/sh', ['-c', `exec "$0" "$1" put "$(printf '${dir.dir}/latin1-\\351.wav')"`, process.execPath, BIN]);
    expect(r.code).toBe(1);
    oneLine(r, /not valid UTF-8/);
  });
});

describe('ost-forward local: key prefixes and settings', () => {
  let dir: ReturnType<typeof tempDir>;
  let file: string;
  beforeAll(async () => { dir = tempDir(); file = (await sampleFile(10, { dir: dir.dir, name: 'f.bin' })).path; });
  afterAll(() => dir?.cleanup());

  it.each([
    ['./', /'\.' or '\.\.' segment/],
    ['../x/', /'\.' or '\.\.' segment/],
    ['a/../../x/', /'\.' or '\.\.' segment/],
    ['in//', /empty segment/],
    [`${'s'.repeat(300)}/`, /longer than 255 bytes/],
    [`${'s'.repeat(250)}-`, /longer than 255 bytes/],
    ['/abs/', /must not start with \//],
  ].map(([p, re]) => [(p as string).length > 20 ? `${(p as string).slice(0, 8)}…(${(p as string).length} chars)` : p, p, re] as [string, string, RegExp]))('--key-prefix %j is a usage error (exit 2, one line)', async (_label, prefix, pattern) => {
    const r = await cli(['local', file, '--key-prefix', prefix]);
    expect(r.code).toBe(2);
    oneLine(r, pattern);
  });

  it('a /proc pseudo-file fails alone, in one line, exit 1 (no crash of the command)', async () => {
    const r = await cli(['local', '/proc/self/status', file]);
    expect(r.code).toBe(1);
    oneLine(r, /^/);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^failed +status: SOURCE_CHANGED: ".*size is not stable/);
    expect(lines[1]).toMatch(/^forwarded f\.bin → /);
  });

  it('POWERTOOLS_LOG_LEVEL=verbose: one line naming it, exit 1', async () => {
    const r = await cli(['local', file], { POWERTOOLS_LOG_LEVEL: 'verbose' });
    expect(r.code).toBe(1);
    oneLine(r, /POWERTOOLS_LOG_LEVEL: must be one of/);
  });

  it('OST_API_KEY with a control character: one line naming it, exit 1', async () => {
    const r = await cli(['local', file], { OST_ENDPOINT: 'http://127.0.0.1:9', OST_APP_ID: 'a', OST_API_KEY: 'k\u0007', OST_API_SECRET: 's' });
    expect(r.code).toBe(1);
    oneLine(r, /OST_API_KEY: contains a control character/);
  });
});

describe('the state stays bounded, and a failure always ends with its record', () => {
  let stack: LocalStack;
  let ost: Server;
  let answerFor: (path: string) => unknown;
  beforeAll(async () => {
    ost = createServer((req, res) => { req.resume(); req.on('end', () => res.end(JSON.stringify(answerFor(req.url ?? '')))); });
    await new Promise<void>((r) => ost.listen(0, '127.0.0.1', r));
    stack = await startLocalStack({ ost: { endpoint: `http://127.0.0.1:${(ost.address() as AddressInfo).port}`, appId: 'app', apiKey: 'key-1234', apiSecret: 'secret-1234' } });
  });
  afterAll(async () => { await stack?.close(); ost?.close(); });

  it('an OST 10001 with a 20,000-character message fails with a record and an event, not States.DataLimitExceeded', async () => {
    const message = '参数"错误\\\u0001x'.repeat(2_500);
    expect(message.length).toBe(20_000);
    answerFor = () => ({ code: 10001, message, sid: 'sid-big' });
    const r = await stack.forwardObject('hostile/big-message.bin', Buffer.from('abc'));
    expect(r.execution?.status).toBe('FAILED');
    expect(r.execution?.error).not.toBe('States.DataLimitExceeded');
    expect(r.status).toBe('failed');
    expect(r.records).toHaveLength(1);
    expect(r.records[0]).toMatchObject({ status: 'failed', sid: 'sid-big', error: { error: 'OstInvalidRequestError', ostCode: 10001 } });
    expect(r.records[0]!.error!.message.length).toBeLessThanOrEqual(1_000);
    expect(r.records[0]!.error!.message.startsWith('参数"错误\\\u0001')).toBe(true);
    expect(r.events).toHaveLength(1);
  });

  it('the reported status is the execution outcome: a forwarded file whose record cannot be found is still "forwarded"', async () => {
    // a Report that succeeds without writing a record where the stack looks (as a record under a key the S3 store
    // normalises, './x', did): the execution SUCCEEDED, so the file was forwarded and must not be reported failed
    const quiet = await startLocalStack({
      ost: { endpoint: `http://127.0.0.1:${(ost.address() as AddressInfo).port}`, appId: 'app', apiKey: 'key-1234', apiSecret: 'secret-1234' },
      handlers: { report: async (input: unknown) => ({ status: 'forwarded', url: (input as { state: { upload: { url: string } } }).state.upload.url, mode: 'simple', bytes: 3, slices: 0 }) },
    });
    try {
      answerFor = () => ({ code: 0, sid: 's-ok', data: { url: 'https://x.example/files/1/dot.bin' } });
      const r = await quiet.forwardObject('hostile/no-record.bin', Buffer.from('abc'));
      expect(r.execution?.status).toBe('SUCCEEDED');
      expect(r.records).toEqual([]);
      expect(r).toMatchObject({ status: 'forwarded', url: 'https://x.example/files/1/dot.bin', slices: 1 });
      expect(r.error).toBeUndefined();
    } finally {
      await quiet.close();
    }
  });

  it('the embedded S3 refuses a key with a "." or ".." segment instead of writing outside its directory', async () => {
    const marker = `escape-${process.pid}-${Date.now()}.bin`;
    for (const key of [`../../${marker}`, `a/../../../${marker}`, `./${marker}`]) {
      await expect(stack.s3.client.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: 'x' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    }
    expect(existsSync(join(tmpdir(), marker))).toBe(false);
  });
});
