// The slot semaphore against a real local DynamoDB (dynalite, in memory, loopback): exactly maxSlots granted
// under a concurrent burst, idempotent for the same execution, freed by release, leases reclaimed after expiry,
// and an unavailable table surfacing as one retryable error class.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startLocalDynamo, type LocalDynamo } from '../local/aws/dynamo';
import { SlotSemaphore } from '../lib/admission/semaphore';
import { releaseOnStatusChange } from '../lib/admission/status-event';
import {
  AdmissionConfigError,
  AdmissionInputError,
  AdmissionUnavailableError,
  isAdmissionRetryable,
} from '../lib/admission/errors';

let dynamo: LocalDynamo;
let n = 0;
let clock = Date.now();
/** A fresh semaphore (its own item) on the shared local table. */
function semaphore(maxSlots: number, leaseSeconds = 3600, client: Pick<DynamoDBClient, 'send'> = dynamo.client): SlotSemaphore {
  return new SlotSemaphore({ client, tableName: dynamo.tableName, name: `test-${++n}`, maxSlots, leaseSeconds, now: () => clock });
}
const exec = (i: number): string => `file-${i}-${'0'.repeat(8)}${i}`;

beforeAll(async () => {
  dynamo = await startLocalDynamo({ maxAttempts: 1 });
});
afterAll(async () => {
  await dynamo?.close();
});
afterEach(() => dynamo.outage(false));

describe('slot semaphore on dynalite', () => {
  it('grants exactly 16 of 50 concurrent acquires, and records a peak of 16', async () => {
    const s = semaphore(16);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => s.acquire(exec(i))));
    const granted = results.filter((r) => r.granted);
    expect(granted).toHaveLength(16);
    expect(granted.every((r) => r.granted && !r.already)).toBe(true);
    const state = await s.state();
    expect(state.inFlight).toBe(16);
    expect(state.peak).toBe(16);
    expect(results.filter((r) => !r.granted).map((r) => r.inFlight)).toEqual(Array(34).fill(16));
  });

  it('is idempotent for the same execution: a re-delivered message does not take a second slot', async () => {
    const s = semaphore(3);
    const first = await s.acquire(exec(1));
    expect(first).toMatchObject({ granted: true, already: false, inFlight: 1 });
    const again = await s.acquire(exec(1));
    expect(again).toMatchObject({ granted: true, already: true, inFlight: 1 });
    // ten concurrent deliveries of one message take one slot between them
    const burst = await Promise.all(Array.from({ length: 10 }, () => s.acquire(exec(2))));
    expect(burst.every((r) => r.granted)).toBe(true);
    expect(burst.filter((r) => r.granted && !r.already)).toHaveLength(1);
    expect((await s.state()).inFlight).toBe(2);
    // a holder keeps its slot even when the semaphore is full
    await s.acquire(exec(3));
    expect(await s.acquire(exec(2))).toMatchObject({ granted: true, already: true, inFlight: 3 });
    expect(await s.acquire(exec(4))).toMatchObject({ granted: false, inFlight: 3 });
  });

  it('release frees the slot for a waiting execution; releasing twice is a no-op', async () => {
    const s = semaphore(2);
    await s.acquire(exec(1));
    await s.acquire(exec(2));
    expect(await s.acquire(exec(3))).toMatchObject({ granted: false });
    expect(await s.release(exec(1))).toEqual({ released: true, inFlight: 1 });
    expect(await s.release(exec(1))).toEqual({ released: false });
    expect(await s.release(exec(99))).toEqual({ released: false });
    expect(await s.acquire(exec(3))).toMatchObject({ granted: true, already: false, inFlight: 2 });
    expect((await s.state()).holders.map((h) => h.name).sort()).toEqual([exec(2), exec(3)]);
    expect((await s.state()).peak).toBe(2);
  });

  it('reclaims an expired lease when full, but keeps a renewed one', async () => {
    const s = semaphore(2, 60);
    await s.acquire(exec(1));
    await s.acquire(exec(2), 600);
    expect(await s.acquire(exec(3))).toMatchObject({ granted: false, reclaimed: [] });
    clock += 61_000; // exec 1's lease (60 s) has run out; exec 2's (600 s) has not
    expect(await s.renew(exec(2))).toBe(true);
    const r = await s.acquire(exec(3));
    expect(r).toMatchObject({ granted: true, already: false, reclaimed: [exec(1)], inFlight: 2 });
    clock += 61_000; // exec 2 renewed for 60 s at the previous step: expired now, like exec 3 (60 s)
    expect((await s.reclaimExpired()).sort()).toEqual([exec(2), exec(3)]);
    expect(await s.renew(exec(1))).toBe(false);
    expect((await s.state()).inFlight).toBe(0);
  });

  it('a stale view of an expiry does not reclaim a lease renewed meanwhile', async () => {
    const s = semaphore(1, 60);
    await s.acquire(exec(1));
    const stale = Object.fromEntries((await s.state()).holders.map((h) => [h.name, h.expiresAt]));
    clock += 61_000;
    await s.renew(exec(1));
    expect(await s.reclaimExpired(stale)).toEqual([]);
    expect((await s.state()).inFlight).toBe(1);
  });

  it.each(['error', 'throttle', 'reset'] as const)('the table briefly unavailable (%s) → AdmissionUnavailableError, retryable; state intact after', async (mode) => {
    const s = semaphore(4);
    await s.acquire(exec(1));
    dynamo.outage(mode);
    for (const op of [() => s.acquire(exec(2)), () => s.release(exec(1)), () => s.state()]) {
      const err = await op().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(AdmissionUnavailableError);
      expect(err).toMatchObject({ code: 'ADMISSION_UNAVAILABLE', table: dynamo.tableName });
      expect(isAdmissionRetryable(err)).toBe(true);
      expect((err as Error).message).toContain(dynamo.tableName);
      expect((err as Error).message.length).toBeLessThanOrEqual(300);
      expect((err as Error).message).not.toContain('\n');
    }
    dynamo.outage(false);
    expect(await s.acquire(exec(2))).toMatchObject({ granted: true, inFlight: 2 });
    expect((await s.state()).holders.map((h) => h.name).sort()).toEqual([exec(1), exec(2)]);
  });

  it('a missing table is a deployment fault (AdmissionConfigError, not retried)', async () => {
    const s = new SlotSemaphore({ client: dynamo.client, tableName: 'no-such-table', maxSlots: 2, leaseSeconds: 60 });
    const err = await s.acquire(exec(1)).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(AdmissionConfigError);
    expect(err).toMatchObject({ code: 'ADMISSION_MISCONFIGURED', awsError: 'ResourceNotFoundException' });
    expect(isAdmissionRetryable(err)).toBe(false);
  });

  it('rejects bad arguments with AdmissionInputError', () => {
    expect(() => semaphore(0)).toThrow(AdmissionInputError);
    expect(() => semaphore(1001)).toThrow(AdmissionInputError);
    expect(() => semaphore(2, 0)).toThrow(AdmissionInputError);
    const s = semaphore(2);
    return expect(s.acquire('x'.repeat(81))).rejects.toThrow(AdmissionInputError);
  });
});

describe('release on an execution status change event', () => {
  const arn = 'arn:aws:states:us-east-1:000000000000:stateMachine:ost-forwarder';
  const event = (status: string, name: string, machine = arn) => ({
    source: 'aws.states', 'detail-type': 'Step Functions Execution Status Change',
    detail: { executionArn: `arn:aws:states:us-east-1:000000000000:execution:ost-forwarder:${name}`, stateMachineArn: machine, name, status },
  });

  it('an aborted or timed-out execution gives its slot back; a running one keeps it; another machine is ignored', async () => {
    const s = semaphore(4);
    await s.acquire(exec(1));
    await s.acquire(exec(2));
    await s.acquire(exec(3));
    expect(await releaseOnStatusChange(event('RUNNING', exec(1)), s, arn)).toBeUndefined();
    expect(await releaseOnStatusChange(event('ABORTED', exec(1)), s, arn)).toMatchObject({ execution: exec(1), status: 'ABORTED', released: true });
    expect(await releaseOnStatusChange(event('ABORTED', exec(1)), s, arn)).toMatchObject({ released: false }); // re-delivered event
    expect(await releaseOnStatusChange(event('TIMED_OUT', exec(2), arn + '-other'), s, arn)).toBeUndefined();
    const { detail } = event('TIMED_OUT', exec(2));
    expect(await releaseOnStatusChange({ ...event('TIMED_OUT', exec(2)), detail: { ...detail, name: undefined } }, s, arn)).toMatchObject({ released: true });
    expect((await s.state()).holders.map((h) => h.name)).toEqual([exec(3)]);
  });
});
