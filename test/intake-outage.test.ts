// The intake while OST is down (lib/intake/batch.ts with a gate, lib/intake/readmission.ts): nothing is admitted,
// the messages wait exactly like messages waiting for a slot (hidden with a backoff, no slot taken, nothing started),
// and a file sent back after an outage is admitted as its own round, which survives a re-sent copy.
import type { SQSRecord } from 'aws-lambda';
import { handleIntakeBatch, ROUND_ATTRIBUTE, roundOf, type RequeueMessage } from '../lib/intake/batch';
import { readmission } from '../lib/intake/readmission';
import { executionName, roundOfExecution } from '../lib/intake/s3-event';
import type { GateDecision } from '../lib/admission/health';
import type { AcquireResult } from '../lib/admission/semaphore';
import { existingObjectRecord } from '../lib/intake/event-record';

const settings = { resultsPrefix: 'ost-forwarder/', keyPrefixes: [], keySuffixes: [] };

function message(i: number, attributes: Record<string, string> = {}, receiveCount = 1): SQSRecord {
  const body = JSON.stringify({ Records: [existingObjectRecord({ bucket: 'b', key: `in/f${i}.wav`, size: 100 + i, etag: `e${i}`, sequencer: `0${i}` }, 'us-east-1')] });
  return {
    messageId: `m${i}`, receiptHandle: `r${i}`, body, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:intake', awsRegion: 'us-east-1',
    attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: '1', SenderId: 'x', ApproximateFirstReceiveTimestamp: '1' },
    messageAttributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { dataType: 'Number', stringValue: v }])),
  } as SQSRecord;
}

function deps(gate: () => Promise<GateDecision>) {
  const acquired: string[] = [];
  const started: string[] = [];
  const hidden: Array<{ receiptHandle: string; seconds: number }> = [];
  const requeued: Array<{ message: RequeueMessage; delaySeconds: number }> = [];
  let asked = 0;
  return {
    acquired, started, hidden, requeued, asked: () => asked,
    deps: {
      slots: {
        async acquire(h: string): Promise<AcquireResult> { acquired.push(h); return { granted: true, already: false, inFlight: 1, expiresAt: 0, reclaimed: [] }; },
        async release() { return { released: true }; },
      },
      starter: { async start(name: string) { started.push(name); return 'started' as const; } },
      queue: {
        async changeVisibility(receiptHandle: string, seconds: number) { hidden.push({ receiptHandle, seconds }); },
        async requeue(m: RequeueMessage, delaySeconds: number) { requeued.push({ message: m, delaySeconds }); },
      },
      settings,
      gate: () => { asked++; return gate(); },
      random: () => 0.5,
    },
  };
}

it('admits nothing while OST is down: every message waits with a backoff, no slot taken, nothing started, the gate asked once', async () => {
  const d = deps(async () => ({ admit: false, reason: 'OST unavailable since 2026-12-02T00:00:00.000Z: admission paused' }));
  const r = await handleIntakeBatch([message(1), message(2), message(3)], d.deps);
  expect(r.counts).toMatchObject({ started: 0, waiting: 3, failed: 0 });
  expect(r.response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m1', 'm2', 'm3']);
  expect(d.hidden.map((h) => h.receiptHandle)).toEqual(['r1', 'r2', 'r3']);
  expect(d.acquired).toEqual([]);
  expect(d.started).toEqual([]);
  expect(d.asked()).toBe(1);
  expect(r.messages[0]!.records[0]!.reason).toMatch(/admission paused/);
});

it('a waiting message near the receive limit is re-sent as a fresh copy, never towards the dead-letter queue, keeping its round', async () => {
  const d = deps(async () => ({ admit: false, reason: 'OST still unavailable (probe failed): admission paused' }));
  const r = await handleIntakeBatch([message(1, { [ROUND_ATTRIBUTE]: '2' }, 8)], d.deps);
  expect(r.counts.requeued).toBe(1);
  expect(r.response.batchItemFailures).toEqual([]);
  expect(d.requeued[0]!.message.attributes[ROUND_ATTRIBUTE]).toBe('2');
});

it('admits when OST is up, or when the gate itself fails (the breaker never blocks forwarding on its own fault)', async () => {
  for (const gate of [async (): Promise<GateDecision> => ({ admit: true }), async (): Promise<GateDecision> => { throw new Error('ResourceNotFoundException'); }]) {
    const d = deps(gate);
    const r = await handleIntakeBatch([message(1), message(2)], d.deps);
    expect(r.counts).toMatchObject({ started: 2, waiting: 0 });
  }
});

it('a file sent back after an outage starts as execution <name>-r<round>, a distinct execution of the same version', async () => {
  const d = deps(async () => ({ admit: true }));
  await handleIntakeBatch([message(1), message(1, { [ROUND_ATTRIBUTE]: '1' })], d.deps);
  const base = d.started[0]!;
  expect(d.started).toEqual([base, `${base}-r1`]);
  const long = { bucket: 'b', key: `${'k'.repeat(200)}.wav`, etag: 'e' };
  expect(executionName(long, 12).length).toBe(80);
  expect(executionName(long, 12).slice(-44)).toBe(`${executionName(long).slice(-40)}-r12`);
  expect(roundOfExecution(d.started[1])).toBe(1);
  expect(roundOfExecution(base)).toBe(0);
  // a key whose own tail reads like a round is still round 0
  expect(roundOfExecution(executionName({ bucket: 'b', key: 'take-r2', etag: 'x' }))).toBe(0);
});

it('re-admission: the next round with the version that was admitted, up to OUTAGE_ROUNDS, delayed at most 900 s', () => {
  const input = { bucket: 'b', key: 'in/a b+c.wav', etag: 'e1', sequencer: '01', size: 7, versionId: 'v1' };
  const plan = readmission(input, executionName(input), 3, 5000)!;
  expect(plan.round).toBe(1);
  expect(plan.delaySeconds).toBe(900);
  const record = (JSON.parse(plan.message.body) as { Records: Array<{ s3: { object: Record<string, unknown> } }> }).Records[0]!;
  expect(record.s3.object).toMatchObject({ key: 'in/a+b%2Bc.wav', versionId: 'v1', eTag: 'e1', sequencer: '01', size: 7 });
  expect(roundOf(message(9, plan.message.attributes))).toBe(1);
  expect(readmission(input, executionName(input, 3), 3, 60)).toBeUndefined();
  expect(readmission(input, executionName(input, 2), 3, 60)!.round).toBe(3);
});
