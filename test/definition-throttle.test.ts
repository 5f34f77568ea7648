// The throttle budget (lib/workflow/throttle-budget.ts) is what the definition's throttling retriers wait: every retrier on
// OstThrottledError (11202, 11203, 429) and on Lambda.TooManyRequestsException has throttleRetrier's attempts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_THROTTLE_BUDGET_SECONDS, retrierWait, throttleRetrier } from '../lib/workflow/throttle-budget';

type Json = any;
const DEF = parse(readFileSync(join(__dirname, '..', 'statemachine', 'definition.yml'), 'utf8')) as Json;

function retriers(states: Record<string, Json>): Array<{ state: string; r: Json }> {
  return Object.entries(states).flatMap(([name, s]) => [
    ...((s.Retry ?? []) as Json[]).map((r) => ({ state: name, r })),
    ...(s.ItemProcessor ? retriers(s.ItemProcessor.States) : []),
  ]);
}

describe('throttle budget in the definition', () => {
  const all = retriers(DEF.States);
  const budget = throttleRetrier([], DEFAULT_THROTTLE_BUDGET_SECONDS);

  it.each(['OstThrottledError', 'Lambda.TooManyRequestsException'])('%s waits the budget in every state that retries it', (name) => {
    const found = all.filter(({ r }) => r.ErrorEquals.includes(name));
    expect(found.length).toBeGreaterThan(0);
    for (const { r } of found) {
      expect({ ...r, ErrorEquals: [] }).toEqual({ ...budget, ErrorEquals: [] });
      expect(retrierWait(r).expected).toBeGreaterThanOrEqual(DEFAULT_THROTTLE_BUDGET_SECONDS);
    }
  });

  it('every Lambda task retries the concurrency limit', () => {
    const tasks = Object.entries(DEF.States as Record<string, Json>).filter(([, s]) => s.Type === 'Task');
    for (const [name, s] of tasks) expect([name, (s.Retry as Json[]).some((r) => r.ErrorEquals.includes('Lambda.TooManyRequestsException'))]).toEqual([name, true]);
  });
});
