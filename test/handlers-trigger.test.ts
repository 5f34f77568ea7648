// The S3 event submitter (lib/intake/s3-event.ts: `redrive` and `backfill --direct` start executions through it)
// with Step Functions mocked at the SDK boundary: what it starts, what it skips, and that a start failure is thrown
// only after every record was tried. And the trigger's direct invocation: queued into the intake, never started.
import { mockClient } from 'aws-sdk-client-mock';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { S3Event } from 'aws-lambda';
import { handlers } from '../functions';
import { logger, metrics } from '../lib/runtime/logging';
import { resetRuntime } from '../lib/runtime/reset';
import { executionName, StartExecutionsError, submitS3Event } from '../lib/intake/s3-event';
import { loadSettings, required } from '../lib/config/settings';
import { s3Record } from './support/s3-records';

const sfnMock = mockClient(SFNClient);
const sqsMock = mockClient(SQSClient);

/** What the submitter answers, in the summary's short form; throws as the trigger's direct path used to. */
async function submit(e: unknown) {
  const s = loadSettings(process.env);
  const r = await submitS3Event(e, { sfn: new SFNClient({}), stateMachineArn: required(s, 'stateMachineArn', 'STATE_MACHINE_ARN'), settings: s });
  if (r.failed.length > 0) throw new StartExecutionsError(r);
  return { started: r.started, duplicates: r.duplicates, skipped: r.skipped.map(({ reason, key }) => (key !== undefined ? { reason, key } : { reason })), malformed: r.malformed.map(({ reason }) => ({ reason })) };
}
const ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:ost-forwarder-test';
const event = (...records: unknown[]) => ({ Records: records }) as unknown as S3Event;

beforeAll(() => {
  logger.setLogLevel('SILENT');
  jest.spyOn(metrics, 'publishStoredMetrics').mockImplementation(function (this: typeof metrics) { this.clearMetrics(); return this; });
});

beforeEach(async () => {
  sfnMock.reset();
  sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
  Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', STATE_MACHINE_ARN: ARN, RESULTS_PREFIX: 'ost-forwarder/', KEY_PREFIX_FILTER: '', KEY_SUFFIX_FILTER: '' });
  await resetRuntime();
});

const started = () => sfnMock.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);

it('starts one execution per record with decoded keys and deterministic names', async () => {
  const res = await submit(event(
    s3Record('my+file.wav', { versionId: 'v1', size: 7 }),
    s3Record('a%2Bb.wav'),
    s3Record('100%25.txt'),
    s3Record('%E4%B8%AD%E6%96%87/%E5%BD%95%E9%9F%B3.mp3'),
  ));
  expect(res).toEqual({ started: 4, duplicates: 0, skipped: [], malformed: [] });
  const inputs = started();
  expect(inputs.map((i) => JSON.parse(i.input!).key)).toEqual(['my file.wav', 'a+b.wav', '100%.txt', '中文/录音.mp3']);
  expect(inputs.every((i) => i.stateMachineArn === ARN)).toBe(true);
  expect(JSON.parse(inputs[0]!.input!)).toEqual({ bucket: 'inbox', key: 'my file.wav', versionId: 'v1', etag: 'd41d8cd98f00b204e9800998ecf8427e', size: 7, sequencer: '0055AED6DCD90281E5' });
  expect(inputs[0]!.name).toBe(executionName({ bucket: 'inbox', key: 'my file.wav', versionId: 'v1' }));
  for (const i of inputs) expect(i.name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
});

it('treats ExecutionAlreadyExists as already handled (duplicate delivery)', async () => {
  sfnMock.on(StartExecutionCommand).rejectsOnce(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} })).resolves({ executionArn: 'a', startDate: new Date() });
  const rec = s3Record('dup.wav', { versionId: 'v1' });
  const res = await submit(event(rec, s3Record('other.wav')));
  expect(res).toMatchObject({ started: 1, duplicates: 1 });
  // The same event twice gives the same name: Step Functions dedupes.
  const names = started().map((i) => i.name);
  expect(names[0]).toBe(executionName({ bucket: 'inbox', key: 'dup.wav', versionId: 'v1' }));
});

it('skips folder markers, the results prefix and filtered keys, with reasons', async () => {
  process.env.KEY_PREFIX_FILTER = 'in/';
  process.env.KEY_SUFFIX_FILTER = '.wav,.mp3';
  await resetRuntime();
  const res = await submit(event(
    s3Record('in/', { size: 0 }),
    s3Record('ost-forwarder/forwarded/in/a.wav/x.json'),
    s3Record('out/a.wav'),
    s3Record('in/a.txt'),
    s3Record('in/a.wav'),
  ));
  expect(res.started).toBe(1);
  expect(res.skipped.map((s) => s.reason)).toEqual([
    'folder marker', 'under the results prefix ost-forwarder/', 'key does not start with in/', 'key does not end with .wav or .mp3',
  ]);
  expect(started().map((i) => JSON.parse(i.input!).key)).toEqual(['in/a.wav']);
});

it('reports malformed records with the reason and still starts the others', async () => {
  const res = await submit(event(
    { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' } } },
    s3Record('bad%E4.wav'),
    s3Record('good.wav'),
  ));
  expect(res.started).toBe(1);
  expect(res.malformed).toEqual([{ reason: 's3.object.key is missing' }, { reason: expect.stringMatching(/not valid URL encoding/) }]);
});

it('answers an event without Records and the S3 test event without starting anything', async () => {
  expect(await submit({} as S3Event)).toMatchObject({ started: 0, malformed: [{ reason: 'event has no Records array' }] });
  expect(await submit({ Service: 'Amazon S3', Event: 's3:TestEvent' } as unknown as S3Event)).toMatchObject({ started: 0, skipped: [{ reason: 'S3 test event' }] });
  expect(started()).toHaveLength(0);
});

it('throws after trying every record when some could not be started (event kept by Lambda retries/DLQ)', async () => {
  const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
  sfnMock.on(StartExecutionCommand).rejectsOnce(throttled).resolves({ executionArn: 'a', startDate: new Date() });
  await expect(submit(event(s3Record('one.wav'), s3Record('two.wav')))).rejects.toMatchObject({
    name: 'StartExecutionsError', message: expect.stringContaining('ThrottlingException'),
  });
  expect(started()).toHaveLength(2);
});

it('fails with a ConfigError naming STATE_MACHINE_ARN when it is missing', async () => {
  delete process.env.STATE_MACHINE_ARN;
  await resetRuntime();
  await expect(submit(event(s3Record('x.wav')))).rejects.toMatchObject({ name: 'ConfigError', message: expect.stringContaining('STATE_MACHINE_ARN') });
});

it('queues a direct invocation into the intake queue as it is: nothing starts around admission', async () => {
  sqsMock.reset();
  sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm1' });
  process.env.INTAKE_QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/intake';
  await resetRuntime();
  try {
    const e = event(s3Record('direct.wav'));
    expect(await handlers.trigger(e)).toEqual({ queued: true });
    expect(started()).toHaveLength(0);
    expect(sqsMock.commandCalls(SendMessageCommand).map((c) => c.args[0].input)).toEqual([{ QueueUrl: process.env.INTAKE_QUEUE_URL, MessageBody: JSON.stringify(e) }]);
    // no queue to send to: a ConfigError naming it (Lambda's retries, then the on-failure destination keep the event)
    delete process.env.INTAKE_QUEUE_URL;
    await resetRuntime();
    await expect(handlers.trigger(e)).rejects.toMatchObject({ name: 'ConfigError', message: expect.stringContaining('INTAKE_QUEUE_URL') });
  } finally {
    delete process.env.INTAKE_QUEUE_URL;
  }
});
