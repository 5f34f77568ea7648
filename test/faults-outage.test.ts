// Fault suite, outage part: OST's gateway down for a window, through the local stack with admission (S3 → SQS
// intake → trigger with slots and the breaker → executions). Times are the definition's scaled by the local retry
// scaling (0.02: a 240 s outage lasts 4.8 s; the budget scenario 0.0002), and every outage outlasts every per-call
// retry of the OST client (3 attempts, 10–100 ms apart) and the transient retrier's 4 attempts (≤ 1.5 s at 0.02).
// - a 240 s outage (503 HTML pages and resets alternating) as a 32-file burst starts: every file forwarded
//   byte-exact, no upload cancelled, the slices OST acknowledged before the outage not sent again;
// - an outage longer than the outage budget: the files in flight fail with an outage record, go back to the intake
//   by themselves and are forwarded once the gateway is back, with no command run.
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { HEALTH_ITEM } from '../lib/admission/health';
import { SEMAPHORE_KEY } from '../lib/admission/semaphore';
import type { ExecutionRecord } from '../local/executor';
import { bytesFor, defineFaultSuite, KiB, MiB, waitFor, type Harness, type Scenario, type ScenarioContext } from './support/faults';

const SLOTS = 8;
/** The definition's retry intervals × this: the 240 s outage lasts 9.6 s, twice the transient retrier (4 attempts) with its attempts here. */
const SCALE = 0.04;
const FLEET = { fleet: { maxFilesInFlight: SLOTS, lambdaConcurrency: 64 } };
const ENV = {
  MAX_FILES_IN_FLIGHT: String(SLOTS),
  // a 12 MiB file is one batch of three 5 MiB slices sent one at a time: the outage falls between its slices
  CONSERVATIVE_MBPS: '10',
  SLICE_CONCURRENCY: '1',
};

/** Watches the breaker item while a scenario runs: when it was open. */
function watchBreaker(h: Harness): { stop(): Promise<{ opened: boolean; openNow: boolean; open: Array<[number, number]> }> } {
  const fleet = h.stack.fleet;
  const open: Array<[number, number]> = [];
  let openNow = false;
  let running = true;
  const read = async () => {
    const res = await fleet.dynamo.client.send(new GetItemCommand({ TableName: fleet.dynamo.tableName, Key: { [SEMAPHORE_KEY]: { S: HEALTH_ITEM } }, ConsistentRead: true }));
    const now = Date.now();
    const was = openNow;
    openNow = res.Item?.openedAt !== undefined;
    if (openNow && !was) open.push([now, Infinity]);
    if (!openNow && was) open[open.length - 1]![1] = now;
  };
  const loop = (async () => { while (running) { await read().catch(() => undefined); await new Promise((r) => setTimeout(r, 20)); } })();
  return { async stop() { running = false; await loop; await read(); return { opened: open.length > 0, openNow, open }; } };
}

/** Keys of a burst: `multipart` files of 12 MiB (+ i bytes), then small ones of 64 KiB (+ i). */
function burst(ctx: ScenarioContext, multipart: number, small: number) {
  const key = (kind: string, i: number) => ctx.key.replace(/\.bin$/, `/${kind}-${String(i).padStart(2, '0')}.bin`);
  return {
    big: Array.from({ length: multipart }, (_, i) => ({ key: key('big', i), body: bytesFor(12 * MiB + i, key('big', i)) })),
    small: Array.from({ length: small }, (_, i) => ({ key: key('small', i), body: bytesFor(64 * KiB + i, key('small', i)) })),
  };
}

const state: { watch?: ReturnType<typeof watchBreaker>; outageStartedAt?: number; outageEndedAt?: number; keys?: string[] } = {};

const outage240: Scenario = {
  name: 'a 240 s outage (503 HTML and resets alternating) as a 32-file burst starts (2 multipart): all forwarded, none cancelled',
  size: 0,
  expect: 'forwarded',
  async run(ctx) {
    const emu = ctx.h.stack.emulator!;
    const watch = watchBreaker(ctx.h);
    const files = burst(ctx, 2, 30);
    state.keys = [...files.big, ...files.small].map((f) => f.key);
    // Each slice answer comes 300 ms after OST stored it, so the outage starts between a file's slices.
    emu.inject({ call: 'slice', delayMs: 300, times: Infinity });
    await Promise.all(files.big.map((f) => ctx.put(f.body, f.key)));
    await waitFor(() => emu.uploads().filter((u) => u.state === 'open' && u.sliceIds.length >= 1).length >= 2, 30_000);
    state.outageStartedAt = Date.now();
    emu.outage({ ms: 240_000 * SCALE, modes: ['503', 'reset'] });
    await Promise.all(files.small.map((f) => ctx.put(f.body, f.key)));
    state.watch = watch;
  },
  async verify(r, ctx) {
    const problems: string[] = [];
    const breaker = await state.watch!.stop();
    const emu = ctx.h.stack.emulator!;
    if (r.versions.length !== 32) problems.push(`${r.versions.length} executions, not 32`);
    for (const v of r.versions.filter((x) => x.record?.status === 'failed')) problems.push(`${v.key}: failed ${v.record!.error?.error}: ${v.record!.error?.message.slice(0, 200)}`);
    const status = emu.outage(false);
    if (status.answered503 === 0 || status.resets === 0) problems.push(`the outage answered ${status.answered503} 503s and ${status.resets} resets`);
    if (!breaker.opened) problems.push('admission never paused (the breaker never opened)');
    // Paused means paused: no execution started while the breaker was seen open (50 ms for the watcher's lag).
    const startedWhileOpen = r.versions.filter((v) => breaker.open.some(([a, b]) => v.execution.startDate.getTime() > a + 50 && v.execution.startDate.getTime() < b - 50));
    if (startedWhileOpen.length > 0) problems.push(`${startedWhileOpen.length} executions started while admission was paused`);
    const waited = r.versions.filter((v) => breaker.open.some(([, b]) => v.execution.startDate.getTime() >= b - 50));
    if (waited.length === 0) problems.push('no file waited in the intake for the gateway');
    if (breaker.openNow) problems.push('the breaker is still open after recovery');
    const uploads = r.versions.map((v) => v.record?.uploadId).filter((u): u is string => typeof u === 'string');
    if (uploads.length !== 2) problems.push(`${uploads.length} multipart uploads, not 2`);
    for (const id of uploads) {
      const calls = emu.calls.filter((c) => c.uploadId === id);
      if (calls.some((c) => c.call === 'cancel')) problems.push(`upload ${id} was cancelled`);
      const accepted = calls.filter((c) => c.call === 'slice' && c.code === 0);
      const ids = accepted.map((c) => c.sliceId).sort();
      if (ids.join(',') !== '1,2,3') problems.push(`upload ${id}: slices accepted ${ids.join(',')} (each once expected)`);
      if (!accepted.some((c) => c.startedAt < state.outageStartedAt!)) problems.push(`upload ${id}: no slice acknowledged before the outage`);
      if (!accepted.some((c) => c.startedAt > state.outageStartedAt!)) problems.push(`upload ${id}: no slice left for after the outage`);
    }
    // A call the gateway turned away carries no upload id (nothing of its body was read): count them all.
    const turnedAway = emu.calls.filter((c) => c.startedAt >= state.outageStartedAt! && c.outage !== undefined);
    if (!turnedAway.some((c) => c.call === 'slice')) problems.push('no slice met the outage');
    const retried = r.versions.filter((v) => v.execution.retries.length > 0 || v.execution.mapRuns.some((m) => m.children.some((c) => c.retries.length > 0)));
    if (retried.length === 0) problems.push('no execution waited in a retrier');
    return problems;
  },
};

const pastBudget: Scenario = {
  name: 'an outage past the budget (refused connections): outage records, then forwarded by themselves in round 1',
  size: 0,
  expect: 'mixed',
  async run(ctx) {
    const emu = ctx.h.stack.emulator!;
    const files = burst(ctx, 1, 2);
    const all = [...files.big, ...files.small];
    state.keys = all.map((f) => f.key);
    emu.outage({ ms: 600_000, modes: ['refuse'] });
    state.outageStartedAt = Date.now();
    await Promise.all(all.map((f) => ctx.put(f.body, f.key)));
    // The outage lasts until every file has run out of its budget (here 2.9 s expected, plus 52 attempts' own
    // time): a simple upload has failed, a multipart one is waiting to cancel its upload. Then OST comes back.
    const outOfBudget = (e: ExecutionRecord) => e.status === 'FAILED' || e.entered.some((x) => x.name === 'Cancel' || x.name === 'ReportFailure');
    const mine = () => [...ctx.h.stack.executor.executions.values()].filter((e) => !e.parentArn && state.keys!.includes((e.input as { key: string }).key));
    const deadline = Date.now() + 90_000;
    while (!(mine().length === all.length && mine().every(outOfBudget)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    state.outageEndedAt = Date.now();
    emu.outage(false);
    // Nobody re-drives: the run only waits for every file's forwarded record.
    const until = Date.now() + 45_000;
    while (done.size < all.length && Date.now() < until) {
      for (const f of all) if (!done.has(f.key) && (await ctx.h.stack.recordsFor(f.key)).some((r) => r.status === 'forwarded')) done.add(f.key);
      await new Promise((r) => setTimeout(r, 200));
    }
  },
  verify(r) {
    const problems: string[] = [];
    for (const key of state.keys!) {
      const mine = r.versions.filter((v) => v.key === key);
      const failed = mine.find((v) => v.record?.status === 'failed')?.record;
      const forwarded = mine.find((v) => v.record?.status === 'forwarded');
      if (!failed) { problems.push(`${key}: no failure past the budget`); continue; }
      if (!failed.outage) problems.push(`${key}: the failure record does not say outage (${failed.error?.error})`);
      if (failed.readmittedAs !== 1) problems.push(`${key}: not sent back for round 1 (readmittedAs ${failed.readmittedAs})`);
      // A simple upload fails as its budget runs out, inside the outage; a multipart one first waits to cancel.
      if (!failed.uploadId && Date.parse(failed.finishedAt) >= state.outageEndedAt!) problems.push(`${key}: failed only after the outage ended (the budget outlasted it)`);
      if (failed.uploadId && !failed.cancelled) problems.push(`${key}: upload ${failed.uploadId} not cancelled`);
      if (!forwarded?.executionName.endsWith('-r1')) problems.push(`${key}: not forwarded as round 1 (${forwarded?.executionName})`);
    }
    return problems;
  },
};
const done = new Set<string>();

describe('fault suite: an OST outage within the budget', () => {
  // Two failures open the breaker: the burst arrives over seconds here (one process for the whole stack).
  defineFaultSuite('outage', () => [outage240], { env: { ...ENV, OUTAGE_THRESHOLD: '2' }, stack: { ...FLEET, retryIntervalScale: SCALE } });
});

describe('fault suite: an OST outage past the budget', () => {
  // A higher threshold lets all three files in before the breaker opens: each then runs out of its budget.
  defineFaultSuite('outage-budget', () => [pastBudget], { env: { ...ENV, OST_RETRY_ATTEMPTS: '1', OUTAGE_THRESHOLD: '20' }, stack: { ...FLEET, retryIntervalScale: 0.0002 } });
});
