// `ost-forward local --existing`, `backfill` and `status` as a user runs them: the bundled CLI in a child process.
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startAwsServer } from '../local/aws/endpoint';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { startStackOutputs } from './support/stack-outputs';
import { startLocalSqs } from '../local/aws/sqs';
import { sampleFile, tempDir, MiB } from './support/files';
import { startEmbeddedS3, type EmbeddedS3 } from '../local/aws/s3';

const root = resolve(__dirname, '..');
const outfile = join(root, 'node_modules', '.cache', 'backfill-cli-test', `cli-${process.pid}.js`);

interface Run { code: number | null; stdout: string; stderr: string }
function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const clean = { ...process.env };
  for (const k of Object.keys(clean)) if (/^(OST_|S3_|RESULTS_|STATE_MACHINE|KEY_|AWS_ENDPOINT)/.test(k)) delete clean[k];
  return new Promise((res) => {
    execFile(process.execPath, [outfile, ...args], { cwd: root, env: { ...clean, ...env }, maxBuffer: 16 * MiB, timeout: 90_000 }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

function record(status: 'forwarded' | 'failed', key: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    status, bucket: 'src', key, versionId: null, etag: 'e1', bytes: 1000, mode: 'simple', slices: 1,
    url: status === 'forwarded' ? 'https://ost.example/f' : null, sid: 'ost0001@x', uploadId: null, durationMs: 1500,
    executionName: 'name-1', restarts: 0, finishedAt: '2026-11-30T10:00:00.000Z', ...extra,
  });
}

describe('ost-forward backfill / status / local --existing (CLI)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let s3: EmbeddedS3;
  let env: Record<string, string>;
  beforeAll(async () => {
    tmp = tempDir();
    mkdirSync(join(outfile, '..'), { recursive: true });
    await build({ entryPoints: [join(root, 'cli', 'main.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', outfile, logLevel: 'silent' });
    s3 = await startEmbeddedS3({ buckets: ['src', 'results'] });
    env = { S3_ENDPOINT: s3.endpoint, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: 'us-east-1' };
  });
  afterAll(async () => {
    rmSync(outfile, { force: true });
    await s3?.close();
    tmp?.cleanup();
  });

  it('local --existing --json: files put with no event, forwarded through backfill, one line each; nothing left after', async () => {
    const a = await sampleFile(6 * MiB + 1, { dir: tmp.dir, name: 'b 会议+1.wav' });
    const b = await sampleFile(10, { dir: tmp.dir, name: 'a.txt' });
    const r = await cli(['local', '--existing', a.path, b.path, '--json', '--key-prefix', 'old/', '--threshold', String(5 * MiB), '--slice-size', String(5 * MiB)]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { key: 'old/b 会议+1.wav', status: 'forwarded', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/files\//), bytes: a.size, slices: 2, error: null },
      { key: 'old/a.txt', status: 'forwarded', url: expect.any(String), bytes: 10, slices: 1, error: null },
    ]);
    expect(r.stderr).toContain('listed 2; skipped 0; submitted 2');
    expect(r.stderr).toContain('re-check (dry run): 0 left to submit, 2 already forwarded');
    // human form: the usual lines and the summary on stdout
    const h = await cli(['local', '--existing', b.path]);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^forwarded a\.txt → http/m);
    expect(h.stdout).toContain('re-check (dry run): 0 left to submit');
  }, 90_000);

  it('backfill --dry-run lists what it would submit; usage errors exit 2; a missing bucket exits 1 in one line', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: 'src', Key: 'in/x y+z.wav', Body: 'abc' }));
    await s3.client.send(new PutObjectCommand({ Bucket: 'src', Key: 'in/skip.txt', Body: 'abc' }));
    await s3.client.send(new PutObjectCommand({ Bucket: 'src', Key: 'in/done.wav', Body: 'done' }));
    // done.wav has a forwarded record of its ETag ("done" → md5)
    await s3.client.send(new PutObjectCommand({ Bucket: 'src', Key: 'ost-forwarder/forwarded/in/done.wav/6b2ded51d81a4403d8a4bd25fa1e57ee/name-1.json', Body: record('forwarded', 'in/done.wav', { etag: '6b2ded51d81a4403d8a4bd25fa1e57ee' }) }));
    // the records are where the command is told they are: here the source bucket's own prefix
    const rec = ['--records', 's3://src/ost-forwarder/'];
    const r = await cli(['backfill', 's3://src/in/', '--dry-run', '--json', '--suffix', '.wav', ...rec], env);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.slice(0, -1)).toEqual(expect.arrayContaining([
      expect.objectContaining({ key: 'in/x y+z.wav', status: 'would-submit', bytes: 3, execution: expect.any(String) }),
      expect.objectContaining({ key: 'in/skip.txt', status: 'skipped', reason: 'suffix' }),
      expect.objectContaining({ key: 'in/done.wav', status: 'skipped', reason: 'forwarded' }),
    ]));
    expect(lines[lines.length - 1].summary).toMatchObject({ listed: 3, wouldSubmit: 1, submitted: 0, skipped: { suffix: 1, forwarded: 1 } });
    const human = await cli(['backfill', 's3://src/in/', '--dry-run', ...rec], env);
    expect(human.stdout).toContain('would submit in/x y+z.wav');
    expect(human.stdout).toMatch(/backfill s3:\/\/src\/in\/: listed 3; skipped 1 \(forwarded 1\); would submit 2; errors 0/);

    for (const args of [['backfill'], ['backfill', 'src/in'], ['backfill', 's3://src', '--max', '0'], ['backfill', 's3://src', '--since', 'yesterday'], ['backfill', 's3://src', '--bogus'], ['backfill', 's3://src']]) {
      const u = await cli(args, env);
      expect([args, u.code]).toEqual([args, 2]);
      expect(u.stderr.split('\n')[0]).toMatch(/^ost-forward backfill: /);
    }
    // never a guessed records bucket (the source bucket is not assumed)
    expect((await cli(['backfill', 's3://src', '--dry-run'], env)).stderr.split('\n')[0]).toBe('ost-forward backfill: the records bucket: --records s3://bucket/prefix (or RESULTS_BUCKET): not given; or --stage STAGE reads it from the stack\'s RecordsBucket output');
    // only the intake: no way around admission
    expect((await cli(['backfill', 's3://src', ...rec], env)).stderr.split('\n')[0]).toBe('ost-forward backfill: backfill submits into the intake queue: --queue-url URL (or INTAKE_QUEUE_URL), or --dry-run: not given; or --stage STAGE reads it from the stack\'s IntakeQueueUrl output');
    for (const around of [['--direct'], ['--state-machine-arn', 'arn:aws:states:us-east-1:1:stateMachine:s']]) {
      expect((await cli(['backfill', 's3://src', ...around, ...rec], env)).code).toBe(2);
    }

    // submitting goes into the intake queue: one S3 notification per object, which a re-run does not send again;
    // each run ends with a summary record and an `OST Backfill Finished` event
    const sqs = await startLocalSqs({});
    const aws = await startAwsServer({ stepFunctions: {} as never });
    const sendEnv = { ...env, AWS_ENDPOINT_URL_SQS: sqs.endpoint, AWS_ENDPOINT_URL_EVENTBRIDGE: aws.endpoint };
    try {
      const queueUrl = sqs.createQueue('intake');
      const sent = await cli(['backfill', 's3://src/in/', '--suffix', '.wav', '--queue-url', queueUrl, '--json', ...rec], sendEnv);
      expect(sent.code).toBe(0);
      const out = sent.stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(out.find((l) => l.summary).summary).toMatchObject({ submitted: 1, skipped: { suffix: 1, forwarded: 1 } });
      const finished = out.find((l) => l.finished).finished as string;
      expect(finished).toMatch(/^s3:\/\/src\/ost-forwarder\/backfill\/runs\/.+\.json$/);
      expect(aws.events).toEqual([expect.objectContaining({ source: 'ost-forwarder', detailType: 'OST Backfill Finished', detail: expect.objectContaining({ type: 'backfill-finished', source: 's3://src/in/', listed: 3, submitted: 1, skipped: 2, failed: 0, failures: [], record: finished }) })]);
      const runRecord = await s3.client.send(new GetObjectCommand({ Bucket: 'src', Key: finished.slice('s3://src/'.length) }));
      expect(JSON.parse(await runRecord.Body!.transformToString())).toMatchObject({ type: 'backfill-finished', submitted: 1, bytesSubmitted: 3 });
      const got = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
      expect(got.Messages).toHaveLength(1);
      expect(JSON.parse(got.Messages![0]!.Body!).Records[0].s3.object.key).toBe('in/x+y%2Bz.wav');
      const again = await cli(['backfill', 's3://src/in/', '--suffix', '.wav', '--queue-url', queueUrl, ...rec], sendEnv);
      expect(again.stdout).toMatch(/submitted 0 .*errors 0/);
      expect(again.stdout).toMatch(/^backfill finished: summary record s3:\/\/src\/ost-forwarder\/backfill\/runs\//m);
      expect(aws.events).toHaveLength(2);
    } finally {
      await sqs.close();
      await aws.close();
    }
    const missing = await cli(['backfill', 's3://no-such-bucket/', '--dry-run', '--records', 's3://no-such-bucket/ost-forwarder/'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toEqual([expect.stringContaining('NoSuchBucket')]);
  }, 120_000);

  it('backfill --from-list: the bucket from a Batch Operations CSV, a text list needs s3://bucket (exit 2), a prefix is refused', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: 'src', Key: 'list/a b.wav', Body: 'abc' }));
    await s3.client.send(new PutObjectCommand({ Bucket: 'src', Key: 'lists/keys.csv', Body: 'src,list%2Fa%20b.wav\nsrc,list%2Fnone.wav\n' }));
    const r = await cli(['backfill', '--from-list', 's3://src/lists/keys.csv', '--dry-run', '--json'], { ...env, RESULTS_BUCKET: 'src' });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual(expect.arrayContaining([
      expect.objectContaining({ key: 'list/a b.wav', status: 'would-submit' }),
      expect.objectContaining({ key: 'list/none.wav', status: 'skipped', reason: 'missing' }),
    ]));
    expect(lines.pop().summary).toMatchObject({ location: 's3://src/lists/keys.csv (s3://src)', listed: 2, wouldSubmit: 1, skipped: { missing: 1 } });
    const list = join(tmp.dir, 'keys.txt');
    writeFileSync(list, 'list/a b.wav\n');
    const text = await cli(['backfill', '--from-list', list, '--dry-run'], { ...env, RESULTS_BUCKET: 'src' });
    expect({ code: text.code, stderr: text.stderr }).toEqual({ code: 2, stderr: expect.stringContaining('give s3://bucket after --from-list') });
    expect((await cli(['backfill', '--from-list', list, 's3://src/list/', '--dry-run'], { ...env, RESULTS_BUCKET: 'src' })).code).toBe(2);
    const ok = await cli(['backfill', '--from-list', list, 's3://src', '--dry-run'], { ...env, RESULTS_BUCKET: 'src' });
    expect(ok.stdout).toContain('would submit 1');
  }, 60_000);

  it('status: counts and bytes per day, failures by error with key and sid, slowest; control characters escaped', async () => {
    const put = (key: string, body: string) => s3.client.send(new PutObjectCommand({ Bucket: 'results', Key: key, Body: body }));
    await put('p/forwarded/a.wav/n1.json', record('forwarded', 'a.wav', { durationMs: 9000 }));
    await put('p/forwarded/b.wav/n2.json', record('forwarded', 'b.wav', { bytes: 2048, finishedAt: '2026-11-29T23:59:59.000Z' }));
    await put('p/failed/evil\x1b[2J.wav/n3.json', record('failed', 'evil\x1b[2J.wav', { error: { error: 'OstQuotaError', message: 'licence exhausted', ostCode: 11200, sid: 'ost-sid-9' } }));
    await put('p/failed/x.wav/n4.json', record('failed', 'x.wav', { error: { error: 'OstQuotaError', message: 'licence exhausted', ostCode: 11200, sid: 'ost-sid-10' } }));
    await put('p/failed/d.wav/n5.json', 'not json');
    const r = await cli(['status', 's3://results/p', '--json'], env);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(5);
    const summary = lines[4].summary;
    expect(summary).toMatchObject({ forwarded: 2, failed: 2, forwardedBytes: 3048, unreadable: 1, skipped: 0 });
    expect(summary.days).toEqual([
      { day: '2026-11-29', forwarded: 1, forwardedBytes: 2048, failed: 0, failedBytes: 0, skipped: 0 },
      { day: '2026-11-30', forwarded: 1, forwardedBytes: 1000, failed: 2, failedBytes: 2000, skipped: 0 },
    ]);
    expect(summary.errors).toEqual([expect.objectContaining({ error: 'OstQuotaError', ostCode: 11200, count: 2 })]);
    const human = await cli(['status', 's3://results/p/'], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('forwarded 2 (3.0 KiB), failed 2 (2.0 KiB), unreadable records 1');
    expect(human.stdout).toMatch(/2 {2}OstQuotaError code=11200: licence exhausted/);
    expect(human.stdout).toMatch(/e\.g\. .*sid=ost-sid-/);
    expect(human.stdout).toMatch(/9\.0 s {2}a\.wav/);
    expect(human.stdout).not.toContain('\x1b');
    const failedOnly = await cli(['status', 's3://results/p/', '--failed', '--json', '--since', '2026-11-30'], env);
    expect(failedOnly.stdout.trim().split('\n').slice(0, -1).map((l) => JSON.parse(l).status)).toEqual(['failed', 'failed']);
    const none = await cli(['status'], env);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('RESULTS_BUCKET');
    expect((await cli(['status', 's3://results/p/', '--since', '30/11/2026'], env)).code).toBe(2);
  }, 60_000);

  it('--stage finds the intake queue, the records bucket and prefix and the dead-letter queues in the stack\'s outputs: already forwarded files are skipped', async () => {
    const sqs = await startLocalSqs({});
    const intake = sqs.createQueueWithDlq('prod-intake', 10);
    const stacks = await startStackOutputs({
      'ost-forwarder-prod': { IntakeQueueUrl: intake.queueUrl, IntakeDeadLetterQueueUrl: intake.dlqUrl, RecordsBucket: 'results', ResultsPrefix: 'rec/', StateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:ost-forwarder-prod' },
      'ost-forwarder-bare': { IntakeQueueUrl: intake.queueUrl },
    });
    const events = await startAwsServer({ stepFunctions: {} as never });
    const stageEnv = { ...env, AWS_ENDPOINT_URL_SQS: sqs.endpoint, AWS_ENDPOINT_URL_CLOUDFORMATION: stacks.endpoint, AWS_ENDPOINT_URL_EVENTBRIDGE: events.endpoint };
    const put = (bucket: string, key: string, body: string) => s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    try {
      await put('src', 'staged/done.wav', 'done');
      await put('src', 'staged/new.wav', 'new');
      // the deployed stack writes its records to its own bucket; a record in the source bucket is not the stack's
      await put('results', 'rec/forwarded/staged/done.wav/6b2ded51d81a4403d8a4bd25fa1e57ee/name-1.json', record('forwarded', 'staged/done.wav', { etag: '6b2ded51d81a4403d8a4bd25fa1e57ee' }));
      await put('src', 'ost-forwarder/forwarded/staged/new.wav/22af645d1859cb5ca6da0c484f1f37ea/name-2.json', record('forwarded', 'staged/new.wav', { etag: '22af645d1859cb5ca6da0c484f1f37ea' }));
      const b = await cli(['backfill', 's3://src/staged/', '--stage', 'prod', '--json'], stageEnv);
      expect(b.code).toBe(0);
      const items = b.stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(items.slice(0, -1)).toEqual(expect.arrayContaining([
        expect.objectContaining({ key: 'staged/done.wav', status: 'skipped', reason: 'forwarded' }),
        expect.objectContaining({ key: 'staged/new.wav', status: 'submitted' }),
      ]));
      // the summary, then the run's summary record (`finished`)
      expect(items.find((i) => i.summary)?.summary).toMatchObject({ listed: 2, submitted: 1, skipped: { forwarded: 1 } });
      expect(items[items.length - 1]).toHaveProperty('finished');
      const got = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: intake.queueUrl, MaxNumberOfMessages: 10 }));
      expect(got.Messages?.map((m) => JSON.parse(m.Body!).Records[0].s3.object.key)).toEqual(['staged/new.wav']);
      expect(stacks.asked).toEqual(['ost-forwarder-prod']);

      const st = await cli(['status', '--stage', 'prod'], stageEnv);
      expect(st.code).toBe(0);
      expect(st.stdout.split('\n')[0]).toBe('status s3://results/rec/: forwarded 1 (1000 B), failed 0 (0 B)');
      // a flag or variable wins over the stack
      expect((await cli(['status', 's3://results/p/', '--stage', 'prod'], stageEnv)).stdout).toContain('status s3://results/p/:');

      // what the trigger could not read waits in the intake's dead-letter queue with its reason
      await sqs.client.send(new SendMessageCommand({ QueueUrl: intake.dlqUrl, MessageBody: '{not json', MessageAttributes: { 'ost-forwarder-unreadable': { DataType: 'String', StringValue: 'unreadable message body: Unexpected token' } } }));
      const rd = await cli(['redrive', '--intake', '--stage', 'prod'], stageEnv);
      expect(rd.stdout).toMatch(/^unreadable [\w-]+: unreadable message body: Unexpected token$/m);
      expect(rd.code).toBe(1);

      // one line when the stack or an output is missing; never another bucket
      const nope = await cli(['backfill', 's3://src/staged/', '--stage', 'nope'], stageEnv);
      expect(nope.stderr.split('\n')[0]).toBe('ost-forward backfill: --stage: stack ost-forwarder-nope was not found');
      const bare = await cli(['backfill', 's3://src/staged/', '--stage', 'bare', '--dry-run'], stageEnv);
      expect(bare.stderr.split('\n')[0]).toBe('ost-forward backfill: --stage: stack ost-forwarder-bare has no RecordsBucket output; give the records bucket: --records s3://bucket/prefix (or RESULTS_BUCKET)');
      expect(bare.code).toBe(1);
      const region = await cli(['status', '--region', 'cn-north-1'], stageEnv);
      expect([region.code, region.stderr.split('\n')[0]]).toEqual([2, 'ost-forward status: --region goes with --stage (the region of the stack whose outputs name the resources)']);
    } finally {
      await stacks.close();
      await events.close();
      await sqs.close();
    }
  }, 90_000);
});
