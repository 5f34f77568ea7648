// How long a throttled file may wait, as one number (THROTTLE_BUDGET_SECONDS), turned into the state machine's
// retrier for OstThrottledError (and Lambda.TooManyRequestsException): waiting in Step Functions costs one state
// transition per attempt and no Lambda time. With JitterStrategy FULL each delay is uniform in [0, ceiling], so
// the attempts are counted on the expected wait (half the ceilings), not on the worst case. See docs/admission.md.

export const DEFAULT_THROTTLE_BUDGET_SECONDS = 1800;
/**
 * How long a file in flight waits out an OST outage (OUTAGE_BUDGET_SECONDS): 4 hours, longer than the
 * maintenance windows vendors announce (typically 1–2 h at night) with room for a slow recovery.
 */
export const DEFAULT_OUTAGE_BUDGET_SECONDS = 14_400;
/** The outage retrier's shape: 30 s doubling to a 10-minute cap, so a recovered gateway is tried within ~5 min. */
export const OUTAGE_RETRIER_SHAPE: Required<RetrierShape> = { intervalSeconds: 30, backoffRate: 2, maxDelaySeconds: 600 };

export interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds: number;
  BackoffRate: number;
  MaxDelaySeconds: number;
  MaxAttempts: number;
  JitterStrategy: 'FULL';
}

export interface RetrierShape {
  intervalSeconds?: number;
  backoffRate?: number;
  maxDelaySeconds?: number;
}

/** The delay ceilings of attempts 1..n. */
export function delayCeilings(n: number, shape: Required<RetrierShape>): number[] {
  return Array.from({ length: n }, (_, k) => Math.min(shape.maxDelaySeconds, shape.intervalSeconds * shape.backoffRate ** k));
}

/** The fewest attempts whose expected total wait (full jitter: half the ceilings) reaches the budget. */
export function throttleRetrier(errorEquals: string[], budgetSeconds = DEFAULT_THROTTLE_BUDGET_SECONDS, shape: RetrierShape = {}): Retrier {
  const s: Required<RetrierShape> = { intervalSeconds: 30, backoffRate: 2, maxDelaySeconds: 300, ...shape };
  if (!(budgetSeconds > 0) || budgetSeconds > 366 * 86400) throw new RangeError(`throttle budget must be from 1 s to a year, got ${budgetSeconds}`);
  if (!(s.intervalSeconds >= 1) || !(s.backoffRate >= 1) || !(s.maxDelaySeconds >= s.intervalSeconds)) throw new RangeError('retrier shape: intervalSeconds ≥ 1, backoffRate ≥ 1, maxDelaySeconds ≥ intervalSeconds');
  let expected = 0;
  let n = 0;
  while (expected < budgetSeconds) {
    expected += Math.min(s.maxDelaySeconds, s.intervalSeconds * s.backoffRate ** n) / 2;
    n++;
  }
  return { ErrorEquals: errorEquals, IntervalSeconds: s.intervalSeconds, BackoffRate: s.backoffRate, MaxDelaySeconds: s.maxDelaySeconds, MaxAttempts: n, JitterStrategy: 'FULL' };
}

/** The retrier of outage-class errors (lib/ost/errors.ts OUTAGE_ERROR_NAMES): the throttle's discipline, its own budget. */
export function outageRetrier(errorEquals: string[], budgetSeconds = DEFAULT_OUTAGE_BUDGET_SECONDS): Retrier {
  return throttleRetrier(errorEquals, budgetSeconds, OUTAGE_RETRIER_SHAPE);
}

/** Expected and longest total wait of a retrier (seconds). */
export function retrierWait(r: Pick<Retrier, 'IntervalSeconds' | 'BackoffRate' | 'MaxDelaySeconds' | 'MaxAttempts'>): { expected: number; longest: number } {
  const longest = delayCeilings(r.MaxAttempts, { intervalSeconds: r.IntervalSeconds, backoffRate: r.BackoffRate, maxDelaySeconds: r.MaxDelaySeconds }).reduce((a, b) => a + b, 0);
  return { expected: longest / 2, longest };
}
