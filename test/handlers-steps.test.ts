// The step handlers with AWS mocked at the SDK boundary (aws-sdk-client-mock) and the real OST emulator.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { mockClient } from 'aws-sdk-client-mock';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DescribeExecutionCommand, ListExecutionsCommand, ListMapRunsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { startEmulator } from '../local/emulator';
import type { OstEmulator } from '../local/emulator/types';
import { handlers } from '../functions';
import { logger, metrics } from '../lib/runtime/logging';
import { resetRuntime } from '../lib/runtime/reset';
import { MAX_OBJECT_SIZE, MiB } from '../lib/ost/plan';
import { OstServerError, OstUploadExpiredError } from '../lib/ost/errors';
import { parseStepError } from '../lib/workflow/step-errors';
import { type PreparedState, type BatchInput, type ReportInput } from '../lib/workflow/state';

const s3Mock = mockClient(S3Client);
const ssmMock = mockClient(SSMClient);
const ebMock = mockClient(EventBridgeClient);
const sfnMock = mockClient(SFNClient);

const BUCKET = 'inbox';
const SLICE = 1024;
let emu: OstEmulator;
const objects = new Map<string, { body: Buffer; versionId: string; etag: string }>();

function putObject(key: string, body: Buffer, versionId = 'v1'): void {
  objects.set(key, { body, versionId, etag: createHash('md5').update(body).digest('hex') });
}

function s3Error(name: string, status: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

function lookup(input: { Key?: string; VersionId?: string; IfMatch?: string }) {
  const o = objects.get(input.Key!);
  if (!o) throw s3Error('NoSuchKey', 404);
  if (input.VersionId && input.VersionId !== o.versionId) throw s3Error('NoSuchVersion', 404);
  if (input.IfMatch && input.IfMatch !== `"${o.etag}"`) throw s3Error('UnknownError', 412);
  return o;
}

function env(extra: Record<string, string> = {}): void {
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x',
    OST_ENDPOINT: emu.endpoint, OST_APP_ID: emu.credentials.appId,
    OST_API_KEY_PARAM: '/ost/key', OST_API_SECRET_PARAM: '/ost/secret',
    SLICE_SIZE: String(SLICE), MIN_SLICE_SIZE: String(SLICE), SIMPLE_THRESHOLD: String(4 * SLICE),
    SLICE_CONCURRENCY: '3', CONSERVATIVE_MBPS: '10', MAP_MAX_CONCURRENCY: '5',
    RESULTS_PREFIX: 'ost-forwarder/', MAX_RESTARTS: '2',
    ...extra,
  });
}

const execution = { Id: 'arn:aws:states:us-east-1:1:execution:sm:clip-abc', Name: 'clip-abc', StartTime: new Date(Date.now() - 1500).toISOString() };

beforeAll(async () => {
  emu = await startEmulator({ port: 0, minSliceSize: SLICE });
  logger.setLogLevel('SILENT');
  jest.spyOn(metrics, 'publishStoredMetrics').mockImplementation(function (this: typeof metrics) { this.clearMetrics(); return this; });
});

afterAll(async () => {
  await resetRuntime();
  await emu.close();
});

beforeEach(async () => {
  for (const m of [s3Mock, ssmMock, ebMock, sfnMock]) m.reset();
  emu.clearFaults();
  objects.clear();
  env();
  await resetRuntime();
  ssmMock.on(GetParameterCommand, { Name: '/ost/key', WithDecryption: true }).resolves({ Parameter: { Name: '/ost/key', Value: emu.credentials.apiKey } });
  ssmMock.on(GetParameterCommand, { Name: '/ost/secret', WithDecryption: true }).resolves({ Parameter: { Name: '/ost/secret', Value: emu.credentials.apiSecret } });
  s3Mock.on(HeadObjectCommand).callsFake((input) => {
    const o = lookup(input);
    return { ContentLength: o.body.length, ETag: `"${o.etag}"`, VersionId: o.versionId };
  });
  s3Mock.on(GetObjectCommand).callsFake((input) => {
    const o = lookup(input);
    const m = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? '');
    if (!m) throw new Error(`test S3: expected a closed range, got ${input.Range}`);
    return { Body: Readable.from([o.body.subarray(Number(m[1]), Number(m[2]) + 1)]), ETag: `"${o.etag}"`, VersionId: o.versionId };
  });
  s3Mock.on(PutObjectCommand).resolves({});
  ebMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
});

async function fetchBytes(url: string): Promise<Buffer> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

/** Runs the happy path the way the state machine would, by hand. */
async function forward(key: string): Promise<{ state: PreparedState; url: string }> {
  const state = await handlers.prepare({ input: { bucket: BUCKET, key }, execution });
  if (state.plan.mode === 'simple') {
    const { url } = await handlers.uploadWhole(state);
    return { state, url };
  }
  for (const batch of state.batches) {
    const item: BatchInput = { object: state.object, plan: state.plan, uploadId: state.uploadId!, batch, executionName: state.executionName };
    const r = await handlers.uploadSlices(item);
    expect(r.slices).toBe(batch[1]);
  }
  const { url } = await handlers.complete(state);
  return { state, url };
}

describe('prepare', () => {
  it('plans a small object as a simple upload without calling OST', async () => {
    putObject('a/small.wav', Buffer.alloc(100, 1));
    const before = emu.calls.length;
    const state = await handlers.prepare({ input: { bucket: BUCKET, key: 'a/small.wav', versionId: 'v1' }, execution });
    expect(state).toMatchObject({ plan: { mode: 'simple', size: 100 }, batches: [], restarts: 0, maxRestarts: 2, mapMaxConcurrency: 5, executionName: 'clip-abc' });
    expect(state.object).toEqual({ bucket: BUCKET, key: 'a/small.wav', versionId: 'v1', etag: objects.get('a/small.wav')!.etag, size: 100 });
    expect(emu.calls).toHaveLength(before);
  });

  it('inits a multipart upload and emits [firstSliceId, count] batches', async () => {
    putObject('big.bin', Buffer.alloc(10 * SLICE + 5, 2));
    // 10 MiB/s x 900 s x 0.5 / 1 KiB slices: everything in one batch.
    const before = emu.calls.length;
    const state = await handlers.prepare({ input: { bucket: BUCKET, key: 'big.bin', restarts: 1 }, execution });
    expect(state.plan).toEqual({ mode: 'multipart', size: 10 * SLICE + 5, sliceSize: SLICE, sliceCount: 11 });
    expect(state.batches).toEqual([[1, 11]]);
    expect(state.uploadId).toEqual(expect.any(String));
    expect(state.restarts).toBe(1);
    expect(emu.calls.slice(before).map((c) => c.call)).toEqual(['init']);
  });

  it('keeps the state of a 10,000-slice plan far below 256 KiB, even with one slice per batch', async () => {
    env({ SLICE_SIZE: String(16 * MiB), MIN_SLICE_SIZE: String(5 * MiB), SIMPLE_THRESHOLD: String(30 * MiB) });
    await resetRuntime();
    s3Mock.on(HeadObjectCommand).resolves({ ContentLength: 10_000 * 16 * MiB, ETag: '"e"', VersionId: 'v9' });
    const state = await handlers.prepare({ input: { bucket: BUCKET, key: 'huge.bin' }, execution });
    expect(state.plan).toMatchObject({ mode: 'multipart', sliceCount: 10_000 });
    expect(state.batches.reduce((n, [, c]) => n + c, 0)).toBe(10_000);
    expect(JSON.stringify(state).length).toBeLessThan(256 * 1024);

    env({ SLICE_SIZE: String(16 * MiB), MIN_SLICE_SIZE: String(5 * MiB), CONSERVATIVE_MBPS: '0.001' });
    await resetRuntime();
    const worst = await handlers.prepare({ input: { bucket: BUCKET, key: 'huge.bin' }, execution });
    expect(worst.batches).toHaveLength(10_000);
    expect(worst.batches[9_999]).toEqual([10_000, 1]);
    const bytes = Buffer.byteLength(JSON.stringify(worst));
    expect(bytes).toBeLessThan(256 * 1024);
    // Every Map child returns one number: the Map's result array stays small too.
    expect(JSON.stringify(worst.batches.map(([, c]) => c)).length).toBeLessThan(64 * 1024);
  });

  it('fails with PlanError, before init, for an object over 10,000 x 5 GiB', async () => {
    s3Mock.on(HeadObjectCommand).resolves({ ContentLength: MAX_OBJECT_SIZE + 1, ETag: '"e"' });
    const before = emu.calls.length;
    await expect(handlers.prepare({ input: { bucket: BUCKET, key: 'too-big' }, execution })).rejects.toMatchObject({
      name: 'PlanError', message: expect.stringContaining('exceeds the OST limit'),
    });
    expect(emu.calls).toHaveLength(before);
  });

  it('reports a vanished or replaced object as SourceChangedError', async () => {
    await expect(handlers.prepare({ input: { bucket: BUCKET, key: 'gone' }, execution })).rejects.toMatchObject({ name: 'SourceChangedError' });
    putObject('x', Buffer.alloc(3));
    await expect(handlers.prepare({ input: { bucket: BUCKET, key: 'x', etag: 'other' }, execution })).rejects.toMatchObject({ name: 'SourceChangedError' });
  });
});

describe('attempt markers: a step that runs again never forwards twice nor orphans', () => {
  const inits = () => emu.calls.filter((c) => c.call === 'init').length;
  const uploads = () => emu.calls.filter((c) => c.call === 'upload').length;

  it('a Prepare run again after its init continues the same upload (init marker)', async () => {
    putObject('again.bin', Buffer.alloc(5 * SLICE, 1));
    const marker = 'ost-forwarder/attempts/init/clip-abc/0';
    const before = inits();
    const first = await handlers.prepare({ input: { bucket: BUCKET, key: 'again.bin' }, execution });
    const put = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input).find((i) => i.Key === marker);
    expect(JSON.parse(String(put?.Body))).toMatchObject({ uploadId: first.uploadId });
    // the first run's answer was lost; the re-run finds the marker
    s3Mock.on(GetObjectCommand, { Key: marker }).resolves({ Body: Readable.from([Buffer.from(String(put!.Body))]) } as never);
    const second = await handlers.prepare({ input: { bucket: BUCKET, key: 'again.bin' }, execution });
    expect(second.uploadId).toBe(first.uploadId);
    expect(inits() - before).toBe(1);
  });

  it('an UploadWhole run again after a run that ended without an answer fails as uncertain, sending nothing', async () => {
    putObject('once.txt', Buffer.from('x'.repeat(100)));
    const state = await handlers.prepare({ input: { bucket: BUCKET, key: 'once.txt' }, execution });
    s3Mock.on(PutObjectCommand, { Key: 'ost-forwarder/attempts/upload/clip-abc/0' }).rejects(s3Error('PreconditionFailed', 412));
    const before = uploads();
    await expect(handlers.uploadWhole(state)).rejects.toMatchObject({ name: 'OstUploadUncertainError' });
    expect(uploads()).toBe(before);
  });

  it('an UploadWhole that failed for sure clears its marker, so the state machine may retry it', async () => {
    putObject('refused.txt', Buffer.from('y'.repeat(100)));
    const state = await handlers.prepare({ input: { bucket: BUCKET, key: 'refused.txt' }, execution });
    emu.inject({ call: 'upload', code: 10001 });
    await expect(handlers.uploadWhole(state)).rejects.toMatchObject({ name: 'OstInvalidRequestError' });
    expect(s3Mock.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input.Key)).toEqual(['ost-forwarder/attempts/upload/clip-abc/0']);
  });

  it('a direct invocation without an execution name writes no marker (nothing to share between files)', async () => {
    putObject('direct.txt', Buffer.from('z'.repeat(100)));
    const state = await handlers.prepare({ input: { bucket: BUCKET, key: 'direct.txt' } } as never);
    await handlers.uploadWhole(state);
    await handlers.uploadWhole(state);
    expect(s3Mock.commandCalls(PutObjectCommand).filter((c) => String(c.args[0].input.Key).includes('/attempts/'))).toHaveLength(0);
  });
});

describe('uploads', () => {
  it('forwards a 0-byte object byte-exact through the simple upload', async () => {
    putObject('empty.txt', Buffer.alloc(0));
    const { state, url } = await forward('empty.txt');
    expect(state.plan).toEqual({ mode: 'simple', size: 0 });
    expect((await fetchBytes(url)).length).toBe(0);
    // No GetObject for an empty range.
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it('forwards a small object byte-exact, reading it pinned to its version', async () => {
    const body = Buffer.from('hello, ost '.repeat(50));
    putObject('dir/hello world+.txt', body, 'v7');
    const { url } = await forward('dir/hello world+.txt');
    expect(await fetchBytes(url)).toEqual(body);
    const get = s3Mock.commandCalls(GetObjectCommand)[0]!.args[0].input;
    expect(get).toMatchObject({ Bucket: BUCKET, Key: 'dir/hello world+.txt', VersionId: 'v7', Range: `bytes=0-${body.length - 1}` });
  });

  it('forwards a multipart object byte-exact over several batches', async () => {
    env({ CONSERVATIVE_MBPS: String((3 * SLICE) / MiB / 450 / 3) }); // budget = 3 slices per batch (3 streams)
    await resetRuntime();
    const body = Buffer.from(Array.from({ length: 7 * SLICE + 300 }, (_, i) => (i * 7) % 251));
    putObject('multi.bin', body);
    const { state, url } = await forward('multi.bin');
    expect(state.batches).toEqual([[1, 3], [4, 3], [7, 2]]);
    expect(await fetchBytes(url)).toEqual(body);
    const upload = emu.uploads().find((u) => u.uploadId === state.uploadId)!;
    expect(upload).toMatchObject({ state: 'completed', sliceUploads: 8 });
  });

  it('throws a batch failure with a name the state machine matches and a parseable message', async () => {
    putObject('m.bin', Buffer.alloc(5 * SLICE, 3));
    const state = await handlers.prepare({ input: { bucket: BUCKET, key: 'm.bin' }, execution });
    emu.inject({ call: 'slice', sliceId: 2, code: 10005, times: Infinity });
    const item: BatchInput = { object: state.object, plan: state.plan as BatchInput['plan'], uploadId: state.uploadId!, batch: [1, 5] };
    const err = await handlers.uploadSlices(item).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe(OstUploadExpiredError.name);
    // What a Catch receives on AWS: Error = errorType, Cause = the Lambda error JSON.
    const cause = JSON.stringify({ errorType: (err as Error).name, errorMessage: (err as Error).message, trace: [] });
    const info = parseStepError({ Error: (err as Error).name, Cause: cause });
    expect(info).toMatchObject({ error: 'OstUploadExpiredError', ostCode: 10005, call: 'slice', sliceId: 2 });
    expect(info.sid).toEqual(expect.any(String));
  });

  it('maps a source that changed mid-upload to SourceChangedError', async () => {
    putObject('c.bin', Buffer.alloc(6 * SLICE, 4));
    const state = await handlers.prepare({ input: { bucket: BUCKET, key: 'c.bin' }, execution });
    putObject('c.bin', Buffer.alloc(6 * SLICE, 5), 'v2'); // overwritten: the pinned version is gone
    const item: BatchInput = { object: state.object, plan: state.plan as BatchInput['plan'], uploadId: state.uploadId!, batch: [1, 6] };
    await expect(handlers.uploadSlices(item)).rejects.toMatchObject({ name: 'SourceChangedError' });
  });
});

describe('cancel', () => {
  it('cancels the upload and passes the original error through', async () => {
    putObject('m.bin', Buffer.alloc(5 * SLICE));
    const state = await handlers.prepare({ input: { bucket: BUCKET, key: 'm.bin' }, execution });
    const error = { Error: 'OstServerError', Cause: '{"errorType":"OstServerError","errorMessage":"code=10002 message=\\"x\\" sid=s1","trace":[]}' };
    const res = await handlers.cancel({ uploadId: state.uploadId, object: state.object, error, execution });
    expect(res).toMatchObject({ cancelled: true, sid: expect.any(String), error });
    expect(emu.uploads().find((u) => u.uploadId === state.uploadId)!.state).toBe('cancelled');
  });

  it('is best effort: an OST failure is reported, never thrown', async () => {
    emu.inject({ call: 'cancel', code: 10001, times: Infinity });
    const error = { Error: 'OstAuthError', Cause: 'x' };
    const res = await handlers.cancel({ uploadId: 'nope', error, execution });
    expect(res.cancelled).toBe(false);
    expect(res.reason).toMatch(/OstInvalidRequestError/);
    expect(res.error).toEqual(error);
  });

  it('resolves a Distributed Map failure to the failing batch error (AWS)', async () => {
    sfnMock.on(ListMapRunsCommand).resolves({ mapRuns: [{ mapRunArn: 'arn:aws:states:us-east-1:1:mapRun:sm/UploadBatches:r1', executionArn: execution.Id, stateMachineArn: 'x', startDate: new Date() }] });
    sfnMock.on(ListExecutionsCommand, { statusFilter: 'FAILED' }).resolves({ executions: [{ executionArn: 'arn:child', stateMachineArn: 'x', name: 'c', status: 'FAILED', startDate: new Date() }] });
    const childCause = JSON.stringify({ errorType: 'OstUploadExpiredError', errorMessage: 'code=10005 message="expired" sid=s9 call=slice slice=4', trace: [] });
    sfnMock.on(DescribeExecutionCommand).resolves({ executionArn: 'arn:child', stateMachineArn: 'x', status: 'FAILED', startDate: new Date(), error: 'OstUploadExpiredError', cause: childCause });
    const res = await handlers.cancel({ error: { Error: 'States.ExceedToleratedFailureThreshold', Cause: 'threshold' }, execution });
    expect(res.error).toEqual({ Error: 'OstUploadExpiredError', Cause: childCause });
    expect(res.cancelled).toBe(false);
  });
});

describe('report', () => {
  it('writes the success record and the OST File Forwarded event', async () => {
    putObject('rec/a b.wav', Buffer.alloc(10));
    const { state, url } = await forward('rec/a b.wav');
    const out = await handlers.report({ outcome: 'forwarded', state: { ...state, upload: { url, sid: 'sid-1' } }, execution });
    expect(out).toMatchObject({
      status: 'forwarded', bucket: BUCKET, key: 'rec/a b.wav', versionId: 'v1', bytes: 10, slices: 1, url, sid: 'sid-1',
      uploadId: null, executionName: 'clip-abc', durationMs: expect.any(Number),
      record: `s3://inbox/ost-forwarder/forwarded/rec/a b.wav/${objects.get('rec/a b.wav')!.etag}/clip-abc.json`,
    });
    // (the attempt marker of the upload step is a PutObject too; the record is the one outside attempts/)
    const put = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input).find((i) => !String(i.Key).includes('/attempts/'))!;
    expect(put).toMatchObject({ Bucket: BUCKET, Key: `ost-forwarder/forwarded/rec/a b.wav/${objects.get('rec/a b.wav')!.etag}/clip-abc.json`, ContentType: 'application/json' });
    expect(JSON.parse(String(put.Body))).toMatchObject({ status: 'forwarded', url });
    const entry = ebMock.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!;
    expect(entry).toMatchObject({ Source: 'ost-forwarder', DetailType: 'OST File Forwarded', EventBusName: 'default' });
    expect(JSON.parse(entry.Detail!)).toMatchObject({ url, key: 'rec/a b.wav' });
  });

  it('writes the failure record with the OST code/message/sid and whether it was cancelled', async () => {
    env({ RESULTS_BUCKET: 'records', RESULTS_PREFIX: 'out/', EVENT_BUS_NAME: 'bus' });
    await resetRuntime();
    const err = new OstServerError('storage failed', { ostCode: 10002, status: 200, sid: 'sid-42', call: 'slice', sliceId: 3 });
    const cause = JSON.stringify({ errorType: err.name, errorMessage: err.describe().slice(err.name.length + 1), trace: [] });
    const input: ReportInput = {
      outcome: 'failed',
      state: {
        object: { bucket: BUCKET, key: 'k.bin', versionId: null, etag: 'e', size: 99 },
        plan: { mode: 'multipart', size: 99, sliceSize: 10, sliceCount: 10 }, uploadId: 'u1', restarts: 0,
        error: { Error: err.name, Cause: cause },
        cancel: { cancelled: true, sid: 'sid-c', error: { Error: err.name, Cause: cause } },
      },
      execution,
    };
    const out = await handlers.report(input);
    expect(out).toMatchObject({
      status: 'failed', url: null, sid: 'sid-42', uploadId: 'u1', slices: 10, cancelled: true, cancelSid: 'sid-c',
      error: { error: 'OstServerError', ostCode: 10002, message: 'storage failed', sid: 'sid-42', call: 'slice', sliceId: 3 },
      errorName: 'OstServerError', record: 's3://records/out/failed/k.bin/e/clip-abc.json',
    });
    expect(out.summary).toContain('code=10002');
    expect(out.summary).toContain('sid=sid-42');
    const entry = ebMock.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!;
    expect(entry).toMatchObject({ DetailType: 'OST File Forward Failed', EventBusName: 'bus' });
  });

  it('records a failure before Prepare finished from the execution input', async () => {
    const out = await handlers.report({
      outcome: 'failed',
      state: { bucket: BUCKET, key: 'q.wav', versionId: 'v3', error: { Error: 'PlanError', Cause: JSON.stringify({ errorType: 'PlanError', errorMessage: 'too big', trace: [] }) } },
      execution,
    });
    expect(out).toMatchObject({ key: 'q.wav', versionId: 'v3', cancelled: false, error: { error: 'PlanError', message: 'too big' } });
  });

  it('fails when EventBridge rejects the event', async () => {
    ebMock.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'no' }] });
    await expect(handlers.report({ outcome: 'failed', state: { bucket: BUCKET, key: 'z' }, execution })).rejects.toMatchObject({ name: 'EventPublishError' });
  });
});

describe('secrets', () => {
  it('never puts the api secret or key in logs, outputs, records, events or errors', async () => {
    const writes: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { writes.push(String(chunk)); return true; });
    logger.setLogLevel('DEBUG');
    try {
      putObject('s.bin', Buffer.alloc(5 * SLICE, 9));
      const { state, url } = await forward('s.bin');
      const ok = await handlers.report({ outcome: 'forwarded', state: { ...state, upload: { url, sid: 's' } }, execution });
      emu.inject({ call: 'init', status: 401, times: 1 });
      const err = await handlers.prepare({ input: { bucket: BUCKET, key: 's.bin' }, execution }).catch((e: Error) => e);
      expect((err as Error).name).toBe('OstAuthError');
      const texts = [
        ...writes, JSON.stringify(state), JSON.stringify(ok), String((err as Error).message), String((err as Error).stack),
        ...s3Mock.commandCalls(PutObjectCommand).map((c) => String(c.args[0].input.Body)),
        ...ebMock.commandCalls(PutEventsCommand).map((c) => JSON.stringify(c.args[0].input)),
      ].join('\n');
      expect(writes.length).toBeGreaterThan(0);
      expect(texts).not.toContain(emu.credentials.apiSecret);
      expect(texts).not.toContain(emu.credentials.apiKey);
    } finally {
      spy.mockRestore();
      logger.setLogLevel('SILENT');
    }
  });

  it('reads the secrets from SSM with decryption, never from the environment', async () => {
    putObject('e.bin', Buffer.alloc(5 * SLICE));
    await handlers.prepare({ input: { bucket: BUCKET, key: 'e.bin' }, execution });
    const names = ssmMock.commandCalls(GetParameterCommand).map((c) => [c.args[0].input.Name, c.args[0].input.WithDecryption]);
    expect(names).toEqual(expect.arrayContaining([['/ost/key', true], ['/ost/secret', true]]));
    // Cached: a second invocation does not read SSM again.
    await handlers.prepare({ input: { bucket: BUCKET, key: 'e.bin' }, execution });
    expect(ssmMock.commandCalls(GetParameterCommand)).toHaveLength(2);
  });
});
