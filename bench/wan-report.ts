// The WAN bench's results and its report: printed, and written into docs/wan.md between the markers.
import { readFile, writeFile } from 'node:fs/promises';
import { markdownTable } from './cost';
import { median, type machine } from './measure';

export interface WanProfile { id: string; rttMs: number; mibps: number }

/** OstClient's default (lib/ost/client.ts), which `put` uses. */
export const CLIENT_DEFAULT_CONNECTIONS = 8;

export interface PutPoint {
  profile: string;
  sliceMiB: number;
  inFlight: number;
  /** Connections the client may open (`connections` option); undefined = the client's default. */
  connections?: number;
  slices: number;
  /** Streams that can carry bytes at once: min(in flight, connections, slices). */
  streams: number;
  /** Per-run wall times (init → complete answered), ms, and the emulator's assembly time inside each. */
  ms: number[];
  assemblyMs: number[];
  /** Connections the proxy saw per run. */
  opened: number[];
  /** CPU per run (ms): this process (the client and the proxy), and the servers' process (the emulator). */
  cpuMs: number[];
  serversCpuMs: number[];
  mibps: number;
  /** mibps / (streams × cap). */
  ratio: number;
  /** mibps / (in flight × cap): what the requested concurrency could have given. */
  ratioRequested: number;
}

/** The workflow (local/stack/index.ts: trigger, Prepare, UploadSlices batches, Complete) with OST behind the link. */
export interface WorkflowPoint {
  profile: string;
  sliceMiB: number;
  /** SLICE_CONCURRENCY (the Lambda client's connections follow it: lib/runtime/ost.ts). */
  inFlight: number;
  slices: number;
  streams: number;
  ms: number[];
  assemblyMs: number[];
  opened: number[];
  uploadSlicesInvocations: number[];
  mibps: number;
  ratio: number;
}

export interface ProfileResult {
  profile: WanProfile;
  points: PutPoint[];
  workflow: WorkflowPoint[];
  vendor: { fileMiB: number; sliceMiB: number; ms: number[]; mibps: number; ratio: number };
  simple: { fileMiB: number; coldMs: number[]; warmMs: number[]; directColdMs: number[]; coldMedianMs: number; warmMedianMs: number; directMedianMs: number };
}

export interface WanResults {
  generatedAt: string;
  machine: ReturnType<typeof machine>;
  fileMiB: number;
  rounds: number;
  handshakeRoundTrips: number;
  durationSeconds: number;
  profiles: ProfileResult[];
}

export const DOC_BEGIN = '<!-- wan-bench:begin (written by node dist/bench.js --wan; do not edit by hand) -->';
export const DOC_END = '<!-- wan-bench:end -->';

export function renderWan(r: WanResults): string {
  const m = r.machine;
  const out: string[] = [];
  out.push(`Generated ${r.generatedAt.slice(0, 16).replace('T', ' ')} UTC by \`node dist/bench.js --wan\` in ${r.durationSeconds} s: ${m.cores} cores, ${m.cpuModel}, Node ${m.node}. `
    + `\`put\` of a ${r.fileMiB} MiB file, median of ${r.rounds} runs per point; a new connection pays ${r.handshakeRoundTrips} round trips of handshakes. `
    + 'MiB/s exclude the emulator\'s assembly of the slices on complete (a local copy, not the link).');
  for (const p of r.profiles) {
    const cap = p.profile.mibps;
    out.push('', `### Profile ${p.profile.id}: RTT ${p.profile.rttMs} ms, ${cap} MiB/s per connection`, '');
    const rows = p.points.map((pt) => [
      `${pt.sliceMiB} MiB`, String(pt.inFlight), pt.connections === undefined ? `default (${CLIENT_DEFAULT_CONNECTIONS})` : String(pt.connections),
      String(pt.slices), (pt.slices / pt.streams).toFixed(1), [...new Set(pt.opened)].join('/'), pt.mibps.toFixed(1),
      `${(pt.streams * cap).toFixed(0)}`, pt.ratio.toFixed(2), pt.ratioRequested.toFixed(2), (pt.mibps / pt.streams).toFixed(2),
    ]);
    out.push(markdownTable(['slice', 'in flight', 'connections', 'slices', 'rounds', 'opened', 'MiB/s', 'ideal', 'ratio', 'of requested', 'per stream'], rows));
    if (p.workflow.length) {
      out.push('', `The workflow (${r.fileMiB} MiB object from the embedded S3, ${p.workflow[0]!.sliceMiB} MiB slices; the execution's wall time, Prepare to Report):`, '');
      out.push(markdownTable(['SLICE_CONCURRENCY', 'slices', 'batches', 'opened', 'MiB/s', 'ideal', 'ratio', 'per stream'], p.workflow.map((w) => [
        String(w.inFlight), String(w.slices), [...new Set(w.uploadSlicesInvocations)].join('/'), [...new Set(w.opened)].join('/'), w.mibps.toFixed(1),
        (w.streams * cap).toFixed(0), w.ratio.toFixed(2), (w.mibps / w.streams).toFixed(2),
      ])));
    }
    out.push('', `- vendor pattern (${p.vendor.sliceMiB} MiB slices one at a time, ${p.vendor.fileMiB} MiB file): ${p.vendor.mibps.toFixed(2)} MiB/s, ${p.vendor.ratio.toFixed(2)} of one connection's cap`);
    const best = [...p.points].sort((a, b) => b.mibps - a.mibps)[0];
    if (best) {
      const share = (cpu: number[]) => `${Math.round((100 * median(cpu)) / median(best.ms))}%`;
      out.push(`- CPU at the fastest point, of one core: ${share(best.cpuMs)} for the client and the proxy (one process), ${share(best.serversCpuMs)} for the emulator`);
    }
    if (best) out.push(`- fastest point: ${best.sliceMiB} MiB × ${best.inFlight} in flight (connections ${best.connections ?? 'default'}): ${best.mibps.toFixed(1)} MiB/s = ${(best.mibps / p.vendor.mibps).toFixed(1)} × the vendor pattern`);
    out.push(`- 1 MiB simple upload: ${(p.simple.coldMedianMs / 1000).toFixed(2)} s on a new connection, ${(p.simple.warmMedianMs / 1000).toFixed(2)} s on a kept-alive one (${(p.simple.directMedianMs / 1000).toFixed(2)} s direct, no proxy)`);
    for (const pt of p.points.filter((x) => x.connections !== undefined)) {
      const dflt = p.points.find((x) => x.sliceMiB === pt.sliceMiB && x.inFlight === pt.inFlight && x.connections === undefined);
      if (dflt) out.push(`- ${pt.sliceMiB} MiB × ${pt.inFlight} in flight: ${dflt.mibps.toFixed(1)} MiB/s over the default ${CLIENT_DEFAULT_CONNECTIONS} connections (opened ${[...new Set(dflt.opened)].join('/')}), ${pt.mibps.toFixed(1)} MiB/s with connections = ${pt.connections} (opened ${[...new Set(pt.opened)].join('/')})`);
    }
  }
  // Per-stream rates for sizing batches: what one slice stream delivered, worst over the points where every
  // stream had at least two rounds of slices (so one slice's round trip and the tail are counted).
  const perStream = r.profiles.map((p) => {
    const eligible = p.points.filter((pt) => pt.slices >= 2 * pt.streams);
    if (eligible.length === 0) return `${p.profile.id}: n/a (no point had two rounds)`;
    const worst = Math.min(...eligible.map((pt) => pt.mibps / pt.streams));
    return `${p.profile.id}: ${worst.toFixed(2)} MiB/s (${(worst / p.profile.mibps).toFixed(2)} of its ${p.profile.mibps} MiB/s cap)`;
  });
  out.push('', `Per stream, worst point with at least two rounds of slices — ${perStream.join('; ')}.`);
  return out.join('\n');
}

export async function writeDocSection(path: string, body: string, begin = DOC_BEGIN, end = DOC_END): Promise<void> {
  const text = await readFile(path, 'utf8');
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${path} has no ${begin} … ${end} section to write into`);
  await writeFile(path, `${text.slice(0, a + begin.length)}\n${body}\n${text.slice(b)}`);
}
