// `ost-forward local` and `local --existing` as an unlucky operator meets them: bad settings, a bucket of one's
// own that holds other objects, named files the filters skip.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { startEmbeddedS3 } from '../local/aws/s3';
import { bundledCli, type Cli } from './support/cli';
import { tempDir } from './support/files';

let cli: Cli;
beforeAll(async () => { cli = await bundledCli('local-hostile-cli-test'); }, 60_000);
afterAll(() => cli?.remove());

describe('settings of the local stack', () => {
  it.each(['0', '5000', '-1', 'abc'])('MAX_FILES_IN_FLIGHT=%s is refused in one line naming it, and the command ends', async (value) => {
    for (const args of [['local', __filename], ['local', '--existing', __filename]]) {
      const r = await cli.run(args, { MAX_FILES_IN_FLIGHT: value }, { timeoutMs: 30_000 });
      expect([args.join(' '), r.code]).toEqual([args.join(' '), 1]);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^ost-forward local: MAX_FILES_IN_FLIGHT: must be/)]);
    }
  }, 70_000);

  it('LOCAL_BUCKET that is not a bucket name is refused in one line naming it', async () => {
    for (const args of [['local', __filename], ['local', '--existing', __filename]]) {
      const r = await cli.run(args, { LOCAL_BUCKET: 'Bad_Bucket!' }, { timeoutMs: 30_000 });
      expect([args.join(' '), r.code]).toEqual([args.join(' '), 1]);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^ost-forward local: LOCAL_BUCKET: must be an S3 bucket name/)]);
    }
  }, 70_000);
});

describe('local --existing forwards what was named, and only that', () => {
  it('against a bucket of one\'s own (S3_ENDPOINT) that holds other objects, only the named file leaves', async () => {
    const s3 = await startEmbeddedS3({ buckets: ['mine'] });
    const tmp = tempDir();
    try {
      for (const key of ['a-neighbour.wav', 'other/x.wav', 'b.txt']) await s3.client.send(new PutObjectCommand({ Bucket: 'mine', Key: key, Body: `someone else's ${key}` }));
      const file = join(tmp.dir, 'a.txt');
      writeFileSync(file, 'mine to send');
      const env = { S3_ENDPOINT: s3.endpoint, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, LOCAL_BUCKET: 'mine' };
      const r = await cli.run(['local', '--existing', file, '--json'], env);
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ key: 'a.txt', status: 'forwarded' })]);
      expect(r.stderr).toContain('listed 1;');
      // the records go to the template's records bucket, beside the source bucket (docs/local.md)
      const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: 'ost-forwarder-local-records-000000000000-us-east-1', Prefix: 'ost-forwarder/forwarded/' }));
      expect((listed.Contents ?? []).map((c) => c.Key!.split('/')[2])).toEqual(['a.txt']);
    } finally {
      tmp.cleanup();
      await s3.close();
    }
  }, 90_000);

  it('a named file the filters skip is not forwarded, and the command says so and fails, as local does', async () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'notes.txt');
      writeFileSync(file, 'not audio');
      for (const args of [['local', '--existing', file], ['local', file]]) {
        const r = await cli.run(args, { KEY_SUFFIX_FILTER: '.wav' });
        expect([args.join(' '), r.code]).toEqual([args.join(' '), 1]);
        expect(r.stdout).toMatch(/notes\.txt.*(KEY_SUFFIX_FILTER|NOT_STARTED)/);
      }
    } finally {
      tmp.cleanup();
    }
  }, 90_000);
});

describe('a local stack that fails to start', () => {
  const servers = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;

  it.each([{ maxFilesInFlight: 5000 }, { maxFilesInFlight: 0 }, { lambdaConcurrency: -1 }])('closes what it started (fleet %j)', async (fleet) => {
    const { startLocalStack } = await import('../local/stack');
    const before = servers();
    await expect(startLocalStack({ fleet })).rejects.toThrow();
    expect(servers()).toBe(before);
  }, 60_000);
});
