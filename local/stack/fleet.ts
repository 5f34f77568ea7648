// The admission side of the local stack: S3 notifications go to a local SQS intake queue, a local event
// source mapping invokes the real trigger with SQS batches, dynalite holds the slot semaphore, and the account's
// limits (local/aws/limits.ts) bound Lambda concurrency, open Map Runs and the StartExecution rate. The executor's
// "finished" events play the status-change rule: each ended execution is handed to the real release function.
//
//   S3 ──SendMessage──▶ intake (local SQS) ──event source mapping──▶ trigger ──slot (dynalite)──▶ StartExecution
//   executor "finished" ──status change──▶ release ──▶ slot back
import { randomUUID } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { SlotSemaphore } from '../../lib/admission/semaphore';
import { FINAL_STATUSES, STATUS_CHANGE_DETAIL_TYPE } from '../../lib/admission/status-event';
import { settingDefault } from '../../lib/config/table';
import { DEFAULT_MAX_FILES_IN_FLIGHT } from '../../lib/config/settings';
import { startLocalDynamo, type LocalDynamo } from '../aws/dynamo';
import { startLocalSqs, type LocalSqs } from '../aws/sqs';
import { startEventSourceMapping, type EventSourceMapping } from '../aws/event-source';
import { fleetLimits, type FleetLimitOptions } from '../aws/limits';
import type { ExecutionRecord, LocalExecutor, LambdaHandler } from '../executor';

export interface FleetOptions extends Omit<FleetLimitOptions, 'now'> {
  /** Slots (MAX_FILES_IN_FLIGHT); default the environment's, else 32. */
  maxFilesInFlight?: number;
  /** SQS durations × this (visibility, delays, long polls). Default 0.01: a 20 s backoff waits 200 ms. */
  timeScale?: number;
  /** Event source mapping: messages per batch and invocations at once (AWS: ScalingConfig.MaximumConcurrency). */
  batchSize?: number;
  maximumConcurrency?: number;
  /** The intake queue's redrive maxReceiveCount (INTAKE_MAX_RECEIVE_COUNT). Default 10. */
  maxReceiveCount?: number;
  /** The intake queue's visibility timeout, in its (scaled) seconds. Default 360, as deployed. */
  visibilityTimeout?: number;
  /** A slot's lease (SLOT_LEASE_SECONDS). Default the setting's. */
  leaseSeconds?: number;
  /** The final statuses the status-change rule hands to the release function (the template's rule). Default all four. */
  releaseStatuses?: readonly string[];
}

export interface FleetSummary {
  peakFilesInFlight: number;
  peakMapRuns: number;
  peakLambda: number;
  lambdaRefused: number;
  mapRunsRefused: number;
}

export interface LocalFleet {
  dynamo: LocalDynamo;
  sqs: LocalSqs;
  /** The statuses whose end is handed to the release function. */
  releaseStatuses: readonly string[];
  queueUrl: string;
  dlqUrl: string;
  queueArn: string;
  slots: SlotSemaphore;
  limits: ReturnType<typeof fleetLimits>;
  /** The handlers' environment for admission. */
  env: Record<string, string>;
  /** What S3 does on ObjectCreated: the notification into the intake queue. */
  notify(event: unknown): Promise<void>;
  /** Starts the event source mapping and the release rule (after the environment is applied). */
  start(o: { trigger: LambdaHandler; release: LambdaHandler; executor: LocalExecutor }): void;
  summary(): Promise<FleetSummary>;
  /** Resolves once the intake queue holds no message (visible, in flight or delayed): every one was admitted or dropped. */
  drained(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Visibility of the intake queue, in the queue's seconds: 6 × the trigger's 60 s timeout, as deployed. */
const INTAKE_VISIBILITY_SECONDS = 360;

/** The queues, limits and slots of a fleet over its started servers (throws on a bad option). */
function fleetParts(o: FleetOptions, dynamo: LocalDynamo, sqs: LocalSqs, maxFilesInFlight: number, maxReceiveCount: number) {
  const { queueUrl, dlqUrl } = sqs.createQueueWithDlq('ost-forwarder-intake', maxReceiveCount, { VisibilityTimeout: String(o.visibilityTimeout ?? INTAKE_VISIBILITY_SECONDS) });
  const queueArn = `arn:aws:sqs:${sqs.region}:000000000000:ost-forwarder-intake`;
  // Unset limits are AWS's defaults, so the peaks are always measured.
  const limits = fleetLimits({ ...o, lambdaConcurrency: o.lambdaConcurrency ?? 1000, openMapRuns: o.openMapRuns ?? 1000 });
  const slots = new SlotSemaphore({ client: dynamo.client, tableName: dynamo.tableName, maxSlots: maxFilesInFlight, leaseSeconds: o.leaseSeconds ?? settingDefault<number>('SLOT_LEASE_SECONDS') });
  return { queueUrl, dlqUrl, queueArn, limits, slots };
}

export async function startLocalFleet(o: FleetOptions = {}): Promise<LocalFleet> {
  const timeScale = o.timeScale ?? 0.01;
  const maxFilesInFlight = o.maxFilesInFlight ?? DEFAULT_MAX_FILES_IN_FLIGHT;
  const maxReceiveCount = o.maxReceiveCount ?? 10;
  const dynamo = await startLocalDynamo();
  let sqs: LocalSqs;
  try {
    sqs = await startLocalSqs({ timeScale });
  } catch (err) {
    await dynamo.close();
    throw err;
  }
  let parts;
  try {
    parts = fleetParts(o, dynamo, sqs, maxFilesInFlight, maxReceiveCount);
  } catch (err) {
    // a bad option (slots out of range, a limit below 1) after the servers started: close them, or they keep
    // the process alive
    await sqs.close();
    await dynamo.close();
    throw err;
  }
  const { queueUrl, dlqUrl, queueArn, limits, slots } = parts;
  const env: Record<string, string> = {
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    SLOT_TABLE: dynamo.tableName,
    INTAKE_QUEUE_URL: queueUrl,
    MAX_FILES_IN_FLIGHT: String(maxFilesInFlight),
    INTAKE_MAX_RECEIVE_COUNT: String(maxReceiveCount),
    // The backoff of a waiting message is in the queue's (scaled) seconds; 60 s caps it at 0.6 s at 0.01.
    INTAKE_WAIT_BASE_SECONDS: '10',
    INTAKE_WAIT_MAX_SECONDS: '60',
    // The breaker's probe pauses are real milliseconds: scaled like the queue's seconds (30 s → 0.3 s at 0.01).
    OUTAGE_PROBE_BASE_MS: String(Math.max(1, Math.round(30_000 * timeScale))),
    OUTAGE_PROBE_MAX_MS: String(Math.max(1, Math.round(300_000 * timeScale))),
  };
  const releaseStatuses = o.releaseStatuses ?? FINAL_STATUSES;
  let mapping: EventSourceMapping | undefined;
  const releases = new Set<Promise<unknown>>();
  let stopped = false;

  // Lambda retries a throttled event source or asynchronous invocation itself: wait for a place, then run.
  const invokeWithin = async <T>(fn: () => Promise<T>): Promise<T> => {
    for (;;) {
      let leave: (() => void) | undefined;
      try { leave = limits.lambda?.enter(); } catch { await new Promise((r) => setTimeout(r, 20)); continue; }
      try { return await fn(); } finally { leave?.(); }
    }
  };

  return {
    dynamo, sqs, queueUrl, dlqUrl, queueArn, slots, limits, env, releaseStatuses,
    async notify(event) {
      await sqs.client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(event) }));
    },
    start({ trigger, release, executor }) {
      if (limits.startExecution) {
        const limit = limits.startExecution;
        const original = executor.startExecution.bind(executor);
        executor.startExecution = (req) => { limit.take(); return original(req); };
      }
      executor.on('finished', (record: ExecutionRecord) => {
        if (record.parentArn || stopped || !releaseStatuses.includes(record.status)) return;
        const event = {
          id: randomUUID(), source: 'aws.states', 'detail-type': STATUS_CHANGE_DETAIL_TYPE,
          // as Step Functions sends it: the input as JSON text, the dates in epoch milliseconds
          detail: {
            executionArn: record.executionArn, name: record.name, status: record.status, stateMachineArn: executor.stateMachineArn,
            input: JSON.stringify(record.input), startDate: record.startDate.getTime(), stopDate: record.stopDate?.getTime() ?? null,
            error: record.error ?? null, cause: record.cause ?? null,
          },
        };
        const p = invokeWithin(() => Promise.resolve(release(event, undefined as never))).catch(() => undefined);
        releases.add(p);
        void p.finally(() => releases.delete(p));
      });
      mapping = startEventSourceMapping({
        sqs: sqs.client, queueUrl, queueArn,
        batchSize: o.batchSize ?? 10,
        maximumConcurrency: o.maximumConcurrency ?? 2,
        waitTimeSeconds: 20,
        handler: (event) => invokeWithin(async () => (await trigger(event, undefined as never)) as SQSBatchResponse),
      });
    },
    async summary() {
      const state = await slots.state();
      const lambda = limits.lambda?.snapshot();
      const mapRuns = limits.mapRuns?.snapshot();
      return { peakFilesInFlight: state.peak, peakMapRuns: mapRuns?.peak ?? 0, peakLambda: lambda?.peak ?? 0, lambdaRefused: lambda?.refused ?? 0, mapRunsRefused: mapRuns?.refused ?? 0 };
    },
    async drained(timeoutMs = 300_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const q = sqs.stats(queueUrl);
        if (q.visible + q.inFlight + q.delayed === 0) return;
        if (Date.now() > until) throw new Error(`the intake queue still holds ${q.visible + q.inFlight + q.delayed} messages after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async close() {
      stopped = true;
      await mapping?.stop();
      await Promise.all([...releases]);
      await sqs.close();
      await dynamo.close();
    },
  };
}

/** The most intervals open at one moment (an interval without an end is still open). */
export function peakOverlap(intervals: Array<{ start: Date; stop?: Date }>): number {
  const edges = intervals.flatMap((i) => [[i.start.getTime(), 1], [i.stop?.getTime() ?? Infinity, -1]] as const);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (open += d));
  return peak;
}

/** Peaks of a stack without admission, from the executor's own records. */
export function executorPeaks(executor: LocalExecutor): FleetSummary {
  const top = [...executor.executions.values()].filter((e) => !e.parentArn);
  return {
    peakFilesInFlight: peakOverlap(top.map((e) => ({ start: e.startDate, stop: e.stopDate }))),
    peakMapRuns: peakOverlap([...executor.mapRuns.values()].map((r) => ({ start: r.startDate, stop: r.stopDate }))),
    peakLambda: 0, lambdaRefused: 0, mapRunsRefused: 0,
  };
}
