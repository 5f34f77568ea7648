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
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_REGION } from './account';
import { intAttr, MAX_VISIBILITY, queueModel, SqsServiceError, type QueueStats } from './sqs-queues';

// Importable from here as before the queue model had its own file.
export { attributesMd5, SqsServiceError, type QueueStats } from './sqs-queues';

const MAX_REQUEST_BYTES = 2 * 1024 * 1024;

export interface LocalSqsOptions {
  port?: number;
  /** Multiplies every duration (0 < timeScale ≤ 1). */
  timeScale?: number;
  /** Clock in epoch milliseconds (tests move it). */
  now?: () => number;
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
  /** Whether the queue holds a message with exactly this body (visible, in flight or delayed). */
  holds(queueUrl: string, body: string): boolean;
  /** Every message a queue holds (visible or not), without receiving it: tests read a dead-letter queue this way. */
  peek(queueUrl: string): Array<{ id: string; body: string; attributes: Record<string, string> }>;
  close(): Promise<void>;
}

export async function startLocalSqs(options: LocalSqsOptions = {}): Promise<LocalSqs> {
  const scale = options.timeScale ?? 1;
  if (!(scale > 0 && scale <= 1)) throw new RangeError(`timeScale must be in (0, 1], got ${scale}`);
  const now = options.now ?? Date.now;
  const ms = (seconds: number): number => seconds * 1000 * scale;
  let endpoint = '';
  const model = queueModel({ now, ms, endpoint: () => endpoint });
  const { queues, waiters, queueByUrl, createQueue, redrivePolicy, enqueue, take, shape, changeVisibility, deleteMessage, queueAttributes } = model;
  let closing = false;

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
    peek(queueUrl) {
      return [...queueByUrl(queueUrl).messages.values()].map((m) => ({
        id: m.id, body: m.body, attributes: Object.fromEntries(Object.entries(m.attributes).map(([k, v]) => [k, v.StringValue ?? ''])),
      }));
    },
    stats(queueUrl) {
      const q = queueByUrl(queueUrl);
      const a = queueAttributes(q, ['All']);
      return { ...q.stats, visible: Number(a.ApproximateNumberOfMessages), inFlight: Number(a.ApproximateNumberOfMessagesNotVisible), delayed: Number(a.ApproximateNumberOfMessagesDelayed) };
    },
    holds(queueUrl, body) {
      for (const m of queueByUrl(queueUrl).messages.values()) if (m.body === body) return true;
      return false;
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
