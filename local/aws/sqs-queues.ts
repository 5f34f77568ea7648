// The local SQS's queue model (local/aws/sqs.ts serves it over SQS's JSON protocol): standard queues in memory with
// visibility timeouts (queue default, per receive, and ChangeMessageVisibility up to 12 h from the receive), receive
// counts, a dead-letter queue by RedrivePolicy (a message received maxReceiveCount times moves there on its next
// receive), per-message and queue delays (≤ 900 s), retention, and the receipt-handle rule that deleting with a
// stale handle succeeds but deletes nothing. Every duration goes through `ms`, which applies the time scale.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './account';

export const MAX_VISIBILITY = 43_200;
export const MAX_DELAY = 900;

export interface QueueStats {
  /** Messages that a receive would return now. */
  visible: number;
  inFlight: number;
  delayed: number;
  /** Messages moved to the dead-letter queue from this queue. */
  movedToDlq: number;
  sent: number;
  deleted: number;
  received: number;
}

export interface Message {
  id: string;
  body: string;
  md5OfBody: string;
  attributes: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;
  md5OfAttributes?: string;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceiveAt?: number;
  receivedAt?: number;
  receiptHandle?: string;
}

export interface Queue {
  name: string;
  url: string;
  arn: string;
  createdAt: number;
  attributes: Record<string, string>;
  messages: Map<string, Message>;
  stats: QueueStats;
}

/** An SQS error as the JSON protocol sends it. */
export class SqsServiceError extends Error {
  constructor(readonly type: string, message: string, readonly status = 400, readonly queryCode = type) {
    super(message);
    this.name = 'SqsServiceError';
  }
}

const DEFAULT_ATTRIBUTES: Record<string, string> = {
  VisibilityTimeout: '30',
  MessageRetentionPeriod: '345600',
  DelaySeconds: '0',
  MaximumMessageSize: '262144',
  ReceiveMessageWaitTimeSeconds: '0',
};

function md5(data: string | Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

/** MD5 of message attributes, as SQS computes it: sorted by name, each part length-prefixed, a transport byte. */
export function attributesMd5(attrs: Message['attributes']): string | undefined {
  const names = Object.keys(attrs).sort();
  if (names.length === 0) return undefined;
  const parts: Buffer[] = [];
  const lp = (b: Buffer): void => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    parts.push(len, b);
  };
  for (const name of names) {
    const a = attrs[name]!;
    lp(Buffer.from(name, 'utf8'));
    lp(Buffer.from(a.DataType, 'utf8'));
    if (a.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]));
      lp(Buffer.from(a.BinaryValue, 'base64'));
    } else {
      parts.push(Buffer.from([1]));
      lp(Buffer.from(a.StringValue ?? '', 'utf8'));
    }
  }
  return md5(Buffer.concat(parts));
}

export function intAttr(value: unknown, name: string, min: number, max: number): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new SqsServiceError('InvalidParameterValue', `Value ${String(value)} for parameter ${name} is invalid. Reason: must be between ${min} and ${max}.`, 400, 'InvalidParameterValue');
  }
  return n;
}

/** What the queue model needs from the server: its clock, the time scale, and the endpoint queue URLs name. */
export interface QueueClock {
  now: () => number;
  /** Seconds in the API to milliseconds on the (scaled) clock. */
  ms: (seconds: number) => number;
  /** Known only once the server listens; read when a queue is created. */
  endpoint: () => string;
}

export type QueueModel = ReturnType<typeof queueModel>;

/** The queues by name, and the operations on them that the JSON protocol server maps requests to. */
export function queueModel(clock: QueueClock) {
  const { now, ms } = clock;
  const queues = new Map<string, Queue>(); // by name
  /** Long polls waiting for a message to become receivable; woken on every send or visibility reset. */
  const waiters = new Set<() => void>();

  const queueByUrl = (url: unknown): Queue => {
    const name = typeof url === 'string' ? url.split('/').pop() ?? '' : '';
    const q = queues.get(name);
    if (!q) throw new SqsServiceError('QueueDoesNotExist', 'The specified queue does not exist.', 400, 'AWS.SimpleQueueService.NonExistentQueue');
    return q;
  };

  const createQueue = (name: string, attributes: Record<string, string> = {}): string => {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) throw new SqsServiceError('InvalidParameterValue', `Invalid queue name: ${name.slice(0, 100)}`, 400, 'InvalidParameterValue');
    const existing = queues.get(name);
    if (existing) return existing.url;
    const merged = { ...DEFAULT_ATTRIBUTES, ...attributes };
    intAttr(merged.VisibilityTimeout, 'VisibilityTimeout', 0, MAX_VISIBILITY);
    intAttr(merged.MessageRetentionPeriod, 'MessageRetentionPeriod', 60, 1_209_600);
    intAttr(merged.DelaySeconds, 'DelaySeconds', 0, MAX_DELAY);
    intAttr(merged.ReceiveMessageWaitTimeSeconds, 'ReceiveMessageWaitTimeSeconds', 0, 20);
    if (merged.RedrivePolicy) redrivePolicy(merged.RedrivePolicy);
    const q: Queue = {
      name,
      url: `${clock.endpoint()}/${LOCAL_ACCOUNT}/${name}`,
      arn: `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${name}`,
      createdAt: now(),
      attributes: merged,
      messages: new Map(),
      stats: { visible: 0, inFlight: 0, delayed: 0, movedToDlq: 0, sent: 0, deleted: 0, received: 0 },
    };
    queues.set(name, q);
    return q.url;
  };

  const redrivePolicy = (raw: string): { dlq: string; maxReceiveCount: number } => {
    let p: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    try {
      p = JSON.parse(raw) as typeof p;
    } catch {
      throw new SqsServiceError('InvalidAttributeValue', 'Invalid value for the parameter RedrivePolicy: not JSON.');
    }
    if (typeof p.deadLetterTargetArn !== 'string') throw new SqsServiceError('InvalidAttributeValue', 'RedrivePolicy needs deadLetterTargetArn.');
    const maxReceiveCount = intAttr(p.maxReceiveCount, 'maxReceiveCount', 1, 1000);
    const dlq = p.deadLetterTargetArn.split(':').pop() ?? '';
    if (!queues.has(dlq)) throw new SqsServiceError('InvalidAttributeValue', `Dead-letter target ${dlq} does not exist.`);
    return { dlq, maxReceiveCount };
  };

  const expire = (q: Queue, t: number): void => {
    const retention = ms(Number(q.attributes.MessageRetentionPeriod));
    for (const [id, m] of q.messages) if (t - m.sentAt >= retention) q.messages.delete(id);
  };

  const enqueue = (q: Queue, entry: { MessageBody?: unknown; DelaySeconds?: unknown; MessageAttributes?: unknown }): Message => {
    if (typeof entry.MessageBody !== 'string' || entry.MessageBody.length === 0) throw new SqsServiceError('MissingParameter', 'The request must contain the parameter MessageBody.', 400, 'MissingParameter');
    if (Buffer.byteLength(entry.MessageBody) > Number(q.attributes.MaximumMessageSize)) throw new SqsServiceError('InvalidParameterValue', `One or more parameters are invalid. Reason: Message must be shorter than ${q.attributes.MaximumMessageSize} bytes.`, 400, 'InvalidParameterValue');
    const delay = entry.DelaySeconds === undefined ? Number(q.attributes.DelaySeconds) : intAttr(entry.DelaySeconds, 'DelaySeconds', 0, MAX_DELAY);
    const attributes = (entry.MessageAttributes ?? {}) as Message['attributes'];
    const t = now();
    const m: Message = {
      id: randomUUID(),
      body: entry.MessageBody,
      md5OfBody: md5(entry.MessageBody),
      attributes,
      md5OfAttributes: attributesMd5(attributes),
      sentAt: t,
      visibleAt: t + ms(delay),
      receiveCount: 0,
    };
    q.messages.set(m.id, m);
    q.stats.sent++;
    for (const w of waiters) w();
    return m;
  };

  /** Finds the message a receipt handle names; `latest` is false for an older receive's handle. */
  const byHandle = (q: Queue, handle: unknown): { m?: Message; latest: boolean } => {
    const h = typeof handle === 'string' ? handle : '';
    const id = Buffer.from(h, 'base64url').toString('utf8').split('|')[0] ?? '';
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new SqsServiceError('ReceiptHandleIsInvalid', `The input receipt handle "${h.slice(0, 60)}" is not a valid receipt handle.`, 400, 'ReceiptHandleIsInvalid');
    const m = q.messages.get(id);
    return { m, latest: m?.receiptHandle === h };
  };

  const take = (q: Queue, max: number, visibility: number): Message[] => {
    const t = now();
    expire(q, t);
    const policy = q.attributes.RedrivePolicy ? redrivePolicy(q.attributes.RedrivePolicy) : undefined;
    const out: Message[] = [];
    for (const m of q.messages.values()) {
      if (out.length >= max) break;
      if (m.visibleAt > t) continue;
      if (policy && m.receiveCount >= policy.maxReceiveCount) {
        // Its receives are used up: it moves to the dead-letter queue instead of being received again.
        q.messages.delete(m.id);
        const dlq = queues.get(policy.dlq);
        if (dlq) {
          dlq.messages.set(m.id, { ...m, visibleAt: t, receiveCount: 0, receiptHandle: undefined, receivedAt: undefined, firstReceiveAt: undefined });
          for (const w of waiters) w();
        }
        q.stats.movedToDlq++;
        continue;
      }
      m.receiveCount++;
      m.firstReceiveAt ??= t;
      m.receivedAt = t;
      m.visibleAt = t + ms(visibility);
      m.receiptHandle = Buffer.from(`${m.id}|${m.receiveCount}|${randomBytes(12).toString('hex')}`).toString('base64url');
      q.stats.received++;
      out.push(m);
    }
    return out;
  };

  const shape = (m: Message, wantAttributes: boolean, wantMessageAttributes: string[] | undefined): Record<string, unknown> => {
    const r: Record<string, unknown> = { MessageId: m.id, ReceiptHandle: m.receiptHandle, MD5OfBody: m.md5OfBody, Body: m.body };
    if (wantAttributes) {
      r.Attributes = {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentAt),
        ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt ?? m.receivedAt ?? m.sentAt),
        SenderId: 'AIDALOCAL',
      };
    }
    if (wantMessageAttributes && Object.keys(m.attributes).length > 0) {
      const all = wantMessageAttributes.includes('All') || wantMessageAttributes.includes('.*');
      const picked = Object.fromEntries(Object.entries(m.attributes).filter(([k]) => all || wantMessageAttributes.includes(k)));
      if (Object.keys(picked).length > 0) {
        r.MessageAttributes = picked;
        r.MD5OfMessageAttributes = attributesMd5(picked);
      }
    }
    return r;
  };

  const changeVisibility = (q: Queue, handle: unknown, timeout: unknown): void => {
    const seconds = intAttr(timeout, 'VisibilityTimeout', 0, MAX_VISIBILITY);
    const { m, latest } = byHandle(q, handle);
    const t = now();
    if (!m || !latest || m.visibleAt <= t) throw new SqsServiceError('MessageNotInflight', 'The message referred to is not in flight.', 400, 'AWS.SimpleQueueService.MessageNotInflight');
    if (t + ms(seconds) - (m.receivedAt ?? t) > ms(MAX_VISIBILITY)) {
      throw new SqsServiceError('InvalidParameterValue', `Value ${seconds} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]`, 400, 'InvalidParameterValue');
    }
    m.visibleAt = t + ms(seconds);
    if (seconds === 0) for (const w of waiters) w();
  };

  const deleteMessage = (q: Queue, handle: unknown): void => {
    const { m, latest } = byHandle(q, handle);
    // A stale handle (the message was received again since) succeeds without deleting, as SQS does.
    if (m && latest) {
      q.messages.delete(m.id);
      q.stats.deleted++;
    }
  };

  const queueAttributes = (q: Queue, names: unknown): Record<string, string> => {
    const t = now();
    expire(q, t);
    let visible = 0, inFlight = 0, delayed = 0;
    for (const m of q.messages.values()) {
      if (m.visibleAt <= t) visible++;
      else if (m.receiptHandle) inFlight++;
      else delayed++;
    }
    const all: Record<string, string> = {
      ...q.attributes,
      QueueArn: q.arn,
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(inFlight),
      ApproximateNumberOfMessagesDelayed: String(delayed),
      CreatedTimestamp: String(Math.floor(q.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(q.createdAt / 1000)),
    };
    const wanted = Array.isArray(names) ? (names as string[]) : [];
    if (wanted.includes('All')) return all;
    return Object.fromEntries(Object.entries(all).filter(([k]) => wanted.includes(k)));
  };

  return { queues, waiters, queueByUrl, createQueue, redrivePolicy, enqueue, take, shape, changeVisibility, deleteMessage, queueAttributes };
}
