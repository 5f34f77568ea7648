// The intake decision: an SQS batch of S3 notifications → for each record a slot, then an execution; the answer
// is SQS's partial batch response. Pure logic: the semaphore, the execution starter and the queue are injected
// (lib/intake/adapters.ts binds them to DynamoDB, Step Functions and SQS). See docs/admission.md.
//
// Per message, the worst of its records decides:
// - done      every record started, was a duplicate or was skipped → deleted (not reported).
// - unreadable the body cannot be read (not JSON, no Records, an EventBridge event that is not Object Created) or a
//             record is malformed: the message is sent to the intake's dead-letter queue with the reason, then
//             deleted; if that send fails it is reported like a failed one, and the queue's redrive policy moves it.
// - waiting   no free slot, or a transient limit (the semaphore table unavailable, StartExecution throttled): the
//             message is reported as a batch item failure and hidden for a backoff (ChangeMessageVisibility).
//             Near the queue's maxReceiveCount it is re-sent as a fresh copy (receive count 0, retention restarted)
//             and the original is deleted instead, so a message that merely waits never reaches the dead-letter
//             queue however long the backlog.
// - failed    a real failure (StartExecution rejected, the semaphore misconfigured): reported with a backoff; its
//             receive count runs towards the dead-letter queue as intended.
//
// Nothing is sent twice: execution names are deterministic, the slot is idempotent per execution name, and a
// duplicate StartExecution answers ExecutionAlreadyExists. A slot taken for a start that certainly did not create
// the execution (a 4xx answer) is given back; after an ambiguous failure (no answer, 5xx) it is kept, and the
// message's next delivery finds it held (`already`) and starts or confirms the execution under it.
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { parseEventRecord, executionName, skipReason, type ParsedEventRecord } from './s3-event';
import { isS3EventBridgeEvent, recordOfEventBridge } from './eventbridge-event';
import type { ExecutionInput } from '../workflow/state';
import type { Settings } from '../config/settings';
import { settingDefault } from '../config/table';
import type { AcquireResult, ReleaseResult } from '../admission/semaphore';
import { isAdmissionRetryable } from '../admission/errors';
import type { GateDecision } from '../admission/health';
import { silentLog, type Log } from '../core/log';
import { TRANSIENT_AWS_ERROR_NAMES, type AwsLikeError } from '../core/aws-errors';

/** Message attributes a re-sent copy carries, so backoff and age survive the copy. */
export const WAITS_ATTRIBUTE = 'ost-forwarder-waits';
export const FIRST_SEEN_ATTRIBUTE = 'ost-forwarder-first-seen';
/** A file sent back after an outage past the budget carries its round (lib/intake/readmission.ts). */
export const ROUND_ATTRIBUTE = 'ost-forwarder-round';
/** The attribute of a message the trigger dead-lettered: why it could not read it (`redrive --intake` shows it). */
export const REASON_ATTRIBUTE = 'ost-forwarder-unreadable';

/** SQS limits: a visibility timeout is at most 12 hours; a message delay at most 15 minutes. */
export const MAX_VISIBILITY_SECONDS = 43_200;
export const MAX_DELAY_SECONDS = 900;
const MAX_REASON = 300;

export interface Slots {
  acquire(holder: string): Promise<AcquireResult>;
  release(holder: string): Promise<ReleaseResult>;
}

export interface ExecutionStarter {
  /** Starts the named execution; 'duplicate' when it exists already (ExecutionAlreadyExists). Throws otherwise. */
  start(name: string, input: ExecutionInput): Promise<'started' | 'duplicate'>;
}

export interface RequeueMessage {
  body: string;
  attributes: Record<string, string>;
}

export interface IntakeQueue {
  changeVisibility(receiptHandle: string, seconds: number): Promise<void>;
  /** Sends a fresh copy of a waiting message, delayed (≤ 900 s). */
  requeue(message: RequeueMessage, delaySeconds: number): Promise<void>;
  /** Sends a message nothing can read to the intake's dead-letter queue with the reason (absent: it stays). */
  deadLetter?(body: string, reason: string): Promise<void>;
}

export interface IntakePolicy {
  /** The intake queue's redrive maxReceiveCount (≥ 3): a message is re-sent before it can reach it. */
  maxReceiveCount: number;
  /** Backoff of a waiting message: first delay, and the cap (seconds). */
  waitBaseSeconds: number;
  waitMaxSeconds: number;
  /** Backoff of a failed message (seconds, doubled per receive up to waitMaxSeconds). */
  failBaseSeconds: number;
}

/** The settings' defaults (lib/config/table.ts); failBaseSeconds is not a setting. */
export const DEFAULT_INTAKE_POLICY: IntakePolicy = {
  maxReceiveCount: settingDefault('INTAKE_MAX_RECEIVE_COUNT'),
  waitBaseSeconds: settingDefault('INTAKE_WAIT_BASE_SECONDS'),
  waitMaxSeconds: settingDefault('INTAKE_WAIT_MAX_SECONDS'),
  failBaseSeconds: 30,
};

export interface IntakeDeps {
  slots: Slots;
  starter: ExecutionStarter;
  queue: IntakeQueue;
  settings: Pick<Settings, 'resultsPrefix' | 'keyPrefixes' | 'keySuffixes'>;
  policy?: Partial<IntakePolicy>;
  /** OST's health (lib/admission/health.ts): asked once per batch, before the first slot; closed = admit. */
  gate?: () => Promise<GateDecision>;
  log?: Log;
  /** [0, 1) for the backoff jitter (tests pin it). */
  random?: () => number;
  /** Epoch milliseconds. */
  now?: () => number;
}

export type RecordStatus = 'started' | 'duplicate' | 'skipped' | 'malformed' | 'waiting' | 'failed';

export interface RecordOutcome {
  index: number;
  status: RecordStatus;
  execution?: string;
  bucket?: string;
  key?: string;
  reason?: string;
}

export type MessageOutcome = 'done' | 'waiting' | 'requeued' | 'failed' | 'dead-lettered';

export interface MessageResult {
  messageId: string;
  outcome: MessageOutcome;
  /** Seconds the message is hidden (waiting, failed) or delayed (requeued). */
  delaySeconds?: number;
  receiveCount: number;
  records: RecordOutcome[];
}

export interface IntakeResult {
  response: SQSBatchResponse;
  messages: MessageResult[];
  counts: IntakeCounts;
}

export interface IntakeCounts {
  started: number;
  duplicates: number;
  skipped: number;
  malformed: number;
  waiting: number;
  failed: number;
  /** Messages re-sent to keep waiting (the other counts are of records). */
  requeued: number;
  /** Messages sent to the dead-letter queue because they could not be read. */
  deadLettered: number;
}

/** How a StartExecution failure is treated: transient (waits, not counted) and whether the execution surely does not exist. */
export function startFailure(err: unknown): { transient: boolean; notCreated: boolean; reason: string } {
  const e = (err ?? {}) as AwsLikeError;
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const transient = TRANSIENT_AWS_ERROR_NAMES.has(name) || status === undefined || status === 429 || status >= 500;
  // A 4xx answer is the service refusing the request: nothing was created. No answer or a 5xx: it may have been.
  const notCreated = status !== undefined && status >= 400 && status < 500;
  return { transient, notCreated, reason: bounded(`StartExecution failed: ${name}: ${String(e.message ?? err).split('\n')[0]}`) };
}

/**
 * Records of one message body: a plain S3 notification, one wrapped by SNS, or S3's EventBridge "Object Created"
 * event (as its S3 notification record). Throws on an unreadable body.
 */
export function notificationRecords(body: string): { test: boolean; records: unknown[] } {
  let parsed: unknown = JSON.parse(body);
  const p = parsed as Record<string, unknown>;
  if (p && p.Type === 'Notification' && typeof p.Message === 'string') parsed = JSON.parse(p.Message);
  if (isS3EventBridgeEvent(parsed)) return { test: false, records: [recordOfEventBridge(parsed)] };
  const n = (parsed ?? {}) as Record<string, unknown>;
  if (n.Event === 's3:TestEvent') return { test: true, records: [] };
  if (!Array.isArray(n.Records)) throw new Error('message body has no Records array');
  return { test: false, records: n.Records };
}

function bounded(s: string): string {
  return s.length > MAX_REASON ? s.slice(0, MAX_REASON - 1) + '…' : s;
}

function policyOf(p: Partial<IntakePolicy> | undefined): IntakePolicy {
  const policy = { ...DEFAULT_INTAKE_POLICY, ...p };
  const { maxReceiveCount, waitBaseSeconds, waitMaxSeconds, failBaseSeconds } = policy;
  if (!Number.isSafeInteger(maxReceiveCount) || maxReceiveCount < 3 || maxReceiveCount > 1000) throw new RangeError(`intake maxReceiveCount must be from 3 to 1000, got ${maxReceiveCount}`);
  for (const [name, v] of Object.entries({ waitBaseSeconds, waitMaxSeconds, failBaseSeconds })) {
    if (!Number.isFinite(v) || v < 1 || v > MAX_VISIBILITY_SECONDS) throw new RangeError(`intake ${name} must be from 1 to ${MAX_VISIBILITY_SECONDS}, got ${v}`);
  }
  if (waitBaseSeconds > waitMaxSeconds) throw new RangeError(`intake waitBaseSeconds (${waitBaseSeconds}) exceeds waitMaxSeconds (${waitMaxSeconds})`);
  return policy;
}

/** Exponential backoff with equal jitter: half the step fixed, half random; at least one second. */
export function backoffSeconds(step: number, baseSeconds: number, maxSeconds: number, random: () => number): number {
  const full = Math.min(maxSeconds, baseSeconds * 2 ** Math.max(0, Math.min(step - 1, 30)));
  return Math.max(1, Math.round(full / 2 + (random() * full) / 2));
}

/** Decides every message of an SQS batch; never throws (a failure of one message never affects the others). */
export async function handleIntakeBatch(records: SQSRecord[], deps: IntakeDeps): Promise<IntakeResult> {
  const policy = policyOf(deps.policy);
  const log = deps.log ?? silentLog;
  const random = deps.random ?? Math.random;
  const now = deps.now ?? Date.now;
  const result: IntakeResult = {
    response: { batchItemFailures: [] },
    messages: [],
    counts: { started: 0, duplicates: 0, skipped: 0, malformed: 0, waiting: 0, failed: 0, requeued: 0, deadLettered: 0 },
  };
  // Once the semaphore answered "full" in this batch, the rest of the batch waits without asking again: a
  // backlog then costs one conditional write per batch, not one per message.
  let full = false;
  // Asked once, before the first slot: while OST is down, nothing is admitted (files wait as for a slot).
  let gate: Promise<GateDecision> | undefined;

  for (const message of records) {
    const receiveCount = Math.max(1, Number(message.attributes?.ApproximateReceiveCount ?? 1) || 1);
    const outcomes: RecordOutcome[] = [];
    let body: { test: boolean; records: unknown[] };
    try {
      body = notificationRecords(message.body);
    } catch (err) {
      outcomes.push({ index: 0, status: 'malformed', reason: bounded(`unreadable message body: ${(err as Error).message}`) });
      body = { test: false, records: [] };
    }
    if (body.test) outcomes.push({ index: 0, status: 'skipped', reason: 'S3 test event' });

    for (const [index, raw] of body.records.entries()) {
      let parsed: ParsedEventRecord;
      try {
        parsed = parseEventRecord(raw, index);
      } catch (err) {
        outcomes.push({ index, status: 'malformed', reason: bounded((err as Error).message) });
        continue;
      }
      const { input } = parsed;
      const where = { bucket: input.bucket, key: input.key };
      const skip = skipReason(input, deps.settings);
      if (skip) {
        outcomes.push({ index, status: 'skipped', ...where, reason: skip });
        continue;
      }
      const execution = executionName(input, roundOf(message));
      if (full) {
        outcomes.push({ index, status: 'waiting', execution, ...where, reason: 'no free slot' });
        continue;
      }
      const decision = await (gate ??= (deps.gate?.() ?? Promise.resolve<GateDecision>({ admit: true })).catch((): GateDecision => ({ admit: true })));
      if (!decision.admit) {
        outcomes.push({ index, status: 'waiting', execution, ...where, reason: decision.reason });
        continue;
      }
      let slot: AcquireResult;
      try {
        slot = await deps.slots.acquire(execution);
      } catch (err) {
        const reason = bounded(`slot: ${(err as Error).message}`);
        outcomes.push({ index, status: isAdmissionRetryable(err) ? 'waiting' : 'failed', execution, ...where, reason });
        continue;
      }
      if (!slot.granted) {
        full = true;
        outcomes.push({ index, status: 'waiting', execution, ...where, reason: `no free slot (${slot.inFlight} in flight)` });
        continue;
      }
      try {
        const started = await deps.starter.start(execution, input);
        if (started === 'duplicate' && !slot.already) {
          // The execution exists and has finished (a running one holds this very slot, so `already` would be
          // true): the slot just taken would never be released by it.
          await deps.slots.release(execution).catch((err: unknown) => log.warn('could not give back a slot', { execution, error: (err as Error).message }));
        }
        outcomes.push({ index, status: started === 'started' ? 'started' : 'duplicate', execution, ...where });
      } catch (err) {
        const f = startFailure(err);
        if (f.notCreated && !slot.already) {
          await deps.slots.release(execution).catch((e: unknown) => log.warn('could not give back a slot', { execution, error: (e as Error).message }));
        }
        outcomes.push({ index, status: f.transient ? 'waiting' : 'failed', execution, ...where, reason: f.reason });
      }
    }

    for (const o of outcomes) {
      if (o.status === 'duplicate') result.counts.duplicates++;
      else result.counts[o.status]++;
    }
    const failed = outcomes.some((o) => o.status === 'failed');
    const waiting = outcomes.some((o) => o.status === 'waiting');
    const malformed = outcomes.filter((o) => o.status === 'malformed');
    const m: MessageResult = { messageId: message.messageId, outcome: failed ? 'failed' : waiting ? 'waiting' : 'done', receiveCount, records: outcomes };
    result.messages.push(m);
    if (m.outcome === 'done' && malformed.length > 0) {
      // Nothing the intake cannot read is deleted unseen: it goes to the dead-letter queue with its reason.
      const reason = bounded(malformed.map((o) => (body.records.length > 1 ? `record ${o.index}: ${o.reason}` : o.reason)).join('; '));
      log.warn('unreadable message', { messageId: message.messageId, reason });
      try {
        if (!deps.queue.deadLetter) throw new Error('no dead-letter queue configured (INTAKE_DLQ_URL)');
        await deps.queue.deadLetter(message.body, reason);
        m.outcome = 'dead-lettered';
        result.counts.deadLettered++;
        continue;
      } catch (err) {
        // It stays: received again, its receive count runs to the queue's redrive policy, which moves it there.
        log.error('could not send an unreadable message to the dead-letter queue; it stays', { messageId: message.messageId, error: (err as Error).message });
        m.outcome = 'failed';
      }
    }
    if (m.outcome === 'done') {
      for (const o of outcomes) log.info(`record ${o.status}`, { messageId: message.messageId, execution: o.execution, bucket: o.bucket, key: o.key, reason: o.reason });
      continue;
    }

    const waits = priorWaits(message) + receiveCount;
    if (m.outcome === 'waiting' && receiveCount >= policy.maxReceiveCount - 2) {
      // One or two receives from the dead-letter queue: continue the wait in a fresh copy and let this one go.
      const delay = Math.min(MAX_DELAY_SECONDS, backoffSeconds(waits, policy.waitBaseSeconds, policy.waitMaxSeconds, random));
      try {
        const round = roundOf(message);
        const attributes = { [WAITS_ATTRIBUTE]: String(waits), [FIRST_SEEN_ATTRIBUTE]: String(firstSeen(message, now)), ...(round ? { [ROUND_ATTRIBUTE]: String(round) } : {}) };
        await deps.queue.requeue({ body: message.body, attributes }, delay);
        m.outcome = 'requeued';
        m.delaySeconds = delay;
        result.counts.requeued++;
        log.info('message re-sent to keep waiting', { messageId: message.messageId, receiveCount, waits, delaySeconds: delay });
        continue;
      } catch (err) {
        log.warn('could not re-send a waiting message; it stays', { messageId: message.messageId, receiveCount, error: (err as Error).message });
      }
    }
    const delay = m.outcome === 'waiting'
      ? backoffSeconds(waits, policy.waitBaseSeconds, policy.waitMaxSeconds, random)
      : backoffSeconds(receiveCount, policy.failBaseSeconds, policy.waitMaxSeconds, random);
    m.delaySeconds = delay;
    result.response.batchItemFailures.push({ itemIdentifier: message.messageId });
    const level = m.outcome === 'failed' ? 'error' : 'info';
    log[level](m.outcome === 'failed' ? 'message failed; it will be received again' : 'message waits for a slot', {
      messageId: message.messageId, receiveCount, delaySeconds: delay,
      records: outcomes.filter((o) => o.status === 'failed' || o.status === 'waiting').slice(0, 10).map((o) => ({ execution: o.execution, status: o.status, reason: o.reason })),
    });
    try {
      await deps.queue.changeVisibility(message.receiptHandle, delay);
    } catch (err) {
      // The message comes back after the queue's own visibility timeout instead: later or sooner, never lost.
      log.warn('could not set the visibility backoff', { messageId: message.messageId, error: (err as Error).message });
    }
  }
  return result;
}

function attribute(message: SQSRecord, name: string): string | undefined {
  return message.messageAttributes?.[name]?.stringValue;
}

/** The outage round a message was sent back as (0: the file's first admission). */
export function roundOf(message: SQSRecord): number {
  const n = Number(attribute(message, ROUND_ATTRIBUTE));
  return Number.isSafeInteger(n) && n > 0 && n <= 100 ? n : 0;
}

function priorWaits(message: SQSRecord): number {
  const n = Number(attribute(message, WAITS_ATTRIBUTE));
  return Number.isSafeInteger(n) && n > 0 ? Math.min(n, 1_000_000) : 0;
}

function firstSeen(message: SQSRecord, now: () => number): number {
  const n = Number(attribute(message, FIRST_SEEN_ATTRIBUTE));
  if (Number.isSafeInteger(n) && n > 0) return n;
  const sent = Number(message.attributes?.SentTimestamp);
  return Number.isSafeInteger(sent) && sent > 0 ? sent : now();
}
