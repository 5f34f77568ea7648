// Every end has a record, and the operator commands find a deployed stack: the local stack in its deployed shape
// (records in their own bucket, the intake, the release rule) with one execution stopped (ABORTED) and one past the
// state machine's timeout (TIMED_OUT), both after init. The release function cancels the upload each one's init
// marker names and writes its failure record and event; then the CLI, finding the queue and the records through
// `--stage` from a stack-outputs stand-in, shows them in `status`, resubmits them with `backfill --failed-only`,
// and skips what was forwarded.
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startLocalStack, type LocalStack } from '../local/stack';
import type { LambdaHandler } from '../local/executor';
import { handlers as realHandlers } from '../functions';
import { startStackOutputs, type StackOutputsStandIn } from './support/stack-outputs';
import { KiB } from './support/files';

jest.setTimeout(240_000);

const root = resolve(__dirname, '..');
const outfile = join(root, 'node_modules', '.cache', 'execution-ends-test', `cli-${process.pid}.js`);
const SLICE = 64 * KiB;
const TIMEOUT_SECONDS = 12;

/** Keys whose batch upload hangs (after init: the upload is open) until `hanging` is turned off. */
let hanging = true;
const hangs = (input: unknown) => hanging && /"key":"ends\/(stopped|late)\.bin"/.test(JSON.stringify(input));
const hang: LambdaHandler = async (input, context) => {
  if (hangs(input)) await new Promise((r) => setTimeout(r, (TIMEOUT_SECONDS + 20) * 1000));
  return (realHandlers.uploadSlices as unknown as LambdaHandler)(input, context);
};

let stack: LocalStack;
let stacks: StackOutputsStandIn;
let env: Record<string, string>;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean = { ...process.env };
  for (const k of Object.keys(clean)) if (/^(OST_|S3_|RESULTS_|STATE_MACHINE|KEY_|AWS_ENDPOINT|INTAKE_)/.test(k)) delete clean[k];
  return new Promise((res) => {
    execFile(process.execPath, [outfile, ...args], { cwd: root, env: { ...clean, ...env }, timeout: 90_000 }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  mkdirSync(join(outfile, '..'), { recursive: true });
  await build({ entryPoints: [join(root, 'cli', 'main.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', outfile, logLevel: 'silent' });
  stack = await startLocalStack({
    emulator: { minSliceSize: SLICE },
    env: { SLICE_SIZE: String(SLICE), MIN_SLICE_SIZE: String(SLICE), SIMPLE_THRESHOLD: String(128 * KiB) },
    handlers: { uploadSlices: hang },
    executionTimeoutSeconds: TIMEOUT_SECONDS,
  });
  stacks = await startStackOutputs({
    'ost-forwarder-local': { IntakeQueueUrl: stack.fleet.queueUrl, RecordsBucket: stack.recordsBucket, ResultsPrefix: 'ost-forwarder/', IntakeDeadLetterQueueUrl: stack.fleet.dlqUrl },
  });
  env = {
    S3_ENDPOINT: stack.s3.endpoint, AWS_ACCESS_KEY_ID: stack.s3.accessKeyId, AWS_SECRET_ACCESS_KEY: stack.s3.secretAccessKey, AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_SQS: stack.fleet.env.AWS_ENDPOINT_URL_SQS!, AWS_ENDPOINT_URL_CLOUDFORMATION: stacks.endpoint,
    // a backfill that submitted puts its `OST Backfill Finished` event
    AWS_ENDPOINT_URL_EVENTBRIDGE: stack.env.AWS_ENDPOINT_URL_EVENTBRIDGE!,
  };
});

afterAll(async () => {
  hanging = false;
  await stacks?.close();
  await stack?.close();
  rmSync(outfile, { force: true });
});

it('records in their own bucket, as deployed', () => {
  expect(stack.recordsBucket).toBe('ost-forwarder-local-records-000000000000-us-east-1');
  expect(stack.recordsBucket).not.toBe(stack.bucket);
});

it('an aborted and a timed-out execution each end with a failure record that status counts and backfill --failed-only resubmits', async () => {
  const body = (n: number) => Buffer.alloc(3 * SLICE + n, n);
  const done = await stack.forwardObject('ends/done.bin', body(1));
  expect(done.status).toBe('forwarded');

  // both hang in their first batch, after init
  const put = (key: string, n: number) => stack.s3.client.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: body(n) }));
  await put('ends/stopped.bin', 2);
  await put('ends/late.bin', 3);
  const running = (key: string) => until(`${key} in its batch`, async () => [...stack.executor.executions.values()].find((e) => !e.parentArn && (e.input as { key: string }).key === key && e.entered.some((s) => s.name === 'UploadBatches')));
  const stopped = await running('ends/stopped.bin');
  const late = await running('ends/late.bin');
  stack.executor.stopExecution(stopped.executionArn, 'Operator.Stop', 'stopped by hand');
  expect((await stopped.done).status).toBe('ABORTED');
  expect((await late.done).status).toBe('TIMED_OUT');

  // the release function: the open upload cancelled, a failure record and its event, for each
  const failedRecord = (key: string) => until(`the failure record of ${key}`, async () => (await stack.recordsFor(key)).find((r) => r.status === 'failed'));
  const a = await failedRecord('ends/stopped.bin');
  const t = await failedRecord('ends/late.bin');
  expect(a).toMatchObject({ executionName: stopped.name, error: { error: 'Operator.Stop', message: 'stopped by hand' }, cancelled: true, uploadId: expect.any(String) });
  expect(t).toMatchObject({ executionName: late.name, error: { error: 'States.Timeout' }, cancelled: true, uploadId: expect.any(String) });
  const cancels = stack.emulator!.calls.filter((c) => c.call === 'cancel' && c.code === 0).map((c) => c.uploadId);
  expect(cancels).toEqual(expect.arrayContaining([a.uploadId, t.uploadId]));
  expect(stack.eventsFor('ends/late.bin').map((e) => e.detailType)).toContain('OST File Forward Failed');

  // the CLI against the stack, found through --stage: status counts both; a plain backfill skips what was forwarded
  const status = await cli(['status', '--stage', 'local', '--json']);
  expect(status.code).toBe(0);
  expect(JSON.parse(status.stdout.trim().split('\n').pop()!).summary).toMatchObject({ location: `s3://${stack.recordsBucket}/ost-forwarder/`, forwarded: 1, failed: 2 });
  const dry = await cli(['backfill', `s3://${stack.bucket}/ends/`, '--stage', 'local', '--dry-run', '--json']);
  expect(JSON.parse(dry.stdout.trim().split('\n').pop()!).summary).toMatchObject({ listed: 3, wouldSubmit: 2, skipped: { forwarded: 1 } });

  // --failed-only resubmits both into the intake (a new round: a new execution name); this time they go through
  hanging = false;
  const retry = await cli(['backfill', `s3://${stack.bucket}/ends/`, '--stage', 'local', '--failed-only', '--json']);
  expect(retry.code).toBe(0);
  const items = retry.stdout.trim().split('\n').slice(0, -1).map((l) => JSON.parse(l));
  expect(items.filter((i) => i.status === 'submitted').map((i) => [i.key, i.failures]).sort()).toEqual([['ends/late.bin', 1], ['ends/stopped.bin', 1]]);
  for (const key of ['ends/stopped.bin', 'ends/late.bin']) {
    await until(`${key} forwarded on retry`, async () => ((await stack.recordsFor(key)).some((r) => r.status === 'forwarded') ? true : undefined));
  }
  expect(stacks.asked.every((n) => n === 'ost-forwarder-local')).toBe(true);
});
