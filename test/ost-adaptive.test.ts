// Adaptive slices in flight: halve once per throttling event, grow by one per round of successes, never below
// the floor, and waiters proceed as places free up.
import { AdaptiveConcurrency } from '../lib/ost/adaptive';

describe('adaptive slices in flight (AIMD)', () => {
  it('halves once for a burst of throttles that were all in flight together', async () => {
    const ac = new AdaptiveConcurrency({ max: 8 });
    const permits = await Promise.all(Array.from({ length: 8 }, () => ac.acquire()));
    for (const p of permits) p.release('throttled');
    expect(ac.limit).toBe(4);
    expect(ac.decreases).toBe(1);
    // a throttle of a slice sent after the decrease is a new event
    const p = await ac.acquire();
    p.release('throttled');
    expect(ac.limit).toBe(2);
  });

  it('grows by one after a full round of successes, up to max, and never drops below min', async () => {
    const ac = new AdaptiveConcurrency({ max: 4, min: 1 });
    for (let i = 0; i < 3; i++) (await ac.acquire()).release('throttled');
    expect(ac.limit).toBe(1);
    (await ac.acquire()).release('throttled');
    expect(ac.limit).toBe(1); // floor
    (await ac.acquire()).release('success');
    expect(ac.limit).toBe(2); // one success at limit 1 is a round
    (await ac.acquire()).release('success');
    expect(ac.limit).toBe(2);
    (await ac.acquire()).release('success');
    expect(ac.limit).toBe(3);
    for (let i = 0; i < 10; i++) (await ac.acquire()).release('success');
    expect(ac.limit).toBe(4);
    (await ac.acquire()).release('other'); // a non-throttle failure changes nothing
    expect(ac.limit).toBe(4);
  });

  it('holds acquirers beyond the limit until a place frees; never more in flight than the limit', async () => {
    const ac = new AdaptiveConcurrency({ max: 2 });
    let peak = 0;
    const order: number[] = [];
    await Promise.all(Array.from({ length: 6 }, async (_, i) => {
      const p = await ac.acquire();
      peak = Math.max(peak, ac.inFlight);
      await new Promise((r) => setTimeout(r, 5));
      order.push(i);
      p.release('success');
    }));
    expect(peak).toBe(2);
    expect(order).toHaveLength(6);
  });

  it('an aborted wait rejects with the signal reason and leaves no ghost waiter', async () => {
    const ac = new AdaptiveConcurrency({ max: 1 });
    const held = await ac.acquire();
    const stop = new AbortController();
    const waiting = ac.acquire(stop.signal);
    stop.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    held.release('success');
    held.release('success'); // twice: no effect
    expect(ac.inFlight).toBe(0);
    const next = await ac.acquire();
    expect(ac.inFlight).toBe(1);
    next.release('success');
  });
});
