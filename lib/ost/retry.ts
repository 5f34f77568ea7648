// The one retry policy of the OST client: exponential backoff with full jitter, decided only by isRetryable.
// Throttling (11202/11203, HTTP 429) backs off from a larger base, since the service asked us to slow down.
import { isRetryable, OstThrottledError } from './errors';

export interface RetryPolicy {
  /** Total attempts, including the first (1 = no retry). */
  attempts: number;
  /** Base of the exponential backoff. */
  baseDelayMs: number;
  /** Cap of a single delay. */
  maxDelayMs: number;
  /** Base used after a throttled error instead of baseDelayMs. */
  throttledBaseDelayMs?: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<Required<RetryPolicy>> = Object.freeze({
  attempts: 5,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
  throttledBaseDelayMs: 2_000,
});

export function retryPolicy(overrides: Partial<RetryPolicy> = {}): Required<RetryPolicy> {
  const p = { ...DEFAULT_RETRY_POLICY, ...stripUndefined(overrides) };
  if (!Number.isInteger(p.attempts) || p.attempts < 1) throw new RangeError(`retry attempts must be >= 1, got ${p.attempts}`);
  for (const k of ['baseDelayMs', 'maxDelayMs', 'throttledBaseDelayMs'] as const) {
    if (!Number.isFinite(p[k]) || p[k] < 0) throw new RangeError(`retry ${k} must be >= 0, got ${p[k]}`);
  }
  return p;
}

/**
 * Delay before the next attempt after `failures` failed attempts (1-based): uniform in
 * [0, min(cap, base * 2^(failures-1))] ("full jitter", which spreads parallel slices apart).
 */
export function backoffDelay(
  policy: Required<RetryPolicy>,
  failures: number,
  error: unknown,
  random: () => number = Math.random,
): number {
  const base = error instanceof OstThrottledError ? policy.throttledBaseDelayMs : policy.baseDelayMs;
  const ceiling = Math.min(policy.maxDelayMs, base * 2 ** Math.max(0, failures - 1));
  return Math.floor(random() * ceiling);
}

export interface RetryHooks {
  signal?: AbortSignal;
  /** Called before sleeping for a retry. */
  onRetry?: (error: unknown, failures: number, delayMs: number) => void;
  random?: () => number;
}

/** Runs `attempt(n)` (n = 1, 2, ...) until it succeeds, fails with a non-retryable error, or attempts run out. */
export async function withRetry<T>(
  policy: Required<RetryPolicy>,
  attempt: (n: number) => Promise<T>,
  hooks: RetryHooks = {},
): Promise<T> {
  for (let n = 1; ; n++) {
    hooks.signal?.throwIfAborted();
    try {
      return await attempt(n);
    } catch (err) {
      if (hooks.signal?.aborted || !isRetryable(err) || n >= policy.attempts) throw err;
      const delay = backoffDelay(policy, n, err, hooks.random);
      hooks.onRetry?.(err, n, delay);
      await sleep(delay, hooks.signal);
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(timer); reject(signal!.reason); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
