// How S3's notifications reach the trigger. Without admission, as an asynchronous Lambda invocation: the handler
// runs with a Lambda context and, when it throws, is retried (AWS: twice), then the event is dead-lettered. With
// admission, as a message in the intake queue: the delivery is pending while the queue holds that message (waiting
// for a slot, backing off or re-sent as a fresh copy) and settled once it left the queue; what the trigger decided
// for it is seen in the executions it started, never re-decided here.
import { randomUUID } from 'node:crypto';
import type { S3EventRecord } from 'aws-lambda';
import { decodeS3Key } from '../../lib/intake/s3-event';
import { s3Event } from '../aws/s3';
import { lambdaContext, type LambdaHandler } from '../executor';
import type { LocalFleet } from './fleet';
import type { TriggerDelivery } from './types';
import type { Started } from './pieces';

export interface DeliveryOptions {
  trigger: LambdaHandler;
  timeoutSeconds: number;
  memoryMb: number;
  /** Lambda's asynchronous invocation retries (AWS: 2). */
  retries: number;
  /** The admission: notifications go to its intake queue. */
  fleet?: LocalFleet;
}

export interface Deliveries extends Started {
  /** Every delivery so far. */
  list: TriggerDelivery[];
  /** Invokes the trigger with any payload, as S3's asynchronous invocation would (retries included). */
  invoke(event: unknown): TriggerDelivery;
  /** Delivers the notification of one ObjectCreated record: to the intake queue with admission, else invoke. */
  notify(record: S3EventRecord): TriggerDelivery;
  /** The deliveries of `key`, oldest first. */
  of(key: string): TriggerDelivery[];
}

/** How often a pending intake delivery looks whether its message is still in the queue. */
const INTAKE_POLL_MS = 25;

export function startDeliveries(o: DeliveryOptions): Deliveries {
  const list: TriggerDelivery[] = [];
  const byKey = new Map<string, TriggerDelivery[]>();
  const pending = new Map<TriggerDelivery, { body: string; sent: boolean; settle: () => void }>();
  let poll: NodeJS.Timeout | undefined;

  const newDelivery = (event: unknown, attempts: number): [TriggerDelivery, () => void] => {
    let resolveDone!: (d: TriggerDelivery) => void;
    const d: TriggerDelivery = { id: randomUUID(), event, attempts, deadLettered: false, done: new Promise((r) => { resolveDone = r; }) };
    list.push(d);
    return [d, () => resolveDone(d)];
  };

  const invoke = (event: unknown): TriggerDelivery => {
    const [d, done] = newDelivery(event, 0);
    void (async () => {
      for (;;) {
        d.attempts++;
        try {
          const copy = JSON.parse(JSON.stringify(event ?? null));
          const ctx = lambdaContext('trigger', randomUUID(), Date.now() + o.timeoutSeconds * 1000, o.memoryMb);
          d.result = (await o.trigger(copy, ctx)) ?? null;
          d.error = undefined;
          break;
        } catch (err) {
          const e = err instanceof Error ? err : new Error(String(err));
          d.error = { name: e.name, message: e.message };
          if (d.attempts > o.retries) { d.deadLettered = true; break; }
          await new Promise((r) => setTimeout(r, 20 * d.attempts)); // AWS waits ~1 min, then ~2 min
        }
      }
      done();
    })();
    return d;
  };

  const checkIntake = (fleet: LocalFleet) => {
    for (const [d, p] of pending) {
      if (!p.sent || fleet.sqs.holds(fleet.queueUrl, p.body)) continue;
      if (fleet.sqs.holds(fleet.dlqUrl, p.body)) d.deadLettered = true;
      else d.result = { intake: 'done' };
      p.settle();
    }
    if (pending.size === 0 && poll) { clearInterval(poll); poll = undefined; }
  };

  const enqueue = (fleet: LocalFleet, event: ReturnType<typeof s3Event>): TriggerDelivery => {
    const [d, done] = newDelivery(event, 1);
    const p = { body: JSON.stringify(event), sent: false, settle: () => { pending.delete(d); done(); } };
    pending.set(d, p);
    fleet.notify(event).then(() => { p.sent = true; }, (err: Error) => {
      d.error = { name: err.name, message: err.message };
      d.deadLettered = true;
      p.settle();
    });
    poll ??= setInterval(() => checkIntake(fleet), INTAKE_POLL_MS);
    return d;
  };

  return {
    list,
    invoke,
    notify(record) {
      const event = s3Event([record]);
      const d = o.fleet ? enqueue(o.fleet, event) : invoke(event);
      const key = decodeS3Key(record.s3.object.key);
      byKey.set(key, [...(byKey.get(key) ?? []), d]);
      return d;
    },
    of: (key) => byKey.get(key) ?? [],
    async close() {
      if (poll) clearInterval(poll);
      poll = undefined;
      for (const [d, p] of pending) { d.result = { intake: 'closed' }; p.settle(); }
      await Promise.all(list.map((d) => d.done));
    },
  };
}
