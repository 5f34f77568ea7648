// `ost-forward local` and `local --existing` as an unlucky operator meets them: bad settings, a bucket of one's
// own that holds other objects, named files the filters skip.
import { bundledCli, type Cli } from './support/cli';

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
