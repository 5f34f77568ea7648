// `ost-forward redrive`: reads the trigger's DLQ (Lambda on-failure destination records), re-submits each event
// through the trigger's lib code, and deletes a message only after it was fully handled.
import { mockClient } from 'aws-sdk-client-mock';
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { eventOfMessage, redrive } from '../cli/commands/redrive';
import { executionName } from '../lib/intake/s3-event';

const sqsMock = mockClient(SQSClient);
const sfnMock = mockClient(SFNClient);
const ARN = 'arn:aws:states:us-east-1:1:stateMachine:ost-forwarder-dev';
const settings = { resultsPrefix: 'ost-forwarder/', keyPrefixes: [], keySuffixes: [] };

const s3Event = (...keys: string[]) => ({
  Records: keys.map((key) => ({ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'inbox' }, object: { key, size: 3, eTag: 'e', sequencer: 's' } } })),
});
const destination = (event: unknown) => JSON.stringify({
  version: '1.0', timestamp: '2026-11-24T00:00:00Z',
  requestContext: { requestId: 'r', functionArn: 'arn:aws:lambda:us-east-1:1:function:ost-forwarder-dev-trigger:$LATEST', condition: 'RetriesExhausted', approximateInvokeCount: 3 },
  requestPayload: event,
  responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
  responsePayload: { errorType: 'StartExecutionsError', errorMessage: '1 of the event records could not be started' },
});

beforeEach(() => {
  sqsMock.reset();
  sfnMock.reset();
  sqsMock.on(DeleteMessageCommand).resolves({});
  sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '3', ApproximateNumberOfMessagesNotVisible: '0' } });
});

it('extracts the original S3 event from a destination record', () => {
  expect(eventOfMessage(destination(s3Event('a')))).toEqual(s3Event('a'));
  expect(eventOfMessage(JSON.stringify(s3Event('b')))).toEqual(s3Event('b'));
  expect(() => eventOfMessage('{"x":1}')).toThrow(/neither/);
});

it('starts every record again and deletes the message after success', async () => {
  sqsMock.on(ReceiveMessageCommand)
    .resolvesOnce({ Messages: [{ MessageId: 'm1', ReceiptHandle: 'h1', Body: destination(s3Event('a+b.wav', 'c.wav')) }] })
    .resolves({ Messages: [] });
  sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'x', startDate: new Date() });
  const r = await redrive({ sqs: new SQSClient({ region: 'us-east-1' }), sfn: new SFNClient({ region: 'us-east-1' }), queueUrl: 'q', stateMachineArn: ARN, settings });
  expect(r).toMatchObject({ messages: 1, redriven: 1, kept: 0, started: 2 });
  const starts = sfnMock.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
  expect(starts.map((s) => JSON.parse(s.input!).key)).toEqual(['a b.wav', 'c.wav']);
  expect(starts[0]!.name).toBe(executionName({ bucket: 'inbox', key: 'a b.wav', etag: 'e', sequencer: 's' }));
  expect(sqsMock.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input.ReceiptHandle)).toEqual(['h1']);
});

it('counts already-started executions as done and keeps a message whose records still fail', async () => {
  sqsMock.on(ReceiveMessageCommand)
    .resolvesOnce({ Messages: [
      { MessageId: 'm1', ReceiptHandle: 'h1', Body: destination(s3Event('done.wav')) },
      { MessageId: 'm2', ReceiptHandle: 'h2', Body: destination(s3Event('throttled.wav')) },
      { MessageId: 'm3', ReceiptHandle: 'h3', Body: 'not json' },
    ] })
    .resolves({ Messages: [] });
  sfnMock.on(StartExecutionCommand).callsFake((input: { input: string }) => {
    if (input.input.includes('done.wav')) throw Object.assign(new Error('exists'), { name: 'ExecutionAlreadyExists' });
    throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
  });
  const lines: string[] = [];
  const r = await redrive({ sqs: new SQSClient({ region: 'us-east-1' }), sfn: new SFNClient({ region: 'us-east-1' }), queueUrl: 'q', stateMachineArn: ARN, settings, out: (l) => lines.push(l) });
  expect(r).toMatchObject({ messages: 3, redriven: 1, kept: 2, duplicates: 1, unreadable: 1 });
  expect(sqsMock.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input.ReceiptHandle)).toEqual(['h1']);
  expect(lines.join('\n')).toMatch(/kept m2: 1 record\(s\) could not be started: ThrottlingException/);
});
