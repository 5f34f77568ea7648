// The trigger's direct invocation (an S3 notification of an older deployment, anything not an SQS batch): queued
// into the intake as it is, never started around admission; SQS and Step Functions mocked at the SDK boundary. The
// intake batch itself: test/intake.test.ts.
import { mockClient } from 'aws-sdk-client-mock';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { S3Event } from 'aws-lambda';
import { handlers } from '../functions';
import { logger, metrics } from '../lib/runtime/logging';
import { resetRuntime } from '../lib/runtime/reset';
import { s3Record } from './support/s3-records';

const sfnMock = mockClient(SFNClient);
const sqsMock = mockClient(SQSClient);
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
