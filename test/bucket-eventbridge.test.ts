// The existing bucket's custom resource (scripts/bucket-eventbridge.cjs, the template's inline code): turns the
// bucket's EventBridge setting on without clobbering its other notification configurations — the mistake of tools
// that read-modify-write the configuration — and answers CloudFormation at its response URL, on failure too.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mockClient } from 'aws-sdk-client-mock';
import { GetBucketNotificationConfigurationCommand, PutBucketNotificationConfigurationCommand, S3Client } from '@aws-sdk/client-s3';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const resource = require('../scripts/bucket-eventbridge.cjs') as { run(e: unknown, s3: S3Client): Promise<{ status: string; reason: string }> };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const inline = require('../scripts/bucket-eventbridge-code.js') as () => string;

let server: Server;
const answers: Array<Record<string, unknown>> = [];
let url: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { answers.push({ method: req.method, ...JSON.parse(body) }); res.end(); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/response?sig=x`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const event = (RequestType: string) => ({ RequestType, ResponseURL: url, StackId: 'stack-1', RequestId: 'req-1', LogicalResourceId: 'SourceBucketEventBridge', ResourceProperties: { BucketName: 'team-audio' } });

const others = {
  QueueConfigurations: [{ Id: 'their-queue', QueueArn: 'arn:aws:sqs:us-east-1:1:theirs', Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'logs/' }] } } }],
  TopicConfigurations: [{ Id: 'their-topic', TopicArn: 'arn:aws:sns:us-east-1:1:t', Events: ['s3:ObjectRemoved:*'] }],
  LambdaFunctionConfigurations: [{ Id: 'their-fn', LambdaFunctionArn: 'arn:aws:lambda:us-east-1:1:function:f', Events: ['s3:ObjectCreated:Put'] }],
};

it('turns EventBridge on and puts back every other notification configuration unchanged', async () => {
  const s3 = mockClient(S3Client);
  s3.on(GetBucketNotificationConfigurationCommand).resolves({ ...others, $metadata: {} } as never);
  s3.on(PutBucketNotificationConfigurationCommand).resolves({});
  answers.length = 0;
  const r = await resource.run(event('Create'), new S3Client({ region: 'us-east-1' }));
  expect(r).toEqual({ status: 'SUCCESS', reason: 'turned on' });
  const put = s3.commandCalls(PutBucketNotificationConfigurationCommand);
  expect(put).toHaveLength(1);
  expect(put[0]!.args[0].input).toEqual({ Bucket: 'team-audio', SkipDestinationValidation: true, NotificationConfiguration: { ...others, EventBridgeConfiguration: {} } });
  expect(answers).toEqual([expect.objectContaining({ method: 'PUT', Status: 'SUCCESS', PhysicalResourceId: 'eventbridge-team-audio', StackId: 'stack-1', RequestId: 'req-1', LogicalResourceId: 'SourceBucketEventBridge' })]);
  s3.restore();
});

it('writes nothing when EventBridge is on already; leaves it on when the stack is deleted', async () => {
  const s3 = mockClient(S3Client);
  s3.on(GetBucketNotificationConfigurationCommand).resolves({ ...others, EventBridgeConfiguration: {}, $metadata: {} } as never);
  answers.length = 0;
  expect(await resource.run(event('Update'), new S3Client({ region: 'us-east-1' }))).toEqual({ status: 'SUCCESS', reason: 'already on' });
  expect(await resource.run(event('Delete'), new S3Client({ region: 'us-east-1' }))).toMatchObject({ status: 'SUCCESS' });
  expect(s3.commandCalls(PutBucketNotificationConfigurationCommand)).toHaveLength(0);
  expect(answers.map((a) => a.Status)).toEqual(['SUCCESS', 'SUCCESS']);
  s3.restore();
});

it('answers FAILED with the reason when the bucket refuses (the stack then rolls back instead of hanging)', async () => {
  const s3 = mockClient(S3Client);
  s3.on(GetBucketNotificationConfigurationCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
  answers.length = 0;
  expect(await resource.run(event('Create'), new S3Client({ region: 'us-east-1' }))).toEqual({ status: 'FAILED', reason: 'AccessDenied: Access Denied' });
  expect(answers).toEqual([expect.objectContaining({ Status: 'FAILED', Reason: 'AccessDenied: Access Denied' })]);
  s3.restore();
});

it('fits the template\'s inline code (at most 4,096 characters) and exports the handler there', () => {
  const code = inline();
  expect(code.length).toBeLessThanOrEqual(4096);
  expect(code).toContain('exports.handler');
  expect(code).not.toMatch(/^\s*\/\//m);
});
