// The cost of waiting out an OST outage, per file and hour of outage, by where the file waits (docs/admission.md,
// "OST outages"). Pure arithmetic from the mechanisms, so docs/costs.md can show its formula:
//
// In flight (admitted before the breaker opened): the step that met the outage is retried by the outage retrier
// (outageRetrier() of lib/workflow/throttle-budget.ts: 30 s doubling to 600 s, full jitter, so an expected 300 s
// per attempt once at the cap). Per attempt: 1 state transition (a retry is billed as one), 1 Lambda invocation
// that fails after the OST client's own retries (DEFAULT_RETRY_POLICY: 5 attempts, expected backoff 1.5 s, plus
// the time each attempt takes to fail), 1 DynamoDB write (the failure counted into the breaker), and the S3 reads
// of an Upload slices attempt (its batch progress, one ranged GET per OST attempt).
// In the intake (arrived, or sent back, while the breaker is open): a look per backoff (lib/intake/batch.ts:
// 20 s doubling to 300 s, equal jitter: 3/4 of the step expected), each a share of a receive, a trigger invocation
// and a breaker read, and a ChangeMessageVisibility (every 8th a re-send instead). No transition, no execution.
// The probe: one per probe pause (30 s doubling to 300 s) for the whole fleet: two writes (lease, result) and two OST
// calls, inside a trigger invocation that runs anyway.
import { PRICES, markdownTable, type DeploymentSettings } from './cost';
import { FLEET_PRICES, DEFAULT_FLEET_ASSUMPTIONS } from './fleet-cost';
import { DEFAULT_RETRY_POLICY } from '../lib/ost/retry';
import { outageRetrier } from '../lib/workflow/throttle-budget';
import { DEFAULT_INTAKE_POLICY, backoffSeconds } from '../lib/intake/batch';

export const OUTAGE_PRICES = { dynamoPerReadUnit: 0.125 / 1e6 } as const;

export interface OutageCostAssumptions {
  /** Seconds one OST attempt takes to fail during the outage (a 503 or a reset: about a round trip to China). */
  failSeconds: number;
  /** S3 requests (GET class) of one failing Upload slices attempt: batch progress + one ranged GET per OST attempt. */
  s3GetsPerAttempt: number;
}

export const DEFAULT_OUTAGE_ASSUMPTIONS: OutageCostAssumptions = { failSeconds: 0.3, s3GetsPerAttempt: 1 + DEFAULT_RETRY_POLICY.attempts };

export interface OutageCostRow {
  where: string;
  transitions: number;
  invocations: number;
  gbSeconds: number;
  sqsRequests: number;
  dynamoRequests: number;
  s3Requests: number;
  usd: number;
}

/** Expected attempts of a retrier (expected delay = half its ceiling) within [from, to) seconds of waiting. */
function attemptsBetween(delays: number[], from: number, to: number): number {
  let t = 0;
  let n = 0;
  for (const d of delays) {
    t += d;
    if (t >= to) break;
    if (t >= from) n++;
  }
  return n;
}

function expectedDelays(first: number, factor: number, cap: number, share: number, total: number): number[] {
  const out: number[] = [];
  for (let k = 0, t = 0; t < total; k++) {
    const d = Math.min(cap, first * factor ** Math.min(k, 30)) * share;
    out.push(d);
    t += d;
  }
  return out;
}

/** Seconds one failing step invocation runs: the client's attempts and its expected backoff between them. */
export function failingInvocationSeconds(a: OutageCostAssumptions = DEFAULT_OUTAGE_ASSUMPTIONS): number {
  const p = DEFAULT_RETRY_POLICY;
  let backoff = 0;
  for (let k = 1; k < p.attempts; k++) backoff += Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (k - 1)) / 2 / 1000;
  return p.attempts * a.failSeconds + backoff;
}

export function outageCostTable(d: DeploymentSettings, a: OutageCostAssumptions = DEFAULT_OUTAGE_ASSUMPTIONS): OutageCostRow[] {
  const r = outageRetrier([]);
  const inFlightDelays = expectedDelays(r.IntervalSeconds, r.BackoffRate, r.MaxDelaySeconds, 0.5, 3 * 3600);
  const policy = DEFAULT_INTAKE_POLICY;
  const intakeDelays = Array.from({ length: 200 }, (_, k) => backoffSeconds(k + 1, policy.waitBaseSeconds, policy.waitMaxSeconds, () => 0.5));
  const b = DEFAULT_FLEET_ASSUMPTIONS.batchSize;
  const resendEvery = Math.max(1, DEFAULT_FLEET_ASSUMPTIONS.maxReceiveCount - 2);
  const invocationSeconds = failingInvocationSeconds(a);
  const inFlight = (where: string, attempts: number): OutageCostRow => {
    const gbSeconds = attempts * (d.memoryMb.uploadSlices / 1024) * invocationSeconds;
    const s3Requests = attempts * a.s3GetsPerAttempt;
    const usd = attempts * PRICES.stepFunctionsPerTransition + attempts * PRICES.lambdaPerRequest + gbSeconds * PRICES.lambdaArmPerGbSecond
      + attempts * FLEET_PRICES.dynamoPerWriteUnit + s3Requests * PRICES.s3GetPerRequest;
    return { where, transitions: attempts, invocations: attempts, gbSeconds, sqsRequests: 0, dynamoRequests: attempts, s3Requests, usd };
  };
  const inIntake = (where: string, looks: number): OutageCostRow => {
    const resends = looks / resendEvery;
    const sqsRequests = looks / b + (looks - resends) + resends * (1 + 1 / b);
    const invocations = looks / b;
    const gbSeconds = invocations * (d.memoryMb.trigger / 1024) * DEFAULT_FLEET_ASSUMPTIONS.triggerSeconds;
    const reads = looks / b;
    const usd = sqsRequests * FLEET_PRICES.sqsPerRequest + invocations * PRICES.lambdaPerRequest + gbSeconds * PRICES.lambdaArmPerGbSecond + reads * OUTAGE_PRICES.dynamoPerReadUnit;
    return { where, transitions: 0, invocations, gbSeconds, sqsRequests, dynamoRequests: reads, s3Requests: 0, usd };
  };
  return [
    inFlight('in flight, first hour (the outage retrier)', attemptsBetween(inFlightDelays, 0, 3600)),
    inFlight('in flight, each further hour', attemptsBetween(inFlightDelays, 3600, 7200)),
    inIntake('in the intake, first hour (admission paused)', attemptsBetween(intakeDelays, 0, 3600)),
    inIntake('in the intake, each further hour', attemptsBetween(intakeDelays, 3600, 7200)),
  ];
}

/** Probes per hour at the cap, for the whole fleet, and their DynamoDB writes. */
export function probeCostPerHour(probeMaxSeconds = 300): { probes: number; writes: number; usd: number } {
  const probes = 3600 / probeMaxSeconds;
  return { probes, writes: 2 * probes, usd: 2 * probes * FLEET_PRICES.dynamoPerWriteUnit };
}

const usd = (v: number) => `$${v.toFixed(v < 0.01 ? 6 : 4)}`;
const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));

export function formatOutageCostTable(rows: OutageCostRow[]): string {
  const head = ['per file, per hour of outage', 'SFN transitions', 'Lambda inv.', 'Lambda GB-s', 'SQS req.', 'DynamoDB req.', 'S3 req.', 'AWS $'];
  return markdownTable(head, rows.map((r) => [r.where, num(r.transitions), num(r.invocations), r.gbSeconds.toFixed(1), num(r.sqsRequests), num(r.dynamoRequests), num(r.s3Requests), usd(r.usd)]));
}

export function formatOutageAssumptions(d: DeploymentSettings, a: OutageCostAssumptions = DEFAULT_OUTAGE_ASSUMPTIONS): string {
  const p = probeCostPerHour();
  return [
    `A failing step invocation runs ${failingInvocationSeconds(a).toFixed(2)} s at ${d.memoryMb.uploadSlices} MB (the OST client's ${DEFAULT_RETRY_POLICY.attempts} attempts of ${a.failSeconds} s each and its expected backoff); ${a.s3GetsPerAttempt} S3 GETs per attempt (the batch progress and a ranged GET per OST attempt); the breaker's count is 1 write unit, its read 1 read unit ($0.125 per 1M).`,
    `The probe (the whole fleet, not per file): about ${num(p.probes)} an hour once at its 300 s cap, ${num(p.writes)} DynamoDB writes (${usd(p.usd)}) and an init + cancel at OST, inside trigger invocations that run anyway.`,
    'Files in flight are those admitted before the breaker opened (at most MAX_FILES_IN_FLIGHT); every later file waits in the intake, at the intake\'s price.',
  ].join('\n');
}
