// Slices in flight adapt to a squeezed gateway (lib/ost/send.ts with lib/ost/adaptive.ts): against the emulator
// allowing 2 calls at once, a batch started with 8 slices in flight halves them as throttling answers arrive, so the
// gateway gets fewer refused requests than with a fixed 8, and every slice still arrives once.
import { Readable } from 'node:stream';
import { startEmulator, type OstEmulator } from '../local/emulator';
import { OstClient } from '../lib/ost/client';
import { sendSlices } from '../lib/ost/send';
import type { UploadPlan } from '../lib/ost/plan';

const SLICE = 64 * 1024;
const SLICES = 24;
let emu: OstEmulator;
let client: OstClient;
beforeEach(async () => {
  emu = await startEmulator({ minSliceSize: SLICE, maxConcurrency: 2 });
  client = new OstClient({ endpoint: emu.endpoint, ...emu.credentials, connections: 8, retry: { attempts: 30, baseDelayMs: 5, throttledBaseDelayMs: 5, maxDelayMs: 20 } });
});
afterEach(async () => { await client.close(); await emu.close(); });

it('a gateway allowing 2 calls at once: slices in flight fall from 8, fewer than 40 calls are refused, each slice arrives once', async () => {
  // Each accepted slice holds its place at the gateway for 40 ms.
  emu.inject({ call: 'slice', delayMs: 40, times: Infinity });
  const plan: Extract<UploadPlan, { mode: 'multipart' }> = { mode: 'multipart', size: SLICE * SLICES, sliceSize: SLICE, sliceCount: SLICES };
  const source = { size: plan.size, name: 'a.bin', open: async (s: number, e: number) => Readable.from([Buffer.alloc(e - s, 7)]) };
  const { uploadId } = await client.init();
  const limits: number[] = [];
  const r = await sendSlices(client, source, plan, uploadId, { concurrency: 8, onConcurrency: (l) => limits.push(l) });
  expect(r.slices).toBe(SLICES);
  const refused = emu.stats().throttled.concurrency;
  if (process.env.REFUSED_LOG) require('fs').appendFileSync(process.env.REFUSED_LOG, refused + '\n');
  expect(refused).toBeLessThan(40);
  expect(Math.min(...limits)).toBeLessThanOrEqual(2);
  expect(emu.uploads()[0]!.sliceIds).toHaveLength(SLICES);
});
