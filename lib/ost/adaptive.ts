// Adaptive slices in flight (AIMD): after a throttle (11202/11203/429) the limit halves, once per throttling
// event; after a full round of successes at the current limit it grows by one, up to the configured maximum. So
// a throttled upload slows down instead of sending its whole concurrency into a gateway that refuses it, and
// speeds back up when the gateway lets it. Nothing AWS here: sendSlices (lib/ost/send.ts) takes a permit per slice
// and reports each throttled attempt as it happens (the client retries it meanwhile) and each slice's outcome.
//
// "Once per event": the slices in flight when a throttle arrives were sent at the old limit and will likely be
// throttled too; only a throttle of a slice started after the last decrease decreases again (an epoch).

export type PermitOutcome = 'success' | 'throttled' | 'other';

export interface Permit {
  /** Gives the place back and reports how the request ended. Calling it again does nothing. */
  release(outcome: PermitOutcome): void;
  /** Reports a throttled attempt while the request goes on (its retry); counts as the permit's throttle. */
  throttled(): void;
}

export interface AdaptiveOptions {
  /** The ceiling (SLICE_CONCURRENCY). */
  max: number;
  /** The floor; at least one slice keeps going so the upload always progresses. */
  min?: number;
}

export class AdaptiveConcurrency {
  readonly max: number;
  readonly min: number;
  private current: number;
  private active = 0;
  private epoch = 0;
  private successes = 0;
  private readonly waiting: Array<() => void> = [];
  /** Decreases so far (observable: "throttled N times"). */
  decreases = 0;

  constructor(o: AdaptiveOptions) {
    this.max = o.max;
    this.min = o.min ?? 1;
    if (!Number.isSafeInteger(this.max) || this.max < 1) throw new RangeError(`max must be a whole number ≥ 1, got ${o.max}`);
    if (!Number.isSafeInteger(this.min) || this.min < 1 || this.min > this.max) throw new RangeError(`min must be from 1 to max, got ${o.min}`);
    this.current = this.max;
  }

  get limit(): number {
    return this.current;
  }

  get inFlight(): number {
    return this.active;
  }

  /** Waits for a place under the current limit (rejects with the signal's reason when aborted). */
  async acquire(signal?: AbortSignal): Promise<Permit> {
    while (this.active >= this.current) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const wake = (): void => { signal?.removeEventListener('abort', onAbort); resolve(); };
        const onAbort = (): void => {
          const i = this.waiting.indexOf(wake);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(signal!.reason);
        };
        this.waiting.push(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    this.active++;
    const epoch = this.epoch;
    let released = false;
    let throttled = false;
    return {
      release: (outcome) => {
        if (released) return;
        released = true;
        this.active--;
        if (outcome === 'throttled' && !throttled) this.onThrottle(epoch);
        else if (outcome === 'success' && !throttled) this.onSuccess();
        this.wakeAll();
      },
      throttled: () => {
        if (released || throttled) return;
        throttled = true;
        this.onThrottle(epoch);
      },
    };
  }

  private onThrottle(startedIn: number): void {
    this.successes = 0;
    if (startedIn !== this.epoch) return; // sent before the last decrease: part of the same event
    this.epoch++;
    this.decreases++;
    this.current = Math.max(this.min, Math.floor(this.current / 2));
  }

  private onSuccess(): void {
    if (this.current >= this.max) return;
    if (++this.successes >= this.current) {
      this.successes = 0;
      this.current++;
    }
  }

  private wakeAll(): void {
    // Each woken waiter re-checks the limit; the ones that do not fit wait again.
    for (const wake of this.waiting.splice(0)) wake();
  }
}
