// The embedded S3 and the loopback AWS endpoint on their own: event records shaped as AWS sends them, the s3rver
// gaps fixed in front of it, and answers the SDK v3 clients parse (errors included).
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand, ExecutionAlreadyExists } from '@aws-sdk/client-sfn';
import { SSMClient, GetParameterCommand } from '@aws-sdk/client-ssm';
import type { S3EventRecord } from 'aws-lambda';
import { encodeEventKey, objectCreatedRecord, startEmbeddedS3, type EmbeddedS3 } from '../local/aws/s3';
import { startAwsServer, AwsServiceError, type AwsServer } from '../local/aws/endpoint';
import { decodeS3Key } from '../lib/intake/s3-event';

describe('S3 event records', () => {
  it.each([
    ['plain/key.txt', 'plain/key.txt'],
    ['a b.wav', 'a+b.wav'],
    ['a+b.wav', 'a%2Bb.wav'],
    ['100%.txt', '100%25.txt'],
    ['会议 录音.wav', '%E4%BC%9A%E8%AE%AE+%E5%BD%95%E9%9F%B3.wav'],
    ['x (1).txt', 'x+%281%29.txt'],
    ['dir/sub dir/f=1&2.txt', 'dir/sub+dir/f%3D1%262.txt'],
  ])('encodes %j as S3 does (%s) and the trigger decodes it back', (key, encoded) => {
    expect(encodeEventKey(key)).toBe(encoded);
    expect(decodeS3Key(encodeEventKey(key))).toBe(key);
  });

  it('builds an AWS-shaped record: eventVersion 2.1, bucket ARN, no versionId when unversioned', () => {
    const r = objectCreatedRecord({ bucket: 'bkt', key: 'a b', size: 3, eTag: '"abc"' });
    expect(r).toMatchObject({
      eventVersion: '2.1', eventSource: 'aws:s3', awsRegion: 'us-east-1', eventName: 'ObjectCreated:Put',
      s3: { s3SchemaVersion: '1.0', bucket: { name: 'bkt', arn: 'arn:aws:s3:::bkt' }, object: { key: 'a+b', size: 3, eTag: 'abc', sequencer: expect.stringMatching(/^[0-9A-F]{18}$/) } },
    });
    expect('versionId' in r.s3.object).toBe(false);
    const later = objectCreatedRecord({ bucket: 'bkt', key: 'a b', size: 3 });
    expect(later.s3.object.sequencer > r.s3.object.sequencer).toBe(true);
  });
});

describe('embedded S3 (s3rver)', () => {
  let s3: EmbeddedS3;
  const records: S3EventRecord[] = [];
  beforeAll(async () => {
    s3 = await startEmbeddedS3({ buckets: ['b1'] });
    s3.onObjectCreated((r) => records.push(r));
  });
  afterAll(() => s3?.close());

  it('turns an ObjectCreated into one record, after the PUT was answered', async () => {
    let answered = false;
    const put = s3.client.send(new PutObjectCommand({ Bucket: 'b1', Key: '会议 a+b.bin', Body: Buffer.alloc(1000, 1) })).then((x) => { answered = true; return x; });
    const { ETag } = await put;
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(true);
    expect(records.at(-1)).toMatchObject({ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b1' }, object: { key: '%E4%BC%9A%E8%AE%AE+a%2Bb.bin', size: 1000, eTag: ETag!.replace(/"/g, '') } } });
  });

  it('answers If-Match with 412, and byte-0, suffix and open ranges with the right bytes', async () => {
    const body = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));
    const { ETag } = await s3.client.send(new PutObjectCommand({ Bucket: 'b1', Key: 'r', Body: body }));
    const get = async (Range: string, IfMatch = ETag) => {
      const o = await s3.client.send(new GetObjectCommand({ Bucket: 'b1', Key: 'r', Range, IfMatch }));
      return { range: o.ContentRange, body: Buffer.from(await o.Body!.transformToByteArray()) };
    };
    expect(await get('bytes=0-0')).toEqual({ range: 'bytes 0-0/300', body: body.subarray(0, 1) });
    expect(await get('bytes=-5')).toEqual({ range: 'bytes 295-299/300', body: body.subarray(295) });
    expect(await get('bytes=290-')).toEqual({ range: 'bytes 290-299/300', body: body.subarray(290) });
    expect(await get('bytes=10-1000')).toEqual({ range: 'bytes 10-299/300', body: body.subarray(10) });
    await expect(get('bytes=0-9', '"0000"')).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    await expect(get('bytes=300-')).rejects.toMatchObject({ $metadata: { httpStatusCode: 416 } });
  });
});

describe('loopback AWS endpoint', () => {
  let aws: AwsServer;
  const names = new Set<string>();
  beforeAll(async () => {
    aws = await startAwsServer({
      parameters: { '/p/key': 'v1' },
      stepFunctions: {
        startExecution({ name }) {
          if (names.has(name!)) throw new AwsServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${name}'`);
          names.add(name!);
          return { executionArn: `arn:aws:states:us-east-1:000000000000:execution:sm:${name}`, startDate: new Date() };
        },
        describeExecution() { throw new AwsServiceError('ExecutionDoesNotExist', 'no'); },
      },
    });
  });
  afterAll(() => aws?.close());

  it('answers StartExecution and a duplicate the way the SDK parses as ExecutionAlreadyExists (HTTP 400)', async () => {
    const sfn = new SFNClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    const ok = await sfn.send(new StartExecutionCommand({ stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:sm', name: 'n1', input: '{}' }));
    expect(ok.executionArn).toMatch(/:execution:sm:n1$/);
    expect(ok.startDate).toBeInstanceOf(Date);
    const err = await sfn.send(new StartExecutionCommand({ stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:sm', name: 'n1', input: '{}' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecutionAlreadyExists);
    expect(err).toMatchObject({ name: 'ExecutionAlreadyExists', $metadata: { httpStatusCode: 400 } });
    sfn.destroy();
  });

  it('serves SSM SecureString parameters and ParameterNotFound', async () => {
    const ssm = new SSMClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    const p = await ssm.send(new GetParameterCommand({ Name: '/p/key', WithDecryption: true }));
    expect(p.Parameter).toMatchObject({ Name: '/p/key', Type: 'SecureString', Value: 'v1' });
    await expect(ssm.send(new GetParameterCommand({ Name: '/p/none' }))).rejects.toMatchObject({ name: 'ParameterNotFound' });
    ssm.destroy();
  });
});
