// A local SQS for the local stack: standard queues in memory, spoken to over SQS's JSON protocol (AWS JSON 1.0,
// `X-Amz-Target: AmazonSQS.<Operation>`) on a loopback ephemeral port, so the real @aws-sdk/client-sqs works
// against it unchanged.
//
// Modelled because the intake depends on them: visibility timeouts (queue default, per receive, and
// ChangeMessageVisibility up to 12 h from the receive), receive counts, a dead-letter queue by RedrivePolicy
// (a message received maxReceiveCount times moves there on its next receive), per-message and queue delays
// (≤ 900 s), retention, long polling, and the receipt-handle rule that deleting with a stale handle succeeds but
// deletes nothing. Not modelled: FIFO queues, permissions, tags, message move tasks.
//
// `timeScale` shrinks every duration (visibility, delay, retention, long-poll wait) for tests: with 0.01 a 20 s
// backoff passes in 200 ms. Attributes and answers stay in the API's seconds.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './s3';

const MAX_REQUEST_BYTES = 2 * 1024 * 1024;
const MAX_VISIBILITY = 43_200;
const MAX_DELAY = 900;

export interface LocalSqsOptions {
  port?: number;
  /** Multiplies every duration (0 < timeScale ≤ 1). */
  timeScale?: number;
  /** Clock in epoch milliseconds (tests move it). */
  now?: () => number;
}

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

export interface LocalSqs {
  endpoint: string;
  region: string;
  client: SQSClient;
  /** Creates a queue (with attributes, as CreateQueue takes them) and answers its URL. */
  createQueue(name: string, attributes?: Record<string, string>): string;
  /** Creates `name` and `name-dlq`, the first redriving to the second after `maxReceiveCount` receives. */
  createQueueWithDlq(name: string, maxReceiveCount: number, attributes?: Record<string, string>): { queueUrl: string; dlqUrl: string };
  stats(queueUrl: string): QueueStats;
  close(): Promise<void>;
}

interface Message {
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

interface Queue {
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

function intAttr(value: unknown, name: string, min: number, max: number): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new SqsServiceError('InvalidParameterValue', `Value ${String(value)} for parameter ${name} is invalid. Reason: must be between ${min} and ${max}.`, 400, 'InvalidParameterValue');
  }
  return n;
}

export async function startLocalSqs(options: LocalSqsOptions = {}): Promise<LocalSqs> {
  const scale = options.timeScale ?? 1;
  if (!(scale > 0 && scale <= 1)) throw new RangeError(`timeScale must be in (0, 1], got ${scale}`);
  const now = options.now ?? Date.now;
  const ms = (seconds: number): number => seconds * 1000 * scale;
  const queues = new Map<string, Queue>(); // by name
  let endpoint = '';
  const waiters = new Set<() => void>();
  let closing = false;

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
      url: `${endpoint}/${LOCAL_ACCOUNT}/${name}`,
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

  const batch = <E extends { Id?: unknown }>(entries: unknown, each: (e: E) => Record<string, unknown>): Record<string, unknown> => {
    if (!Array.isArray(entries) || entries.length === 0) throw new SqsServiceError('EmptyBatchRequest', 'There should be at least one entry in the request.', 400, 'AWS.SimpleQueueService.EmptyBatchRequest');
    if (entries.length > 10) throw new SqsServiceError('TooManyEntriesInBatchRequest', 'Maximum number of entries per request are 10.', 400, 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest');
    const ids = entries.map((e: E) => String(e.Id));
    if (new Set(ids).size !== ids.length) throw new SqsServiceError('BatchEntryIdsNotDistinct', 'Two or more batch entries in the request have the same Id.', 400, 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct');
    const Successful: Array<Record<string, unknown>> = [];
    const Failed: Array<Record<string, unknown>> = [];
    for (const e of entries as E[]) {
      try {
        Successful.push({ Id: e.Id, ...each(e) });
      } catch (err) {
        const s = err instanceof SqsServiceError ? err : new SqsServiceError('InternalError', String(err), 500);
        Failed.push({ Id: e.Id, SenderFault: s.status < 500, Code: s.queryCode, Message: s.message });
      }
    }
    return { Successful, Failed };
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

  const receive = async (input: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const q = queueByUrl(input.QueueUrl);
    const max = input.MaxNumberOfMessages === undefined ? 1 : intAttr(input.MaxNumberOfMessages, 'MaxNumberOfMessages', 1, 10);
    const visibility = input.VisibilityTimeout === undefined ? Number(q.attributes.VisibilityTimeout) : intAttr(input.VisibilityTimeout, 'VisibilityTimeout', 0, MAX_VISIBILITY);
    const wait = input.WaitTimeSeconds === undefined ? Number(q.attributes.ReceiveMessageWaitTimeSeconds) : intAttr(input.WaitTimeSeconds, 'WaitTimeSeconds', 0, 20);
    const names = [...((input.AttributeNames as string[] | undefined) ?? []), ...((input.MessageSystemAttributeNames as string[] | undefined) ?? [])];
    const wantAttributes = names.length > 0;
    const wantMessageAttributes = input.MessageAttributeNames as string[] | undefined;
    // The long poll waits in real time, even when message times follow an injected clock. It returns as soon as a
    // message is there, so a scaled-down wait is kept at ≥ 250 ms: idle pollers then do not spin.
    const deadline = Date.now() + Math.max(ms(wait), Math.min(wait * 1000, 250));
    for (;;) {
      const got = take(q, max, visibility);
      if (got.length > 0 || Date.now() >= deadline || closing) return { Messages: got.map((m) => shape(m, wantAttributes, wantMessageAttributes)) };
      // Long poll: wake on a send (or a message made visible), else re-check soon (delays and visibility expire).
      await new Promise<void>((resolve) => {
        const done = (): void => { clearTimeout(timer); waiters.delete(done); resolve(); };
        const timer = setTimeout(done, Math.max(5, Math.min(50, deadline - Date.now())));
        waiters.add(done);
      });
    }
  };

  const operations: Record<string, (input: Record<string, unknown>) => unknown> = {
    CreateQueue: (i) => ({ QueueUrl: createQueue(String(i.QueueName ?? ''), (i.Attributes ?? {}) as Record<string, string>) }),
    GetQueueUrl: (i) => ({ QueueUrl: queueByUrl(`/${String(i.QueueName ?? '')}`).url }),
    ListQueues: (i) => ({ QueueUrls: [...queues.values()].filter((q) => !i.QueueNamePrefix || q.name.startsWith(String(i.QueueNamePrefix))).map((q) => q.url) }),
    DeleteQueue: (i) => { queues.delete(queueByUrl(i.QueueUrl).name); return {}; },
    PurgeQueue: (i) => { queueByUrl(i.QueueUrl).messages.clear(); return {}; },
    GetQueueAttributes: (i) => ({ Attributes: queueAttributes(queueByUrl(i.QueueUrl), i.AttributeNames) }),
    SetQueueAttributes: (i) => {
      const q = queueByUrl(i.QueueUrl);
      const attrs = (i.Attributes ?? {}) as Record<string, string>;
      if (attrs.RedrivePolicy) redrivePolicy(attrs.RedrivePolicy);
      Object.assign(q.attributes, attrs);
      return {};
    },
    SendMessage: (i) => {
      const m = enqueue(queueByUrl(i.QueueUrl), i);
      return { MessageId: m.id, MD5OfMessageBody: m.md5OfBody, ...(m.md5OfAttributes ? { MD5OfMessageAttributes: m.md5OfAttributes } : {}) };
    },
    SendMessageBatch: (i) => {
      const q = queueByUrl(i.QueueUrl);
      return batch<{ Id?: unknown; MessageBody?: unknown }>(i.Entries, (e) => {
        const m = enqueue(q, e);
        return { MessageId: m.id, MD5OfMessageBody: m.md5OfBody, ...(m.md5OfAttributes ? { MD5OfMessageAttributes: m.md5OfAttributes } : {}) };
      });
    },
    ReceiveMessage: receive,
    DeleteMessage: (i) => { deleteMessage(queueByUrl(i.QueueUrl), i.ReceiptHandle); return {}; },
    DeleteMessageBatch: (i) => {
      const q = queueByUrl(i.QueueUrl);
      return batch<{ Id?: unknown; ReceiptHandle?: unknown }>(i.Entries, (e) => { deleteMessage(q, e.ReceiptHandle); return {}; });
    },
    ChangeMessageVisibility: (i) => { changeVisibility(queueByUrl(i.QueueUrl), i.ReceiptHandle, i.VisibilityTimeout); return {}; },
    ChangeMessageVisibilityBatch: (i) => {
      const q = queueByUrl(i.QueueUrl);
      return batch<{ Id?: unknown; ReceiptHandle?: unknown; VisibilityTimeout?: unknown }>(i.Entries, (e) => { changeVisibility(q, e.ReceiptHandle, e.VisibilityTimeout); return {}; });
    },
  };

  const answer = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': randomUUID(), ...headers });
    res.end(text);
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BYTES) {
        answer(res, 413, { __type: 'com.amazonaws.sqs#RequestTooLarge', message: 'request too large' });
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      const target = String(req.headers['x-amz-target'] ?? '');
      const op = target.startsWith('AmazonSQS.') ? target.slice('AmazonSQS.'.length) : '';
      const handler = operations[op];
      void (async () => {
        try {
          if (req.method !== 'POST' || !handler) throw new SqsServiceError('UnsupportedOperation', `local SQS does not support ${JSON.stringify(target.slice(0, 80))}`, 400, 'AWS.SimpleQueueService.UnsupportedOperation');
          let input: Record<string, unknown>;
          try {
            input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
          } catch {
            throw new SqsServiceError('InvalidParameterValue', 'request body is not JSON');
          }
          answer(res, 200, await handler(input));
        } catch (err) {
          const e = err instanceof SqsServiceError ? err : new SqsServiceError('InternalError', String((err as Error)?.message ?? err).slice(0, 300), 500);
          answer(res, e.status, { __type: `com.amazonaws.sqs#${e.type}`, message: e.message }, { 'x-amzn-query-error': `${e.queryCode};${e.status < 500 ? 'Sender' : 'Receiver'}` });
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new SQSClient({ endpoint, region: LOCAL_REGION, credentials: { accessKeyId: 'LOCAL', secretAccessKey: 'LOCAL' } });

  return {
    endpoint,
    region: LOCAL_REGION,
    client,
    createQueue: (name, attributes) => createQueue(name, attributes),
    createQueueWithDlq(name, maxReceiveCount, attributes = {}) {
      const dlqUrl = createQueue(`${name}-dlq`, { MessageRetentionPeriod: '1209600' });
      const dlqArn = queues.get(`${name}-dlq`)!.arn;
      const queueUrl = createQueue(name, { ...attributes, RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }) });
      return { queueUrl, dlqUrl };
    },
    stats(queueUrl) {
      const q = queueByUrl(queueUrl);
      const a = queueAttributes(q, ['All']);
      return { ...q.stats, visible: Number(a.ApproximateNumberOfMessages), inFlight: Number(a.ApproximateNumberOfMessagesNotVisible), delayed: Number(a.ApproximateNumberOfMessagesDelayed) };
    },
    async close() {
      closing = true;
      for (const w of waiters) w();
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A received SDK message as Lambda's SQS event source hands it to a function (one `Records[]` entry). */
export function lambdaSqsRecord(
  m: { MessageId?: string; ReceiptHandle?: string; Body?: string; MD5OfBody?: string; Attributes?: Record<string, string>; MessageAttributes?: Record<string, { DataType?: string; StringValue?: string; BinaryValue?: Uint8Array }> },
  queueArn: string,
): import('aws-lambda').SQSRecord {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? '0',
      SenderId: a.SenderId ?? '',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? '0',
    },
    messageAttributes: Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, {
      dataType: v.DataType ?? 'String',
      stringValue: v.StringValue,
      binaryValue: v.BinaryValue ? Buffer.from(v.BinaryValue).toString('base64') : undefined,
      stringListValues: [],
      binaryListValues: [],
    }])),
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(':')[3] ?? LOCAL_REGION,
  };
}
