// The Lambda bundles themselves (built as serverless-esbuild builds them: minified, the dependencies' ES module
// builds, undici's Pool only) run in a fresh Node process against the local stand-ins: the trigger starts an
// execution through Step Functions, Prepare heads and plans the object in S3, Report writes its record to S3 and
// its event to EventBridge. The handler tests run the TypeScript; this runs what is deployed.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { build } from 'esbuild';
import { startAwsServer, type AwsServer, type StartExecutionRequest } from '../local/aws/endpoint';
import { objectCreatedRecord, s3Event, startEmbeddedS3, type EmbeddedS3 } from '../local/aws/s3';

const ROOT = join(__dirname, '..');
const { options } = require(join(ROOT, 'scripts', 'lambda-esbuild.cjs')) as { options: Record<string, unknown> };
const { exclude: _exclude, packager: _packager, ...esbuildOptions } = options;
const ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:ost-forwarder-test';

let out: string;
let s3: EmbeddedS3;
let aws: AwsServer;
const started: StartExecutionRequest[] = [];

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'ost-bundles-'));
  for (const [fn, file] of [['trigger', 'trigger'], ['prepare', 'prepare'], ['report', 'report']]) {
    await build({ ...esbuildOptions, absWorkingDir: ROOT, entryPoints: [join(ROOT, 'functions', `${file}.ts`)], outfile: join(out, `${fn}.js`), logLevel: 'error' });
  }
  s3 = await startEmbeddedS3({ buckets: ['inbox', 'records'] });
  aws = await startAwsServer({
    stepFunctions: {
      startExecution: (req) => { started.push(req); return { executionArn: `${ARN.replace(':stateMachine:', ':execution:')}:${req.name}`, startDate: new Date() }; },
      describeExecution: () => { throw new Error('not used'); },
    },
  });
}, 120_000);

afterAll(async () => {
  await aws?.close();
  await s3?.close();
  rmSync(out, { recursive: true, force: true });
});

async function invoke(fn: string, event: unknown): Promise<any> {
  const script = 'require(process.argv[1]).handler(JSON.parse(process.argv[2])).then((r) => process.stdout.write(JSON.stringify(r)), (e) => { console.error(e); process.exit(1); })';
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script, join(out, `${fn}.js`), JSON.stringify(event)], {
    env: {
      PATH: process.env.PATH ?? '', ...aws.env(),
      S3_ENDPOINT: s3.endpoint, S3_FORCE_PATH_STYLE: 'true', AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED', AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
      STATE_MACHINE_ARN: ARN, RESULTS_BUCKET: 'records', RESULTS_PREFIX: 'ost-forwarder/', EVENT_BUS_NAME: 'default',
      OST_APP_ID: 'app', POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true',
    },
  });
  return JSON.parse(stdout);
}

it('trigger: starts an execution through the Step Functions API', async () => {
  const record = objectCreatedRecord({ bucket: 'inbox', key: 'calls/a b.wav', size: 5, eTag: 'e', versionId: 'v1' });
  const res = await invoke('trigger', s3Event([record]));
  expect(res).toMatchObject({ started: 1, duplicates: 0 });
  expect(started).toHaveLength(1);
  expect(started[0]!.stateMachineArn).toBe(ARN);
  expect(JSON.parse(started[0]!.input!)).toMatchObject({ bucket: 'inbox', key: 'calls/a b.wav', versionId: 'v1' });
}, 60_000);

it('prepare: heads the object in S3 and plans a simple upload', async () => {
  await s3.client.send(new PutObjectCommand({ Bucket: 'inbox', Key: 'small.wav', Body: Buffer.alloc(1000, 1) }));
  const res = await invoke('prepare', { input: { bucket: 'inbox', key: 'small.wav' }, execution: { Id: `${ARN}:x`, Name: 'x' } });
  expect(res).toMatchObject({ object: { bucket: 'inbox', key: 'small.wav', size: 1000 }, plan: { mode: 'simple', size: 1000 } });
}, 60_000);

it('report: writes the record to S3 and the event to EventBridge', async () => {
  const state = { object: { bucket: 'inbox', key: 'small.wav', versionId: null, etag: 'e', size: 1000 }, plan: { mode: 'simple', size: 1000 }, restarts: 0, upload: { url: 'https://ost/f', sid: 's1' } };
  const res = await invoke('report', { outcome: 'forwarded', state, execution: { Id: `${ARN}:rep`, Name: 'rep', StartTime: new Date().toISOString() } });
  expect(res).toMatchObject({ status: 'forwarded', url: 'https://ost/f', record: 's3://records/ost-forwarder/forwarded/small.wav/e/rep.json' });
  const body = await (await s3.client.send(new GetObjectCommand({ Bucket: 'records', Key: 'ost-forwarder/forwarded/small.wav/e/rep.json' }))).Body!.transformToString();
  expect(JSON.parse(body)).toMatchObject({ status: 'forwarded', key: 'small.wav' });
  expect(aws.events.map((e) => e.detailType)).toContain('OST File Forwarded');
}, 60_000);
