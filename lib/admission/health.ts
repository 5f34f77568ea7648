// OST's health as the fleet sees it: a circuit breaker in one item beside the slot semaphore (same table).
// Steps that end with an outage-class error (lib/ost/errors.ts isOutage) count it; `threshold` of them within
// `windowMs` open the breaker, and the intake then admits nothing (files wait in the queue as for a slot). While
// open, one probe at a time (a lease on the item) tests the gateway with a call that costs nothing (init +
// cancel); a failed probe pushes the next one back (doubling up to probeMaxMs), a good one closes the breaker.
// Every change is one conditional UpdateItem, so concurrent steps and triggers never double-count a window,
// open it twice or run two probes. See docs/admission.md ("OST outages").
//
// Item: { pk: 'ost-health', failures, windowStart, openedAt?, nextProbeAt?, probes, probeUntil?, prober? } (epoch ms)
import { GetItemCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SEMAPHORE_KEY } from './semaphore';
import { admissionErrorFrom, AdmissionInputError } from './errors';

export const HEALTH_ITEM = 'ost-health';

export interface HealthPolicy {
  /** Outage-class step failures within the window that open the breaker. */
  threshold: number;
  windowMs: number;
  /** Pause before the first probe, doubled per failed probe up to probeMaxMs. */
  probeBaseMs: number;
  probeMaxMs: number;
  /** How long one probe may hold the lease (a crashed prober is replaced after it). */
  probeLeaseMs: number;
}

export const DEFAULT_HEALTH_POLICY: HealthPolicy = { threshold: 5, windowMs: 60_000, probeBaseMs: 30_000, probeMaxMs: 300_000, probeLeaseMs: 60_000 };

export interface HealthState {
  open: boolean;
  failures: number;
  windowStart?: number;
  openedAt?: number;
  nextProbeAt?: number;
  /** Failed probes since the breaker opened. */
  probes: number;
}

export interface HealthOptions {
  client: Pick<DynamoDBClient, 'send'>;
  tableName: string;
  policy?: Partial<HealthPolicy>;
  now?: () => number;
}

const n = (v: number): AttributeValue => ({ N: String(v) });

function stateOf(item: Record<string, AttributeValue> | undefined): HealthState {
  const num = (k: string) => (item?.[k]?.N !== undefined ? Number(item[k]!.N) : undefined);
  const openedAt = num('openedAt');
  return { open: openedAt !== undefined, failures: num('failures') ?? 0, windowStart: num('windowStart'), openedAt, nextProbeAt: num('nextProbeAt'), probes: num('probes') ?? 0 };
}

function isConditionFailed(err: unknown): boolean {
  return (err as { name?: string })?.name === 'ConditionalCheckFailedException';
}

export class OstHealth {
  readonly policy: HealthPolicy;
  private readonly client: Pick<DynamoDBClient, 'send'>;
  private readonly tableName: string;
  private readonly now: () => number;

  constructor(o: HealthOptions) {
    if (!o.tableName) throw new AdmissionInputError('health table name is empty', { operation: 'create' });
    this.policy = { ...DEFAULT_HEALTH_POLICY, ...o.policy };
    for (const [k, v] of Object.entries(this.policy)) {
      if (!Number.isSafeInteger(v) || v < 1) throw new AdmissionInputError(`health policy ${k} must be a whole number ≥ 1, got ${v}`);
    }
    if (this.policy.probeMaxMs < this.policy.probeBaseMs) throw new AdmissionInputError('health policy probeMaxMs must be at least probeBaseMs');
    this.client = o.client;
    this.tableName = o.tableName;
    this.now = o.now ?? Date.now;
  }

  private async update(input: { UpdateExpression: string; ConditionExpression?: string; values?: Record<string, AttributeValue>; names?: Record<string, string> }): Promise<HealthState | undefined> {
    try {
      const res = await this.client.send(new UpdateItemCommand({
        TableName: this.tableName,
        Key: { [SEMAPHORE_KEY]: { S: HEALTH_ITEM } },
        UpdateExpression: input.UpdateExpression,
        ConditionExpression: input.ConditionExpression,
        ExpressionAttributeValues: input.values,
        ExpressionAttributeNames: input.names,
        ReturnValues: 'ALL_NEW',
      }));
      return stateOf(res.Attributes);
    } catch (err) {
      if (isConditionFailed(err)) return undefined;
      throw admissionErrorFrom(err, { table: this.tableName, operation: 'health' });
    }
  }

  /** Counts one outage-class failure; opens the breaker when the window reaches the threshold. */
  async recordFailure(): Promise<HealthState> {
    const { threshold, windowMs, probeBaseMs } = this.policy;
    let state: HealthState | undefined;
    for (let attempt = 0; !state && attempt < 4; attempt++) {
      const now = this.now();
      // Within the current window: one more. Otherwise (no window, or an old one): a new window of one.
      state = await this.update({ UpdateExpression: 'ADD failures :one', ConditionExpression: 'windowStart > :cutoff', values: { ':one': n(1), ':cutoff': n(now - windowMs) } })
        ?? await this.update({
          UpdateExpression: 'SET failures = :one, windowStart = :now',
          ConditionExpression: 'attribute_not_exists(windowStart) OR windowStart <= :cutoff',
          values: { ':one': n(1), ':now': n(now), ':cutoff': n(now - windowMs) },
        });
    }
    if (!state) return this.state();
    if (!state.open && state.failures >= threshold) {
      const now = this.now();
      const opened = await this.update({
        UpdateExpression: 'SET openedAt = :now, nextProbeAt = :next, probes = :zero',
        ConditionExpression: 'attribute_not_exists(openedAt)',
        values: { ':now': n(now), ':next': n(now + probeBaseMs), ':zero': n(0) },
      });
      return opened ?? this.state();
    }
    return state;
  }

  /** Takes the probe lease when the breaker is open, a probe is due and no other probe holds it. */
  async takeProbe(prober: string): Promise<HealthState | undefined> {
    const now = this.now();
    return this.update({
      UpdateExpression: 'SET probeUntil = :lease, prober = :p',
      ConditionExpression: 'attribute_exists(openedAt) AND nextProbeAt <= :now AND (attribute_not_exists(probeUntil) OR probeUntil < :now)',
      values: { ':now': n(now), ':lease': n(now + this.policy.probeLeaseMs), ':p': { S: prober.slice(0, 100) } },
    });
  }

  /** A probe's result: the gateway answered (close the breaker) or not (the next probe later, doubled). */
  async probeResult(prober: string, healthy: boolean, probesSoFar: number): Promise<void> {
    const now = this.now();
    if (healthy) {
      await this.update({
        UpdateExpression: 'SET failures = :zero, probes = :zero, windowStart = :now REMOVE openedAt, nextProbeAt, probeUntil, prober',
        values: { ':zero': n(0), ':now': n(now) },
      });
      return;
    }
    const { probeBaseMs, probeMaxMs } = this.policy;
    const wait = Math.min(probeMaxMs, probeBaseMs * 2 ** Math.min(probesSoFar + 1, 30));
    await this.update({
      UpdateExpression: 'SET nextProbeAt = :next, probes = probes + :one REMOVE probeUntil, prober',
      ConditionExpression: 'prober = :p',
      values: { ':next': n(now + wait), ':one': n(1), ':p': { S: prober.slice(0, 100) } },
    });
  }

  async state(): Promise<HealthState> {
    try {
      const res = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: { [SEMAPHORE_KEY]: { S: HEALTH_ITEM } }, ConsistentRead: true }));
      return stateOf(res.Item);
    } catch (err) {
      throw admissionErrorFrom(err, { table: this.tableName, operation: 'health' });
    }
  }
}

export type GateDecision = { admit: true; probed?: 'healthy' } | { admit: false; reason: string; probed?: 'down' };

/**
 * The intake's question before it takes slots: is OST up? Closed breaker: yes. Open: no, unless this caller wins
 * the probe lease and the probe (`probe()`, which throws an outage-class error when the gateway is still down)
 * succeeds. The health table being unreachable answers yes: the breaker never blocks forwarding on its own fault.
 */
export async function admissionGate(health: OstHealth, prober: string, probe: () => Promise<void>, isDown: (err: unknown) => boolean): Promise<GateDecision> {
  let state: HealthState;
  try {
    state = await health.state();
  } catch {
    return { admit: true };
  }
  if (!state.open) return { admit: true };
  const lease = await health.takeProbe(prober).catch(() => undefined);
  if (!lease) return { admit: false, reason: `OST unavailable since ${new Date(state.openedAt!).toISOString()}: admission paused` };
  let healthy = true;
  try {
    await probe();
  } catch (err) {
    healthy = !isDown(err);
  }
  await health.probeResult(prober, healthy, lease.probes).catch(() => undefined);
  return healthy ? { admit: true, probed: 'healthy' } : { admit: false, reason: 'OST still unavailable (probe failed): admission paused', probed: 'down' };
}
