// A batch longer than its Lambda timeout still completes. The real definition and handlers run in the
// local executor with the uploadSlices timeout cut to 2 s, and the OST emulator answers every slice 400 ms late:
// one batch of 12 slices, 2 in flight, needs ~2.4 s, so each attempt is cut short and the retry sends only what OST
// did not acknowledge (per-batch progress under attempts/slices/ in the records bucket, here an S3 mock).
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SSMClient } from '@aws-sdk/client-ssm';
import { startEmulator } from '../local/emulator';
import type { OstEmulator } from '../local/emulator/types';
import { LocalExecutor, loadProjectDefinition, serverlessResolver, type LambdaHandler } from '../local/executor';
import { handlers } from '../functions';
import { mockSecretsAndSources, type MockObjects } from './support/source-mocks';
import { logger, metrics } from '../lib/runtime/logging';
import { resetRuntime } from '../lib/runtime/reset';

const [s3Mock, ssmMock, ebMock] = [mockClient(S3Client), mockClient(SSMClient), mockClient(EventBridgeClient)];
const objects: MockObjects = new Map();
const SLICE = 1024;
const BUCKET = 'inbox';
let emu: OstEmulator;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, minSliceSize: SLICE });
  logger.setLogLevel(process.env.DBG ? 'WARN' : 'SILENT');
  jest.spyOn(metrics, 'publishStoredMetrics').mockImplementation(function (this: typeof metrics) { this.clearMetrics(); return this; });
});
afterAll(async () => { await resetRuntime(); await emu.close(); });

beforeEach(async () => {
  for (const m of [s3Mock, ssmMock, ebMock]) m.reset();
  objects.clear();
  emu.clearFaults();
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x',
    OST_ENDPOINT: emu.endpoint, OST_APP_ID: emu.credentials.appId, OST_API_KEY_PARAM: '/k', OST_API_SECRET_PARAM: '/s',
    SLICE_SIZE: String(SLICE), MIN_SLICE_SIZE: String(SLICE), SIMPLE_THRESHOLD: String(4 * SLICE), SLICE_CONCURRENCY: '2',
    // sized for the deployed 900 s: one batch of all slices, which the 2 s local timeout cannot hold
    CONSERVATIVE_MBPS: '1', UPLOAD_SLICES_TIMEOUT: '900', MAP_MAX_CONCURRENCY: '3', MAX_RESTARTS: '2', RESULTS_PREFIX: 'ost-forwarder/',
  });
  await resetRuntime();
  mockSecretsAndSources(ssmMock, s3Mock, emu, objects);
  s3Mock.on(PutObjectCommand).callsFake((i) => { put(i.Key, Buffer.from(String(i.Body))); return {}; });
  ebMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
});

function put(key: string, body: Buffer): void {
  objects.set(key, { body, etag: createHash('md5').update(body).digest('hex') });
}

function executor(uploadSlicesTimeout: number): LocalExecutor {
  const project = loadProjectDefinition(join(__dirname, '..'));
  return new LocalExecutor({
    definition: project.definition,
    handlers: handlers as unknown as Record<string, LambdaHandler>,
    resolve: serverlessResolver({}, project.serverless, process.env),
    functionTimeouts: { ...project.functionTimeouts, uploadSlices: uploadSlicesTimeout },
  });
}

it('a batch longer than the Lambda timeout completes: each slice is sent once per attempt that did not acknowledge it', async () => {
  const body = Buffer.from(Array.from({ length: 11 * SLICE + 100 }, (_, i) => (i * 7) % 256));
  put('slow.bin', body);
  emu.inject({ call: 'slice', delayMs: 400, times: Infinity });
  const ex = executor(2);
  const run = await ex.start({ bucket: BUCKET, key: 'slow.bin', etag: objects.get('slow.bin')!.etag }, 'exec-slow').done;
  expect(run.error).toBeUndefined();
  expect(run.status).toBe('SUCCEEDED');
  const output = run.output as { status: string; slices: number; url: string };
  expect(output).toMatchObject({ status: 'forwarded', slices: 12 });
  // one batch, cut short and retried (BatchCutShortError) at least once
  expect(run.retries.filter((r) => r.state === 'UploadSlices').length).toBeGreaterThanOrEqual(1);
  expect(Buffer.from(await (await fetch(output.url)).arrayBuffer())).toEqual(body);
  // Slices answered (acknowledged) were never sent again; a slice sent twice was one whose answer the cut-off
  // attempt never saw (aborted while OST's answer was still delayed).
  const slices = emu.calls.filter((c) => c.call === 'slice');
  for (let id = 1; id <= 12; id++) {
    const mine = slices.filter((c) => c.sliceId === id);
    expect(mine.filter((c) => c.outcome === 'answered')).toHaveLength(1);
    const answered = mine.find((c) => c.outcome === 'answered')!;
    expect(mine.filter((c) => c.startedAt > answered.startedAt)).toHaveLength(0);
  }
  expect([...objects.keys()].some((k) => k.startsWith('ost-forwarder/attempts/slices/'))).toBe(true);
}, 60_000);

it('a link too slow for one slice within the timeout fails with SliceTooSlowError, not endless retries', async () => {
  const body = Buffer.alloc(6 * SLICE, 1);
  put('stuck.bin', body);
  emu.inject({ call: 'slice', delayMs: 3000, times: Infinity });
  const run = await executor(1).start({ bucket: BUCKET, key: 'stuck.bin', etag: objects.get('stuck.bin')!.etag }, 'exec-stuck').done;
  expect(run.status).toBe('FAILED');
  const child = run.mapRuns[0]!.children[0]!;
  expect(child).toMatchObject({ status: 'FAILED', error: 'SliceTooSlowError' });
  expect(String(child.cause)).toMatch(/no slice of 1024 bytes was acknowledged/);
  expect(run.retries.filter((r) => r.state === 'UploadSlices')).toHaveLength(0);
}, 60_000);
