// The intake decision (lib/intake/batch.ts) with fakes at its three boundaries: the slots, the execution starter and
// the queue. What it promises: a record is started only with a slot, a message is deleted only once its
// executions exist (or are proven duplicates), waiting messages are hidden with a backoff and never reach the
// dead-letter queue, and nothing is started twice.
import type { SQSRecord } from 'aws-lambda';
import { handleIntakeBatch, backoffSeconds, startFailure, notificationRecords, WAITS_ATTRIBUTE, FIRST_SEEN_ATTRIBUTE, type IntakeDeps, type RequeueMessage } from '../lib/intake/batch';
import { AdmissionConfigError, AdmissionUnavailableError } from '../lib/admission/errors';
import type { AcquireResult } from '../lib/admission/semaphore';
import type { ExecutionInput } from '../lib/workflow/state';
import { s3Record } from './support/s3-records';
import { executionName } from '../lib/intake/s3-event';

class FakeSlots {
  held = new Set<string>();
  acquires = 0;
  fault?: Error;
  constructor(public max: number) {}
  async acquire(holder: string): Promise<AcquireResult> {
    this.acquires++;
    if (this.fault) throw this.fault;
    if (this.held.has(holder)) return { granted: true, already: true, inFlight: this.held.size, expiresAt: 0, reclaimed: [] };
    if (this.held.size >= this.max) return { granted: false, inFlight: this.held.size, reclaimed: [] };
    this.held.add(holder);
    return { granted: true, already: false, inFlight: this.held.size, expiresAt: 0, reclaimed: [] };
  }
  async release(holder: string) {
    return { released: this.held.delete(holder) };
  }
}

class FakeStarter {
  executions = new Map<string, ExecutionInput>();
  calls: string[] = [];
  fail?: (name: string) => Error | undefined;
  async start(name: string, input: ExecutionInput): Promise<'started' | 'duplicate'> {
    this.calls.push(name);
    const err = this.fail?.(name);
    if (err) throw err;
    if (this.executions.has(name)) return 'duplicate';
    this.executions.set(name, input);
    return 'started';
  }
}

class FakeQueue {
  visibility: Array<{ receiptHandle: string; seconds: number }> = [];
  requeued: Array<{ message: RequeueMessage; delaySeconds: number }> = [];
  deadLetters: Array<{ body: string; reason: string }> = [];
  failVisibility = false;
  failRequeue = false;
  failDeadLetter = false;
  async deadLetter(body: string, reason: string) {
    if (this.failDeadLetter) throw new Error('AWS.SimpleQueueService.NonExistentQueue');
    this.deadLetters.push({ body, reason });
  }
  async changeVisibility(receiptHandle: string, seconds: number) {
    if (this.failVisibility) throw new Error('ReceiptHandleIsInvalid');
    this.visibility.push({ receiptHandle, seconds });
  }
  async requeue(message: RequeueMessage, delaySeconds: number) {
    if (this.failRequeue) throw new Error('AWS.SimpleQueueService.NonExistentQueue');
    this.requeued.push({ message, delaySeconds });
  }
}

const settings = { resultsPrefix: 'ost-forwarder/', keyPrefixes: [], keySuffixes: [] };

function message(keys: string[], opts: { id?: string; receiveCount?: number; attributes?: Record<string, string> } = {}): SQSRecord {
  const id = opts.id ?? `m-${keys.join(',')}`;
  return {
    messageId: id,
    receiptHandle: `rh-${id}-${opts.receiveCount ?? 1}`,
    body: JSON.stringify({ Records: keys.map((key) => s3Record(key, { bucket: 'in', size: 10, eTag: 'e'.repeat(32), sequencer: '00000000000000000A' })) }),
    attributes: { ApproximateReceiveCount: String(opts.receiveCount ?? 1), SentTimestamp: '1700000000000', SenderId: 's3', ApproximateFirstReceiveTimestamp: '1700000000000' },
    messageAttributes: Object.fromEntries(Object.entries(opts.attributes ?? {}).map(([k, v]) => [k, { stringValue: v, dataType: 'Number', stringListValues: [], binaryListValues: [] }])),
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:intake',
    awsRegion: 'us-east-1',
  };
}
const nameOf = (key: string) => executionName({ bucket: 'in', key, etag: 'e'.repeat(32), sequencer: '00000000000000000A' });

function deps(slots: FakeSlots, starter: FakeStarter, queue: FakeQueue, policy: IntakeDeps['policy'] = {}): IntakeDeps {
  return { slots, starter, queue, settings, policy: { maxReceiveCount: 5, waitBaseSeconds: 20, waitMaxSeconds: 300, failBaseSeconds: 30, ...policy }, random: () => 1 };
}

describe('intake decision', () => {
  it('starts only with a slot: 16 of 20 messages start, 4 wait hidden with a backoff and are reported as failures', async () => {
    const slots = new FakeSlots(16), starter = new FakeStarter(), queue = new FakeQueue();
    const batch = Array.from({ length: 20 }, (_, i) => message([`f${i}.wav`]));
    const r = await handleIntakeBatch(batch, deps(slots, starter, queue));
    expect(starter.calls).toHaveLength(16);
    expect(slots.held.size).toBe(16);
    expect(r.counts).toMatchObject({ started: 16, waiting: 4, failed: 0, requeued: 0 });
    expect(r.response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(batch.slice(16).map((m) => m.messageId));
    expect(queue.visibility).toEqual(batch.slice(16).map((m) => ({ receiptHandle: m.receiptHandle, seconds: 20 })));
    // after the first "full" answer the rest of the batch does not ask again
    expect(slots.acquires).toBe(17);
  });

  it('a re-delivered message whose execution runs keeps its one slot and is deleted (no second start, no second slot)', async () => {
    const slots = new FakeSlots(2), starter = new FakeStarter(), queue = new FakeQueue();
    await handleIntakeBatch([message(['a.wav'])], deps(slots, starter, queue));
    // the trigger crashed after StartExecution, before the delete: the same message comes again
    const r = await handleIntakeBatch([message(['a.wav'], { receiveCount: 2 })], deps(slots, starter, queue));
    expect(r.counts).toMatchObject({ started: 0, duplicates: 1 });
    expect(r.response.batchItemFailures).toEqual([]);
    expect([...starter.executions.keys()]).toEqual([nameOf('a.wav')]);
    expect([...slots.held]).toEqual([nameOf('a.wav')]); // still held by the running execution
  });

  it('a duplicate of a finished execution gives back the slot it just took', async () => {
    const slots = new FakeSlots(2), starter = new FakeStarter(), queue = new FakeQueue();
    await handleIntakeBatch([message(['a.wav'])], deps(slots, starter, queue));
    await slots.release(nameOf('a.wav')); // the execution finished
    const r = await handleIntakeBatch([message(['a.wav'], { receiveCount: 2 })], deps(slots, starter, queue));
    expect(r.counts.duplicates).toBe(1);
    expect(slots.held.size).toBe(0);
  });

  it('a waiting message is re-sent before its receive count can reach the DLQ, however long the backlog', async () => {
    const slots = new FakeSlots(0 + 1), starter = new FakeStarter(), queue = new FakeQueue();
    slots.held.add('someone-else');
    const maxReceiveCount = 5;
    // a small model of SQS redrive: a message returned as a failure with ReceiveCount >= maxReceiveCount goes to the DLQ
    let current = message(['w.wav'], { id: 'orig' });
    let receiveCount = 1;
    let dlq = 0;
    for (let cycle = 0; cycle < 60; cycle++) {
      const r = await handleIntakeBatch([current], deps(slots, starter, queue, { maxReceiveCount }));
      const m = r.messages[0]!;
      if (m.outcome === 'waiting') {
        if (receiveCount >= maxReceiveCount) dlq++;
        receiveCount++;
        current = message(['w.wav'], { id: current.messageId, receiveCount, attributes: Object.fromEntries(Object.entries(current.messageAttributes).map(([k, v]) => [k, v.stringValue!])) });
      } else {
        expect(m.outcome).toBe('requeued');
        const copy = queue.requeued.at(-1)!;
        expect(copy.delaySeconds).toBeLessThanOrEqual(900);
        receiveCount = 1;
        current = message(['w.wav'], { id: `copy-${cycle}`, receiveCount: 1, attributes: copy.message.attributes });
      }
    }
    expect(dlq).toBe(0);
    expect(queue.requeued.length).toBeGreaterThanOrEqual(60 / (maxReceiveCount - 2) - 1);
    const last = queue.requeued.at(-1)!.message.attributes;
    expect(Number(last[WAITS_ATTRIBUTE])).toBeGreaterThanOrEqual(55); // the wait count survives the copies
    expect(last[FIRST_SEEN_ATTRIBUTE]).toBe('1700000000000'); // so does the age
    expect(starter.calls).toEqual([]);
  });

  it('a real failure counts towards the DLQ: a rejected StartExecution fails the message and gives the slot back', async () => {
    const slots = new FakeSlots(4), starter = new FakeStarter(), queue = new FakeQueue();
    starter.fail = () => Object.assign(new Error('State Machine Does Not Exist'), { name: 'StateMachineDoesNotExist', $metadata: { httpStatusCode: 400 } });
    const r = await handleIntakeBatch([message(['a.wav'], { receiveCount: 4 })], deps(slots, starter, queue));
    expect(r.messages[0]).toMatchObject({ outcome: 'failed', delaySeconds: 240 });
    expect(r.response.batchItemFailures).toEqual([{ itemIdentifier: 'm-a.wav' }]);
    expect(queue.requeued).toEqual([]); // failures are never re-sent: they are meant to reach the DLQ
    expect(slots.held.size).toBe(0);
    expect(r.messages[0]!.records[0]!.reason).toMatch(/^StartExecution failed: StateMachineDoesNotExist/);
  });

  it('StartExecution throttled waits (not a failure) and gives the slot back; no answer keeps the slot for the next delivery', async () => {
    const slots = new FakeSlots(4), starter = new FakeStarter(), queue = new FakeQueue();
    starter.fail = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    let r = await handleIntakeBatch([message(['a.wav'])], deps(slots, starter, queue));
    expect(r.messages[0]!.outcome).toBe('waiting');
    expect(slots.held.size).toBe(0);
    starter.fail = () => Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' });
    r = await handleIntakeBatch([message(['a.wav'], { receiveCount: 2 })], deps(slots, starter, queue));
    expect(r.messages[0]!.outcome).toBe('waiting');
    expect([...slots.held]).toEqual([nameOf('a.wav')]); // it may exist: its slot stays
    starter.fail = undefined;
    r = await handleIntakeBatch([message(['a.wav'], { receiveCount: 3 })], deps(slots, starter, queue));
    expect(r.counts.started).toBe(1);
    expect([...slots.held]).toEqual([nameOf('a.wav')]);
    expect(slots.acquires).toBe(3);
  });

  it('the semaphore unavailable → the message waits; misconfigured → it fails', async () => {
    const slots = new FakeSlots(4), starter = new FakeStarter(), queue = new FakeQueue();
    slots.fault = new AdmissionUnavailableError('semaphore table t: acquire failed: InternalServerError');
    let r = await handleIntakeBatch([message(['a.wav'])], deps(slots, starter, queue));
    expect(r.messages[0]).toMatchObject({ outcome: 'waiting' });
    slots.fault = new AdmissionConfigError('semaphore table t: acquire failed: ResourceNotFoundException');
    r = await handleIntakeBatch([message(['a.wav'])], deps(slots, starter, queue));
    expect(r.messages[0]).toMatchObject({ outcome: 'failed' });
    expect(starter.calls).toEqual([]);
  });

  it('test events and skipped keys are deleted without a slot; what it cannot read goes to the dead-letter queue with the reason', async () => {
    const slots = new FakeSlots(4), starter = new FakeStarter(), queue = new FakeQueue();
    const bad = { ...message(['x']), messageId: 'bad', body: '{not json' };
    const noRecords = { ...message(['x']), messageId: 'no-records', body: '{"hello":1}' };
    const otherEvent = { ...message(['x']), messageId: 'deleted', body: JSON.stringify({ source: 'aws.s3', 'detail-type': 'Object Deleted', detail: {} }) };
    const test = { ...message(['x']), messageId: 'test', body: JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent' }) };
    const own = message(['ost-forwarder/records/a.json'], { id: 'own' });
    const folder = { ...message(['x']), messageId: 'folder', body: JSON.stringify({ Records: [s3Record('dir/', { bucket: 'in', size: 0, eTag: 'e' })] }) };
    const r = await handleIntakeBatch([bad, noRecords, otherEvent, test, own, folder], deps(slots, starter, queue));
    expect(r.response.batchItemFailures).toEqual([]);
    expect(r.messages.map((m) => m.outcome)).toEqual(['dead-lettered', 'dead-lettered', 'dead-lettered', 'done', 'done', 'done']);
    expect(r.counts).toMatchObject({ malformed: 3, skipped: 3, deadLettered: 3 });
    expect(queue.deadLetters).toEqual([
      { body: '{not json', reason: expect.stringMatching(/^unreadable message body: .*JSON/) },
      { body: '{"hello":1}', reason: 'unreadable message body: message body has no Records array' },
      { body: otherEvent.body, reason: 'unreadable message body: EventBridge event of S3 is "Object Deleted", not Object Created' },
    ]);
    expect(slots.acquires).toBe(0);
  });

  it('an unreadable message that cannot reach the dead-letter queue stays (the redrive policy moves it), never deleted', async () => {
    const slots = new FakeSlots(4), starter = new FakeStarter(), queue = new FakeQueue();
    queue.failDeadLetter = true;
    const bad = { ...message(['x']), messageId: 'bad', body: '{not json' };
    const r = await handleIntakeBatch([bad], deps(slots, starter, queue));
    expect(r.response.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
    expect(r.messages[0]).toMatchObject({ outcome: 'failed' });
    // without a dead-letter queue configured, the same
    const r2 = await handleIntakeBatch([bad], { ...deps(slots, starter, queue), queue: { changeVisibility: queue.changeVisibility.bind(queue), requeue: queue.requeue.bind(queue) } });
    expect(r2.response.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
  });

  it('reads S3\'s EventBridge "Object Created" body as the notification of the same version: one execution for both', async () => {
    const slots = new FakeSlots(4), starter = new FakeStarter(), queue = new FakeQueue();
    const key = 'in/a b+c 会议.wav';
    const eventBridge = (o: Record<string, unknown>) => JSON.stringify({
      version: '0', id: 'e1', 'detail-type': 'Object Created', source: 'aws.s3', account: '111122223333', time: '2026-11-12T00:00:00Z', region: 'us-east-1',
      resources: ['arn:aws:s3:::in'], detail: { version: '0', bucket: { name: 'in' }, object: { key, size: 10, ...o }, 'request-id': 'r', requester: '1', reason: 'PutObject' },
    });
    // unversioned: ETag + sequencer, in EventBridge's notation (lower case, not zero-padded)
    const notified = { ...message([key.split('/').map((p) => encodeURIComponent(p).replace(/%20/g, '+')).join('/')]), messageId: 'n' };
    const viaRule = { ...message([key]), messageId: 'eb', body: eventBridge({ etag: 'e'.repeat(32), sequencer: 'a' }) };
    const r = await handleIntakeBatch([notified, viaRule], deps(slots, starter, queue));
    expect(r.counts).toMatchObject({ started: 1, duplicates: 1 });
    expect([...starter.executions.keys()]).toEqual([nameOf(key)]);
    expect(starter.executions.get(nameOf(key))).toMatchObject({ bucket: 'in', key, size: 10 });
    // versioned: the versionId names it
    const versioned = notificationRecords(eventBridge({ etag: 'x', 'version-id': 'v1', sequencer: 'b' })).records[0] as { s3: { object: Record<string, unknown> } };
    expect(versioned.s3.object).toEqual({ key: 'in/a+b%2Bc+%E4%BC%9A%E8%AE%AE.wav', size: 10, eTag: 'x', versionId: 'v1', sequencer: 'b' });
  });

  it('an SNS-wrapped notification is read through', async () => {
    const slots = new FakeSlots(4), starter = new FakeStarter(), queue = new FakeQueue();
    const inner = message(['a.wav']);
    const wrapped = { ...inner, body: JSON.stringify({ Type: 'Notification', Message: inner.body }) };
    const r = await handleIntakeBatch([wrapped], deps(slots, starter, queue));
    expect(r.counts.started).toBe(1);
  });

  it('a message with several records is deleted only when all are started; the retry starts only the rest', async () => {
    const slots = new FakeSlots(1), starter = new FakeStarter(), queue = new FakeQueue();
    let r = await handleIntakeBatch([message(['a.wav', 'b.wav'])], deps(slots, starter, queue));
    expect(r.messages[0]!.records.map((x) => x.status)).toEqual(['started', 'waiting']);
    expect(r.response.batchItemFailures).toHaveLength(1);
    await slots.release(nameOf('a.wav'));
    r = await handleIntakeBatch([message(['a.wav', 'b.wav'], { receiveCount: 2 })], deps(slots, starter, queue));
    // a.wav is a duplicate of its finished execution (slot given back), b.wav starts
    expect(r.messages[0]!.records.map((x) => x.status)).toEqual(['duplicate', 'started']);
    expect(r.response.batchItemFailures).toEqual([]);
    expect(starter.executions.size).toBe(2);
    expect([...slots.held]).toEqual([nameOf('b.wav')]);
  });

  it('queue errors never lose a message: a failed re-send falls back to the visibility backoff; a failed backoff still reports it', async () => {
    const slots = new FakeSlots(0 + 1), starter = new FakeStarter(), queue = new FakeQueue();
    slots.held.add('other');
    queue.failRequeue = true;
    let r = await handleIntakeBatch([message(['a.wav'], { receiveCount: 3 })], deps(slots, starter, queue));
    expect(r.messages[0]!.outcome).toBe('waiting');
    expect(r.response.batchItemFailures).toHaveLength(1);
    queue.failVisibility = true;
    r = await handleIntakeBatch([message(['a.wav'], { receiveCount: 1 })], deps(slots, starter, queue));
    expect(r.response.batchItemFailures).toHaveLength(1);
  });

  it('backoff doubles per wait up to the cap, with jitter within [half, full]', () => {
    expect([1, 2, 3, 4, 5, 6].map((s) => backoffSeconds(s, 20, 300, () => 1))).toEqual([20, 40, 80, 160, 300, 300]);
    expect(backoffSeconds(3, 20, 300, () => 0)).toBe(40);
    expect(backoffSeconds(1000, 20, 300, () => 0.5)).toBe(225);
  });

  it('classifies StartExecution failures', () => {
    expect(startFailure(Object.assign(new Error('x'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }))).toMatchObject({ transient: true, notCreated: true });
    expect(startFailure(Object.assign(new Error('x'), { name: 'InternalFailure', $metadata: { httpStatusCode: 500 } }))).toMatchObject({ transient: true, notCreated: false });
    expect(startFailure(Object.assign(new Error('x'), { name: 'InvalidExecutionInput', $metadata: { httpStatusCode: 400 } }))).toMatchObject({ transient: false, notCreated: true });
    expect(startFailure(new Error('x'.repeat(1000))).reason.length).toBeLessThanOrEqual(300);
  });
});
