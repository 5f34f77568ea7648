// The gateway's flow control, off unless limits are given: a call beyond `maxConcurrency` in flight is answered
// 11202, one beyond `maxQps` admitted calls in the last second 11203 (HTTP 200, no effect), like the iFlytek
// gateway in front of its APIs. Only admitted calls count as in flight and towards the rate.

export type ThrottleReason = 'concurrency' | 'rate';

export const THROTTLE_CODES: Readonly<Record<ThrottleReason, number>> = Object.freeze({ concurrency: 11202, rate: 11203 });

export interface GatewayLimits {
  /** Most admitted calls in flight at once; undefined = unlimited. */
  maxConcurrency?: number;
  /** Most admitted calls per sliding second; undefined = unlimited. */
  maxQps?: number;
}

export interface GatewayStats {
  /** Admitted calls not yet ended. */
  inFlight: number;
  /** Most admitted calls in flight at any moment since start. */
  peakConcurrency: number;
  /** Calls admitted past the gateway (faulted calls that never reach it are not counted). */
  admitted: number;
  /** Calls answered 11202 / 11203. */
  throttled: { concurrency: number; rate: number };
}

export class Gateway {
  private inFlight = 0;
  private peak = 0;
  private admittedCount = 0;
  private readonly throttledCount = { concurrency: 0, rate: 0 };
  /** Admission times (ms) within the last second, oldest first; at most maxQps long. */
  private readonly recent: number[] = [];

  constructor(readonly limits: Readonly<GatewayLimits>, private readonly now: () => number = Date.now) {}

  /**
   * Decides a call at arrival. Returns the reason it is throttled, or a release function to call exactly once
   * when the admitted call ends.
   */
  admit(): ThrottleReason | (() => void) {
    const { maxConcurrency, maxQps } = this.limits;
    if (maxConcurrency !== undefined && this.inFlight >= maxConcurrency) {
      this.throttledCount.concurrency += 1;
      return 'concurrency';
    }
    const t = this.now();
    if (maxQps !== undefined) {
      while (this.recent.length > 0 && t - this.recent[0]! >= 1000) this.recent.shift();
      if (this.recent.length >= maxQps) {
        this.throttledCount.rate += 1;
        return 'rate';
      }
      this.recent.push(t);
    }
    this.admittedCount += 1;
    this.inFlight += 1;
    if (this.inFlight > this.peak) this.peak = this.inFlight;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight -= 1;
    };
  }

  /** Starts the counters afresh (peak = what is in flight now); in-flight calls and the rate window are kept. */
  reset(): void {
    this.peak = this.inFlight;
    this.admittedCount = 0;
    this.throttledCount.concurrency = 0;
    this.throttledCount.rate = 0;
  }

  stats(): GatewayStats {
    return {
      inFlight: this.inFlight,
      peakConcurrency: this.peak,
      admitted: this.admittedCount,
      throttled: { ...this.throttledCount },
    };
  }
}
