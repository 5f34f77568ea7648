// Workflow scale at the OST maximum: a 10,000-slice plan run through the real definition and handlers. Real
// slices are at least 5 MiB (10,000 of them would be 50+ GB), so this run alone lowers the slice size to 2 KiB:
// the emulator is started in tiny-slice mode (minSliceSize 1 KiB, and it says so) and the handlers get
// MIN_SLICE_SIZE/SLICE_SIZE overrides. CONSERVATIVE_MBPS is scaled by the same factor as the slice size
// (2 KiB / 16 MiB), so the batches are cut exactly as for 16 MiB slices at the default settings: 281 slices per
// batch, 36 batches — the shape of a real 10,000-slice forwarding (a 156 GiB object).
import { join } from 'node:path';
import { batchSizing, sliceBatches } from '../lib/workflow/batches';
import { DEFAULT_SLICE_SIZE, MiB } from '../lib/ost/plan';
import { PAYLOAD_LIMIT_BYTES } from '../local/executor';
import { randomFile } from './files';
import { forwardOnce, putObject } from './pipeline-run';
import { startServers } from './servers';

export const P3_SLICES = 10_000;
export const P3_SLICE_SIZE = 2048;
const DEFAULT_CONSERVATIVE_MBPS = 10;

export interface P3Result {
  slices: number;
  sliceSize: number;
  batches: number;
  slicesPerBatch: number;
  status: string;
  ms: number;
  maxStateBytes: number;
  maxStateAt: string;
  payloadLimit: number;
  largestTaskPayloadBytes: number;
  transitions: number;
  parentTransitions: number;
  childTransitions: number;
  retries: number;
  transitionsPerSlice: number;
  childExecutions: number;
  maxHistoryEvents: number;
  maxChildHistoryEvents: number;
  /** Slice calls the emulator answered with code 0. */
  emulatorSlicesAccepted: number;
  emulatorNotice: string;
}

export async function runP3(tmp: string, serversDir: string): Promise<P3Result> {
  const size = P3_SLICES * P3_SLICE_SIZE;
  const file = join(tmp, 'input', 'tiny-slices.bin');
  await randomFile(file, size);
  const servers = await startServers({ dir: serversDir, bucket: 'bench', minSliceSize: 1024 });
  try {
    const key = 'tiny-slices.bin';
    await putObject(servers, key, file);
    const conservative = DEFAULT_CONSERVATIVE_MBPS * P3_SLICE_SIZE / DEFAULT_SLICE_SIZE;
    const env = {
      SLICE_SIZE: String(P3_SLICE_SIZE),
      MIN_SLICE_SIZE: '1024',
      SIMPLE_THRESHOLD: String(1 * MiB),
      CONSERVATIVE_MBPS: conservative.toFixed(12).replace(/0+$/, ''),
    };
    const sizing = batchSizing(P3_SLICE_SIZE, Number(env.CONSERVATIVE_MBPS), 900);
    const batches = sliceBatches(P3_SLICES, sizing.slicesPerBatch).length;
    const since = Date.now();
    const run = await forwardOnce(servers, key, { env, keepOpen: true });
    try {
      const top = run.execution;
      const stats = run.stack.stats() as unknown as Record<string, unknown> & { largestPayload: { bytes: number; state: string; direction: string } };
      const parentTransitions = top.entered.filter((e) => e.index === undefined).length;
      const childTransitions = top.entered.length - parentTransitions;
      const transitions = top.entered.length + top.retries.length;
      const calls = await servers.calls(since);
      const accepted = calls.find((c) => c.call === 'slice')?.ok ?? 0;
      return {
        slices: P3_SLICES,
        sliceSize: P3_SLICE_SIZE,
        batches,
        slicesPerBatch: sizing.slicesPerBatch,
        status: run.status,
        ms: run.ms,
        maxStateBytes: Math.max(stats.largestPayload.bytes, run.largestTaskPayload.bytes),
        maxStateAt: `${stats.largestPayload.state} (${stats.largestPayload.direction})`,
        payloadLimit: PAYLOAD_LIMIT_BYTES,
        largestTaskPayloadBytes: run.largestTaskPayload.bytes,
        transitions,
        parentTransitions,
        childTransitions,
        retries: top.retries.length,
        transitionsPerSlice: transitions / P3_SLICES,
        childExecutions: Number(stats.childExecutions ?? stats.totalChildExecutions ?? 0),
        maxHistoryEvents: Number(stats.maxHistoryEvents ?? 0),
        maxChildHistoryEvents: Number(stats.maxChildHistoryEvents ?? 0),
        emulatorSlicesAccepted: accepted,
        emulatorNotice: servers.banner.split('\n').find((l) => l.includes('tiny-slice')) ?.trim() ?? '',
      };
    } finally {
      await run.stack.close();
    }
  } finally {
    await servers.close();
  }
}
