import {
  OstAuthError, OstInvalidRequestError, OstServerError, OstThrottledError, OstUploadExpiredError, SourceReadError, TransportError,
} from '../lib/ost/errors';
import { backoffDelay, DEFAULT_RETRY_POLICY, retryPolicy, withRetry } from '../lib/ost/retry';

const fast = retryPolicy({ attempts: 4, baseDelayMs: 1, maxDelayMs: 2, throttledBaseDelayMs: 1 });

describe('retry policy', () => {
  it('defaults to 5 attempts, 200 ms base, 10 s cap, larger base when throttled', () => {
    expect(DEFAULT_RETRY_POLICY).toEqual({ attempts: 5, baseDelayMs: 200, maxDelayMs: 10_000, throttledBaseDelayMs: 2_000 });
  });

  it('backs off exponentially with full jitter under the cap', () => {
    const p = retryPolicy();
    const one = () => 0.999999;
    expect(backoffDelay(p, 1, new OstServerError('x'), one)).toBe(199);
    expect(backoffDelay(p, 2, new OstServerError('x'), one)).toBe(399);
    expect(backoffDelay(p, 4, new OstServerError('x'), one)).toBe(1599);
    expect(backoffDelay(p, 20, new OstServerError('x'), one)).toBe(9999);
    expect(backoffDelay(p, 1, new OstThrottledError('x'), one)).toBe(1999);
    expect(backoffDelay(p, 3, new OstServerError('x'), () => 0)).toBe(0);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(p, 3, new TransportError('x'));
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(800);
    }
  });

  it('validates overrides', () => {
    expect(() => retryPolicy({ attempts: 0 })).toThrow(RangeError);
    expect(() => retryPolicy({ baseDelayMs: -1 })).toThrow(RangeError);
    expect(retryPolicy({ attempts: undefined }).attempts).toBe(5);
  });

  it.each([
    ['server', new OstServerError('x', { ostCode: 10002 })],
    ['throttled', new OstThrottledError('x', { ostCode: 11202 })],
    ['transport', new TransportError('x')],
    ['source read', new SourceReadError('x')],
  ])('retries a %s error until it succeeds', async (_name, error) => {
    let calls = 0;
    const onRetry = jest.fn();
    const result = await withRetry(fast, async (n) => { calls++; if (n < 3) throw error; return 'ok'; }, { onRetry });
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(onRetry).toHaveBeenCalledTimes(2);
  });

  it.each([
    ['invalid request (10001)', new OstInvalidRequestError('x', { ostCode: 10001 })],
    ['upload expired (10005)', new OstUploadExpiredError('x', { ostCode: 10005 })],
    ['auth', new OstAuthError('x', { status: 401 })],
    ['a plain bug', new TypeError('x')],
  ])('does not retry %s', async (_name, error) => {
    let calls = 0;
    await expect(withRetry(fast, async () => { calls++; throw error; })).rejects.toBe(error);
    expect(calls).toBe(1);
  });

  it('gives up after the last attempt with the last error', async () => {
    let calls = 0;
    const err = await withRetry(fast, async () => { calls++; throw new OstServerError(`fail ${calls}`); }).catch((e) => e);
    expect(calls).toBe(4);
    expect(err.message).toBe('fail 4');
  });

  it('stops waiting when aborted', async () => {
    const ac = new AbortController();
    const slow = retryPolicy({ attempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 });
    const started = Date.now();
    const p = withRetry(slow, async () => { throw new OstServerError('x'); }, { signal: ac.signal, random: () => 1 });
    setTimeout(() => ac.abort(new Error('stop')), 20);
    await expect(p).rejects.toThrow('stop');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
