// The slot semaphore: at most `maxSlots` holders (executions) at once, over one DynamoDB item
// `{ pk: <semaphore name>, holders: { <executionName>: <lease expiry, epoch ms> }, peak: <highest count> }`.
// Every change is one conditional UpdateItem (no transactions, so dynalite runs it too); why one item, and what it
// costs (MAX_SLOTS): docs/admission.md.
import {
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { AdmissionConfigError, AdmissionInputError, admissionErrorFrom, type AdmissionOperation } from './errors';

/** The partition key attribute of the semaphore table (string). */
export const SEMAPHORE_KEY = 'pk';
export const DEFAULT_SEMAPHORE_NAME = 'files-in-flight';
/** Upper bound of maxSlots: the Map Run quota (1,000 open per account and Region) and the item size. */
export const MAX_SLOTS = 1000;
/** Step Functions execution names are at most 80 characters; holders are execution names. */
export const MAX_HOLDER_LENGTH = 80;
/** A lease is at least a second and at most a year plus a day (a STANDARD execution runs for a year at most). */
export const MAX_LEASE_SECONDS = 366 * 24 * 3600;
/**
 * The release, as one UpdateItem: the workflow's own release step (a direct DynamoDB integration, no Lambda) must
 * send exactly this, with `#h` = the execution name and the key { pk: <semaphore name> }; a
 * ConditionalCheckFailedException there means "already released" and is not an error.
 */
export const RELEASE_UPDATE = Object.freeze({
  UpdateExpression: 'REMOVE holders.#h',
  ConditionExpression: 'attribute_exists(holders.#h)',
});
/** Conditional writes one acquire makes at most when it keeps racing other changes of the item. */
const MAX_ATTEMPTS = 5;

export interface SemaphoreOptions {
  client: Pick<DynamoDBClient, 'send'>;
  tableName: string;
  /** Slots: at most this many holders at once. Read on every acquire, so a changed setting applies at once. */
  maxSlots: number;
  /** Default lease length; the last resort that frees a slot whose holder never released it. */
  leaseSeconds: number;
  /** The item's key: one table can hold several semaphores. */
  name?: string;
  /** Clock in epoch milliseconds (tests move it forward to expire leases). */
  now?: () => number;
}

export type AcquireResult =
  | { granted: true; /** the holder already had a slot (a re-delivered message): nothing was taken */ already: boolean; inFlight: number; expiresAt: number; reclaimed: string[] }
  | { granted: false; inFlight: number; reclaimed: string[] };

export interface ReleaseResult {
  /** false: the holder had no slot (already released, reclaimed, or never granted). */
  released: boolean;
  inFlight?: number;
}

export interface SemaphoreState {
  inFlight: number;
  peak: number;
  holders: Array<{ name: string; expiresAt: number }>;
}

function isConditionFailed(err: unknown): err is { name: string; Item?: Record<string, AttributeValue> } {
  return (err as { name?: string })?.name === 'ConditionalCheckFailedException';
}

function holdersOf(item: Record<string, AttributeValue> | undefined): Record<string, number> {
  const m = item?.holders?.M ?? {};
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(m)) out[k] = Number(v.N ?? 0);
  return out;
}

export class SlotSemaphore {
  readonly tableName: string;
  readonly name: string;
  readonly maxSlots: number;
  readonly leaseSeconds: number;
  private readonly client: Pick<DynamoDBClient, 'send'>;
  private readonly now: () => number;

  constructor(o: SemaphoreOptions) {
    if (!o.tableName) throw new AdmissionInputError('semaphore table name is empty', { operation: 'create' });
    this.tableName = o.tableName;
    this.name = o.name ?? DEFAULT_SEMAPHORE_NAME;
    this.maxSlots = checkSlots(o.maxSlots);
    this.leaseSeconds = checkLease(o.leaseSeconds);
    this.client = o.client;
    this.now = o.now ?? Date.now;
  }

  private key(): Record<string, AttributeValue> {
    return { [SEMAPHORE_KEY]: { S: this.name } };
  }

  private fail(err: unknown, operation: AdmissionOperation): never {
    throw admissionErrorFrom(err, { table: this.tableName, operation });
  }

  /**
   * Takes a slot for `holder` if fewer than maxSlots are held; idempotent: a holder that already has a slot keeps
   * it (its lease unchanged) and is told `already: true`. When the semaphore is full, expired leases are reclaimed
   * once and the acquire is tried again.
   */
  async acquire(holder: string, leaseSeconds = this.leaseSeconds): Promise<AcquireResult> {
    checkHolder(holder);
    checkLease(leaseSeconds);
    let reclaimed: string[] = [];
    let swept = false;
    for (let attempt = 0; ; attempt++) {
      const expiresAt = this.now() + leaseSeconds * 1000;
      let old: Record<string, AttributeValue> | undefined;
      try {
        const res = await this.client.send(new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(),
          UpdateExpression: 'SET holders.#h = if_not_exists(holders.#h, :exp)',
          ConditionExpression: 'attribute_exists(holders.#h) OR size(holders) < :max',
          ExpressionAttributeNames: { '#h': holder },
          ExpressionAttributeValues: { ':exp': { N: String(expiresAt) }, ':max': { N: String(this.maxSlots) } },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }));
        old = res.Attributes;
      } catch (err) {
        if (!isConditionFailed(err)) this.fail(err, 'acquire');
        // Full, or the item does not exist yet. DynamoDB returns the item with the failure; older emulators do not.
        const item = err.Item ?? (await this.read());
        if (item === undefined) {
          if (attempt >= MAX_ATTEMPTS) throw new AdmissionConfigError(`semaphore table ${this.tableName}: the semaphore item cannot be created`, { table: this.tableName, operation: 'acquire' });
          await this.create();
          continue;
        }
        const holders = holdersOf(item);
        if (holders[holder] !== undefined) {
          // Granted between the write and the read (a concurrent duplicate): same answer as an idempotent hit.
          return { granted: true, already: true, inFlight: Object.keys(holders).length, expiresAt: holders[holder]!, reclaimed };
        }
        // Room now: the write raced a change (the item was created, a slot was freed). Write again, a few times.
        if (Object.keys(holders).length < this.maxSlots && attempt < MAX_ATTEMPTS) continue;
        if (!swept) {
          swept = true;
          reclaimed = await this.reclaimExpired(holders);
          if (reclaimed.length > 0) continue;
        }
        return { granted: false, inFlight: Object.keys(holders).length, reclaimed };
      }
      const before = holdersOf(old);
      const already = before[holder] !== undefined;
      const inFlight = Object.keys(before).length + (already ? 0 : 1);
      if (!already) await this.raisePeak(inFlight, Number(old?.peak?.N ?? 0));
      return { granted: true, already, inFlight, expiresAt: already ? before[holder]! : expiresAt, reclaimed };
    }
  }

  /** Frees the holder's slot. Idempotent: releasing a slot that is not held answers `released: false`. */
  async release(holder: string): Promise<ReleaseResult> {
    checkHolder(holder);
    try {
      const res = await this.client.send(new UpdateItemCommand({
        TableName: this.tableName,
        Key: this.key(),
        ...RELEASE_UPDATE,
        ExpressionAttributeNames: { '#h': holder },
        ReturnValues: 'ALL_NEW',
      }));
      return { released: true, inFlight: Object.keys(holdersOf(res.Attributes)).length };
    } catch (err) {
      if (isConditionFailed(err)) return { released: false };
      this.fail(err, 'release');
    }
  }

  /** Extends a held lease (a long execution's heartbeat). Answers false when the holder has no slot. */
  async renew(holder: string, leaseSeconds = this.leaseSeconds): Promise<boolean> {
    checkHolder(holder);
    checkLease(leaseSeconds);
    try {
      await this.client.send(new UpdateItemCommand({
        TableName: this.tableName,
        Key: this.key(),
        UpdateExpression: 'SET holders.#h = :exp',
        ConditionExpression: 'attribute_exists(holders.#h)',
        ExpressionAttributeNames: { '#h': holder },
        ExpressionAttributeValues: { ':exp': { N: String(this.now() + leaseSeconds * 1000) } },
      }));
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      this.fail(err, 'renew');
    }
  }

  /**
   * Removes the leases that have expired (the last resort for a holder that never released). Each removal is
   * conditional on the expiry it saw, so a lease renewed in between is kept. Returns the reclaimed holders.
   */
  async reclaimExpired(seen?: Record<string, number>): Promise<string[]> {
    const holders = seen ?? holdersOf(await this.read());
    const now = this.now();
    const reclaimed: string[] = [];
    for (const [name, expiresAt] of Object.entries(holders)) {
      if (expiresAt > now) continue;
      try {
        await this.client.send(new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(),
          UpdateExpression: 'REMOVE holders.#h',
          ConditionExpression: 'holders.#h = :seen',
          ExpressionAttributeNames: { '#h': name },
          ExpressionAttributeValues: { ':seen': { N: String(expiresAt) } },
        }));
        reclaimed.push(name);
      } catch (err) {
        if (!isConditionFailed(err)) this.fail(err, 'reclaim');
      }
    }
    return reclaimed;
  }

  /** Holders, their lease expiries and the highest count seen ("peak in flight"), by a consistent read. */
  async state(): Promise<SemaphoreState> {
    const item = await this.read();
    const holders = holdersOf(item);
    return {
      inFlight: Object.keys(holders).length,
      peak: Number(item?.peak?.N ?? 0),
      holders: Object.entries(holders).map(([name, expiresAt]) => ({ name, expiresAt })),
    };
  }

  /** Sets the peak back to the present count (a bench or test starting a new measurement). */
  async resetPeak(): Promise<void> {
    const { inFlight } = await this.state();
    try {
      await this.client.send(new UpdateItemCommand({
        TableName: this.tableName,
        Key: this.key(),
        UpdateExpression: 'SET peak = :n',
        ConditionExpression: `attribute_exists(${SEMAPHORE_KEY})`,
        ExpressionAttributeValues: { ':n': { N: String(inFlight) } },
      }));
    } catch (err) {
      if (!isConditionFailed(err)) this.fail(err, 'create');
    }
  }

  private async read(): Promise<Record<string, AttributeValue> | undefined> {
    try {
      const res = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: this.key(), ConsistentRead: true }));
      return res.Item;
    } catch (err) {
      this.fail(err, 'read');
    }
  }

  /** Creates the empty semaphore item unless it exists (first use of a new table). */
  private async create(): Promise<void> {
    try {
      await this.client.send(new PutItemCommand({
        TableName: this.tableName,
        Item: { ...this.key(), holders: { M: {} }, peak: { N: '0' } },
        ConditionExpression: `attribute_not_exists(${SEMAPHORE_KEY})`,
      }));
    } catch (err) {
      if (!isConditionFailed(err)) this.fail(err, 'create');
    }
  }

  /** The peak only grows; a write happens only when this grant set a new high. */
  private async raisePeak(inFlight: number, knownPeak: number): Promise<void> {
    if (inFlight <= knownPeak) return;
    try {
      await this.client.send(new UpdateItemCommand({
        TableName: this.tableName,
        Key: this.key(),
        UpdateExpression: 'SET peak = :n',
        ConditionExpression: 'attribute_not_exists(peak) OR peak < :n',
        ExpressionAttributeValues: { ':n': { N: String(inFlight) } },
      }));
    } catch {
      // A higher peak was written concurrently (fine), or the table hiccuped: the slot is granted either way.
    }
  }
}

function checkHolder(holder: string): void {
  if (typeof holder !== 'string' || holder.length === 0 || holder.length > MAX_HOLDER_LENGTH) {
    throw new AdmissionInputError(`holder must be an execution name of 1 to ${MAX_HOLDER_LENGTH} characters, got ${JSON.stringify(String(holder).slice(0, 100))}`);
  }
}

function checkSlots(n: number): number {
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_SLOTS) throw new AdmissionInputError(`maxSlots must be a whole number from 1 to ${MAX_SLOTS}, got ${n}`);
  return n;
}

function checkLease(s: number): number {
  if (!Number.isFinite(s) || s < 1 || s > MAX_LEASE_SECONDS) throw new AdmissionInputError(`leaseSeconds must be from 1 to ${MAX_LEASE_SECONDS}, got ${s}`);
  return s;
}
