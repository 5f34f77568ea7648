// `backfill --from-list`: keys from a text list, an S3 Batch Operations CSV or an S3 Inventory manifest, streamed
// page by page through the same skip rules and the intake submitter. A 100,000-key list keeps memory flat
// (measured: the RSS a 100,000-key run adds is no more than a 10,000-key run adds, plus a margin far under the
// list's own size); an Inventory manifest with CSV.GZ parts forwards its objects through the local stack.
import { writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { PutObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { backfill } from '../lib/intake/backfill';
import { intakeQueueSubmitter } from '../lib/intake/backfill-submitter';
import { listPages } from '../lib/intake/from-list';
import { loadSettings } from '../lib/config/settings';
import { startLocalStack, type LocalStack } from '../local/stack';
import { startEmbeddedS3, type EmbeddedS3 } from '../local/aws/s3';
import { tempDir } from './support/files';
import { answeringS3, countingSqs } from './support/from-list-child';

const run = promisify(execFile);

const settings = loadSettings({});

async function writeList(path: string, n: number): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < n; i++) {
    // keys of ~200 bytes: the list itself is ~20 MB at 100,000 keys
    if (!out.write(`recordings/${String(i).padStart(8, '0')}/${'meeting-room-a-'.repeat(12)}${i}.wav\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Runs the child (bundled with esbuild, --expose-gc) over a list: heap after GC every 10,000 keys, peak RSS. */
async function measuredRun(script: string, list: string): Promise<{ startHeapMiB: number; heapMiB: number[]; peakRssMiB: number; submitted: number; summary: Record<string, unknown> }> {
  const { stdout } = await run(process.execPath, ['--expose-gc', script, list], { maxBuffer: 1024 * 1024 });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

describe('backfill --from-list: a text list of 100,000 keys', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeAll(async () => { dir = tempDir(); });
  afterAll(() => dir?.cleanup());

  it('submits all 100,000 keys through the intake submitter with the heap flat: after GC it never holds 4 MiB more than before the run', async () => {
    const large = join(dir.dir, 'large.txt');
    await writeList(large, 100_000);
    const script = join(dir.dir, 'from-list-child.js');
    await build({ entryPoints: [join(__dirname, 'support', 'from-list-child.ts')], outfile: script, bundle: true, platform: 'node', target: 'node22', format: 'cjs', logLevel: 'warning' });
    const r = await measuredRun(script, large);
    process.stderr.write(`from-list memory, 100,000 keys (~20 MB list): heap after GC ${r.startHeapMiB} MiB before, every 10,000 keys ${r.heapMiB.join(', ')} MiB; peak RSS ${r.peakRssMiB} MiB\n`);
    expect(r.summary).toMatchObject({ listed: 100_000, submitted: 100_000, errors: 0 });
    expect(r.submitted).toBe(100_000);
    expect(r.heapMiB).toHaveLength(10);
    // the list is ~20 MB: holding it, or anything per key, would grow the heap by megabytes every 10,000 keys
    expect(Math.max(...r.heapMiB) - r.startHeapMiB).toBeLessThan(4);
  }, 300_000);

  it('skips blank lines and comments, a key with no object as missing, and keys of another bucket in a Batch Operations CSV', async () => {
    const s3 = answeringS3();
    const text = join(dir.dir, 'keys.txt');
    await writeFile(text, '# the keys\n\na.wav\nsub dir/b c.wav\nold/gone\n');
    const sqs = countingSqs();
    const t = await backfill({ s3, bucket: 'inbox', settings, submit: intakeQueueSubmitter(sqs.client as never, 'q'), pages: listPages(s3, text, 'inbox') });
    expect(t).toMatchObject({ listed: 3, submitted: 2, skipped: { missing: 1 } });

    const csv = join(dir.dir, 'manifest.csv');
    await writeFile(csv, 'inbox,a%20b%2Fc.wav\nother,x.wav\n"inbox","quoted,key.wav",v1\n');
    const items: string[] = [];
    const c = await backfill({ s3, bucket: 'inbox', settings, dryRun: true, submit: async () => [], pages: listPages(s3, csv, 'inbox'), onItem: (i) => items.push(`${i.status} ${i.key}`) });
    expect(c).toMatchObject({ listed: 3, wouldSubmit: 2, skipped: { 'other-bucket': 1 } });
    expect(items).toEqual(expect.arrayContaining(['would-submit a b/c.wav', 'would-submit quoted,key.wav', 'skipped x.wav']));
  });
});

describe('backfill --from-list: an S3 Inventory manifest through the local stack', () => {
  let s3: EmbeddedS3;
  let stack: LocalStack;
  beforeAll(async () => {
    s3 = await startEmbeddedS3({ buckets: ['old', 'inventory'] });
    stack = await startLocalStack({ bucket: 'old', s3: { endpoint: s3.endpoint, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, fleet: { maxFilesInFlight: 2 } });
  });
  afterAll(async () => {
    await stack?.close();
    await s3?.close();
  });

  it('reads manifest.json and its CSV.GZ parts, forwards the current objects once, and a re-run submits nothing', async () => {
    const keys = ['inv/one.wav', 'inv/two words.wav', 'inv/三.wav', 'inv/four+plus.wav'];
    const rows: string[] = [];
    for (const [i, key] of keys.entries()) {
      await stack.s3.client.send(new PutObjectCommand({ Bucket: 'old', Key: key, Body: `object ${i} `.repeat(40) }));
      const h = await stack.s3.client.send(new HeadObjectCommand({ Bucket: 'old', Key: key }));
      rows.push(`"old","${encodeURIComponent(key)}","${h.ContentLength}","2026-01-01T00:00:00.000Z","${h.ETag!.replace(/"/g, '')}","STANDARD","true","false"`);
    }
    // a noncurrent version and a delete marker: never forwarded
    rows.push('"old","inv%2Fold-version.wav","10","2025-01-01T00:00:00.000Z","abc","STANDARD","false","false"');
    rows.push('"old","inv%2Fdeleted.wav","","2025-01-01T00:00:00.000Z","","","true","true"');
    const parts = [rows.slice(0, 3), rows.slice(3)];
    for (const [i, p] of parts.entries()) {
      await stack.s3.client.send(new PutObjectCommand({ Bucket: 'inventory', Key: `old/daily/data/part-${i}.csv.gz`, Body: gzipSync(p.join('\n') + '\n') }));
    }
    const manifest = {
      sourceBucket: 'old', destinationBucket: 'arn:aws:s3:::inventory', version: '2016-11-30', fileFormat: 'CSV',
      fileSchema: 'Bucket, Key, Size, LastModifiedDate, ETag, StorageClass, IsLatest, IsDeleteMarker',
      files: parts.map((_, i) => ({ key: `old/daily/data/part-${i}.csv.gz`, size: 1, MD5checksum: 'x' })),
    };
    await stack.s3.client.send(new PutObjectCommand({ Bucket: 'inventory', Key: 'old/daily/2026-01-02T00-00Z/manifest.json', Body: JSON.stringify(manifest) }));
    const where = 's3://inventory/old/daily/2026-01-02T00-00Z/manifest.json';
    const options = () => ({
      s3: stack.s3.client, bucket: 'old', settings: loadSettings(process.env),
      submit: intakeQueueSubmitter(stack.fleet.sqs.client, stack.fleet.queueUrl), pages: listPages(stack.s3.client, where, 'old'),
    });
    const summary = await backfill(options());
    expect(summary).toMatchObject({ listed: keys.length, submitted: keys.length, errors: 0 });
    await stack.fleet.drained();
    await stack.executor.idle();
    for (const key of keys) expect((await stack.recordsFor(key)).map((r) => r.status)).toEqual(['forwarded']);
    expect(await backfill(options())).toMatchObject({ listed: keys.length, submitted: 0, skipped: { forwarded: keys.length } });
  }, 120_000);
});
