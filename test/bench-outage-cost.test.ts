// The cost of waiting out an OST outage (bench/outage-cost.ts): a file in flight retries about once per 300 s
// once the outage retrier is at its cap (a transition and a short failing invocation each), a file in the intake
// costs no transition at all, and is the cheaper place to wait by far.
import { join } from 'node:path';
import { deploymentSettings } from '../bench/cost';
import { failingInvocationSeconds, outageCostTable } from '../bench/outage-cost';

const d = deploymentSettings(join(__dirname, '..'));
const [firstHour, laterHour, intakeFirst, intakeLater] = outageCostTable(d);

it('in flight: 12 retries an hour at the cap (600 s ceiling, full jitter), more in the first hour', () => {
  expect(laterHour!.transitions).toBe(12);
  expect(firstHour!.transitions).toBeGreaterThan(12);
  expect(laterHour!.invocations).toBe(laterHour!.transitions);
  expect(failingInvocationSeconds()).toBeCloseTo(5 * 0.3 + (0.1 + 0.2 + 0.4 + 0.8), 5);
});

it('in the intake: no transition, about 16 looks an hour shared by batches of 10, under a tenth of waiting in flight', () => {
  expect(intakeFirst!.transitions + intakeLater!.transitions).toBe(0);
  expect(intakeLater!.invocations).toBeCloseTo(1.6, 1);
  expect(intakeLater!.usd * 10).toBeLessThan(laterHour!.usd);
});
