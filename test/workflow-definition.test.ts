// Runs statemachine/definition.yml unchanged in aws-local-stepfunctions with the real handlers (Task states
// mapped by function key), the OST emulator, and S3/SSM/EventBridge mocked at the SDK boundary. Handler errors
// reach the engine the way Lambda reports them: name = errorType, message = the Lambda error JSON.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { mockClient } from 'aws-sdk-client-mock';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { StateMachine as StateMachineType } from 'aws-local-stepfunctions';
import { startEmulator } from '../local/emulator';
import type { OstEmulator } from '../local/emulator/types';
import { handlers } from '../functions';
import { mockSecretsAndSources } from './support/source-mocks';
import { logger, metrics } from '../lib/runtime/logging';
import { resetRuntime } from '../lib/runtime/reset';

const { StateMachine } = require('aws-local-stepfunctions') as typeof import('aws-local-stepfunctions');

const s3Mock = mockClient(S3Client);
const ssmMock = mockClient(SSMClient);
const ebMock = mockClient(EventBridgeClient);
const SLICE = 1024;
const BUCKET = 'inbox';
let emu: OstEmulator;
const objects = new Map<string, { body: Buffer; etag: string }>();

type Json = any;
const RAW = parse(readFileSync(join(__dirname, '..', 'statemachine/definition.yml'), 'utf8')) as Json;

/** Task state name → function key, and the definition with local ARNs. */
function prepareDefinition(): { definition: Json; taskKeys: Record<string, string> } {
  const taskKeys: Record<string, string> = {};
  const walk = (v: Json, stateName?: string): Json => {
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v && typeof v === 'object') {
      if (Array.isArray(v['Fn::GetAtt'])) {
        taskKeys[stateName!] = v['Fn::GetAtt'][0];
        return `arn:aws:lambda:us-east-1:123456789012:function:${v['Fn::GetAtt'][0]}`;
      }
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === 'States' ? Object.fromEntries(Object.entries(x as Json).map(([n, st]) => [n, walk(st, n)])) : walk(x, stateName)]));
    }
    return v;
  };
  return { definition: walk(RAW), taskKeys };
}

function lambdaLike(fn: (input: Json) => Promise<unknown>) {
  return async (input: Json): Promise<Json> => {
    try {
      return (await fn(input)) as Json;
    } catch (err) {
      const e = err as Error;
      const out = new Error(JSON.stringify({ errorType: e.name, errorMessage: e.message, trace: [] }));
      out.name = e.name;
      throw out;
    }
  };
}

interface Run { output?: Json; error?: { name: string; message: string }; states: string[] }

async function execute(key: string, name = 'exec-1'): Promise<Run> {
  const { definition, taskKeys } = prepareDefinition();
  const machine: StateMachineType = new StateMachine(definition, { validationOptions: { checkArn: false, checkPaths: false } });
  const local = Object.fromEntries(Object.entries(taskKeys).map(([state, fnKey]) => [state, lambdaLike((handlers as Json)[fnKey])]));
  const retryIntervalOverrides = Object.fromEntries(Object.keys(taskKeys).map((s) => [s, 0]));
  const input: Json = objects.has(key) ? { bucket: BUCKET, key, etag: objects.get(key)!.etag } : { bucket: BUCKET, key };
  const execution = machine.run(input, {
    overrides: { taskResourceLocalHandlers: local, retryIntervalOverrides },
    context: { Execution: { Id: `arn:aws:states:us-east-1:1:execution:sm:${name}`, Name: name } } as Json,
  });
  const states: string[] = [];
  const collect = (async () => { for await (const ev of execution.eventLogs) if (ev.type === 'StateEntered') states.push((ev as Json).state.name); })();
  try {
    const output = await execution.result;
    await collect;
    return { output, states };
  } catch (err) {
    await collect.catch(() => undefined);
    const cause = (err as { cause?: { name?: string; message?: string } }).cause;
    return { error: { name: cause?.name ?? (err as Error).name, message: cause?.message ?? (err as Error).message }, states };
  }
}

function put(key: string, body: Buffer): void {
  objects.set(key, { body, etag: createHash('md5').update(body).digest('hex') });
}

beforeAll(async () => {
  emu = await startEmulator({ port: 0, minSliceSize: SLICE });
  logger.setLogLevel('SILENT');
  jest.spyOn(metrics, 'publishStoredMetrics').mockImplementation(function (this: typeof metrics) { this.clearMetrics(); return this; });
});
afterAll(async () => { await resetRuntime(); await emu.close(); });

beforeEach(async () => {
  for (const m of [s3Mock, ssmMock, ebMock]) m.reset();
  emu.clearFaults();
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x',
    OST_ENDPOINT: emu.endpoint, OST_APP_ID: emu.credentials.appId, OST_API_KEY_PARAM: '/k', OST_API_SECRET_PARAM: '/s',
    SLICE_SIZE: String(SLICE), MIN_SLICE_SIZE: String(SLICE), SIMPLE_THRESHOLD: String(4 * SLICE), SLICE_CONCURRENCY: '2',
    CONSERVATIVE_MBPS: String((2 * SLICE) / (1024 * 1024) / 450 / 2), MAP_MAX_CONCURRENCY: '3', MAX_RESTARTS: '2',
    RESULTS_PREFIX: 'ost-forwarder/',
  });
  await resetRuntime();
  mockSecretsAndSources(ssmMock, s3Mock, emu, objects);
  s3Mock.on(PutObjectCommand).resolves({});
  ebMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
});

const events = () => ebMock.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0]!);

it('forwards a small object: Prepare → UploadWhole → ReportSuccess', async () => {
  put('a.txt', Buffer.from('hello'));
  const run = await execute('a.txt');
  expect(run.error).toBeUndefined();
  expect(run.states).toEqual(['Prepare', 'ChooseMode', 'UploadWhole', 'ReportSuccess']);
  expect(run.output).toMatchObject({ status: 'forwarded', key: 'a.txt', bytes: 5, slices: 1, url: expect.stringContaining('/files/'), executionName: 'exec-1' });
  expect(Buffer.from(await (await fetch(run.output.url)).arrayBuffer()).toString()).toBe('hello');
  expect(events().map((e) => e.DetailType)).toEqual(['OST File Forwarded']);
});

it('forwards a multipart object through the Map of batches, byte-exact', async () => {
  const body = Buffer.from(Array.from({ length: 9 * SLICE + 17 }, (_, i) => i % 256));
  put('big.bin', body);
  const run = await execute('big.bin');
  expect(run.error).toBeUndefined();
  expect(run.states.filter((s) => s === 'UploadSlices')).toHaveLength(5); // 10 slices, 2 per batch
  expect(run.output).toMatchObject({ status: 'forwarded', slices: 10, bytes: body.length, uploadId: expect.any(String) });
  expect(Buffer.from(await (await fetch(run.output.url)).arrayBuffer())).toEqual(body);
});

it('on a fatal OST error after init: Cancel → ReportFailure → Fail with the OST error', async () => {
  put('f.bin', Buffer.alloc(6 * SLICE, 1));
  emu.inject({ call: 'slice', sliceId: 3, code: 10001, times: Infinity });
  const run = await execute('f.bin', 'exec-fatal');
  expect(run.states.slice(-4)).toEqual(['Cancel', 'RestartOrReport', 'ReportFailure', 'Failed']);
  expect(run.error?.name).toBe('OstInvalidRequestError');
  expect(run.error?.message).toMatch(/code=10001/);
  const failed = events().find((e) => e.DetailType === 'OST File Forward Failed')!;
  expect(JSON.parse(failed.Detail!)).toMatchObject({
    status: 'failed', cancelled: true, key: 'f.bin', error: { error: 'OstInvalidRequestError', ostCode: 10001, sid: expect.any(String), call: 'slice', sliceId: 3 },
  });
  expect(emu.orphans()).toEqual([]);
});

it('restarts from init after OstUploadExpiredError (10005), then succeeds', async () => {
  const body = Buffer.alloc(5 * SLICE, 7);
  put('r.bin', body);
  emu.inject({ call: 'complete', code: 10005, times: 1 });
  const run = await execute('r.bin', 'exec-restart');
  expect(run.error).toBeUndefined();
  expect(run.states.filter((s) => s === 'Prepare')).toHaveLength(2);
  expect(run.states).toContain('Restart');
  expect(run.output).toMatchObject({ status: 'forwarded', restarts: 1 });
  expect(Buffer.from(await (await fetch(run.output.url)).arrayBuffer())).toEqual(body);
});

it('gives up after MAX_RESTARTS restarts and reports the 10005 failure', async () => {
  put('x.bin', Buffer.alloc(5 * SLICE, 7));
  emu.inject({ call: 'complete', code: 10005, times: Infinity });
  const run = await execute('x.bin', 'exec-expired');
  expect(run.states.filter((s) => s === 'Prepare')).toHaveLength(3);
  expect(run.error?.name).toBe('OstUploadExpiredError');
  const detail = JSON.parse(events().at(-1)!.Detail!);
  expect(detail).toMatchObject({ status: 'failed', restarts: 2, error: { ostCode: 10005 } });
});

it('reports a failure before init (object gone) without cancelling', async () => {
  const run = await execute('missing.bin', 'exec-missing');
  // CancelPrepared looks for an upload a run of Prepare initialised (its init marker): none here
  expect(run.states).toEqual(['Prepare', 'CancelPrepared', 'ReportFailure', 'Failed']);
  expect(run.error?.name).toBe('SourceChangedError');
  expect(JSON.parse(events()[0]!.Detail!)).toMatchObject({ status: 'failed', key: 'missing.bin', cancelled: false });
});

it('retries a transient OST error inside the state machine and still succeeds', async () => {
  put('t.txt', Buffer.from('transient'));
  // More 10002s than the client's own 5 attempts: the state machine's Retry takes over.
  emu.inject({ call: 'upload', code: 10002, times: 6 });
  const run = await execute('t.txt', 'exec-transient');
  expect(run.error).toBeUndefined();
  expect(run.states.filter((s) => s === 'UploadWhole').length).toBeGreaterThanOrEqual(1);
  expect(run.output).toMatchObject({ status: 'forwarded' });
});
