// The local SQS event source mapping: batches to a handler at bounded concurrency, partial batch failures kept
// and re-delivered after their visibility timeout, a thrown batch kept whole. Then the intake behind it, with
// the semaphore on dynalite: a small fleet admitted at most `slots` at a time, every file started once, no DLQ.
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { startLocalSqs, type LocalSqs } from '../local/aws/sqs';
import { startEventSourceMapping } from '../local/aws/event-source';
import { startLocalDynamo, type LocalDynamo } from '../local/aws/dynamo';
import { SlotSemaphore } from '../lib/admission/semaphore';
import { handleIntakeBatch } from '../lib/intake/batch';
import { sqsIntakeQueue } from '../lib/intake/adapters';
import { objectCreatedRecord, s3Event } from '../local/aws/s3';

let sqs: LocalSqs;
beforeAll(async () => { sqs = await startLocalSqs({ timeScale: 0.01 }); });
afterAll(async () => { await sqs?.close(); });

async function until(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function sendAll(queueUrl: string, bodies: string[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 10) {
    await sqs.client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: bodies.slice(i, i + 10).map((b, j) => ({ Id: String(j), MessageBody: b })) }));
  }
}

describe('local event source mapping', () => {
  it('invokes at most maximumConcurrency at once, deletes the handled, re-delivers the reported and the thrown', async () => {
    const { queueUrl } = sqs.createQueueWithDlq('esm', 5, { VisibilityTimeout: '30' });
    const bodies = Array.from({ length: 50 }, (_, i) => (i % 7 === 0 ? `flaky-${i}` : `ok-${i}`));
    await sendAll(queueUrl, bodies);
    const done = new Map<string, number>();
    let active = 0, peak = 0, threw = false;
    let flakyInThrownBatch = 0;
    const mapping = startEventSourceMapping({
      sqs: sqs.client, queueUrl, queueArn: 'arn:aws:sqs:us-east-1:000000000000:esm', maximumConcurrency: 3, batchSize: 4,
      async handler(event: SQSEvent) {
        active++;
        peak = Math.max(peak, active);
        try {
          await new Promise((r) => setTimeout(r, 10));
          if (!threw && event.Records.some((r) => r.body === 'ok-1')) {
            threw = true;
            flakyInThrownBatch = event.Records.filter((r) => r.body.startsWith('flaky')).length;
            throw new Error('crash');
          }
          const failures = event.Records.filter((r) => r.body.startsWith('flaky') && r.attributes.ApproximateReceiveCount === '1');
          for (const r of event.Records) if (!failures.includes(r)) done.set(r.body, (done.get(r.body) ?? 0) + 1);
          return { batchItemFailures: failures.map((r) => ({ itemIdentifier: r.messageId })) };
        } finally {
          active--;
        }
      },
    });
    try {
      await until(() => done.size === 50, 30_000);
    } finally {
      await mapping.stop();
    }
    expect([...done.values()].every((n) => n === 1)).toBe(true);
    expect(peak).toBeLessThanOrEqual(3);
    const s = mapping.stats();
    // a flaky message whose first receive was in the thrown batch is on its second receive afterwards
    expect(s).toMatchObject({ failedInvocations: 1, reported: 8 - flakyInThrownBatch, deleted: 50 });
    expect(sqs.stats(queueUrl)).toMatchObject({ visible: 0, inFlight: 0, movedToDlq: 0 });
  });
});

describe('a small fleet through the intake (local SQS, event source mapping, semaphore on dynalite)', () => {
  let dynamo: LocalDynamo;
  beforeAll(async () => { dynamo = await startLocalDynamo(); });
  afterAll(async () => { await dynamo?.close(); });

  it('120 files, 8 slots: every file started once, at most 8 in flight, nothing in the DLQ', async () => {
    // 900 s is 9 s at this time scale: well over a batch's time, as 6 × the function timeout is on AWS
    const { queueUrl, dlqUrl } = sqs.createQueueWithDlq('fleet', 4, { VisibilityTimeout: '900' });
    const slots = new SlotSemaphore({ client: dynamo.client, tableName: dynamo.tableName, name: 'fleet', maxSlots: 8, leaseSeconds: 3600 });
    const keys = Array.from({ length: 120 }, (_, i) => `backfill/${String(i).padStart(3, '0')}.wav`);
    const started = new Map<string, number>();
    let running = 0, peakRunning = 0;
    const starter = {
      async start(name: string) {
        started.set(name, (started.get(name) ?? 0) + 1);
        if (started.get(name)! > 1) return 'duplicate' as const;
        running++;
        peakRunning = Math.max(peakRunning, running);
        // the execution runs a while, then its last step releases the slot
        setTimeout(() => { running--; void slots.release(name); }, 20 + Math.floor(Math.random() * 40));
        return 'started' as const;
      },
    };
    const queue = sqsIntakeQueue(sqs.client, queueUrl);
    const settings = { resultsPrefix: 'ost-forwarder/', keyPrefixes: [], keySuffixes: [] };
    const mapping = startEventSourceMapping({
      sqs: sqs.client, queueUrl, queueArn: 'arn:aws:sqs:us-east-1:000000000000:fleet', maximumConcurrency: 2,
      async handler(event) {
        return (await handleIntakeBatch(event.Records, { slots, starter, queue, settings, policy: { maxReceiveCount: 4 } })).response;
      },
    });
    await sendAll(queueUrl, keys.map((key) => JSON.stringify(s3Event([objectCreatedRecord({ bucket: 'in', key, size: 1, eTag: 'e'.repeat(32) })]))));
    try {
      await until(() => started.size === keys.length && running === 0, 90_000);
      await until(() => sqs.stats(queueUrl).visible + sqs.stats(queueUrl).inFlight + sqs.stats(queueUrl).delayed === 0, 30_000);
    } finally {
      await mapping.stop();
    }
    expect(started.size).toBe(keys.length);
    expect([...started.values()].every((n) => n === 1)).toBe(true);
    expect(peakRunning).toBeLessThanOrEqual(8);
    // the slots were contended (more than one at a time) and never exceeded; exactly 8 depends on the machine's load
    const peak = (await slots.state()).peak;
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(8);
    expect(sqs.stats(queueUrl).movedToDlq).toBe(0);
    expect(sqs.stats(dlqUrl).sent).toBe(0);
    expect((await slots.state()).inFlight).toBe(0);
  });
});
