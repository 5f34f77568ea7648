// The process p2 measures. Built by bench/rss.ts into its own bundle the way serverless.yml builds a Lambda
// (esbuild, everything bundled, the AWS SDK included, linked source map, run with serverless.yml's NODE_OPTIONS), so the
// process holds what an uploadSlices container holds, not the whole benchmark.
//
//   ours:  the real uploadSlices handler (functions/upload-slices.ts) with one batch of one 1 GiB slice: secrets
//          from SSM (the local AWS endpoint), a ranged GetObject streamed into the OST slice request.
//   naive: the slice read into memory (ArrayBuffer), then FormData + in-memory Blob through undici's fetch.
import type { BatchInput } from '../lib/workflow/state';
import { naiveSlice, readRange, type OstTarget } from './naive';

interface ChildJob {
  role: 'p2-ours' | 'p2-naive';
  batch: BatchInput;
  s3Endpoint: string;
  ost: OstTarget;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]!) as ChildJob;
  // Load what the role needs before the parent samples the starting RSS.
  const ours = job.role === 'p2-ours' ? (await import('../functions/upload-slices')).handler : undefined;
  await new Promise<void>((resolve) => { process.once('message', () => resolve()); process.send!({ type: 'loaded' }); });
  const started = performance.now();
  // Where the memory is, sampled: the V8 heap, and Buffers/ArrayBuffers outside it.
  const peak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  const sample = () => { const m = process.memoryUsage(); for (const k of Object.keys(peak) as Array<keyof typeof peak>) peak[k] = Math.max(peak[k], m[k]); };
  const sampler = setInterval(sample, 20);
  try {
    if (ours) {
      await ours(job.batch);
    } else {
      const { object, uploadId } = job.batch;
      const bytes = await readRange({ endpoint: job.s3Endpoint, bucket: object.bucket, key: object.key, size: object.size }, 0, object.size);
      await naiveSlice(job.ost, uploadId, 1, bytes, object.key);
    }
  } catch (err) {
    const e = err as Error & { cause?: unknown };
    process.send!({ type: 'failed', error: `${e?.stack ?? String(err)}${e?.cause ? `\ncause: ${String((e.cause as Error).stack ?? e.cause)}` : ''}` });
    return;
  }
  clearInterval(sampler);
  sample();
  const mib = (v: number) => Math.round(v / 1024 / 102.4) / 10;
  process.once('message', () => process.exit(0));
  process.send!({ type: 'done', ms: performance.now() - started, bytes: job.batch.object.size, memory: Object.fromEntries(Object.entries(peak).map(([k, v]) => [k, mib(v)])) });
}

void main();
