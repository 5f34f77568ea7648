// Backfill and status through the local stack: objects that no event announced (put into an s3rver the stack sees
// as an external endpoint, so no notification reaches the trigger), some forwarded earlier through the event path,
// some failed earlier (an OST fault), then backfill submits exactly the others into the intake queue (admission on),
// once.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { backfill, type BackfillItem, type BackfillOptions } from '../lib/intake/backfill';
import { intakeQueueSubmitter } from '../lib/intake/backfill-submitter';
import { decodeS3Key } from '../lib/intake/s3-event';
import { encodeS3EventKey, existingObjectRecord } from '../lib/intake/event-record';
import { loadSettings } from '../lib/config/settings';
import { readStatus } from '../lib/workflow/status';
import { startLocalStack, type LocalStack } from '../local/stack';
import { startEmbeddedS3, type EmbeddedS3 } from '../local/aws/s3';
import { safeText } from '../cli/output';

const PREFIX = 'old dir/';
const keyOf = (i: number) => `${PREFIX}${String(i).padStart(2, '0')} 会议+录音 é%2B ${i % 3 === 0 ? 'a+b' : 'x y'}.wav`;

describe('backfill (local stack)', () => {
  let s3: EmbeddedS3;
  let stack: LocalStack;
  const starts = () => [...stack.executor.executions.values()].filter((e) => !e.parentArn);

  beforeAll(async () => {
    s3 = await startEmbeddedS3({ buckets: ['existing'] });
    stack = await startLocalStack({ bucket: 'existing', s3: { endpoint: s3.endpoint, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, fleet: { maxFilesInFlight: 8 } });
  });
  /** Every submitted message admitted, and every execution ended. */
  const settled = async () => { await stack.fleet.drained(); await stack.executor.idle(); };
  afterAll(async () => {
    await stack?.close();
    await s3?.close();
  });

  function options(extra: Partial<BackfillOptions> = {}): BackfillOptions & { items: BackfillItem[] } {
    const settings = loadSettings(process.env); // the stack's environment
    const items: BackfillItem[] = [];
    return {
      s3: stack.s3.client,
      bucket: 'existing',
      prefix: PREFIX,
      settings,
      submit: intakeQueueSubmitter(stack.fleet.sqs.client, stack.fleet.queueUrl),
      pageSize: 7, // several pages
      onItem: (item) => items.push(item),
      items,
      ...extra,
    };
  }

  it('S3-shaped records encode keys as S3 does, and the trigger decodes them back', () => {
    for (const key of ['a b+c/会议 é.wav', "x!'()*~.-_", 'tab\there']) {
      const r = existingObjectRecord({ bucket: 'b', key, size: 1, etag: '"abc"' }, 'us-east-1');
      expect(r.s3.object.key).not.toMatch(/[ \t]/);
      expect(decodeS3Key(r.s3.object.key)).toBe(key);
      expect(r.s3.object.eTag).toBe('abc');
    }
    expect(encodeS3EventKey('a b+c')).toBe('a+b%2Bc');
    expect(safeText('bad\x1b[2Jkey\u202e\n')).toBe('bad\\u001b[2Jkey\\u202e\\u000a');
  });

  it('50 existing objects: forwards exactly those not forwarded, once; dry run, --failed-only, --max, re-runs, status', async () => {
    // 10 forwarded earlier through the event path, 5 failed earlier (OST refused them: 11200), 35 never announced
    const forwardedEarlier = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const failedEarlier = [10, 11, 12, 13, 14];
    for (const i of forwardedEarlier) expect((await stack.forwardObject(keyOf(i), `forwarded earlier ${i}`)).status).toBe('forwarded');
    stack.emulator!.inject({ call: 'upload', code: 11200, times: failedEarlier.length });
    for (const i of failedEarlier) {
      const r = await stack.forwardObject(keyOf(i), `failed earlier ${i}`);
      expect(r).toMatchObject({ status: 'failed', error: { ostCode: 11200 } });
    }
    stack.emulator!.clearFaults();
    for (let i = 15; i < 50; i++) {
      await stack.s3.client.send(new PutObjectCommand({ Bucket: 'existing', Key: keyOf(i), Body: `never announced ${i}` }));
    }
    // not ours to forward: a folder marker, and another prefix
    await stack.s3.client.send(new PutObjectCommand({ Bucket: 'existing', Key: `${PREFIX}sub/`, Body: Buffer.alloc(0) }));
    await stack.s3.client.send(new PutObjectCommand({ Bucket: 'existing', Key: 'elsewhere/x.wav', Body: 'x' }));
    const startedBefore = starts().length;
    const uploadsBefore = stack.emulator!.calls.filter((c) => c.call === 'upload').length;

    // --dry-run submits nothing, and says what it would
    const dry = options({ dryRun: true });
    const drySummary = await backfill(dry);
    expect(drySummary).toMatchObject({ listed: 51, submitted: 0, wouldSubmit: 40, errors: 0, skipped: { forwarded: 10, folder: 1 } });
    expect(dry.items.filter((i) => i.status === 'would-submit').map((i) => i.key).sort()).toEqual([...failedEarlier, ...Array.from({ length: 35 }, (_, k) => k + 15)].map(keyOf).sort());
    expect(starts().length).toBe(startedBefore);

    // --failed-only --dry-run: the five failures, each a retry round
    const failedDry = options({ dryRun: true, failedOnly: true });
    expect(await backfill(failedDry)).toMatchObject({ wouldSubmit: 5, skipped: { forwarded: 10, 'not-failed': 35, folder: 1 } });
    expect(failedDry.items.filter((i) => i.status === 'would-submit').every((i) => i.failures === 1)).toBe(true);

    // --max 4: submits four, then a re-run (executions perhaps still running) skips them as submitted or forwarded
    const capped = await backfill(options({ max: 4 }));
    expect(capped).toMatchObject({ submitted: 4, stopped: 'max', errors: 0 });
    const rest = options();
    const restSummary = await backfill(rest);
    expect(restSummary.submitted).toBe(36);
    expect((restSummary.skipped.submitted ?? 0) + (restSummary.skipped.forwarded ?? 0)).toBe(14);
    expect(restSummary.errors).toBe(0);
    await settled();

    // exactly the 40 were started and uploaded, once each; every one of the 50 now has one forwarded record
    const started = starts().slice(startedBefore);
    expect(started).toHaveLength(40);
    expect(started.every((e) => e.status === 'SUCCEEDED')).toBe(true);
    expect(new Set(started.map((e) => (e.input as { key: string }).key)).size).toBe(40);
    expect(stack.emulator!.calls.filter((c) => c.call === 'upload').length - uploadsBefore).toBe(40);
    for (let i = 0; i < 50; i++) {
      const records = await stack.recordsFor(keyOf(i));
      expect(records.filter((r) => r.status === 'forwarded')).toHaveLength(1);
      expect(records.filter((r) => r.status === 'failed')).toHaveLength(failedEarlier.includes(i) ? 1 : 0);
    }

    // a second run submits nothing
    const again = await backfill(options());
    expect(again).toMatchObject({ listed: 51, submitted: 0, skipped: { forwarded: 50, folder: 1 } });
    expect(starts().length).toBe(startedBefore + 40);

    // status reports what the records hold
    const status = await readStatus({ s3: stack.s3.client, bucket: stack.recordsBucket, prefix: 'ost-forwarder/' });
    expect(status).toMatchObject({ forwarded: 50, failed: 5, unreadable: 0 });
    expect(status.errors).toEqual([expect.objectContaining({ error: 'OstQuotaError', ostCode: 11200, count: 5, exampleKey: expect.stringMatching(/^old dir\//), exampleSid: expect.any(String) })]);
    expect(status.days).toHaveLength(1);
    expect(status.days[0]).toMatchObject({ forwarded: 50, failed: 5 });
    expect(status.slowest.length).toBe(5);
    const failedOnly = await readStatus({ s3: stack.s3.client, bucket: stack.recordsBucket, prefix: 'ost-forwarder/', failedOnly: true, since: new Date(Date.now() - 3600_000) });
    expect(failedOnly).toMatchObject({ forwarded: 0, failed: 5 });
    const future = await readStatus({ s3: stack.s3.client, bucket: stack.recordsBucket, prefix: 'ost-forwarder/', since: new Date(Date.now() + 3600_000) });
    expect(future.records).toBe(0);
  }, 120_000);

  it('a failure during backfill is retried by the next run under a new name; --since and --suffix filter', async () => {
    const key = `${PREFIX}retry/again and again+1.mp3`;
    await stack.s3.client.send(new PutObjectCommand({ Bucket: 'existing', Key: key, Body: 'retry me' }));
    // an archived object cannot be read without a restore: never submitted
    await stack.s3.client.send(new PutObjectCommand({ Bucket: 'existing', Key: `${PREFIX}retry/cold.mp3`, Body: 'cold', StorageClass: 'DEEP_ARCHIVE' }));
    stack.emulator!.inject({ call: 'upload', code: 11200, times: 1 });
    const one = options({ prefix: `${PREFIX}retry/` });
    expect(await backfill(one)).toMatchObject({ listed: 2, submitted: 1, skipped: { archived: 1 } });
    await settled();
    expect((await stack.recordsFor(key)).map((r) => r.status)).toEqual(['failed']);
    stack.emulator!.clearFaults();
    // --suffix and --since leave it out
    expect(await backfill(options({ prefix: `${PREFIX}retry/`, suffixes: ['.wav'] }))).toMatchObject({ submitted: 0, skipped: { suffix: 2 } });
    expect(await backfill(options({ prefix: `${PREFIX}retry/`, since: new Date(Date.now() + 60_000) }))).toMatchObject({ submitted: 0, skipped: { since: 2 } });
    const two = options({ prefix: `${PREFIX}retry/`, failedOnly: true, suffixes: ['.mp3'] });
    expect(await backfill(two)).toMatchObject({ submitted: 1 });
    const sent = (o: { items: BackfillItem[] }) => o.items.find((i) => i.key === key)!;
    expect(sent(two).status).toBe('submitted');
    expect(sent(two).execution).not.toBe(sent(one).execution);
    await settled();
    expect((await stack.recordsFor(key)).map((r) => r.status).sort()).toEqual(['failed', 'forwarded']);
    expect(await backfill(options({ prefix: `${PREFIX}retry/` }))).toMatchObject({ submitted: 0, skipped: { forwarded: 1, archived: 1 } });
  }, 60_000);
  it('a submission that fails is counted, leaves no marker, and the next run sends it; an abort stops between batches', async () => {
    const prefix = `${PREFIX}throttled/`;
    for (let i = 0; i < 3; i++) await stack.s3.client.send(new PutObjectCommand({ Bucket: 'existing', Key: `${prefix}f ${i}.wav`, Body: `t${i}` }));
    let calls = 0;
    const refused = options({ prefix, submit: async () => { calls++; throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }); } });
    expect(await backfill(refused)).toMatchObject({ listed: 3, submitted: 0, errors: 3 });
    expect(calls).toBe(1); // one batch
    expect(refused.items.every((i) => i.status === 'error' && /ThrottlingException: Rate exceeded/.test(i.error!))).toBe(true);
    const aborted = new AbortController();
    aborted.abort();
    expect(await backfill(options({ prefix, signal: aborted.signal }))).toMatchObject({ listed: 0, submitted: 0, stopped: 'interrupted' });
    // the next run submits what the refused one could not
    const retry = await backfill(options({ prefix }));
    expect(retry).toMatchObject({ submitted: 3, errors: 0 });
    await settled();
    expect(await backfill(options({ prefix }))).toMatchObject({ submitted: 0, skipped: { forwarded: 3 } });
  }, 60_000);
});
