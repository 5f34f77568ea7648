// `ost-forward redrive` (the trigger's dead-letter queue, on the local SQS): the event inside each Lambda destination
// record goes into the intake queue, where it waits for a slot like any notification; nothing starts an execution
// around admission. A dead letter that holds no event stays, with its reason; a move never targets its own source.
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { eventOfMessage, run } from '../cli/commands/redrive';
import { startLocalSqs, type LocalSqs } from '../local/aws/sqs';

const s3Event = (...keys: string[]) => ({
  Records: keys.map((key) => ({ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'inbox' }, object: { key, size: 3, eTag: 'e', sequencer: 's' } } })),
});
const destination = (event: unknown) => JSON.stringify({
  version: '1.0', timestamp: '2026-11-24T00:00:00Z',
  requestContext: { requestId: 'r', functionArn: 'arn:aws:lambda:us-east-1:1:function:ost-forwarder-dev-trigger:$LATEST', condition: 'RetriesExhausted', approximateInvokeCount: 3 },
  requestPayload: event,
  responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
  responsePayload: { errorType: 'SQSServiceException', errorMessage: 'the intake queue could not be reached' },
});

let sqs: LocalSqs;
const saved = { ...process.env };
beforeAll(async () => {
  sqs = await startLocalSqs();
  Object.assign(process.env, { AWS_ENDPOINT_URL_SQS: sqs.endpoint, AWS_REGION: sqs.region, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' });
  for (const k of ['INTAKE_QUEUE_URL', 'TRIGGER_DLQ_URL', 'INTAKE_DLQ_URL', 'STATE_MACHINE_ARN']) delete process.env[k];
});
afterAll(async () => { await sqs.close(); process.env = saved; });

/** Runs `ost-forward redrive …` in this process; its exit code and what it printed. */
async function redriveRun(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((s) => { out.push(String(s)); return true; });
  const ewrite = jest.spyOn(process.stderr, 'write').mockImplementation((s) => { err.push(String(s)); return true; });
  try {
    return { code: await run(args), out: out.join(''), err: err.join('') };
  } finally {
    write.mockRestore();
    ewrite.mockRestore();
  }
}

async function bodies(queueUrl: string): Promise<string[]> {
  const got: string[] = [];
  for (;;) {
    const r = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }));
    if (!r.Messages?.length) return got.sort();
    got.push(...r.Messages.map((m) => m.Body!));
  }
}

it('extracts the original S3 event from a destination record, and names what holds none', () => {
  expect(eventOfMessage(destination(s3Event('a')))).toEqual(s3Event('a'));
  expect(eventOfMessage(JSON.stringify(s3Event('b')))).toEqual(s3Event('b'));
  expect(() => eventOfMessage('{"x":1}')).toThrow(/neither/);
  expect(() => eventOfMessage('not json')).toThrow(/not JSON/);
});

it('moves each event into the intake queue as the trigger would have queued it; keeps what holds no event', async () => {
  const intake = sqs.createQueue('intake-a');
  const dlq = sqs.createQueue('trigger-dlq-a');
  for (const body of [destination(s3Event('a+b.wav', 'c.wav')), destination(s3Event('d.wav')), JSON.stringify(s3Event('e.wav')), 'not json', '{"x":1}']) {
    await sqs.client.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: body }));
  }
  const r = await redriveRun(['--queue-url', dlq, '--to-url', intake]);
  expect(r.out).toContain('redrive: 5 message(s) of 5 there, 3 moved to the intake queue, 2 kept, 0 copied but not deleted');
  expect(r.out).toMatch(/kept \S+: message is not JSON/);
  expect(r.out).toMatch(/kept \S+: message is neither a Lambda destination record nor an S3 event/);
  expect(r.code).toBe(1);
  expect(await bodies(intake)).toEqual([s3Event('a+b.wav', 'c.wav'), s3Event('d.wav'), s3Event('e.wav')].map((e) => JSON.stringify(e)).sort());
  // what stayed is visible again at once, for the person who reads it
  expect(sqs.stats(dlq)).toMatchObject({ visible: 2, inFlight: 0 });
});

it('finds the intake queue or says which setting names it; never moves a queue into itself', async () => {
  const dlq = sqs.createQueue('trigger-dlq-b');
  await sqs.client.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: destination(s3Event('f.wav')) }));
  const none = await redriveRun(['--queue-url', dlq]);
  expect(none.code).toBe(2);
  expect(none.err).toMatch(/--to-url INTAKE_URL \(or INTAKE_QUEUE_URL\)/);
  const self = await redriveRun(['--queue-url', dlq, '--to-url', dlq]);
  expect(self.code).toBe(1);
  expect(self.err).toMatch(/--to-url: is the queue the messages come from/);
  expect(sqs.stats(dlq)).toMatchObject({ visible: 1, inFlight: 0 });
  // INTAKE_QUEUE_URL names the target as well as --to-url
  process.env.INTAKE_QUEUE_URL = sqs.createQueue('intake-b');
  try {
    expect((await redriveRun(['--queue-url', dlq])).code).toBe(0);
    expect(await bodies(process.env.INTAKE_QUEUE_URL)).toEqual([JSON.stringify(s3Event('f.wav'))]);
  } finally {
    delete process.env.INTAKE_QUEUE_URL;
  }
});
