// Fault suite, fleet part: faults that only a fleet meets, each on a fresh local stack with admission
// (S3 → SQS intake → trigger with slots → executions under the account's limits):
// - OST answers 11202 to every call for a while mid-burst: the files wait (throttle budget), then all forward;
// - the trigger crashes after StartExecution but before its messages are deleted: re-delivery finds the slot and
//   the execution (ExecutionAlreadyExists): no file is forwarded twice;
// - the slot table is briefly unavailable: messages wait in the queue, nothing starts without a slot.
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../local/stack';
import type { LambdaHandler } from '../local/executor';
import { handlers } from '../functions';
import { KiB } from './support/files';

jest.setTimeout(120_000);

const FILES = 40;
const SLICE = 64 * KiB;
const ENV = { MAX_FILES_IN_FLIGHT: '6', SLICE_SIZE: String(SLICE), MIN_SLICE_SIZE: String(SLICE), SIMPLE_THRESHOLD: String(128 * KiB), OST_RETRY_THROTTLED_BASE_MS: '20', OST_RETRY_MAX_DELAY_MS: '200' };

async function withFleet(extra: Partial<LocalStackOptions>, fn: (stack: LocalStack) => Promise<void>): Promise<void> {
  const stack = await startLocalStack({ emulator: { minSliceSize: SLICE, maxConcurrency: 8 }, env: ENV, fleet: { lambdaConcurrency: 12, openMapRuns: 2 }, ...extra });
  try { await fn(stack); } finally { await stack.close(); }
}

const bodies = (tag: string) => Array.from({ length: FILES }, (_, i) => ({ key: `${tag}/f${i}`, body: Buffer.alloc(i % 8 === 0 ? 3 * SLICE + i : 100 + i, i) }));

/** Forwards: uploads and completes that OST accepted (code 0); a second forward of a file would add one. */
const forwards = (stack: LocalStack) => stack.emulator!.calls.filter((c) => (c.call === 'upload' || c.call === 'complete') && c.code === 0).length;

async function forwardAll(stack: LocalStack, tag: string, during?: () => Promise<void>) {
  const files = bodies(tag);
  const all = Promise.all(files.map((f) => stack.forwardObject(f.key, f.body)));
  await during?.();
  const results = await all;
  expect(results.filter((r) => r.status !== 'forwarded').map((r) => `${r.key}: ${r.error?.code}`)).toEqual([]);
  expect(forwards(stack)).toBe(FILES);
  expect(stack.fleet!.sqs.stats(stack.fleet!.dlqUrl).visible).toBe(0);
  const summary = await stack.fleetSummary();
  expect(summary.peakFilesInFlight).toBeLessThanOrEqual(6);
  expect(summary.peakMapRuns).toBeLessThanOrEqual(2);
  return results;
}

/** Waits (polling) until `done()` holds, at most `maxMs`. */
async function until(done: () => boolean, maxMs: number): Promise<void> {
  for (const start = Date.now(); !done() && Date.now() - start < maxMs;) await new Promise((r) => setTimeout(r, 20));
}

const refused = (stack: LocalStack) => stack.emulator!.calls.filter((c) => c.code === 11202 || (c as { fault?: { code?: number } }).fault?.code === 11202).length;

it('OST answers 11202 to everything for 1.5 s mid-burst: every file is still forwarded, once', async () => {
  await withFleet({}, async (stack) => {
    await forwardAll(stack, 'throttled', async () => {
      // mid-burst: from the first OST call on (admission and the intake decide when that is, not the clock)
      await until(() => stack.emulator!.calls.length > 0, 60_000);
      for (const call of ['upload', 'init', 'slice', 'complete'] as const) stack.emulator!.inject({ call, code: 11202, times: Infinity });
      const start = Date.now();
      await until(() => Date.now() - start >= 1500 && refused(stack) >= 5, 30_000);
      stack.emulator!.clearFaults();
    });
    expect(refused(stack)).toBeGreaterThan(0);
  });
});

it('the trigger crashes after StartExecution, before the delete: no file is forwarded twice', async () => {
  let crashes = 0;
  const trigger: LambdaHandler = async (event, context) => {
    const response = await (handlers.trigger as LambdaHandler)(event, context);
    // the first three batches that started something die before Lambda deletes their messages
    if (crashes < 3 && (event as { Records: unknown[] }).Records.length > 0) { crashes++; throw new Error('crash after StartExecution'); }
    return response;
  };
  await withFleet({ handlers: { trigger } }, async (stack) => {
    await forwardAll(stack, 'crash');
    expect(crashes).toBe(3);
    expect(stack.stats().executions).toBe(FILES);
  });
});

it('the slot table is unavailable for 1 s mid-burst: files wait, then all forward', async () => {
  await withFleet({}, async (stack) => {
    const before = stack.fleet!.dynamo.requests();
    await forwardAll(stack, 'slots-down', async () => {
      await new Promise((r) => setTimeout(r, 200));
      stack.fleet!.dynamo.outage('error');
      await new Promise((r) => setTimeout(r, 1000));
      stack.fleet!.dynamo.outage(false);
    });
    expect(stack.fleet!.dynamo.requests()).toBeGreaterThan(before);
    expect(stack.stats().executions).toBe(FILES);
  });
});
