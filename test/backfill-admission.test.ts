// Backfill through the intake and its admission control: records go to the intake queue as S3 notifications (in
// SendMessageBatch calls of ≤ 10 messages and ≤ 256 KiB), wait for slots like any file, and a backfill of many
// objects under a small MAX_FILES_IN_FLIGHT never has more executions open than that, forwarding each once.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { backfill } from '../lib/intake/backfill';
import { intakeQueueSubmitter, intakeQueueUrlOfStack, MAX_BATCH_BYTES, notificationBody, sendBatches } from '../lib/intake/backfill-submitter';
import { ConfigError } from '../lib/core/errors';
import { parseEventRecord } from '../lib/intake/s3-event';
import { existingObjectRecord } from '../lib/intake/event-record';
import { loadSettings } from '../lib/config/settings';
import { executorPeaks } from '../local/stack/fleet';
import { startLocalStack, type LocalStack } from '../local/stack';
import { startEmbeddedS3, type EmbeddedS3 } from '../local/aws/s3';

const recordOf = (key: string) => existingObjectRecord({ bucket: 'b', key, size: 5, etag: 'abc' }, 'us-east-1');

describe('backfill submissions to the intake queue', () => {
  it('each body is the notification S3 sends to SQS, which the intake parses back', () => {
    const body = JSON.parse(notificationBody(recordOf('a b+c/会议.wav')));
    expect(Object.keys(body)).toEqual(['Records']);
    expect(body.Records).toHaveLength(1);
    expect(parseEventRecord(body.Records[0], 0).input).toMatchObject({ bucket: 'b', key: 'a b+c/会议.wav', size: 5 });
  });

  it('batches hold at most 10 messages and 256 KiB', () => {
    expect(sendBatches(Array.from({ length: 25 }, () => 'x')).map((b) => b.length)).toEqual([10, 10, 5]);
    const big = 'y'.repeat(120 * 1024);
    const bodies = [big, big, big, 'z', big];
    const groups = sendBatches(bodies);
    expect(groups).toEqual([[0, 1], [2, 3, 4]]); // 2 × 120 KiB fit; a third would not
    for (const g of groups) expect(g.reduce((n, i) => n + Buffer.byteLength(bodies[i]!), 0)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
  });

  it('maps SendMessageBatch answers onto the records; a refused entry is an error, not submitted', async () => {
    const sent: Array<{ QueueUrl?: string; n: number }> = [];
    const sqs = {
      send: async (cmd: SendMessageBatchCommand) => {
        const entries = cmd.input.Entries ?? [];
        sent.push({ QueueUrl: cmd.input.QueueUrl, n: entries.length });
        return {
          Successful: entries.filter((e) => e.Id !== '3').map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: '' })),
          Failed: entries.filter((e) => e.Id === '3').map((e) => ({ Id: e.Id, Code: 'InternalError', SenderFault: false, Message: 'try again' })),
        };
      },
    };
    const submit = intakeQueueSubmitter(sqs as never, 'https://sqs.example/q');
    const outcomes = await submit(Array.from({ length: 12 }, (_, i) => recordOf(`k${i}`)));
    expect(sent).toEqual([{ QueueUrl: 'https://sqs.example/q', n: 10 }, { QueueUrl: 'https://sqs.example/q', n: 2 }]);
    expect(outcomes.filter((o) => o.status === 'submitted')).toHaveLength(11);
    expect(outcomes[3]).toEqual({ status: 'error', error: 'SQS InternalError: try again' });
  });

  it('finds the queue in the stack outputs; a missing stack or output is a ConfigError naming --queue-url', async () => {
    const cfn = (answer: unknown) => ({ send: async () => { if (answer instanceof Error) throw answer; return answer; } });
    const url = 'https://sqs.eu-west-1.amazonaws.com/123456789012/ost-forwarder-prod-intake';
    expect(await intakeQueueUrlOfStack(cfn({ Stacks: [{ Outputs: [{ OutputKey: 'StateMachineArn', OutputValue: 'arn:x' }, { OutputKey: 'IntakeQueueUrl', OutputValue: url }] }] }) as never, 'ost-forwarder-prod')).toBe(url);
    await expect(intakeQueueUrlOfStack(cfn({ Stacks: [{ Outputs: [] }] }) as never, 'ost-forwarder-old')).rejects.toThrow(ConfigError);
    const missing = Object.assign(new Error('Stack with id ost-forwarder-nope does not exist'), { name: 'ValidationError' });
    await expect(intakeQueueUrlOfStack(cfn(missing) as never, 'ost-forwarder-nope')).rejects.toThrow(/--queue-url.*ost-forwarder-nope/);
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDenied' });
    await expect(intakeQueueUrlOfStack(cfn(denied) as never, 'ost-forwarder-prod')).rejects.toThrow('not authorized');
  });
});

describe('backfill under admission (local stack, MAX_FILES_IN_FLIGHT 2)', () => {
  const SLOTS = 2;
  const N = 24;
  let s3: EmbeddedS3;
  let stack: LocalStack;
  beforeAll(async () => {
    s3 = await startEmbeddedS3({ buckets: ['old'] });
    stack = await startLocalStack({ bucket: 'old', s3: { endpoint: s3.endpoint, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, fleet: { maxFilesInFlight: SLOTS } });
  });
  afterAll(async () => {
    await stack?.close();
    await s3?.close();
  });

  it(`a backfill of ${N} objects never has more than ${SLOTS} executions open and forwards each exactly once`, async () => {
    const keys = Array.from({ length: N }, (_, i) => `many/${String(i).padStart(2, '0')} file+${i}.wav`);
    for (const [i, key] of keys.entries()) await stack.s3.client.send(new PutObjectCommand({ Bucket: 'old', Key: key, Body: `object ${i} `.repeat(50) }));
    const options = () => ({ s3: stack.s3.client, bucket: 'old', prefix: 'many/', settings: loadSettings(process.env), submit: intakeQueueSubmitter(stack.fleet.sqs.client, stack.fleet.queueUrl) });
    const uploadsBefore = stack.emulator!.calls.filter((c) => c.call === 'upload').length;

    const summary = await backfill(options());
    expect(summary).toMatchObject({ listed: N, submitted: N, errors: 0 });
    // submission does not wait for slots: the messages wait in the queue
    await stack.fleet.drained();
    await stack.executor.idle();

    const top = [...stack.executor.executions.values()].filter((e) => !e.parentArn);
    expect(top).toHaveLength(N);
    expect(top.every((e) => e.status === 'SUCCEEDED')).toBe(true);
    expect(new Set(top.map((e) => (e.input as { key: string }).key))).toEqual(new Set(keys));
    expect(executorPeaks(stack.executor).peakFilesInFlight).toBeLessThanOrEqual(SLOTS);
    const fleet = await stack.fleetSummary();
    expect(fleet.peakFilesInFlight).toBeGreaterThanOrEqual(1);
    expect(fleet.peakFilesInFlight).toBeLessThanOrEqual(SLOTS);
    expect(stack.emulator!.calls.filter((c) => c.call === 'upload').length - uploadsBefore).toBe(N);
    for (const key of keys) expect((await stack.recordsFor(key)).map((r) => r.status)).toEqual(['forwarded']);
    expect(stack.fleet.sqs.stats(stack.fleet.queueUrl).movedToDlq).toBe(0);

    // a re-run submits nothing
    const again = await backfill(options());
    expect(again).toMatchObject({ listed: N, submitted: 0, skipped: { forwarded: N } });
  }, 120_000);
});
