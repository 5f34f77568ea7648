// The local SQS (local/aws/sqs.ts) driven by the real @aws-sdk/client-sqs: the SDK's own MD5 checks pass, visibility
// timeouts, receive counts, the redrive to a dead-letter queue, delays, batch deletes, long polling and the
// errors the SDK maps to its classes. Then the intake against it, with the real semaphore on dynalite.
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { startLocalSqs, lambdaSqsRecord, type LocalSqs } from '../local/aws/sqs';
import { startLocalDynamo, type LocalDynamo } from '../local/aws/dynamo';
import { SlotSemaphore } from '../lib/admission/semaphore';
import { handleIntakeBatch } from '../lib/intake/batch';
import { sqsIntakeQueue } from '../lib/intake/adapters';
import { moveMessages } from '../lib/intake/queue-move';
import { objectCreatedRecord, s3Event } from '../local/aws/s3';
import type { ExecutionInput } from '../lib/workflow/state';

let sqs: LocalSqs;
let clock = 1_700_000_000_000;
let n = 0;
const fresh = (attributes: Record<string, string> = {}) => sqs.createQueue(`q${++n}`, attributes);
const receive = async (QueueUrl: string, extra: Record<string, unknown> = {}): Promise<Message[]> =>
  (await sqs.client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'], ...extra }))).Messages ?? [];

beforeAll(async () => {
  sqs = await startLocalSqs({ now: () => clock });
});
afterAll(async () => {
  await sqs?.close();
});

describe('local SQS with the real SDK client', () => {
  it('sends, receives (MD5s checked by the SDK) and deletes; message attributes round-trip', async () => {
    const url = fresh();
    const sent = await sqs.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{"Records":[]} 会议', MessageAttributes: { waits: { DataType: 'Number', StringValue: '3' } } }));
    expect(sent.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    const [m] = await receive(url);
    expect(m).toMatchObject({ MessageId: sent.MessageId, Body: '{"Records":[]} 会议', MessageAttributes: { waits: { DataType: 'Number', StringValue: '3' } } });
    expect(m!.Attributes).toMatchObject({ ApproximateReceiveCount: '1', SentTimestamp: String(clock) });
    expect(await receive(url)).toEqual([]); // in flight
    await sqs.client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m!.ReceiptHandle }));
    clock += 31_000;
    expect(await receive(url)).toEqual([]);
    expect(sqs.stats(url)).toMatchObject({ sent: 1, received: 1, deleted: 1, visible: 0, inFlight: 0 });
  });

  it('a message comes back after its visibility timeout with a higher receive count; a stale handle deletes nothing', async () => {
    const url = fresh({ VisibilityTimeout: '10' });
    await sqs.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
    const [first] = await receive(url);
    clock += 9_000;
    expect(await receive(url)).toEqual([]);
    clock += 2_000;
    const [second] = await receive(url);
    expect(second!.Attributes!.ApproximateReceiveCount).toBe('2');
    await sqs.client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: first!.ReceiptHandle })); // succeeds…
    expect(sqs.stats(url).inFlight).toBe(1); // …but deletes nothing
    await sqs.client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: second!.ReceiptHandle }));
    expect(sqs.stats(url)).toMatchObject({ inFlight: 0, deleted: 1 });
  });

  it('ChangeMessageVisibility hides for a backoff, 0 shows at once, and refuses past 12 h or a message not in flight', async () => {
    const url = fresh();
    await sqs.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
    const [m] = await receive(url);
    await sqs.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: m!.ReceiptHandle, VisibilityTimeout: 300 }));
    clock += 299_000;
    expect(await receive(url)).toEqual([]);
    clock += 2_000;
    const [again] = await receive(url);
    expect(again!.Attributes!.ApproximateReceiveCount).toBe('2');
    await expect(sqs.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: again!.ReceiptHandle, VisibilityTimeout: 43_201 })))
      .rejects.toMatchObject({ name: 'InvalidParameterValue' });
    // 12 h counts from the receive: 1 s later, 43,199 s more is allowed and 43,200 s is not
    clock += 1_000;
    await sqs.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: again!.ReceiptHandle, VisibilityTimeout: 43_199 }));
    await expect(sqs.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: again!.ReceiptHandle, VisibilityTimeout: 43_200 })))
      .rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await sqs.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: again!.ReceiptHandle, VisibilityTimeout: 0 }));
    expect(await receive(url)).toHaveLength(1);
    await expect(sqs.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: again!.ReceiptHandle, VisibilityTimeout: 10 })))
      .rejects.toMatchObject({ name: 'MessageNotInflight' }); // an older receive's handle
  });

  it('moves a message received maxReceiveCount times to the dead-letter queue on its next receive', async () => {
    const { queueUrl, dlqUrl } = sqs.createQueueWithDlq(`redrive${++n}`, 2, { VisibilityTimeout: '5' });
    await sqs.client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'poison' }));
    for (let i = 1; i <= 2; i++) {
      const [m] = await receive(queueUrl);
      expect(m!.Attributes!.ApproximateReceiveCount).toBe(String(i));
      clock += 6_000;
    }
    expect(await receive(queueUrl)).toEqual([]);
    const [dead] = await receive(dlqUrl);
    expect(dead!.Body).toBe('poison');
    expect(sqs.stats(queueUrl)).toMatchObject({ movedToDlq: 1, visible: 0 });
    const attrs = await sqs.client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }));
    expect(JSON.parse(attrs.Attributes!.RedrivePolicy!)).toMatchObject({ maxReceiveCount: 2 });
  });

  it('delays a message by DelaySeconds; batches send and delete, reporting failures per entry', async () => {
    const url = fresh();
    const sent = await sqs.client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: [
      { Id: 'a', MessageBody: 'a' }, { Id: 'b', MessageBody: 'b', DelaySeconds: 60 }, { Id: 'c', MessageBody: 'c', DelaySeconds: 901 },
    ] }));
    expect(sent.Successful!.map((s) => s.Id)).toEqual(['a', 'b']);
    expect(sent.Failed).toMatchObject([{ Id: 'c', SenderFault: true }]);
    const now = await receive(url);
    expect(now.map((m) => m.Body)).toEqual(['a']);
    await sqs.client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: now[0]!.ReceiptHandle }));
    clock += 59_000;
    expect(await receive(url)).toEqual([]);
    clock += 2_000;
    const later = await receive(url);
    expect(later.map((m) => m.Body)).toEqual(['b']);
    const del = await sqs.client.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: [
      { Id: '1', ReceiptHandle: later[0]!.ReceiptHandle }, { Id: '2', ReceiptHandle: 'not-a-handle' },
    ] }));
    expect(del.Successful).toEqual([{ Id: '1' }]);
    expect(del.Failed).toMatchObject([{ Id: '2', Code: 'ReceiptHandleIsInvalid', SenderFault: true }]);
  });

  it('answers errors the SDK maps to its classes', async () => {
    await expect(sqs.client.send(new SendMessageCommand({ QueueUrl: `${sqs.endpoint}/000000000000/nope`, MessageBody: 'x' }))).rejects.toBeInstanceOf(QueueDoesNotExist);
  });

  it('long-polls: a waiting receive returns as soon as a message arrives', async () => {
    const real = await startLocalSqs();
    try {
      const url = real.createQueue('poll');
      const started = Date.now();
      const pending = real.client.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 5 }));
      setTimeout(() => void real.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'late' })), 150);
      const res = await pending;
      expect(res.Messages?.[0]?.Body).toBe('late');
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await real.close();
    }
  });
});

describe('the intake against local SQS and the semaphore on dynalite', () => {
  let dynamo: LocalDynamo;
  beforeAll(async () => { dynamo = await startLocalDynamo(); });
  afterAll(async () => { await dynamo?.close(); });

  it('30 files, 4 slots, maxReceiveCount 4: every file starts exactly once, the peak stays 4, nothing reaches the DLQ', async () => {
    const { queueUrl, dlqUrl } = sqs.createQueueWithDlq(`intake${++n}`, 4, { VisibilityTimeout: '60' });
    const arn = `arn:aws:sqs:us-east-1:000000000000:intake${n}`;
    const slots = new SlotSemaphore({ client: dynamo.client, tableName: dynamo.tableName, name: `intake-${n}`, maxSlots: 4, leaseSeconds: 3600 });
    const executions = new Map<string, ExecutionInput>();
    let starts = 0;
    const running: string[] = [];
    const starter = { async start(name: string, input: ExecutionInput) {
      starts++;
      if (executions.has(name)) return 'duplicate' as const;
      executions.set(name, input);
      running.push(name);
      return 'started' as const;
    } };
    const queue = sqsIntakeQueue(sqs.client, queueUrl);
    const keys = Array.from({ length: 30 }, (_, i) => `calls/day-${i}.wav`);
    for (let i = 0; i < keys.length; i += 10) {
      await sqs.client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: keys.slice(i, i + 10).map((key, j) => ({
        Id: String(j), MessageBody: JSON.stringify(s3Event([objectCreatedRecord({ bucket: 'in', key, size: 1, eTag: 'e'.repeat(32) })])),
      })) }));
    }
    let requeued = 0;
    for (let round = 0; round < 200 && executions.size < keys.length; round++) {
      const messages = await receive(queueUrl);
      if (messages.length > 0) {
        const result = await handleIntakeBatch(messages.map((m) => lambdaSqsRecord(m, arn)), { slots, starter, queue, settings: { resultsPrefix: 'ost-forwarder/', keyPrefixes: [], keySuffixes: [] }, policy: { maxReceiveCount: 4 } });
        requeued += result.counts.requeued;
        // what Lambda does with a partial batch response: delete every message not reported
        const failed = new Set(result.response.batchItemFailures.map((f) => f.itemIdentifier));
        const done = messages.filter((m) => !failed.has(m.MessageId!));
        if (done.length > 0) await sqs.client.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }));
      }
      // one running execution finishes per round and releases its slot
      const finished = running.shift();
      if (finished) await slots.release(finished);
      clock += 301_000; // past any backoff (≤ 300 s) and delay
    }
    expect(executions.size).toBe(keys.length);
    expect(starts).toBe(keys.length); // no duplicate StartExecution was even needed
    expect((await slots.state()).peak).toBe(4);
    expect(sqs.stats(queueUrl).movedToDlq).toBe(0);
    expect(sqs.stats(dlqUrl).sent + sqs.stats(dlqUrl).visible).toBe(0);
    expect(requeued).toBeGreaterThan(0); // the long wait went through fresh copies
    const copies = await receive(queueUrl);
    expect(copies).toEqual([]);
  });
});

describe('moving the dead-letter queue back into the intake', () => {
  it('moves every message with its attributes, deletes only what the target accepted, and leaves a dry run untouched', async () => {
    const { queueUrl, dlqUrl } = sqs.createQueueWithDlq(`move${++n}`, 3);
    await sqs.client.send(new SendMessageBatchCommand({ QueueUrl: dlqUrl, Entries: Array.from({ length: 10 }, (_, i) => ({ Id: String(i), MessageBody: `m${i}`, MessageAttributes: { k: { DataType: 'String', StringValue: `v${i}` } } })) }));
    await sqs.client.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: 'm10' }));
    const dry = await moveMessages({ sqs: sqs.client, fromUrl: dlqUrl, toUrl: queueUrl, dryRun: true, visibilitySeconds: 60 });
    expect(dry).toMatchObject({ there: 11, received: 0, moved: 0 });
    expect(sqs.stats(queueUrl).sent).toBe(0);
    expect(sqs.stats(dlqUrl)).toMatchObject({ visible: 11, inFlight: 0 }); // a dry run hides nothing
    const r = await moveMessages({ sqs: sqs.client, fromUrl: dlqUrl, toUrl: queueUrl });
    expect(r).toEqual({ there: 11, inFlight: 0, received: 11, moved: 11, kept: 0, undeleted: 0 });
    const back = [...await receive(queueUrl), ...await receive(queueUrl)];
    expect(back.map((m) => m.Body).sort()).toEqual(Array.from({ length: 11 }, (_, i) => `m${i}`).sort());
    expect(back.find((m) => m.Body === 'm3')!.MessageAttributes).toEqual({ k: { DataType: 'String', StringValue: 'v3' } });
    expect(sqs.stats(dlqUrl)).toMatchObject({ visible: 0, inFlight: 0 });
  });
});
