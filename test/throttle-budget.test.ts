// The throttle budget → the state machine's retrier: enough attempts that the expected wait reaches the budget,
// and no more.
import { throttleRetrier, retrierWait } from '../lib/workflow/throttle-budget';

describe('throttle budget', () => {
  it('30 minutes → 15 attempts of 30 s doubling to 300 s (expected ≈ 30 min, longest ≈ 1 h)', () => {
    const r = throttleRetrier(['OstThrottledError']);
    expect(r).toEqual({ ErrorEquals: ['OstThrottledError'], IntervalSeconds: 30, BackoffRate: 2, MaxDelaySeconds: 300, MaxAttempts: 15, JitterStrategy: 'FULL' });
    const w = retrierWait(r);
    expect(w.expected).toBeGreaterThanOrEqual(1800);
    expect(retrierWait({ ...r, MaxAttempts: r.MaxAttempts - 1 }).expected).toBeLessThan(1800);
    expect(w.longest).toBe(3750);
  });

  it('today\'s retrier (20 s ×2, 5 attempts) waits ≈ 5 min on average: the budget is what lengthens it', () => {
    expect(retrierWait({ IntervalSeconds: 20, BackoffRate: 2, MaxDelaySeconds: 300, MaxAttempts: 5 })).toEqual({ expected: 300, longest: 600 });
    expect(throttleRetrier(['X'], 120).MaxAttempts).toBe(4);
  });

  it('rejects a budget or shape that makes no sense', () => {
    expect(() => throttleRetrier(['X'], 0)).toThrow(RangeError);
    expect(() => throttleRetrier(['X'], 60, { intervalSeconds: 100, maxDelaySeconds: 50 })).toThrow(RangeError);
  });
});
