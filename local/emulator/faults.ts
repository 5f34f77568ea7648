// Fault rules: kept in order, each used `times` times by the calls it matches.
import type { FaultRule, OstCall } from './types';

const CALLS: readonly OstCall[] = ['upload', 'init', 'slice', 'complete', 'cancel'];

export class FaultRuleError extends Error {
  readonly code = 'EMULATOR_BAD_FAULT';
  constructor(message: string) { super(message); this.name = 'FaultRuleError'; }
}

/** Validates a rule (from code or from JSON, where times may be "Infinity" or null) and returns a clean copy. */
export function normalizeRule(input: unknown): FaultRule {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new FaultRuleError('a fault rule must be an object');
  const r = input as Record<string, unknown>;
  const known = new Set(['call', 'sliceId', 'times', 'code', 'status', 'html', 'reset', 'delayMs', 'hang']);
  for (const k of Object.keys(r)) if (!known.has(k)) throw new FaultRuleError(`unknown fault rule field '${k}'`);
  if (typeof r.call !== 'string' || !CALLS.includes(r.call as OstCall)) {
    throw new FaultRuleError(`fault rule 'call' must be one of ${CALLS.join(', ')}`);
  }
  const rule: FaultRule = { call: r.call as OstCall };
  if (r.sliceId !== undefined) {
    if (rule.call !== 'slice') throw new FaultRuleError(`'sliceId' only applies to call 'slice'`);
    if (!Number.isInteger(r.sliceId) || (r.sliceId as number) < 0) throw new FaultRuleError(`'sliceId' must be a non-negative integer`);
    rule.sliceId = r.sliceId as number;
  }
  let times = r.times;
  if (times === 'Infinity' || times === null) times = Infinity;
  if (times !== undefined) {
    if (typeof times !== 'number' || !(times === Infinity || (Number.isInteger(times) && times >= 1))) {
      throw new FaultRuleError(`'times' must be a positive integer or Infinity`);
    }
    rule.times = times;
  }
  if (r.code !== undefined) {
    if (!Number.isInteger(r.code)) throw new FaultRuleError(`'code' must be an integer`);
    rule.code = r.code as number;
  }
  if (r.status !== undefined) {
    if (!Number.isInteger(r.status) || (r.status as number) < 200 || (r.status as number) > 599) {
      throw new FaultRuleError(`'status' must be an HTTP status between 200 and 599`);
    }
    rule.status = r.status as number;
  }
  if (r.html !== undefined) {
    if (typeof r.html !== 'boolean') throw new FaultRuleError(`'html' must be a boolean`);
    if (r.html) {
      if (rule.status === undefined || rule.code !== undefined) throw new FaultRuleError(`'html' needs 'status' and no 'code'`);
      rule.html = true;
    }
  }
  if (r.reset !== undefined) {
    if (r.reset !== 'before-body' && r.reset !== 'mid-body') throw new FaultRuleError(`'reset' must be 'before-body' or 'mid-body'`);
    rule.reset = r.reset;
  }
  if (r.delayMs !== undefined) {
    if (typeof r.delayMs !== 'number' || !Number.isFinite(r.delayMs) || r.delayMs < 0) throw new FaultRuleError(`'delayMs' must be a non-negative number`);
    rule.delayMs = r.delayMs;
  }
  if (r.hang !== undefined) {
    if (typeof r.hang !== 'boolean') throw new FaultRuleError(`'hang' must be a boolean`);
    if (r.hang) rule.hang = true;
  }
  const answers = rule.code !== undefined || rule.status !== undefined;
  if (rule.reset && (answers || rule.hang || rule.delayMs !== undefined)) {
    throw new FaultRuleError(`'reset' cannot be combined with code, status, delayMs or hang`);
  }
  if (rule.hang && (answers || rule.delayMs !== undefined)) throw new FaultRuleError(`'hang' cannot be combined with code, status or delayMs`);
  if (!answers && !rule.reset && !rule.hang && rule.delayMs === undefined) {
    throw new FaultRuleError('a fault rule needs one of code, status, reset, delayMs or hang');
  }
  return rule;
}

interface LiveRule { rule: FaultRule; remaining: number }

export class FaultQueue {
  private live: LiveRule[] = [];

  add(input: FaultRule | unknown): FaultRule {
    const rule = normalizeRule(input);
    this.live.push({ rule, remaining: rule.times ?? 1 });
    return rule;
  }

  clear(): void { this.live = []; }

  list(): FaultRule[] {
    return this.live.map(({ rule, remaining }) => ({ ...rule, times: remaining }));
  }

  /**
   * True when the first live rule for `call` names a slice id, so the match must wait until the slice id is read
   * from the body. Otherwise the first live rule (if any) applies whatever the slice id, and take() finds it now.
   */
  mustWaitForSliceId(call: OstCall): boolean {
    const first = this.live.find((l) => l.rule.call === call);
    return first !== undefined && first.rule.sliceId !== undefined;
  }

  /** Uses and returns the first live rule matching the call (and slice id, when the rule names one). */
  take(call: OstCall, sliceId?: number): FaultRule | undefined {
    const i = this.live.findIndex((l) => l.rule.call === call && (l.rule.sliceId === undefined || l.rule.sliceId === sliceId));
    if (i < 0) return undefined;
    const l = this.live[i]!;
    l.remaining -= 1;
    if (l.remaining <= 0) this.live.splice(i, 1);
    return l.rule;
  }
}
