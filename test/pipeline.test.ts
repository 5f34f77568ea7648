// The whole pipeline on one machine: files put into the embedded S3 go through the real trigger, the real state
// machine definition and the real step handlers to the OST emulator, and come back byte-exact from the served URL.
import { sampleFile, sha256Url, tempDir, KiB, MiB } from './support/files';
import { startLocalStack, type LocalStack } from '../local/stack';
import { objectCreatedRecord, s3Event } from '../local/aws/s3';

describe('local pipeline (embedded S3, OST emulator)', () => {
  let stack: LocalStack;
  let tmp: ReturnType<typeof tempDir>;

  beforeAll(async () => {
    tmp = tempDir();
    // 8 MiB slices keep the multipart cases quick; the 30 MiB threshold is the default.
    stack = await startLocalStack({ env: { SLICE_SIZE: String(8 * MiB) } });
  });
  afterAll(async () => {
    await stack?.close();
    tmp?.cleanup();
  });

  it('forwards 0 B, 1 KiB, 29 MiB, 31 MiB and 97 MiB byte-exact, with keys S3 has to encode', async () => {
    const files = await Promise.all([
      sampleFile(0, { dir: tmp.dir, name: 'empty file.txt' }),
      sampleFile(1 * KiB, { dir: tmp.dir, name: 'a+b=c %41.bin' }),
      sampleFile(29 * MiB, { dir: tmp.dir, name: '会议 录音 (29).wav' }),
      sampleFile(31 * MiB, { dir: tmp.dir, name: 'thirty one+mib%20.dat' }),
      sampleFile(97 * MiB, { dir: tmp.dir, name: 'lecture é 97.mp3' }),
    ]);
    const results = await stack.forwardFiles(files.map((f) => f.path), { keyPrefix: 'in/sub dir/' });
    const expected = [
      { slices: 1 }, { slices: 1 }, { slices: 1 }, // simple uploads
      { slices: 4 }, // 31 MiB / 8 MiB
      { slices: 13 }, // 97 MiB / 8 MiB
    ];
    for (const [i, r] of results.entries()) {
      const f = files[i]!;
      expect(r).toMatchObject({ key: `in/sub dir/${f.path.split('/').pop()}`, status: 'forwarded', bytes: f.size, ...expected[i] });
      expect(r.error).toBeUndefined();
      const served = await sha256Url(r.url!);
      expect(served).toMatchObject({ status: 200, bytes: f.size, sha256: f.sha256 });
      // one result record and one event per file, both saying the same
      expect(r.records).toHaveLength(1);
      expect(r.records[0]).toMatchObject({ status: 'forwarded', key: r.key, bytes: f.size, url: r.url, mode: i < 3 ? 'simple' : 'multipart' });
      expect(r.events).toHaveLength(1);
      expect(r.events[0]).toMatchObject({ source: 'ost-forwarder', detailType: 'OST File Forwarded', detail: { key: r.key, url: r.url } });
    }
    // the executions stayed far from the 256 KiB payload limit, and the 13 slices were batched
    const stats = stack.stats();
    expect(stats.largestPayload.bytes).toBeLessThan(8 * KiB);
    const big = results[4]!.execution!;
    expect(big.history.events).toBeLessThan(40);
    expect(big.entered.map((e) => e.name)).toEqual(expect.arrayContaining(['Prepare', 'UploadBatches', 'UploadSlices', 'Complete', 'ReportSuccess']));
  }, 60_000);

  it('forwards an object once when S3 delivers its event twice', async () => {
    const key = 'dup/twice delivered+1.bin';
    const first = await stack.forwardObject(key, Buffer.alloc(2 * KiB, 7));
    expect(first.status).toBe('forwarded');
    const record = await stack.recordFor(key);
    // recordFor builds a new sequencer; a duplicate delivery repeats the original record exactly
    const original = stack.deliveries.find((d) => (d.event as ReturnType<typeof s3Event>).Records?.[0]?.s3.object.key === record.s3.object.key)!;
    await stack.notify(original.event);
    // and the same event twice in one message, and invoked directly (queued into the intake): still one execution
    await stack.notify(s3Event([...(original.event as ReturnType<typeof s3Event>).Records, ...(original.event as ReturnType<typeof s3Event>).Records]));
    expect((await stack.deliver(original.event).done).result).toEqual({ queued: true });
    await stack.fleet.drained();
    await stack.executor.idle();
    const executions = [...stack.executor.executions.values()].filter((e) => (e.input as { key?: string }).key === key);
    expect(executions).toHaveLength(1);
    const completes = stack.emulator!.calls.filter((c) => c.call === 'upload' && c.sid === first.records[0]!.sid);
    expect(completes).toHaveLength(1);
    expect(await stack.recordsFor(key)).toHaveLength(1);
  });

  it('sends a message with malformed records to the intake\'s dead-letter queue with the reasons, and keeps the good record of it', async () => {
    const before = stack.executor.executions.size;
    const event = {
      Records: [
        { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: stack.bucket }, object: { key: 'bad%ZZkey', size: 1, eTag: 'x' } } },
        { eventSource: 'aws:sqs', eventName: 'ObjectCreated:Put' },
        objectCreatedRecord({ bucket: stack.bucket, key: 'mixed/new one.bin', size: 3, eTag: 'e1' }),
      ],
    };
    await stack.notify(event);
    // the well-formed record names an object that does not exist: the execution fails in Prepare, reported
    const exec = await stack.waitForExecution('mixed/new one.bin');
    expect(exec).toMatchObject({ status: 'FAILED' });
    await stack.notify({ hello: 'world' });
    expect(stack.intakeDeadLetters()).toEqual([
      { body: JSON.stringify(event), reason: expect.stringMatching(/^record 0: .*URL encoding.*; record 1: .*aws:sqs/) },
      { body: '{"hello":"world"}', reason: 'unreadable message body: message body has no Records array' },
    ]);
    expect(stack.executor.executions.size).toBe(before + 1);
  });

  it('cancels the multipart upload and records the failure when a slice is refused for good', async () => {
    const emulator = stack.emulator!;
    emulator.inject({ call: 'slice', sliceId: 2, code: 11200, times: Infinity }); // licence exhausted: fatal
    try {
      const r = await stack.forwardObject('fail/quota.bin', Buffer.alloc(31 * MiB, 1));
      expect(r.status).toBe('failed');
      expect(r.error).toMatchObject({ code: 'OST_QUOTA', ostCode: 11200 });
      expect(r.records[0]).toMatchObject({ status: 'failed', cancelled: true, error: { error: 'OstQuotaError', ostCode: 11200 } });
      expect(r.events[0]).toMatchObject({ detailType: 'OST File Forward Failed' });
      expect(r.execution!.entered.map((e) => e.name)).toEqual(expect.arrayContaining(['UploadBatches', 'Cancel', 'RestartOrReport', 'ReportFailure', 'Failed']));
      // the Map failed as on AWS, and Cancel found the child's own error
      expect(r.execution!.caught).toEqual(expect.arrayContaining([{ state: 'UploadBatches', error: 'States.ExceedToleratedFailureThreshold' }]));
      expect(r.execution!.error).toBe('OstQuotaError');
      expect(emulator.orphans()).toEqual([]);
    } finally {
      emulator.clearFaults();
    }
  });

  it('starts again from init when the upload id expires (10005) and still forwards', async () => {
    const emulator = stack.emulator!;
    emulator.inject({ call: 'complete', code: 10005, times: 1 });
    try {
      const r = await stack.forwardObject('restart/expired.bin', Buffer.alloc(31 * MiB, 2));
      expect(r.status).toBe('forwarded');
      expect(r.records[0]).toMatchObject({ restarts: 1 });
      const names = r.execution!.entered.map((e) => e.name);
      expect(names.filter((n) => n === 'Prepare')).toHaveLength(2);
      expect(names).toEqual(expect.arrayContaining(['Cancel', 'RestartOrReport', 'Restart', 'ReportSuccess']));
    } finally {
      emulator.clearFaults();
    }
  });
});
