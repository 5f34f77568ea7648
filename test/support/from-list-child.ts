// A process of its own for the from-list memory measurement (test/backfill-from-list.test.ts bundles and runs it
// with --expose-gc): a backfill over the list in argv[2] against an S3 that answers every HEAD and stores nothing,
// submitting through the intake submitter to an SQS that only counts. Prints one JSON line: the V8 heap after a
// full GC before the run and at every 10,000th key, the peak RSS, and the summary.
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { backfill } from '../../lib/intake/backfill';
import { intakeQueueSubmitter } from '../../lib/intake/backfill-submitter';
import { listPages } from '../../lib/intake/from-list';
import { loadSettings } from '../../lib/config/settings';

export function answeringS3(): Pick<S3Client, 'send'> {
  return {
    send: (async (cmd: { input: { Key?: string } }) => {
      if (cmd instanceof HeadObjectCommand) {
        const key = cmd.input.Key!;
        if (key.includes('backfill/submitted/') || key.endsWith('/gone')) throw Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
        return { ContentLength: 1000 + (key.length % 7), ETag: `"${key.length.toString(16)}"`, LastModified: new Date() };
      }
      if (cmd instanceof ListObjectsV2Command) return { Contents: [], IsTruncated: false };
      if (cmd instanceof PutObjectCommand) return {};
      throw new Error(`unexpected ${cmd.constructor.name}`);
    }) as never,
  };
}

export function countingSqs() {
  let n = 0;
  return {
    sent: () => n,
    client: { send: async (cmd: SendMessageBatchCommand) => { const e = cmd.input.Entries ?? []; n += e.length; return { Successful: e.map((x) => ({ Id: x.Id, MessageId: 'm', MD5OfMessageBody: '' })), Failed: [] }; } },
  };
}

async function main(): Promise<void> {
  const list = process.argv[2]!;
  const gc = (globalThis as { gc?: () => void }).gc!;
  const s3 = answeringS3();
  const sqs = countingSqs();
  const heapMiB: number[] = [];
  const mib = (n: number) => Math.round(n / 1024 / 10.24) / 100;
  gc();
  const startHeapMiB = mib(process.memoryUsage().heapUsed);
  let peakRss = 0;
  let seen = 0;
  const timer = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 20);
  const summary = await backfill({
    s3, bucket: 'inbox', settings: loadSettings({}), submit: intakeQueueSubmitter(sqs.client as never, 'https://sqs.local/q'),
    pages: listPages(s3, list, 'inbox'), batchSize: 100, concurrency: 16,
    onItem: () => { if (++seen % 10_000 === 0) { gc(); heapMiB.push(mib(process.memoryUsage().heapUsed)); } },
  });
  clearInterval(timer);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  process.stdout.write(JSON.stringify({ startHeapMiB, heapMiB, peakRssMiB: mib(peakRss), submitted: sqs.sent(), summary }) + '\n');
}

if (require.main === module) void main();
