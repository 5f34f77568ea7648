// Small measuring helpers shared by the phases.
import { cpus, totalmem } from 'node:os';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export const mibps = (bytes: number, ms: number) => (bytes / MiB) / (ms / 1000);

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** CPU milliseconds (user + system) of this process since `from`. */
export function cpuMsSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
}

export const cpuMs = (u: { user: number; system: number }) => (u.user + u.system) / 1000;

export interface Machine { cores: number; cpuModel: string; memoryGiB: number; node: string; platform: string }

export function machine(): Machine {
  const list = cpus();
  return {
    cores: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / GiB),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

const started = performance.now();
/** A progress line on stderr, with the time since the bench started. */
export function progress(line: string): void {
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);
}

export const elapsedSeconds = () => (performance.now() - started) / 1000;
