// The WAN bench: `put`'s path (lib/ost/send.ts through an OstClient) between this machine and the OST emulator,
// through bench/wan-proxy.ts, which gives every connection a round trip and a rate cap like a link from AWS to
// the service in China. Method and results: docs/wan.md (its table is written by this bench).
//
//   node dist/bench.js --wan     both profiles, the full grid (about 20 minutes; latency-bound, little CPU)
//   node dist/bench.js --wan-defaults   profile A, 1 GiB through the workflow at the defaults (bench/wan-defaults.ts)
// Development knobs (any of them set: docs/wan.md is left alone unless WAN_WRITE_DOC=1):
//   WAN_PROFILES=A,B  WAN_ROUNDS=2  WAN_FILE_MIB=256  WAN_SLICE_MIB=5,8,16  WAN_IN_FLIGHT=4,8,16  WAN_VENDOR_MIB=64
//   WAN_WORKFLOW_IN_FLIGHT=4,8,16 (the workflow's SLICE_CONCURRENCY values; "none" skips the workflow)
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileSource } from '../lib/sources/file';
import { OstClient } from '../lib/ost/client';
import { send } from '../lib/ost/send';
import { sliceRange, planUpload } from '../lib/ost/plan';
import { randomFile, removeTree } from './files';
import { machine, median, MiB, progress } from './measure';
import { naiveComplete, naiveInit, naiveSlice, type OstTarget } from './naive';
import { forwardOnce, putObject } from './pipeline-run';
import { startServers, type Servers } from './servers';
import { startWanProxy, type WanProxy } from './wan-proxy';
import { CLIENT_DEFAULT_CONNECTIONS, renderWan, writeDocSection, type ProfileResult, type PutPoint, type WanProfile, type WanResults, type WorkflowPoint } from './wan-report';

export const WAN_PROFILES: WanProfile[] = [
  { id: 'A', rttMs: 150, mibps: 4 },
  { id: 'B', rttMs: 250, mibps: 2 },
];
/** The real endpoint is https: a new connection pays the TCP handshake and a TLS 1.3 handshake. */
const HANDSHAKE_ROUND_TRIPS = 2;
const SIMPLE_RUNS = 3;

const listEnv = (name: string, fallback: string) => (process.env[name] ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);
const intListEnv = (name: string, fallback: string) => listEnv(name, fallback).map((v) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a comma-separated list of positive integers, got ${JSON.stringify(process.env[name])}`);
  return n;
});
const numEnv = (name: string, fallback: number) => {
  const v = process.env[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(v)}`);
  return n;
};
const round = (v: number, digits: number) => Number(v.toFixed(digits));

export async function runWan(root: string): Promise<void> {
  const started = performance.now();
  const knobs = ['WAN_PROFILES', 'WAN_ROUNDS', 'WAN_FILE_MIB', 'WAN_SLICE_MIB', 'WAN_IN_FLIGHT', 'WAN_VENDOR_MIB', 'WAN_WORKFLOW_IN_FLIGHT'].filter((k) => process.env[k] !== undefined);
  const writeDoc = knobs.length === 0 || process.env.WAN_WRITE_DOC === '1';
  const profiles = listEnv('WAN_PROFILES', 'A,B').map((id) => {
    const p = WAN_PROFILES.find((x) => x.id === id);
    if (!p) throw new Error(`WAN_PROFILES: unknown profile ${id} (known: ${WAN_PROFILES.map((x) => x.id).join(', ')})`);
    return p;
  });
  const rounds = numEnv('WAN_ROUNDS', 2);
  const fileMiB = numEnv('WAN_FILE_MIB', 256);
  const sliceMiBs = intListEnv('WAN_SLICE_MIB', '5,8,16');
  const inFlights = intListEnv('WAN_IN_FLIGHT', '4,8,16');
  const vendorMiB = numEnv('WAN_VENDOR_MIB', 64);
  const workflowInFlights = process.env.WAN_WORKFLOW_IN_FLIGHT === 'none' ? [] : intListEnv('WAN_WORKFLOW_IN_FLIGHT', '4,8,16');

  // Per process: two runs at once must not delete each other's inputs.
  const tmp = join(root, 'bench', 'tmp', `wan-${process.pid}`);
  const serversDir = existsSync('/dev/shm') ? `/dev/shm/ost-forwarder-wan-${process.pid}` : join(tmp, 'servers');
  await removeTree(tmp);
  await mkdir(tmp, { recursive: true });
  const bigPath = join(tmp, `object-${fileMiB}m.bin`);
  const vendorPath = join(tmp, `object-${vendorMiB}m.bin`);
  const smallPath = join(tmp, 'object-1m.bin');
  progress(`WAN bench: generating ${fileMiB} MiB, ${vendorMiB} MiB and 1 MiB of random bytes under bench/tmp/wan-<pid>`);
  const bigSha = await randomFile(bigPath, fileMiB * MiB);
  await randomFile(vendorPath, vendorMiB * MiB);
  await randomFile(smallPath, MiB);
  const servers = await startServers({ dir: serversDir, bucket: 'wan' });
  const results: WanResults = {
    generatedAt: new Date().toISOString(), machine: machine(), fileMiB, rounds, handshakeRoundTrips: HANDSHAKE_ROUND_TRIPS,
    durationSeconds: 0, profiles: [],
  };
  try {
    const big = await FileSource.fromPath(bigPath);
    const small = await FileSource.fromPath(smallPath);
    if (workflowInFlights.length) {
      progress(`putting the ${fileMiB} MiB object into the embedded S3 (the workflow reads it from there, not through the link)`);
      await putObject(servers, WORKFLOW_KEY, bigPath);
    }
    for (const profile of profiles) {
      const proxy = await profileProxy(profile, servers);
      try {
        results.profiles.push(await runProfile(profile, proxy, servers, { big, bigSha, small, vendorPath, vendorMiB, rounds, sliceMiBs, inFlights, workflowInFlights }));
      } finally {
        await proxy.close();
      }
    }
  } finally {
    await servers.close();
    await removeTree(tmp);
    await removeTree(serversDir);
  }
  results.durationSeconds = Math.round((performance.now() - started) / 1000);
  const report = renderWan(results);
  process.stdout.write(`\n${report}\n`);
  if (writeDoc) {
    await writeFile(join(root, 'bench', 'wan-results.json'), `${JSON.stringify(results, null, 2)}\n`);
    await writeDocSection(join(root, 'docs', 'wan.md'), report);
    process.stdout.write('\nWritten: bench/wan-results.json, docs/wan.md (generated section)\n');
  } else {
    process.stdout.write(`\n(${knobs.join(', ')} set: bench/wan-results.json and docs/wan.md left alone; WAN_WRITE_DOC=1 writes them)\n`);
  }
}

/** The link of `profile` in front of the servers' OST emulator. */
export function profileProxy(profile: WanProfile, servers: Servers): Promise<WanProxy> {
  return startWanProxy({
    target: { host: '127.0.0.1', port: Number(new URL(servers.ost.endpoint).port) },
    rttMs: profile.rttMs, bytesPerSecond: profile.mibps * MiB, handshakeRoundTrips: HANDSHAKE_ROUND_TRIPS,
  });
}

interface ProfileInputs {
  big: FileSource;
  bigSha: string;
  small: FileSource;
  vendorPath: string;
  vendorMiB: number;
  rounds: number;
  sliceMiBs: number[];
  inFlights: number[];
  workflowInFlights: number[];
}

const WORKFLOW_KEY = 'wan-object.bin';
const WORKFLOW_SLICE_MIB = 16;

async function runProfile(profile: WanProfile, proxy: WanProxy, servers: Servers, inp: ProfileInputs): Promise<ProfileResult> {
  const cap = profile.mibps;
  const label = `profile ${profile.id} (RTT ${profile.rttMs} ms, ${cap} MiB/s per connection)`;
  // Every point at the client's default connections; where in flight exceeds that default, once more with
  // connections = in flight (what the default hides).
  const grid: Array<{ sliceMiB: number; inFlight: number; connections?: number }> = [];
  for (const sliceMiB of inp.sliceMiBs) {
    for (const inFlight of inp.inFlights) {
      grid.push({ sliceMiB, inFlight });
      if (inFlight > CLIENT_DEFAULT_CONNECTIONS) grid.push({ sliceMiB, inFlight, connections: inFlight });
    }
  }
  const runs = new Map<string, { ms: number[]; assemblyMs: number[]; opened: number[]; cpuMs: number[]; serversCpuMs: number[] }>();
  const key = (g: { sliceMiB: number; inFlight: number; connections?: number }) => `${g.sliceMiB}/${g.inFlight}/${g.connections ?? 'default'}`;
  let verified = false;
  // Rounds outermost: drift on a shared machine touches every point alike.
  for (let r = 1; r <= inp.rounds; r++) {
    for (const g of grid) {
      progress(`${label}, round ${r}/${inp.rounds}: put ${inp.big.size / MiB} MiB, ${g.sliceMiB} MiB slices, ${g.inFlight} in flight, connections ${g.connections ?? `default (${CLIENT_DEFAULT_CONNECTIONS})`}`);
      const run = await putRun(proxy, servers, inp.big, g.sliceMiB, g.inFlight, g.connections, verified ? undefined : inp.bigSha);
      verified = true;
      const acc = runs.get(key(g)) ?? { ms: [], assemblyMs: [], opened: [], cpuMs: [], serversCpuMs: [] };
      acc.ms.push(run.ms);
      acc.assemblyMs.push(run.assemblyMs);
      acc.opened.push(run.opened);
      acc.cpuMs.push(Math.round(run.cpuMs));
      acc.serversCpuMs.push(Math.round(run.serversCpuMs));
      runs.set(key(g), acc);
    }
  }
  const points: PutPoint[] = grid.map((g) => {
    const acc = runs.get(key(g))!;
    const plan = planUpload(inp.big.size, { sliceSize: g.sliceMiB * MiB });
    const slices = plan.mode === 'multipart' ? plan.sliceCount : 1;
    const streams = Math.min(g.inFlight, g.connections ?? CLIENT_DEFAULT_CONNECTIONS, slices);
    // The emulator assembles the slices on complete (a local copy the real service does elsewhere): not the link.
    const mibps = (inp.big.size / MiB) / (median(acc.ms.map((ms, i) => ms - acc.assemblyMs[i]!)) / 1000);
    return {
      profile: profile.id, ...g, slices, streams, ...acc,
      mibps: round(mibps, 2), ratio: round(mibps / (streams * cap), 3), ratioRequested: round(mibps / (Math.min(g.inFlight, slices) * cap), 3),
    };
  });

  const workflow: WorkflowPoint[] = [];
  const wfRuns = new Map<number, { ms: number[]; assemblyMs: number[]; opened: number[]; uploadSlicesInvocations: number[] }>();
  for (let r = 1; r <= inp.rounds && inp.workflowInFlights.length; r++) {
    for (const inFlight of inp.workflowInFlights) {
      progress(`${label}, round ${r}/${inp.rounds}: the workflow, ${inp.big.size / MiB} MiB from S3, ${WORKFLOW_SLICE_MIB} MiB slices, SLICE_CONCURRENCY ${inFlight}`);
      const run = await workflowRun(proxy, servers, WORKFLOW_SLICE_MIB, inFlight);
      const acc = wfRuns.get(inFlight) ?? { ms: [], assemblyMs: [], opened: [], uploadSlicesInvocations: [] };
      acc.ms.push(run.ms);
      acc.assemblyMs.push(run.assemblyMs);
      acc.opened.push(run.opened);
      acc.uploadSlicesInvocations.push(run.uploadSlicesInvocations);
      wfRuns.set(inFlight, acc);
    }
  }
  for (const [inFlight, acc] of wfRuns) {
    const plan = planUpload(inp.big.size, { sliceSize: WORKFLOW_SLICE_MIB * MiB });
    const slices = plan.mode === 'multipart' ? plan.sliceCount : 1;
    const streams = Math.min(inFlight, slices);
    const mibps = (inp.big.size / MiB) / (median(acc.ms.map((ms, i) => ms - acc.assemblyMs[i]!)) / 1000);
    workflow.push({ profile: profile.id, sliceMiB: WORKFLOW_SLICE_MIB, inFlight, slices, streams, ...acc, mibps: round(mibps, 2), ratio: round(mibps / (streams * cap), 3) });
  }

  const vendorMs: number[] = [];
  for (let r = 1; r <= inp.rounds; r++) {
    progress(`${label}, round ${r}/${inp.rounds}: the vendor pattern, ${inp.vendorMiB} MiB in 5 MiB slices one at a time`);
    await servers.purge();
    const t0 = performance.now();
    await vendorForward({ endpoint: proxy.endpoint, appId: servers.ost.appId, apiKey: servers.ost.apiKey, apiSecret: servers.ost.apiSecret }, inp.vendorPath, inp.vendorMiB * MiB, 5 * MiB);
    vendorMs.push(performance.now() - t0);
  }
  const vendorMibps = inp.vendorMiB / (median(vendorMs) / 1000);

  progress(`${label}: 1 MiB simple uploads (${SIMPLE_RUNS} × a new client, then again on its kept-alive connection; and direct)`);
  const coldMs: number[] = [];
  const warmMs: number[] = [];
  const directColdMs: number[] = [];
  for (let i = 0; i < SIMPLE_RUNS; i++) {
    const [cold, warm] = await simpleRuns(proxy.endpoint, servers, inp.small, 2);
    coldMs.push(cold!);
    warmMs.push(warm!);
    directColdMs.push((await simpleRuns(servers.ost.endpoint, servers, inp.small, 1))[0]!);
  }
  return {
    profile, points, workflow,
    vendor: { fileMiB: inp.vendorMiB, sliceMiB: 5, ms: vendorMs.map(Math.round), mibps: round(vendorMibps, 2), ratio: round(vendorMibps / cap, 3) },
    simple: {
      fileMiB: 1, coldMs: coldMs.map(Math.round), warmMs: warmMs.map(Math.round), directColdMs: directColdMs.map(Math.round),
      coldMedianMs: Math.round(median(coldMs)), warmMedianMs: Math.round(median(warmMs)), directMedianMs: Math.round(median(directColdMs)),
    },
  };
}

function client(endpoint: string, servers: Servers, connections?: number): OstClient {
  const { appId, apiKey, apiSecret } = servers.ost;
  return new OstClient({ endpoint, appId, apiKey, apiSecret, ...(connections !== undefined ? { connections } : {}) });
}

/** One `put` of the whole file the way the CLI does it (a new client, send(), close), through the proxy. */
async function putRun(proxy: WanProxy, servers: Servers, source: FileSource, sliceMiB: number, inFlight: number, connections: number | undefined, verifySha?: string) {
  await servers.purge();
  proxy.resetStats();
  const since = Date.now();
  const c = client(proxy.endpoint, servers, connections);
  const cpu0 = process.cpuUsage();
  const s0 = await servers.cpu();
  const t0 = performance.now();
  let result;
  try {
    result = await send(c, source, { plan: { sliceSize: sliceMiB * MiB }, concurrency: inFlight });
  } finally {
    await c.close();
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const s1 = await servers.cpu();
  const stats = proxy.stats();
  if (result.bytes !== source.size || stats.bytesUp < source.size) throw new Error(`put moved ${stats.bytesUp} of ${source.size} bytes through the proxy`);
  if (verifySha) {
    const got = await sha256Url(result.url);
    if (got !== verifySha) throw new Error(`the forwarded bytes differ from the input (sha256 ${got})`);
  }
  const assemblyMs = (await servers.calls(since)).find((x) => x.call === 'complete')?.totalMs ?? 0;
  return { ms, assemblyMs, opened: stats.connections, cpuMs: (cpu.user + cpu.system) / 1000, serversCpuMs: (s1.user + s1.system - s0.user - s0.system) / 1000 };
}

/** One forwarding through the local workflow, the OST endpoint behind the link (S3 stays local, as in-region). */
async function workflowRun(proxy: WanProxy, servers: Servers, sliceMiB: number, inFlight: number) {
  await servers.purge();
  proxy.resetStats();
  const since = Date.now();
  const run = await forwardOnce({ ...servers, ost: { ...servers.ost, endpoint: proxy.endpoint } }, WORKFLOW_KEY, {
    env: { SLICE_SIZE: String(sliceMiB * MiB), SLICE_CONCURRENCY: String(inFlight) },
  });
  if (run.status !== 'SUCCEEDED') throw new Error(`workflow run ${run.status}: ${run.error}`);
  const assemblyMs = (await servers.calls(since)).find((x) => x.call === 'complete')?.totalMs ?? 0;
  return { ms: run.ms, assemblyMs, opened: proxy.stats().connections, uploadSlicesInvocations: run.steps.uploadSlices?.invocations ?? 0 };
}

/** `n` simple uploads of `source` on one new client: [first (pays the connection), later ones (kept alive)]. */
async function simpleRuns(endpoint: string, servers: Servers, source: FileSource, n: number): Promise<number[]> {
  await servers.purge();
  const c = client(endpoint, servers);
  const out: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const r = await send(c, source);
      if (r.mode !== 'simple') throw new Error(`expected a simple upload, got ${r.mode}`);
      out.push(performance.now() - t0);
    }
  } finally {
    await c.close();
  }
  return out;
}

/** The vendor demo's pattern (bench/naive.ts) on a local file: each slice read whole into memory, sent, awaited. */
export async function vendorForward(ost: OstTarget, path: string, size: number, sliceSize: number): Promise<void> {
  const plan = { size, sliceSize, sliceCount: Math.ceil(size / sliceSize) };
  const fh = await open(path, 'r');
  try {
    const uploadId = await naiveInit(ost);
    for (let id = 1; id <= plan.sliceCount; id++) {
      const { start, end } = sliceRange(plan, id);
      const buf = Buffer.alloc(end - start);
      await fh.read(buf, 0, buf.length, start);
      await naiveSlice(ost, uploadId, id, buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) as ArrayBuffer, 'vendor.bin');
    }
    await naiveComplete(ost, uploadId);
  } finally {
    await fh.close();
  }
}

async function sha256Url(url: string): Promise<string> {
  const { request } = await import('undici');
  const res = await request(url);
  const hash = createHash('sha256');
  for await (const chunk of res.body) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
