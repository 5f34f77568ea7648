// The Lambda bundles themselves (built as serverless-esbuild builds them: minified, the dependencies' ES module
// builds, undici's Pool only) run in a fresh Node process against the local stand-ins: the trigger queues a direct
// S3 notification into the intake and starts an execution for an intake batch (slots in DynamoDB), Prepare heads and plans the object in S3, Report writes its record to S3 and
// its event to EventBridge. The handler tests run the TypeScript; this runs what is deployed.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { build } from 'esbuild';
import { startAwsServer, type AwsServer, type StartExecutionRequest } from '../local/aws/endpoint';
import { objectCreatedRecord, s3Event, startEmbeddedS3, type EmbeddedS3 } from '../local/aws/s3';
import { lambdaSqsRecord } from '../local/aws/sqs';
import { startLocalFleet, type LocalFleet } from '../local/stack/fleet';
import { wavFile } from './support/media';

const ROOT = join(__dirname, '..');
const { options } = require(join(ROOT, 'scripts', 'lambda-esbuild.cjs')) as { options: Record<string, unknown> };
const { exclude: _exclude, packager: _packager, ...esbuildOptions } = options;
const ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:ost-forwarder-test';

let out: string;
let s3: EmbeddedS3;
let aws: AwsServer;
let fleet: LocalFleet;
const started: StartExecutionRequest[] = [];

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'ost-bundles-'));
  for (const [fn, file] of [['trigger', 'trigger'], ['prepare', 'prepare'], ['report', 'report']]) {
    await build({ ...esbuildOptions, absWorkingDir: ROOT, entryPoints: [join(ROOT, 'functions', `${file}.ts`)], outfile: join(out, `${fn}.js`), logLevel: 'error' });
  }
  s3 = await startEmbeddedS3({ buckets: ['inbox', 'records'] });
  fleet = await startLocalFleet({ maxFilesInFlight: 4 });
  aws = await startAwsServer({
    stepFunctions: {
      startExecution: (req) => { started.push(req); return { executionArn: `${ARN.replace(':stateMachine:', ':execution:')}:${req.name}`, startDate: new Date() }; },
      describeExecution: () => { throw new Error('not used'); },
    },
  });
}, 120_000);

afterAll(async () => {
  await aws?.close();
  await fleet?.close();
  await s3?.close();
  rmSync(out, { recursive: true, force: true });
});

async function invoke(fn: string, event: unknown): Promise<any> {
  const script = 'require(process.argv[1]).handler(JSON.parse(process.argv[2])).then((r) => process.stdout.write(JSON.stringify(r)), (e) => { console.error(e); process.exit(1); })';
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script, join(out, `${fn}.js`), JSON.stringify(event)], {
    env: {
      PATH: process.env.PATH ?? '', ...aws.env(), ...fleet.env,
      S3_ENDPOINT: s3.endpoint, S3_FORCE_PATH_STYLE: 'true', AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED', AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
      STATE_MACHINE_ARN: ARN, RESULTS_BUCKET: 'records', RESULTS_PREFIX: 'ost-forwarder/', EVENT_BUS_NAME: 'default',
      OST_APP_ID: 'app', POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true',
    },
  });
  return JSON.parse(stdout);
}

it('trigger: queues a direct S3 notification into the intake, then starts its execution from the intake batch', async () => {
  const record = objectCreatedRecord({ bucket: 'inbox', key: 'calls/a b.wav', size: 5, eTag: 'e', versionId: 'v1' });
  expect(await invoke('trigger', s3Event([record]))).toEqual({ queued: true });
  expect(started).toHaveLength(0);
  const received = await fleet.sqs.client.send(new ReceiveMessageCommand({ QueueUrl: fleet.queueUrl, MaxNumberOfMessages: 10, AttributeNames: ['All'], MessageAttributeNames: ['All'] }));
  expect(received.Messages).toHaveLength(1);
  const res = await invoke('trigger', { Records: [lambdaSqsRecord(received.Messages![0]!, fleet.queueArn)] });
  expect(res).toEqual({ batchItemFailures: [] });
  expect(started).toHaveLength(1);
  expect(started[0]!.stateMachineArn).toBe(ARN);
  expect(JSON.parse(started[0]!.input!)).toMatchObject({ bucket: 'inbox', key: 'calls/a b.wav', versionId: 'v1' });
}, 60_000);

it('prepare: heads the object in S3, describes it with the bundled media parser and plans a simple upload', async () => {
  await s3.client.send(new PutObjectCommand({ Bucket: 'inbox', Key: 'small.wav', Body: Buffer.alloc(1000, 1) }));
  const res = await invoke('prepare', { input: { bucket: 'inbox', key: 'small.wav' }, execution: { Id: `${ARN}:x`, Name: 'x' } });
  expect(res).toMatchObject({ object: { bucket: 'inbox', key: 'small.wav', size: 1000 }, plan: { mode: 'simple', size: 1000 } });
  expect(res).not.toHaveProperty('media');
  const wav = wavFile(2);
  await s3.client.send(new PutObjectCommand({ Bucket: 'inbox', Key: 'speech.wav', Body: wav, ContentType: 'audio/wav' }));
  const described = await invoke('prepare', { input: { bucket: 'inbox', key: 'speech.wav' }, execution: { Id: `${ARN}:y`, Name: 'y' } });
  expect(described).toMatchObject({ contentType: 'audio/wav', media: { container: 'WAVE', codec: 'PCM', durationSeconds: 2, sampleRate: 16000, channels: 1 } });
}, 60_000);

it('report: writes the record to S3 and the event to EventBridge', async () => {
  const state = { object: { bucket: 'inbox', key: 'small.wav', versionId: null, etag: 'e', size: 1000 }, plan: { mode: 'simple', size: 1000 }, restarts: 0, upload: { url: 'https://ost/f', sid: 's1' } };
  const res = await invoke('report', { outcome: 'forwarded', state, execution: { Id: `${ARN}:rep`, Name: 'rep', StartTime: new Date().toISOString() } });
  expect(res).toMatchObject({ status: 'forwarded', url: 'https://ost/f', record: 's3://records/ost-forwarder/forwarded/small.wav/e/rep.json' });
  const body = await (await s3.client.send(new GetObjectCommand({ Bucket: 'records', Key: 'ost-forwarder/forwarded/small.wav/e/rep.json' }))).Body!.transformToString();
  expect(JSON.parse(body)).toMatchObject({ status: 'forwarded', key: 'small.wav' });
  expect(aws.events.map((e) => e.detailType)).toContain('OST File Forwarded');
}, 60_000);
