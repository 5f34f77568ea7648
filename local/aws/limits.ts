// The AWS limits that bite at scale, for the local stack to enforce (each configurable, scaled down in tests):
// Lambda concurrency (TooManyRequestsException beyond it), open Distributed Map Runs (an error beyond it), and
// the StartExecution rate (a token bucket; ThrottlingException when empty). Each limit counts what it admitted
// and refused and keeps its peak, so a fleet test can assert "peak Map Runs ≤ 4" from the limit itself.
//
// The error shapes follow the AWS answers as the SDK surfaces them (name, HTTP status in $metadata). Inside a
// workflow, Step Functions reports a throttled Lambda invoke as `Lambda.TooManyRequestsException`; what AWS
// names a Map Run refused by the open-Map-Run quota is not documented where we looked, so that name is a
// parameter (default MapRunLimitExceeded).

export interface LimitStats {
  name: string;
  max: number;
  current: number;
  peak: number;
  admitted: number;
  refused: number;
}

type ErrorFactory = () => Error;

function awsError(name: string, message: string, status: number, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: status }, ...extra });
}

export const lambdaThrottled = (functionName: string): Error =>
  awsError('TooManyRequestsException', `Rate Exceeded. (local Lambda concurrency limit, function ${functionName})`, 429, { Reason: 'ConcurrentInvocationLimitExceeded', Type: 'User' });
export const startExecutionThrottled = (): Error => awsError('ThrottlingException', 'Rate exceeded (local StartExecution rate limit)', 400);
export const mapRunLimited = (name = 'MapRunLimitExceeded'): Error => awsError(name, 'The maximum number of open Map Runs is reached (local limit)', 400);

/** At most `max` at once; `enter()` beyond it throws the limit's error instead of waiting. */
export class ConcurrencyLimit {
  private active = 0;
  private stats = { peak: 0, admitted: 0, refused: 0 };

  constructor(readonly name: string, readonly max: number, private readonly refuse: ErrorFactory) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`${name}: limit must be a whole number ≥ 1, got ${max}`);
  }

  /** Takes a place or throws; the returned function gives it back (calling it twice gives back once). */
  enter(): () => void {
    if (this.active >= this.max) {
      this.stats.refused++;
      throw this.refuse();
    }
    this.active++;
    this.stats.admitted++;
    if (this.active > this.stats.peak) this.stats.peak = this.active;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.active--;
    };
  }

  /** Runs `fn` inside a place (refused at once when full). */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const leave = this.enter();
    try {
      return await fn();
    } finally {
      leave();
    }
  }

  snapshot(): LimitStats {
    return { name: this.name, max: this.max, current: this.active, ...this.stats };
  }
}

/** A token bucket: `burst` tokens, refilled at `perSecond`; `take()` with none left throws the limit's error. */
export class RateLimit {
  private tokens: number;
  private last: number;
  private stats = { admitted: 0, refused: 0 };

  constructor(
    readonly name: string,
    readonly burst: number,
    readonly perSecond: number,
    private readonly refuse: ErrorFactory,
    private readonly now: () => number = Date.now,
  ) {
    if (!(burst >= 1) || !(perSecond > 0)) throw new RangeError(`${name}: burst must be ≥ 1 and perSecond > 0`);
    this.tokens = burst;
    this.last = now();
  }

  take(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    if (this.tokens < 1) {
      this.stats.refused++;
      throw this.refuse();
    }
    this.tokens -= 1;
    this.stats.admitted++;
  }

  snapshot(): { name: string; burst: number; perSecond: number; admitted: number; refused: number } {
    return { name: this.name, burst: this.burst, perSecond: this.perSecond, ...this.stats };
  }
}

export interface FleetLimitOptions {
  /** Concurrent Lambda invocations across all functions (the account's unreserved pool). */
  lambdaConcurrency?: number;
  /** Open Distributed Map Runs. */
  openMapRuns?: number;
  /** StartExecution: burst and refill per second. */
  startExecution?: { burst: number; perSecond: number };
  mapRunErrorName?: string;
  now?: () => number;
}

/** The limits of one local account, absent ones unlimited. */
export function fleetLimits(o: FleetLimitOptions) {
  return {
    lambda: o.lambdaConcurrency ? new ConcurrencyLimit('lambda-concurrency', o.lambdaConcurrency, () => lambdaThrottled('*')) : undefined,
    mapRuns: o.openMapRuns ? new ConcurrencyLimit('open-map-runs', o.openMapRuns, () => mapRunLimited(o.mapRunErrorName)) : undefined,
    startExecution: o.startExecution ? new RateLimit('start-execution', o.startExecution.burst, o.startExecution.perSecond, startExecutionThrottled, o.now) : undefined,
  };
}

/** A limit that admits (answering the function that gives the place back) or throws. */
export interface EnterLimit { enter(): () => void }

/** Enters `limit`, pausing `pauseMs` after each refusal, while `wanted()`; gives a no-op once it is not. */
export async function waitForPlace(limit: EnterLimit, pauseMs: number, wanted: () => boolean): Promise<() => void> {
  for (;;) {
    try {
      return limit.enter();
    } catch {
      if (!wanted()) return () => undefined;
      await new Promise((r) => setTimeout(r, Math.max(5, pauseMs)));
    }
  }
}
