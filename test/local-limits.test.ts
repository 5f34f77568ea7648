// The local fleet limits on their own: refusal beyond the limit with the AWS-shaped error, places given back
// exactly once, peaks recorded, and a token bucket that refills with time.
import { ConcurrencyLimit, RateLimit, fleetLimits, lambdaThrottled } from '../local/aws/limits';
import { startFailure } from '../lib/intake/batch';

describe('local fleet limits', () => {
  it('a concurrency limit refuses the place beyond max with TooManyRequestsException (429) and records the peak', async () => {
    const limit = new ConcurrencyLimit('lambda', 3, () => lambdaThrottled('uploadSlices'));
    const gates: Array<() => void> = [];
    const running = Array.from({ length: 3 }, () => limit.run(() => new Promise<void>((r) => gates.push(r))));
    const refused = await limit.run(async () => 'ran').catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } });
    expect(limit.snapshot()).toMatchObject({ current: 3, peak: 3, admitted: 3, refused: 1 });
    gates.forEach((g) => g());
    await Promise.all(running);
    expect(await limit.run(async () => 'ran')).toBe('ran');
    expect(limit.snapshot()).toMatchObject({ current: 0, peak: 3, admitted: 4 });
  });

  it('giving a place back twice frees it once', () => {
    const limit = new ConcurrencyLimit('maps', 1, () => new Error('full'));
    const leave = limit.enter();
    leave();
    leave();
    const again = limit.enter();
    expect(() => limit.enter()).toThrow('full');
    again();
    expect(limit.snapshot().current).toBe(0);
  });

  it('a StartExecution token bucket throttles a burst and refills with time; the intake treats it as waiting', () => {
    let t = 0;
    const rate = new RateLimit('start', 5, 2, () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }), () => t);
    for (let i = 0; i < 5; i++) rate.take();
    let err: unknown;
    try { rate.take(); } catch (e) { err = e; }
    expect(startFailure(err)).toMatchObject({ transient: true, notCreated: true });
    t += 1000; // two tokens back
    rate.take();
    rate.take();
    expect(() => rate.take()).toThrow('Rate exceeded');
    expect(rate.snapshot()).toMatchObject({ admitted: 7, refused: 2 });
  });

  it('fleetLimits builds only the configured limits', () => {
    const l = fleetLimits({ lambdaConcurrency: 20, openMapRuns: 4 });
    expect(l.lambda?.max).toBe(20);
    expect(l.mapRuns?.max).toBe(4);
    expect(l.startExecution).toBeUndefined();
    for (let i = 0; i < 4; i++) l.mapRuns!.enter();
    expect(() => l.mapRuns!.enter()).toThrow(expect.objectContaining({ name: 'MapRunLimitExceeded' }));
  });
});
