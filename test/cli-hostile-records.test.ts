// `backfill`, `status` and `settings` over records and settings they did not write, as a user runs them: a records
// prefix anyone with access to the bucket can write to, keys overwritten many times, impossible dates, endpoints
// that carry a password.
import { createHash } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { recordLocation } from '../lib/workflow/outcome-records';
import { startEmbeddedS3, type EmbeddedS3 } from '../local/aws/s3';
import { bundledCli, type Cli } from './support/cli';
import { MiB } from './support/files';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

function record(status: 'forwarded' | 'failed', key: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    status, bucket: 'src', key, versionId: null, etag: 'e1', bytes: 1000, mode: 'simple', slices: 1,
    url: status === 'forwarded' ? 'https://ost.example/f' : null, sid: 'ost0001@x', uploadId: null, durationMs: 1500,
    executionName: 'name-1', restarts: 0, finishedAt: '2026-11-30T10:00:00.000Z', ...extra,
  };
}

/** Runs fn over items, n at a time. */
async function inParallel<T>(items: T[], n: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => { while (next < items.length) await fn(items[next++]!); }));
}

let cli: Cli;
let s3: EmbeddedS3;
let env: Record<string, string>;
beforeAll(async () => {
  cli = await bundledCli('hostile-records-cli-test');
  s3 = await startEmbeddedS3({ buckets: ['src', 'results'] });
  env = { S3_ENDPOINT: s3.endpoint, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: 'us-east-1' };
}, 60_000);
afterAll(async () => {
  cli?.remove();
  await s3?.close();
});

const put = (bucket: string, key: string, body: string | Buffer) => s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
/** A record where the Report step writes it (records bucket `results`, RESULTS_PREFIX default). */
const putRecord = (r: Record<string, unknown>) => {
  const at = recordLocation({ resultsBucket: 'results', resultsPrefix: 'ost-forwarder/' }, r as never);
  return put(at.bucket, at.key, JSON.stringify(r));
};

describe('backfill: a key overwritten many times', () => {
  it('finds the current version forwarded, and counts all its failures, whatever else the key holds', async () => {
    await put('src', 'busy/a.wav', 'now');
    await put('src', 'busy/b.wav', 'then');
    const history = Array.from({ length: 150 }, (_, i) => record(i % 2 ? 'forwarded' : 'failed', 'busy/a.wav', { etag: md5(`old ${i}`), executionName: `a-${String(i).padStart(3, '0')}` }));
    // the current version's record sorts after all 150 of the others
    history.push(record('forwarded', 'busy/a.wav', { etag: md5('now'), executionName: 'z-current' }));
    for (let i = 0; i < 120; i++) history.push(record('failed', 'busy/b.wav', { etag: md5('then'), executionName: `b-${String(i).padStart(3, '0')}` }));
    await inParallel(history, 16, putRecord);
    const r = await cli.run(['backfill', 's3://src/busy/', '--records', 's3://results/ost-forwarder/', '--dry-run', '--json'], env);
    expect(r.code).toBe(0);
    const items = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(items).toEqual(expect.arrayContaining([
      expect.objectContaining({ key: 'busy/a.wav', status: 'skipped', reason: 'forwarded', execution: 'z-current' }),
      expect.objectContaining({ key: 'busy/b.wav', status: 'would-submit', failures: 120 }),
    ]));
  }, 90_000);
});

describe('status over foreign records', () => {
  it('counts a record with fields of other types as unreadable and reports the rest; nothing raw reaches the terminal', async () => {
    const at = (k: string) => `hostile/failed/${k}/e1/n.json`;
    await put('results', 'hostile/forwarded/ok.wav/e1/n.json', JSON.stringify(record('forwarded', 'ok.wav', { durationMs: 4000 })));
    await put('results', at('num-error.wav'), JSON.stringify(record('failed', 'num-error.wav', { error: { error: 42, message: 'x' } })));
    await put('results', at('obj-message.wav'), JSON.stringify(record('failed', 'obj-message.wav', { error: { error: 'E', message: { a: 1 } } })));
    await put('results', at('num-sid.wav'), JSON.stringify(record('failed', 'num-sid.wav', { error: { error: 'E', message: 'm', sid: 7 } })));
    await put('results', 'hostile/forwarded/nan.wav/e1/n.json', JSON.stringify(record('forwarded', 'nan.wav', { bytes: 'lots' })));
    await put('results', 'hostile/forwarded/esc.wav/e1/n.json', JSON.stringify(record('forwarded', 'esc.wav', { durationMs: 9000, mode: 'simple\x1b]0;owned\x07\x9b2J' })));
    await put('results', 'hostile/forwarded/long.wav/e1/n.json', JSON.stringify(record('forwarded', 'long.wav', { url: 'https://x/' + 'u'.repeat(30_000), sid: 's'.repeat(10_000) })));
    const human = await cli.run(['status', 's3://results/hostile/'], env);
    expect(human.stderr).toBe('');
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('forwarded 2 (2.0 KiB), failed 0 (0 B), unreadable records 5');
    expect(human.stdout).not.toMatch(/NaN|[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    const json = await cli.run(['status', 's3://results/hostile/', '--json'], env);
    expect(json.code).toBe(0);
    const lines = json.stdout.trim().split('\n');
    for (const l of lines) expect(l.length).toBeLessThan(4096);
    expect(JSON.parse(lines[lines.length - 1]!).summary).toMatchObject({ forwarded: 2, unreadable: 5 });
  }, 60_000);

  it('skips an object larger than a record unread, in bounded memory', async () => {
    await put('results', 'big/forwarded/ok.wav/e1/n.json', JSON.stringify(record('forwarded', 'ok.wav')));
    // a valid record padded to 96 MiB: read whole, it would be counted (and need several times its size in memory)
    const padded = Buffer.from(JSON.stringify(record('forwarded', 'huge.wav', { pad: 'p'.repeat(96 * MiB) })));
    await put('results', 'big/forwarded/huge.wav/e1/n.json', padded);
    const r = await cli.run(['status', 's3://results/big/', '--json'], env, { nodeOptions: ['--max-old-space-size=64'] });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!).summary).toMatchObject({ forwarded: 1, unreadable: 1 });
  }, 60_000);
});

describe('dates that are not in the calendar', () => {
  it.each(['2026-02-30', '2026-04-31', '2026-02-29', '2026-05-01T24:00'])('--since %s is a usage error for backfill and status', async (date) => {
    for (const args of [['backfill', 's3://src/busy/', '--dry-run'], ['status', 's3://results/hostile/']]) {
      const r = await cli.run([...args, '--since', date], env);
      expect([args[0], r.code]).toEqual([args[0], 2]);
      expect(r.stderr).toContain('--since must be a real ISO date');
    }
  }, 30_000);

  it('a real leap day is a date', async () => {
    const r = await cli.run(['status', 's3://results/hostile/', '--since', '2028-02-29'], env);
    expect(r.code).toBe(0);
  });
});

describe('endpoints that carry a password', () => {
  const secret = 'pa55-sekret';
  it.each([
    ['S3_ENDPOINT', `https://user:${secret}@s3.example.com`],
    ['S3_ENDPOINT', `https://user:${secret} x@s3 .example.com`],
    ['INTAKE_QUEUE_URL', `https://user:${secret}@sqs.example.com/1/q`],
    ['TRIGGER_DLQ_URL', `https://user:${secret}@sqs.example.com/1/q`],
    ['OST_ENDPOINT', `https://user:${secret} x@ost .example.com`],
  ])('%s=%s is refused, and no command prints the password', async (variable, value) => {
    const settings = await cli.run(['settings'], { [variable]: value });
    expect(settings.code).toBe(1);
    expect(settings.stdout).toMatch(new RegExp(`^${variable} +invalid: ${variable}: `, 'm'));
    const commands = variable === 'S3_ENDPOINT' || variable === 'OST_ENDPOINT'
      ? [['status', 's3://results/hostile/'], ['backfill', 's3://src/busy/', '--dry-run'], ['local', __filename]]
      : [['redrive', '--intake'], ['redrive']];
    for (const args of commands) {
      const r = await cli.run(args, { ...env, [variable]: value }, { timeoutMs: 30_000 });
      expect([args[0], r.stdout + r.stderr]).toEqual([args[0], expect.not.stringContaining(secret)]);
    }
  }, 120_000);

  it('a queue URL flag with a password is a usage error that does not quote it', async () => {
    for (const args of [['backfill', 's3://src/busy/', '--queue-url', `https://u:${secret}@q.example/1/q`], ['redrive', '--intake', '--queue-url', `https://u:${secret}@q.example/1/q`, '--to-url', 'https://q.example/1/i']]) {
      const r = await cli.run(args, env);
      expect([args[0], r.code]).toEqual([args[0], 2]);
      expect(r.stderr).toContain('must not contain a user or password');
      expect(r.stderr).not.toContain(secret);
    }
  }, 30_000);
});
