// The S3 and SSM answers the workflow tests mock at the SDK boundary: the OST secrets from the emulator, and
// HEAD/ranged GET of the source objects kept in a Map.
import { Readable } from 'node:stream';
import type { AwsStub } from 'aws-sdk-client-mock';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import type { OstEmulator } from '../../local/emulator/types';

type Json = any;
export type MockObjects = Map<string, { body: Buffer; etag: string }>;

export function mockSecretsAndSources(ssmMock: AwsStub<Json, Json, Json>, s3Mock: AwsStub<Json, Json, Json>, emu: OstEmulator, objects: MockObjects): void {
  ssmMock.on(GetParameterCommand, { Name: '/k' }).resolves({ Parameter: { Value: emu.credentials.apiKey } });
  ssmMock.on(GetParameterCommand, { Name: '/s' }).resolves({ Parameter: { Value: emu.credentials.apiSecret } });
  s3Mock.on(HeadObjectCommand).callsFake((i: Json) => {
    const o = objects.get(i.Key);
    if (!o) throw Object.assign(new Error('nf'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    return { ContentLength: o.body.length, ETag: `"${o.etag}"` };
  });
  s3Mock.on(GetObjectCommand).callsFake((i: Json) => {
    const o = objects.get(i.Key);
    if (!o) throw Object.assign(new Error('nsk'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    if (!i.Range) return { Body: Object.assign(Readable.from([o.body]), { transformToString: async () => o.body.toString() }) };
    const [, a, b] = /^bytes=(\d+)-(\d+)$/.exec(i.Range)!;
    return { Body: Readable.from([o.body.subarray(Number(a), Number(b) + 1)]), ETag: `"${o.etag}"` };
  });
}
