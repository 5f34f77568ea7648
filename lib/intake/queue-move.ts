// Moves messages from one SQS queue to another: the intake's dead-letter queue back into the intake queue, so a
// re-driven file passes through admission control again (starting its execution directly would bypass the
// slots). A message is deleted from the source only after its copy was accepted by the target; a crash between
// the two leaves a duplicate notification, which the intake absorbs (idempotent per object version).
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface MoveOptions {
  sqs: Pick<SQSClient, 'send'>;
  fromUrl: string;
  toUrl: string;
  /** Stop after this many messages (default: until the source answers empty). */
  max?: number;
  /**
   * Seconds a received message stays hidden in the source while it is copied (default 60). A dry run hides the
   * messages it counted for this long; it must be long enough that one pass does not see a message twice.
   */
  visibilitySeconds?: number;
  dryRun?: boolean;
  /**
   * A reason to leave a message where it is (nothing would read it at the target: the trigger dead-lettered it as
   * unreadable), or undefined to move it. Left messages count as kept and are told to onKept.
   */
  leave?: (m: { id: string; body: string; attributes: Record<string, string> }) => string | undefined;
  onKept?: (id: string, reason: string) => void;
}

export interface MoveResult {
  received: number;
  moved: number;
  /** Copies the target refused: left in the source. */
  kept: number;
  /** Copies sent whose source message could not be deleted (it comes back: a later move duplicates it). */
  undeleted: number;
}

export async function moveMessages(o: MoveOptions): Promise<MoveResult> {
  const result: MoveResult = { received: 0, moved: 0, kept: 0, undeleted: 0 };
  const seen = new Set<string>();
  for (;;) {
    const room = o.max === undefined ? 10 : Math.min(10, o.max - result.received);
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
    const movable = messages.filter((m) => {
      const attributes = Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? '']));
      const why = o.leave?.({ id: m.MessageId!, body: m.Body ?? '', attributes });
      if (why !== undefined) { result.kept++; o.onKept?.(m.MessageId!, why); }
      return why === undefined;
    });
    if (o.dryRun) {
      result.kept += movable.length;
      continue;
    }
    if (movable.length === 0) continue;
    messages.splice(0, messages.length, ...movable);
    const sent = await o.sqs.send(new SendMessageBatchCommand({
      QueueUrl: o.toUrl,
      Entries: messages.map((m, i) => ({ Id: String(i), MessageBody: m.Body ?? '', MessageAttributes: m.MessageAttributes })),
    }));
    const ok = new Set((sent.Successful ?? []).map((s) => s.Id));
    result.kept += messages.length - ok.size;
    const toDelete = messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })).filter((e) => ok.has(e.Id));
    if (toDelete.length === 0) continue;
    const del = await o.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: o.fromUrl, Entries: toDelete }));
    result.moved += (del.Successful ?? []).length;
    result.undeleted += (del.Failed ?? []).length;
  }
  return result;
}
