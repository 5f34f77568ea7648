// The "servers" side of every measurement: the embedded S3 (local/aws/s3.ts, s3rver) and the OST emulator
// (local/emulator) in a child process of their own, so that the process under test (the pipeline, the plain
// limit, the naive pattern) has the other core to itself and pays nothing for serving bytes. Both servers are the
// project's own, unchanged; the parent talks to them over HTTP on loopback and asks for counters over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startEmbeddedS3 } from '../local/aws/s3';
import { startEmulator } from '../local/emulator';
import type { S3Connection } from '../local/aws/s3';
import type { CallLogEntry, EmulatorCredentials } from '../local/emulator';

export interface ServersInfo {
  s3: S3Connection;
  bucket: string;
  ost: { endpoint: string } & EmulatorCredentials;
  emulatorDir: string;
  minSliceSize: number;
  /** The emulator's startup text (says so when tiny-slice mode is on). */
  banner: string;
  pid: number;
}

export interface CallSummary {
  call: string;
  count: number;
  /** Sum and max of per-call wall time on the emulator (arrival to answer). */
  totalMs: number;
  maxMs: number;
  bytes: number;
  /** Calls answered with code 0. */
  ok: number;
}

type Request =
  | { id: number; op: 'cpu' }
  | { id: number; op: 'calls'; since?: number }
  | { id: number; op: 'purge' }
  | { id: number; op: 'close' };

export interface Servers extends ServersInfo {
  /** CPU time used by the servers' process so far (user + system, microseconds). */
  cpu(): Promise<{ user: number; system: number }>;
  /** Emulator calls that arrived at or after `since` (epoch ms), summed per call type. */
  calls(since?: number): Promise<CallSummary[]>;
  /** Deletes the emulator's served files (each forwarded GiB stays on disk until then). */
  purge(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the servers in a child process (this bundle, re-run with `--child servers`). */
export async function startServers(opts: { dir: string; bucket: string; minSliceSize?: number }): Promise<Servers> {
  const args = ['--child', 'servers', JSON.stringify(opts)];
  const child: ChildProcess = fork(process.argv[1]!, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: process.env.BENCH_PROFILE_SERVERS ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_SERVERS}`] : [] });
  let seq = 0;
  const pending = new Map<number, (v: unknown) => void>();
  const info = await new Promise<ServersInfo>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`servers process exited early (${code})`)));
    child.on('message', (m: { type: string; id?: number; value?: unknown; info?: ServersInfo }) => {
      if (m.type === 'ready') resolve(m.info!);
      else if (m.type === 'reply') { pending.get(m.id!)?.(m.value); pending.delete(m.id!); }
    });
  });
  child.removeAllListeners('exit');
  const ask = <T>(op: Request['op'], extra: Record<string, unknown> = {}): Promise<T> =>
    new Promise((resolve) => { const id = ++seq; pending.set(id, resolve as (v: unknown) => void); child.send({ id, op, ...extra }); });
  return {
    ...info,
    cpu: () => ask('cpu'),
    calls: (since?: number) => ask('calls', { since }),
    purge: () => ask('purge'),
    close: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      await ask('close').catch(() => undefined);
      await exited;
    },
  };
}

/** The child's side. */
export async function serversChild(optsJson: string): Promise<void> {
  const opts = JSON.parse(optsJson) as { dir: string; bucket: string; minSliceSize?: number };
  const s3 = await startEmbeddedS3({ directory: join(opts.dir, 's3'), buckets: [opts.bucket] });
  const emulatorDir = join(opts.dir, 'emulator');
  const emulator = await startEmulator({ dir: emulatorDir, ...(opts.minSliceSize ? { minSliceSize: opts.minSliceSize } : {}) });
  const info: ServersInfo = {
    s3: { endpoint: s3.endpoint, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    bucket: opts.bucket,
    ost: { endpoint: emulator.endpoint, ...emulator.credentials },
    emulatorDir,
    minSliceSize: emulator.settings.minSliceSize,
    banner: emulator.banner,
    pid: process.pid,
  };
  const reply = (id: number, value: unknown) => process.send!({ type: 'reply', id, value });
  process.on('message', (m: Request & { since?: number }) => {
    void (async () => {
      switch (m.op) {
        case 'cpu': return reply(m.id, process.cpuUsage());
        case 'calls': return reply(m.id, summarise(emulator.calls, m.since ?? 0));
        case 'purge': {
          const files = join(emulatorDir, 'files');
          for (const f of await readdir(files).catch(() => [] as string[])) await rm(join(files, f), { force: true });
          // The call log would otherwise grow by 10,000 entries per tiny-slice run.
          emulator.calls.splice(0, emulator.calls.length);
          return reply(m.id, null);
        }
        case 'close':
          await emulator.close();
          await s3.close();
          reply(m.id, null);
          process.disconnect();
          return;
      }
    })();
  });
  // The parent is gone (finished or crashed): never outlive it.
  process.on('disconnect', () => { void Promise.allSettled([emulator.close(), s3.close()]).then(() => process.exit(0)); });
  process.send!({ type: 'ready', info });
}

function summarise(calls: CallLogEntry[], since: number): CallSummary[] {
  const by = new Map<string, CallSummary>();
  for (const c of calls) {
    if (c.startedAt < since) continue;
    const s = by.get(c.call) ?? { call: c.call, count: 0, totalMs: 0, maxMs: 0, bytes: 0, ok: 0 };
    const ms = (c.endedAt ?? c.startedAt) - c.startedAt;
    s.count++;
    s.totalMs += ms;
    s.maxMs = Math.max(s.maxMs, ms);
    s.bytes += c.bytes;
    if (c.code === 0) s.ok++;
    by.set(c.call, s);
  }
  return [...by.values()];
}
