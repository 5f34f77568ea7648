// One measured run of each kind against the servers: the pipeline (with its timings and both processes' CPU),
// the plain transfer, and the vendor demo's pattern.
import { createHash } from 'node:crypto';
import { cpuMs, cpuMsSince } from './measure';
import { naiveForward } from './naive';
import { forwardOnce, type PipelineRun } from './pipeline-run';
import { plainTransfer } from './plain';
import type { Servers } from './servers';

export interface OursRun {
  ms: number;
  /** Server-side time of the complete call (the emulator assembling the slices into one file). */
  assemblyMs: number;
  /** uploadSlices handler span (first start → last end). */
  slicesMs: number;
  clientCpuMs: number;
  serversCpuMs: number;
  /** Of serversCpuMs, kernel time (socket copies, tmpfs page allocation). */
  serversSysMs: number;
}
export interface PlainRun { ms: number; clientCpuMs: number; serversCpuMs: number; serversSysMs: number }

/** One pipeline forwarding of `key` with its timings and both processes' CPU. */
export async function oursRun(servers: Servers, key: string, size: number, env?: Record<string, string>, verifySha?: string): Promise<OursRun> {
  await servers.purge();
  const since = Date.now();
  const c0 = process.cpuUsage();
  const s0 = await servers.cpu();
  const run: PipelineRun = await forwardOnce(servers, key, { env, keepOpen: verifySha !== undefined });
  const clientCpuMs = cpuMsSince(c0);
  const s1 = await servers.cpu();
  const serversCpuMs = cpuMs(s1) - cpuMs(s0);
  const serversSysMs = (s1.system - s0.system) / 1000;
  try {
    if (run.status !== 'SUCCEEDED') throw new Error(`pipeline run of ${key} ${run.status}: ${run.error}`);
    if (verifySha) {
      const record = (await run.stack.recordsFor(key)).find((r) => r.executionName === run.execution.name);
      if (!record?.url) throw new Error(`no result record with a URL for ${key}`);
      const got = await sha256Url(record.url);
      if (got.sha256 !== verifySha || got.bytes !== size) throw new Error(`forwarded bytes differ: ${got.bytes} bytes, sha256 ${got.sha256}`);
    }
  } finally {
    if (verifySha !== undefined) await run.stack.close();
  }
  const calls = await servers.calls(since);
  return {
    ms: run.ms,
    assemblyMs: calls.find((c) => c.call === 'complete')?.totalMs ?? 0,
    slicesMs: run.steps.uploadSlices?.spanMs ?? run.steps.uploadWhole?.spanMs ?? 0,
    clientCpuMs,
    serversCpuMs,
    serversSysMs,
  };
}

export async function plainRun(servers: Servers, key: string, size: number, sliceSize: number, concurrency: number): Promise<PlainRun> {
  await servers.purge();
  const since = Date.now();
  const c0 = process.cpuUsage();
  const s0 = await servers.cpu();
  const r = await plainTransfer({ s3Endpoint: servers.s3.endpoint, bucket: servers.bucket, key, size, sliceSize, concurrency, ostEndpoint: servers.ost.endpoint, appId: servers.ost.appId, apiKey: servers.ost.apiKey, apiSecret: servers.ost.apiSecret });
  if (r.bytes !== size) throw new Error(`plain transfer moved ${r.bytes} of ${size} bytes`);
  // Real slices of a real upload (see plain.ts): every one answered 200.
  if (Object.keys(r.statuses).some((s) => s !== '200')) throw new Error(`plain transfer: unexpected statuses ${JSON.stringify(r.statuses)}`);
  const clientCpuMs = cpuMsSince(c0);
  const s1 = await servers.cpu();
  const result = { ms: r.ms, clientCpuMs, serversCpuMs: cpuMs(s1) - cpuMs(s0), serversSysMs: (s1.system - s0.system) / 1000 };
  const received = (await servers.calls(since)).find((c) => c.call === 'slice')?.bytes ?? 0;
  if (received < size) throw new Error(`the emulator received ${received} of ${size} bytes from the plain transfer`);
  return result;
}

export interface NaiveRun { ms: number; assemblyMs: number }

/** The demo pattern once (sequential slices of `sliceSize`, each read into memory, then FormData + Blob). */
export async function naiveRun(servers: Servers, key: string, size: number, sliceSize: number): Promise<NaiveRun> {
  await servers.purge();
  const since = Date.now();
  const n = await naiveForward({ endpoint: servers.s3.endpoint, bucket: servers.bucket, key, size }, servers.ost, sliceSize);
  const assemblyMs = (await servers.calls(since)).find((c) => c.call === 'complete')?.totalMs ?? 0;
  return { ms: n.ms, assemblyMs };
}

export async function sha256Url(url: string): Promise<{ sha256: string; bytes: number }> {
  const { request } = await import('undici');
  const res = await request(url);
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of res.body) { hash.update(chunk as Buffer); bytes += (chunk as Buffer).length; }
  return { sha256: hash.digest('hex'), bytes };
}
