// Fault suite, part 3: the AWS side — S3 reads failing, the object overwritten or deleted mid-transfer, HeadObject
// failing or reporting an impossible size, a handler crash (thrown error, or a timeout after its side effect) in
// every step, and the same S3 event delivered three times, concurrently and in sequence.
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { bytesFor, defineFaultSuite, MiB, KiB, type Scenario, type ScenarioResult, type StepName } from './support/faults';
import { s3Event } from '../local/aws/s3';

const MULTI = 12 * MiB;
const SIMPLE = 64 * KiB;
const SLICE2 = 5 * MiB; // byte offset of slice 2

const cancelled = (r: ScenarioResult) => (r.versions.some((v) => v.record?.status === 'failed' && v.record.cancelled === true) ? [] : ['the failed version was not cancelled']);
const noInit = (r: ScenarioResult) => (r.calls.some((c) => c.call === 'init') ? ['init happened'] : []);

function scenarios(): Scenario[] {
  const out: Scenario[] = [
    { name: 'S3: ranged GET of slice 2 fails once (500)', size: MULTI, s3: (c) => [{ method: 'GET', key: c.key, rangeStart: SLICE2, status: 500, code: 'InternalError' }], expect: 'forwarded' },
    { name: 'S3: ranged GET of slice 2 reset before an answer', size: MULTI, s3: (c) => [{ method: 'GET', key: c.key, rangeStart: SLICE2, reset: true }], expect: 'forwarded' },
    { name: 'S3: ranged GET of slice 2 cut after 1 MiB of the body', size: MULTI, s3: (c) => [{ method: 'GET', key: c.key, rangeStart: SLICE2, cutAfterBytes: 1 * MiB }], expect: 'forwarded' },
    { name: 'S3: GET of a simple upload cut mid-body', size: SIMPLE, s3: (c) => [{ method: 'GET', key: c.key, cutAfterBytes: 10 * KiB }], expect: 'forwarded' },
    { name: 'S3: HEAD fails once (503)', size: MULTI, s3: (c) => [{ method: 'HEAD', key: c.key, status: 503 }], expect: 'forwarded' },
    { name: 'S3: HEAD refused (403 every time): fails before init', size: MULTI, s3: (c) => [{ method: 'HEAD', key: c.key, status: 403, code: 'AccessDenied', times: Infinity }], expect: 'failed', verify: noInit },
    {
      name: 'S3: HEAD says 10,000 x 5 GiB + 1 byte: PlanError before init', size: SIMPLE, expect: 'failed', error: 'PlanError', verify: noInit,
      s3: (c) => [{ method: 'HEAD', key: c.key, headers: { 'content-length': String(10_000 * 5 * 1024 * MiB + 1) } }],
    },
    {
      name: 'S3: object overwritten mid-transfer (before slice 2): 412, old version fails + cancelled, new version forwarded', size: MULTI, expect: 'mixed', verify: cancelled,
      s3: (c) => [{ method: 'GET', key: c.key, rangeStart: SLICE2, before: () => c.put(bytesFor(MULTI, `${c.key} v2`)) }],
    },
    {
      name: 'S3: object deleted mid-transfer (before slice 2): 404, fails, cancelled', size: MULTI, expect: 'failed', error: 'SourceChangedError', verify: cancelled,
      s3: (c) => [{ method: 'GET', key: c.key, rangeStart: SLICE2, before: async () => { await c.h.stack.s3.client.send(new DeleteObjectCommand({ Bucket: c.h.stack.bucket, Key: c.key })); } }],
    },
    {
      name: 'S3: object overwritten between the event and HEAD: old version fails before init, new forwarded', size: MULTI, expect: 'mixed',
      s3: (c) => [{ method: 'HEAD', key: c.key, before: () => c.put(bytesFor(MULTI, `${c.key} v2`)) }],
    },
    {
      name: 'S3: simple-upload object overwritten mid-transfer', size: SIMPLE, expect: 'mixed',
      s3: (c) => [{ method: 'GET', key: c.key, before: () => c.put(bytesFor(SIMPLE + 1, `${c.key} v2`)) }],
    },
  ];
  const steps: Array<[StepName, number]> = [['prepare', MULTI], ['uploadWhole', SIMPLE], ['uploadSlices', MULTI], ['complete', MULTI], ['report', MULTI]];
  for (const [step, size] of steps) {
    out.push({ name: `crash: ${step} throws before its work, retried`, size, crash: [{ step, when: 'before', error: 'Error' }], expect: 'forwarded', verify: (r) => (r.versions[0]?.execution.retries.length ? [] : ['no retry']) });
    out.push({
      name: `crash: ${step} times out after its work (result lost), retried`, size, crash: [{ step, when: 'after', error: 'Sandbox.Timedout' }],
      expect: step === 'complete' || step === 'uploadWhole' ? 'failed' : 'forwarded',
      // complete/uploadWhole: the first run may have reached OST (an attempt marker says so); sending again could
      // forward the file twice, so the re-run fails loudly instead
      ...(step === 'complete' ? { error: 'OstCompleteUncertainError' } : step === 'uploadWhole' ? { error: 'OstUploadUncertainError' } : {}),
      // prepare: the re-run continues the upload its first run initialised (init marker), so none is orphaned
      ...(step === 'prepare' ? { verify: (r: Parameters<NonNullable<Scenario['verify']>>[0]) => (r.calls.filter((c) => c.call === 'init').length === 1 ? [] : ['initialised again']) } : {}),
    });
  }
  out.push({ name: 'crash: cancel throws before its work (after a fatal slice error), retried', size: MULTI, ost: [{ call: 'slice', sliceId: 2, code: 10001 }], crash: [{ step: 'cancel', when: 'before', error: 'Error' }], expect: 'failed', error: 'OstInvalidRequestError', verify: cancelled });
  out.push({ name: 'crash: cancel times out after cancelling, retried', size: MULTI, ost: [{ call: 'slice', sliceId: 2, code: 10001 }], crash: [{ step: 'cancel', when: 'after', error: 'Sandbox.Timedout' }], expect: 'failed', error: 'OstInvalidRequestError' });
  out.push({ name: 'crash: uploadSlices exits (Runtime.ExitError) twice', size: MULTI, crash: [{ step: 'uploadSlices', when: 'before', error: 'Runtime.ExitError', times: 2 }], expect: 'forwarded' });
  // duplicates
  const three = (concurrent: boolean) => async (c: Parameters<NonNullable<Scenario['run']>>[0]) => {
    const body = bytesFor(MULTI, c.key);
    c.version(c.key, body);
    const before = c.h.stack.deliveries.length;
    await c.h.stack.s3.client.send(new PutObjectCommand({ Bucket: c.h.stack.bucket, Key: c.key, Body: body }));
    const until = Date.now() + 5000;
    while (c.h.stack.deliveries.length === before && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    const original = c.h.stack.deliveries[before]!;
    const event = JSON.parse(JSON.stringify(original.event)) as ReturnType<typeof s3Event>;
    if (concurrent) await Promise.all([c.h.stack.deliver(event).done, c.h.stack.deliver(event).done]);
    else {
      await c.h.stack.waitForExecution(c.key);
      await c.h.stack.deliver(event).done;
      await c.h.stack.deliver(event).done;
    }
  };
  const once = (r: ScenarioResult) => (r.versions.length === 1 ? [] : [`${r.versions.length} executions`]);
  out.push({ name: 'the same S3 event delivered 3 times, concurrently', size: MULTI, run: three(true), expect: 'forwarded', verify: once });
  out.push({ name: 'the same S3 event delivered 3 times, in sequence', size: MULTI, run: three(false), expect: 'forwarded', verify: once });
  out.push({
    name: 'the same record 3 times in one event', size: MULTI, expect: 'forwarded', verify: once,
    run: async (c) => {
      const body = bytesFor(MULTI, c.key);
      c.version(c.key, body);
      const before = c.h.stack.deliveries.length;
      await c.h.stack.s3.client.send(new PutObjectCommand({ Bucket: c.h.stack.bucket, Key: c.key, Body: body }));
      while (c.h.stack.deliveries.length === before) await new Promise((r) => setTimeout(r, 5));
      const rec = (c.h.stack.deliveries[before]!.event as ReturnType<typeof s3Event>).Records[0]!;
      await c.h.stack.deliver(s3Event([rec, rec, rec])).done;
    },
  });
  out.push({ name: 'StartExecution throttled twice: the trigger retries (async Lambda), forwarded once', size: SIMPLE, expect: 'forwarded', verify: once,
    run: async (c) => { c.h.stack.aws.fail('AWSStepFunctions.StartExecution', { type: 'ThrottlingException', status: 400, times: 2 }); await c.put(bytesFor(SIMPLE, c.key)); } });
  out.push({ name: 'EventBridge PutEvents fails once (SDK retries)', size: SIMPLE, expect: 'forwarded',
    run: async (c) => { c.h.stack.aws.fail('AWSEvents.PutEvents', { type: 'InternalException', status: 500, times: 1 }); await c.put(bytesFor(SIMPLE, c.key)); } });
  return out;
}

describe('fault suite: S3, handler crashes, duplicate events', () => {
  defineFaultSuite('aws', scenarios);
});
