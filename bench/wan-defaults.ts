// The WAN check of the defaults: profile A (150 ms, 4 MiB/s per connection), a 1 GiB object through
// the local workflow with every setting at its default (SLICE_SIZE, SLICE_CONCURRENCY, batch sizing), OST behind
// bench/wan-proxy.ts, and the vendor demo's pattern on the same link for comparison. Writes
// bench/wan-defaults.json and docs/wan.md's "defaults" section.
//
//   node dist/bench.js --wan-defaults     about 2 minutes (WAN_DEFAULTS_FILE_MIB=1024, WAN_VENDOR_MIB=64)
import { createReadStream } from 'node:fs';
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { localS3Client } from '../local/aws/s3';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_SLICE_SIZE, DEFAULT_SLICES_IN_FLIGHT, planUpload } from '../lib/ost/plan';
import { randomFile, removeTree } from './files';
import { machine, MiB, progress } from './measure';
import { forwardOnce } from './pipeline-run';
import { startServers } from './servers';
import { profileProxy, vendorForward, WAN_PROFILES } from './wan';
import { writeDocSection } from './wan-report';

const BEGIN = '<!-- wan-defaults:begin (written by node dist/bench.js --wan-defaults; do not edit by hand) -->';
const END = '<!-- wan-defaults:end -->';
const KEY = 'wan-defaults.bin';

export interface WanDefaultsResult {
  generatedAt: string;
  machine: ReturnType<typeof machine>;
  profile: { id: string; rttMs: number; mibps: number };
  fileMiB: number;
  sliceMiB: number;
  inFlight: number;
  slices: number;
  streams: number;
  uploadSlicesInvocations: number;
  /** Prepare to Report, and the same without OST's assembly of the slices (complete). */
  ms: number;
  assemblyMs: number;
  mibps: number;
  mibpsWithoutAssembly: number;
  ideal: number;
  ratio: number;
  vendor: { fileMiB: number; ms: number; mibps: number };
  timesVendor: number;
}

export async function runWanDefaults(root: string): Promise<void> {
  const profile = WAN_PROFILES.find((p) => p.id === 'A')!;
  const fileMiB = Number(process.env.WAN_DEFAULTS_FILE_MIB ?? 1024);
  const vendorMiB = Number(process.env.WAN_VENDOR_MIB ?? 64);
  const tmp = join(root, 'bench', 'tmp', `wan-defaults-${process.pid}`);
  // Under bench/tmp, not /dev/shm: here the embedded S3 answered InternalError to every write under /dev/shm.
  const serversDir = join(tmp, 'servers');
  await removeTree(tmp);
  await mkdir(tmp, { recursive: true });
  const bigPath = join(tmp, 'object.bin');
  const vendorPath = join(tmp, 'vendor.bin');
  progress(`WAN defaults: generating ${fileMiB} MiB and ${vendorMiB} MiB of random bytes`);
  await randomFile(bigPath, fileMiB * MiB);
  await randomFile(vendorPath, vendorMiB * MiB);
  const servers = await startServers({ dir: serversDir, bucket: 'wan' });
  let result: WanDefaultsResult;
  try {
    await putLarge(servers, KEY, bigPath, fileMiB * MiB);
    const proxy = await profileProxy(profile, servers);
    try {
      progress(`profile ${profile.id}: the workflow at the defaults, ${fileMiB} MiB`);
      const since = Date.now();
      const run = await forwardOnce({ ...servers, ost: { ...servers.ost, endpoint: proxy.endpoint } }, KEY, { env: {} });
      if (run.status !== 'SUCCEEDED') throw new Error(`workflow run ${run.status}: ${run.error}`);
      const assemblyMs = (await servers.calls(since)).find((x) => x.call === 'complete')?.totalMs ?? 0;
      progress(`profile ${profile.id}: the vendor pattern, ${vendorMiB} MiB in 5 MiB slices one at a time`);
      await servers.purge();
      const t0 = performance.now();
      await vendorForward({ endpoint: proxy.endpoint, appId: servers.ost.appId, apiKey: servers.ost.apiKey, apiSecret: servers.ost.apiSecret }, vendorPath, vendorMiB * MiB, 5 * MiB);
      const vendorMs = performance.now() - t0;
      const plan = planUpload(fileMiB * MiB);
      const slices = plan.mode === 'multipart' ? plan.sliceCount : 1;
      const streams = Math.min(DEFAULT_SLICES_IN_FLIGHT, slices);
      const mibps = fileMiB / (run.ms / 1000);
      const vendorMibps = vendorMiB / (vendorMs / 1000);
      result = {
        generatedAt: new Date().toISOString(), machine: machine(), profile, fileMiB,
        sliceMiB: DEFAULT_SLICE_SIZE / MiB, inFlight: DEFAULT_SLICES_IN_FLIGHT, slices, streams,
        uploadSlicesInvocations: run.steps.uploadSlices?.invocations ?? 0,
        ms: Math.round(run.ms), assemblyMs: Math.round(assemblyMs),
        mibps: round(mibps), mibpsWithoutAssembly: round(fileMiB / ((run.ms - assemblyMs) / 1000)),
        ideal: streams * profile.mibps, ratio: round(mibps / (streams * profile.mibps), 3),
        vendor: { fileMiB: vendorMiB, ms: Math.round(vendorMs), mibps: round(vendorMibps) },
        timesVendor: round(mibps / vendorMibps),
      };
    } finally {
      await proxy.close();
    }
  } finally {
    await servers.close();
    await removeTree(tmp); // serversDir is inside it
  }
  const report = renderWanDefaults(result);
  process.stdout.write(`\n${report}\n`);
  await writeFile(join(root, 'bench', 'wan-defaults.json'), `${JSON.stringify(result, null, 2)}\n`);
  await writeDocSection(join(root, 'docs', 'wan.md'), report, BEGIN, END);
  process.stdout.write('\nWritten: bench/wan-defaults.json, docs/wan.md (defaults section)\n');
}

/** A 1 GiB single PutObject fails in the embedded S3 (InternalError): put it in 64 MiB parts, one at a time. */
async function putLarge(servers: Awaited<ReturnType<typeof startServers>>, key: string, path: string, size: number): Promise<void> {
  const client = localS3Client(servers.s3);
  const part = 64 * MiB;
  try {
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: servers.bucket, Key: key }));
    const parts: Array<{ ETag?: string; PartNumber: number }> = [];
    for (let n = 1, at = 0; at < size; n++, at += part) {
      const end = Math.min(size, at + part);
      const body = createReadStream(path, { start: at, end: end - 1, highWaterMark: MiB });
      const { ETag } = await client.send(new UploadPartCommand({ Bucket: servers.bucket, Key: key, UploadId, PartNumber: n, Body: body, ContentLength: end - at }));
      parts.push({ ETag, PartNumber: n });
    }
    await client.send(new CompleteMultipartUploadCommand({ Bucket: servers.bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
  } finally {
    client.destroy();
  }
}

const round = (v: number, digits = 2) => Number(v.toFixed(digits));

export function renderWanDefaults(r: WanDefaultsResult): string {
  return [
    `Profile ${r.profile.id} (${r.profile.rttMs} ms, ${r.profile.mibps} MiB/s per connection), ${r.fileMiB} MiB through the workflow at the defaults `
      + `(${r.sliceMiB} MiB slices, ${r.inFlight} in flight, ${r.slices} slices in ${r.uploadSlicesInvocations} Upload slices invocation(s)); ${r.generatedAt.slice(0, 10)}, ${r.machine.cores} cores:`,
    '',
    `- workflow: ${r.mibps.toFixed(1)} MiB/s (${(r.ms / 1000).toFixed(1)} s Prepare to Report; ${r.mibpsWithoutAssembly.toFixed(1)} MiB/s without OST's ${(r.assemblyMs / 1000).toFixed(1)} s assembly) = ${r.ratio.toFixed(2)} of the ideal ${r.ideal} MiB/s of its ${r.streams} streams`,
    `- vendor pattern (${r.vendor.fileMiB} MiB, 5 MiB slices one at a time): ${r.vendor.mibps.toFixed(2)} MiB/s; the defaults are ${r.timesVendor.toFixed(1)} × that`,
  ].join('\n');
}
