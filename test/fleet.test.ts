// The fleet: 300 files at once (290 small, 10 multipart) through the local stack with admission —
// S3 → SQS intake → trigger with slots (dynalite) → executions under the account's limits → the emulator at
// maxConcurrency 8. Every file forwarded byte-exact, files in flight ≤ 16, Map Runs ≤ 4, no failure from
// throttling; an aborted execution's slot is released by the status-change rule.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../local/stack';
import { STATUS_CHANGE_DETAIL_TYPE } from '../lib/admission/status-event';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { ensureBucket, objectCreatedRecord, s3Event } from '../local/aws/s3';
import { sampleFile, sha256Url, tempDir, KiB } from './support/files';

jest.setTimeout(180_000);

const SLICE = 64 * KiB;
let stack: LocalStack;
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  tmp = tempDir();
  stack = await startLocalStack({
    emulator: { minSliceSize: SLICE, maxConcurrency: 8 },
    env: {
      MAX_FILES_IN_FLIGHT: '16', SLICE_SIZE: String(SLICE), MIN_SLICE_SIZE: String(SLICE), SIMPLE_THRESHOLD: String(128 * KiB),
      // a throttled OST call backs off briefly in the invocation, then waits in the state machine's retrier
      OST_RETRY_THROTTLED_BASE_MS: '20', OST_RETRY_MAX_DELAY_MS: '200',
    },
    fleet: { lambdaConcurrency: 20, openMapRuns: 4, startExecution: { burst: 50, perSecond: 100 } },
  });
});

afterAll(async () => {
  await stack?.close();
  tmp?.cleanup();
});

it('forwards 300 files at once within 16 files in flight and 4 Map Runs, none failing from throttling', async () => {
  const started = Date.now();
  const files: Array<{ path: string; sha256: string; size: number }> = [];
  for (let i = 0; i < 290; i++) {
    const body = Buffer.from(`small file ${i} `.repeat(1 + (i % 40)));
    const path = join(tmp.dir, `s${String(i).padStart(3, '0')}.txt`);
    await writeFile(path, body);
    files.push({ path, size: body.length, sha256: createHash('sha256').update(body).digest('hex') });
  }
  for (let i = 0; i < 10; i++) files.push(await sampleFile(5 * SLICE + 1000 * i, { dir: tmp.dir, name: `m${i}.bin` }));

  const results = await stack.forwardFiles(files.map((f) => f.path), { keyPrefix: 'fleet/' });
  const seconds = (Date.now() - started) / 1000;
  const failed = results.filter((r) => r.status !== 'forwarded');
  expect(failed.map((r) => `${r.key}: ${r.error?.code} ${r.error?.message}`)).toEqual([]);
  for (const [i, r] of results.entries()) {
    const served = await sha256Url(r.url!);
    expect([r.key, served.sha256]).toEqual([r.key, files[i]!.sha256]);
  }
  expect(results.filter((r) => r.slices > 1)).toHaveLength(10);

  const summary = (await stack.fleetSummary())!;
  expect(summary.peakFilesInFlight).toBeGreaterThan(1);
  expect(summary.peakFilesInFlight).toBeLessThanOrEqual(16);
  expect(summary.peakMapRuns).toBeGreaterThanOrEqual(1);
  expect(summary.peakMapRuns).toBeLessThanOrEqual(4);
  expect(summary.peakLambda).toBeLessThanOrEqual(20);
  // every slot came back once the fleet drained
  await waitFor(async () => (await stack.fleet!.slots.state()).inFlight === 0);
  // nothing waited into the dead-letter queue, nothing was started twice
  expect(stack.fleet!.sqs.stats(stack.fleet!.dlqUrl).visible).toBe(0);
  expect(stack.stats().executions).toBe(300);
  console.log(`fleet: 300 files in ${seconds.toFixed(1)} s, ${JSON.stringify(summary)}, emulator peak ${JSON.stringify(stack.emulator!.stats())}`.slice(0, 400));
});

it('forwards a burst of 300 EventBridge "Object Created" events of an existing bucket once each, within the slots; a version announced both ways once', async () => {
  const started = Date.now();
  const shared = 'shared-inbox';
  await ensureBucket(stack.s3.client, shared);
  const N = 300;
  const objects = await Promise.all(Array.from({ length: N }, async (_, i) => {
    const key = `eb/${String(i).padStart(3, '0')} a+b.txt`;
    await stack.s3.client.send(new PutObjectCommand({ Bucket: shared, Key: key, Body: `announced by a rule ${i} `.repeat(1 + (i % 20)) }));
    const head = await stack.s3.client.send(new HeadObjectCommand({ Bucket: shared, Key: key }));
    return { key, etag: head.ETag!.replace(/"/g, ''), size: head.ContentLength!, sequencer: (0x1000 + i).toString(16) };
  }));
  // the rule's body (EventBridge: the key as it is, a lower-case sequencer) for every object; for every tenth, the
  // S3 notification of the same version too (its sequencer upper case, zero-padded)
  const bodies = objects.map((o) => JSON.stringify({
    version: '0', id: `e-${o.key}`, 'detail-type': 'Object Created', source: 'aws.s3', account: '000000000000', time: new Date().toISOString(), region: 'us-east-1',
    resources: [`arn:aws:s3:::${shared}`], detail: { version: '0', bucket: { name: shared }, object: { key: o.key, size: o.size, etag: o.etag, sequencer: o.sequencer }, reason: 'PutObject' },
  }));
  for (const o of objects.filter((_, i) => i % 10 === 0)) {
    bodies.push(JSON.stringify(s3Event([objectCreatedRecord({ bucket: shared, key: o.key, size: o.size, eTag: o.etag, sequencer: o.sequencer.toUpperCase().padStart(18, '0') })])));
  }
  const q = stack.fleet.sqs.client;
  for (let i = 0; i < bodies.length; i += 10) {
    await q.send(new SendMessageBatchCommand({ QueueUrl: stack.fleet.queueUrl, Entries: bodies.slice(i, i + 10).map((b, j) => ({ Id: String(j), MessageBody: b })) }));
  }
  await stack.fleet.drained(150_000);
  const mine = () => [...stack.executor.executions.values()].filter((e) => !e.parentArn && (e.input as { bucket?: string }).bucket === shared);
  await Promise.all(mine().map((e) => e.done));
  const executions = mine();
  expect(executions).toHaveLength(N);
  expect(executions.filter((e) => e.status !== 'SUCCEEDED')).toEqual([]);
  expect(new Set(executions.map((e) => (e.input as { key: string }).key)).size).toBe(N);
  const summary = await stack.fleetSummary();
  expect(summary.peakFilesInFlight).toBeLessThanOrEqual(16);
  expect(stack.intakeDeadLetters()).toEqual([]);
  console.log(`eventbridge burst: ${N} files (+${N / 10} duplicate notifications) in ${((Date.now() - started) / 1000).toFixed(1)} s, peak ${summary.peakFilesInFlight} in flight`);
});

it("releases an aborted execution's slot (status-change rule)", async () => {
  const slots = stack.fleet!.slots;
  expect((await slots.acquire('aborted-execution-1')).granted).toBe(true);
  expect((await slots.state()).holders.map((h) => h.name)).toContain('aborted-execution-1');
  const release = (await import('../functions/release')).handler;
  await release({
    source: 'aws.states', 'detail-type': STATUS_CHANGE_DETAIL_TYPE,
    detail: { name: 'aborted-execution-1', status: 'ABORTED', stateMachineArn: stack.executor.stateMachineArn },
  });
  expect((await slots.state()).holders.map((h) => h.name)).not.toContain('aborted-execution-1');
});

async function waitFor(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
