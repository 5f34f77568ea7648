// Moves messages from one SQS queue to another: the intake's dead-letter queue (or the trigger's, its events taken
// out of Lambda's destination records) back into the intake queue, so a re-driven file passes through admission
// control again (starting its execution directly would bypass the slots). A message is deleted from the source only after its copy was accepted by the target; a crash between
// the two leaves a duplicate notification, which the intake absorbs (idempotent per object version).
// A move takes the messages that were in the source when it began, and no more: the source and the target must
// be two queues (checked by their ARNs), and the count at the start bounds the run, so copies that come back into
// the source are never moved again in the same run. A dry run only reads the queue's counts: it hides nothing.
import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ConfigError } from '../core/errors';

export interface MoveOptions {
  sqs: Pick<SQSClient, 'send'>;
  fromUrl: string;
  toUrl: string;
  /** Stop after this many messages (default: those in the source at the start). */
  max?: number;
  /** Seconds a received message stays hidden in the source while it is copied (default 60). */
  visibilitySeconds?: number;
  dryRun?: boolean;
  /**
   * A reason to leave a message where it is (nothing would read it at the target: the trigger dead-lettered it as
   * unreadable), or undefined to move it. Left messages count as kept and are told to onKept.
   */
  leave?: (m: { id: string; body: string; attributes: Record<string, string> }) => string | undefined;
  /**
   * The body the target gets (default: the body as it is). A throw leaves the message where it is, its message the
   * reason (a trigger dead letter that holds no event).
   */
  rewrite?: (body: string) => string;
  onKept?: (id: string, reason: string) => void;
}

export interface MoveResult {
  /** In the source at the start: visible, and in flight (received by another reader, hidden for now). */
  there: number;
  inFlight: number;
  received: number;
  moved: number;
  /** Copies the target refused: left in the source. */
  kept: number;
  /** Copies sent whose source message could not be deleted (it comes back: a later move duplicates it). */
  undeleted: number;
}

/** A queue's messages now: visible, and in flight (received and not yet deleted or returned). */
export async function queueDepth(sqs: Pick<SQSClient, 'send'>, queueUrl: string): Promise<{ visible: number; inFlight: number; arn?: string }> {
  const res = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn', 'ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  const a = res.Attributes ?? {};
  return { visible: Number(a.ApproximateNumberOfMessages ?? 0), inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0), arn: a.QueueArn };
}

/** Makes received messages visible again at once (a dry run's, or those a run did not handle). */
export async function giveBack(sqs: Pick<SQSClient, 'send'>, queueUrl: string, receiptHandles: readonly string[]): Promise<void> {
  for (let i = 0; i < receiptHandles.length; i += 10) {
    const entries = receiptHandles.slice(i, i + 10).map((h, j) => ({ Id: String(j), ReceiptHandle: h, VisibilityTimeout: 0 }));
    await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
  }
}

export async function moveMessages(o: MoveOptions): Promise<MoveResult> {
  const from = await queueDepth(o.sqs, o.fromUrl);
  const to = await queueDepth(o.sqs, o.toUrl);
  if (o.fromUrl === o.toUrl || (from.arn !== undefined && from.arn === to.arn)) {
    throw new ConfigError('--to-url', 'is the queue the messages come from (--queue-url): a move into itself never ends; give the intake queue (stack output IntakeQueueUrl)');
  }
  const result: MoveResult = { there: from.visible + from.inFlight, inFlight: from.inFlight, received: 0, moved: 0, kept: 0, undeleted: 0 };
  const limit = Math.min(o.max ?? Infinity, from.visible);
  if (o.dryRun) return result;
  const seen = new Set<string>();
  const left: string[] = [];
  for (;;) {
    const room = Math.min(10, limit - result.received);
    if (room <= 0) break;
    const res = await o.sqs.send(new ReceiveMessageCommand({
      QueueUrl: o.fromUrl,
      MaxNumberOfMessages: room,
      WaitTimeSeconds: 1,
      VisibilityTimeout: o.visibilitySeconds ?? 60,
      MessageAttributeNames: ['All'],
    }));
    const messages = (res.Messages ?? []).filter((m) => m.MessageId && !seen.has(m.MessageId));
    if (messages.length === 0) break;
    for (const m of messages) seen.add(m.MessageId!);
    result.received += messages.length;
    const movable: Array<{ m: (typeof messages)[number]; body: string }> = [];
    for (const m of messages) {
      const attributes = Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? '']));
      let why = o.leave?.({ id: m.MessageId!, body: m.Body ?? '', attributes });
      let body = m.Body ?? '';
      if (why === undefined && o.rewrite) {
        try { body = o.rewrite(body); } catch (err) { why = (err as Error).message; }
      }
      if (why !== undefined) { result.kept++; left.push(m.ReceiptHandle!); o.onKept?.(m.MessageId!, why); continue; }
      movable.push({ m, body });
    }
    if (movable.length === 0) continue;
    messages.splice(0, messages.length, ...movable.map((x) => x.m));
    const sent = await o.sqs.send(new SendMessageBatchCommand({
      QueueUrl: o.toUrl,
      Entries: movable.map(({ m, body }, i) => ({ Id: String(i), MessageBody: body, MessageAttributes: m.MessageAttributes })),
    }));
    const ok = new Set((sent.Successful ?? []).map((s) => s.Id));
    result.kept += messages.length - ok.size;
    const toDelete = messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })).filter((e) => ok.has(e.Id));
    if (toDelete.length === 0) continue;
    const del = await o.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: o.fromUrl, Entries: toDelete }));
    result.moved += (del.Successful ?? []).length;
    result.undeleted += (del.Failed ?? []).length;
  }
  // what was left stays where it was, visible again at once for the person who reads it
  await giveBack(o.sqs, o.fromUrl, left);
  return result;
}
