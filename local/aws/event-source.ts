// A local Lambda event source mapping for SQS: pollers receive batches from a queue and invoke a handler with
// `{ Records }`, as Lambda does, then delete what the handler did not report in `batchItemFailures`
// (ReportBatchItemFailures). A thrown error, or a response naming an item that is not in the batch, fails the
// whole batch: nothing is deleted and the messages come back after their visibility timeout.
// `maximumConcurrency` pollers run at once (ScalingConfig.MaximumConcurrency, at least 2 on AWS).
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { lambdaSqsRecord } from './sqs';

export interface EventSourceMappingOptions {
  sqs: Pick<SQSClient, 'send'>;
  queueUrl: string;
  queueArn: string;
  handler: (event: SQSEvent) => Promise<SQSBatchResponse | void>;
  /** Messages per invocation (1–10). Default 10. */
  batchSize?: number;
  /** Invocations at once. Default 2. */
  maximumConcurrency?: number;
  /** Long-poll wait of each receive, in the queue's seconds. Default 1. */
  waitTimeSeconds?: number;
  /** Called when an invocation fails as a whole (the batch comes back later). */
  onBatchError?: (err: unknown) => void;
}

export interface EventSourceStats {
  invocations: number;
  failedInvocations: number;
  /** Messages deleted after a successful invocation. */
  deleted: number;
  /** Messages left in the queue by batchItemFailures. */
  reported: number;
  active: number;
  peakConcurrency: number;
}

export interface EventSourceMapping {
  stats(): EventSourceStats;
  /** Stops polling and waits for the invocations under way. */
  stop(): Promise<void>;
}

export function startEventSourceMapping(o: EventSourceMappingOptions): EventSourceMapping {
  const batchSize = o.batchSize ?? 10;
  const concurrency = o.maximumConcurrency ?? 2;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10) throw new RangeError(`batchSize must be from 1 to 10, got ${batchSize}`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`maximumConcurrency must be ≥ 1, got ${concurrency}`);
  const stats: EventSourceStats = { invocations: 0, failedInvocations: 0, deleted: 0, reported: 0, active: 0, peakConcurrency: 0 };
  let stopping = false;

  const poll = async (): Promise<void> => {
    while (!stopping) {
      let messages;
      try {
        const res = await o.sqs.send(new ReceiveMessageCommand({
          QueueUrl: o.queueUrl,
          MaxNumberOfMessages: batchSize,
          WaitTimeSeconds: o.waitTimeSeconds ?? 1,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }));
        messages = res.Messages ?? [];
      } catch (err) {
        if (stopping) return;
        o.onBatchError?.(err);
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (messages.length === 0) continue;
      stats.invocations++;
      stats.active++;
      stats.peakConcurrency = Math.max(stats.peakConcurrency, stats.active);
      try {
        const response = await o.handler({ Records: messages.map((m) => lambdaSqsRecord(m, o.queueArn)) });
        const ids = new Set(messages.map((m) => m.MessageId));
        const failures = response?.batchItemFailures ?? [];
        if (failures.some((f) => !f.itemIdentifier || !ids.has(f.itemIdentifier))) throw new Error('batchItemFailures names an item that is not in the batch');
        const failed = new Set(failures.map((f) => f.itemIdentifier));
        stats.reported += failed.size;
        const done = messages.filter((m) => !failed.has(m.MessageId!));
        if (done.length > 0) {
          const del = await o.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: o.queueUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }));
          stats.deleted += (del.Successful ?? []).length;
        }
      } catch (err) {
        stats.failedInvocations++;
        o.onBatchError?.(err);
      } finally {
        stats.active--;
      }
    }
  };

  const pollers = Array.from({ length: concurrency }, () => poll());
  return {
    stats: () => ({ ...stats }),
    async stop() {
      stopping = true;
      await Promise.all(pollers);
    },
  };
}
