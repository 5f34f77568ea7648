// The breaker beside the slots (lib/admission/health.ts) on a real local DynamoDB (dynalite): it opens at exactly
// the threshold within the window, counts exactly under concurrent failures, lets one probe at a time test
// recovery, backs the probes off while OST stays down, and closes on a good probe.
import { startLocalDynamo, type LocalDynamo } from '../local/aws/dynamo';
import { admissionGate, OstHealth, type HealthPolicy } from '../lib/admission/health';
import { TransportError, isOutage } from '../lib/ost/errors';

let dynamo: LocalDynamo;
let clock = 1_000_000;
const policy: HealthPolicy = { threshold: 5, windowMs: 60_000, probeBaseMs: 1_000, probeMaxMs: 8_000, probeLeaseMs: 5_000 };
let n = 0;
/** A fresh breaker: its own table, so that tests do not share the one item. */
async function breaker(p: Partial<HealthPolicy> = {}): Promise<OstHealth> {
  const tableName = `health-${++n}`;
  const { ensureSemaphoreTable } = await import('../lib/admission/table');
  await ensureSemaphoreTable(dynamo.client, tableName);
  return new OstHealth({ client: dynamo.client, tableName, policy: { ...policy, ...p }, now: () => clock });
}
const down = () => Promise.reject(new TransportError('init to 127.0.0.1 failed: ECONNREFUSED'));

beforeAll(async () => { dynamo = await startLocalDynamo({ maxAttempts: 1 }); });
afterAll(async () => { await dynamo?.close(); });

it('opens at the threshold within the window, and not for failures spread wider than the window', async () => {
  const h = await breaker();
  for (let i = 0; i < 4; i++) expect((await h.recordFailure()).open).toBe(false);
  clock += 61_000; // the window passed: counting starts again
  for (let i = 0; i < 4; i++) expect((await h.recordFailure()).open).toBe(false);
  const s = await h.recordFailure();
  expect(s).toMatchObject({ open: true, failures: 5, openedAt: clock, nextProbeAt: clock + 1_000 });
});

it('counts 40 concurrent failures exactly once each and opens once', async () => {
  const h = await breaker({ threshold: 40 });
  const states = await Promise.all(Array.from({ length: 40 }, () => h.recordFailure()));
  const s = await h.state();
  expect(s.failures).toBe(40);
  expect(s.open).toBe(true);
  expect(new Set(states.filter((x) => x.open).map((x) => x.openedAt)).size).toBe(1);
});

it('while open, admits nothing; one probe at a time, backed off while OST is down, and a good probe closes it', async () => {
  const h = await breaker({ threshold: 1 });
  await h.recordFailure();
  let probes = 0;
  const gate = (probe: () => Promise<void>) => admissionGate(h, `t${Math.random()}`, async () => { probes++; await probe(); }, isOutage);
  // before the first probe is due
  expect(await gate(down)).toMatchObject({ admit: false });
  expect(probes).toBe(0);
  // due: 20 triggers at once, one probe
  clock += 1_000;
  const slow = () => new Promise<void>((_, reject) => setTimeout(() => reject(new TransportError('reset')), 50));
  const answers = await Promise.all(Array.from({ length: 20 }, () => gate(slow)));
  expect(probes).toBe(1);
  expect(answers.filter((a) => 'probed' in a && a.probed === 'down')).toHaveLength(1);
  expect(answers.every((a) => !a.admit)).toBe(true);
  // the next probe waits twice as long (2 s), then 4 s, capped at 8 s
  const next = (await h.state()).nextProbeAt! - clock;
  expect(next).toBe(2_000);
  clock += 2_000;
  await gate(down);
  expect((await h.state()).nextProbeAt! - clock).toBe(4_000);
  clock += 4_000;
  // an answer in OST's own words (even a refusal) means the gateway is back
  expect(await gate(async () => { throw Object.assign(new Error('invalid request'), { name: 'OstInvalidRequestError' }); })).toEqual({ admit: true, probed: 'healthy' });
  expect(await h.state()).toMatchObject({ open: false, failures: 0, probes: 0 });
  expect(await gate(down)).toEqual({ admit: true });
});

it('a prober that died is replaced once its lease expires', async () => {
  const h = await breaker({ threshold: 1 });
  await h.recordFailure();
  clock += 1_000;
  expect(await h.takeProbe('crashed')).toBeDefined();
  expect(await h.takeProbe('other')).toBeUndefined();
  clock += 5_001;
  expect(await h.takeProbe('other')).toBeDefined();
});

it('an unreachable table admits (the breaker never blocks forwarding on its own fault)', async () => {
  const h = await breaker({ threshold: 1 });
  await h.recordFailure();
  dynamo.outage('error');
  try {
    expect(await admissionGate(h, 'x', down, isOutage)).toEqual({ admit: true });
  } finally {
    dynamo.outage(false);
  }
});
