// Fault suite, part 1: every OST code 10001–10007 at init, each slice (first, middle, last), complete and cancel,
// and at the simple upload — through the whole local pipeline, each scenario checked by the shared invariant
// checker (test/support/faults.ts).
import { defineFaultSuite, MiB, KiB, type Scenario } from './support/faults';

const MULTI = 12 * MiB; // slices 1, 2, 3 (5 + 5 + 2 MiB), one batch each
const SIMPLE = 64 * KiB;
const TRANSIENT = [10002, 10003, 10004, 10006, 10007];
const SERVER_ERROR = 'OstServerError';


function scenarios(): Scenario[] {
  const out: Scenario[] = [];
  const at: Array<[string, { call: 'init' | 'slice' | 'complete'; sliceId?: number }]> = [
    ['init', { call: 'init' }], ['first slice', { call: 'slice', sliceId: 1 }], ['middle slice', { call: 'slice', sliceId: 2 }],
    ['last slice', { call: 'slice', sliceId: 3 }], ['complete', { call: 'complete' }],
  ];
  for (const [where, rule] of at) {
    out.push({ name: `10001 at ${where}`, size: MULTI, ost: [{ ...rule, code: 10001, times: 1 }], expect: 'failed', error: 'OstInvalidRequestError', ostCode: 10001,
      verify: (r) => r.calls.filter((c) => c.fault).length === 1 ? [] : ['10001 was retried'] });
    for (const code of TRANSIENT) {
      out.push({ name: `${code} at ${where} (twice)`, size: MULTI, ost: [{ ...rule, code, times: 2 }], expect: 'forwarded' });
    }
    if (rule.call === 'init') {
      out.push({ name: `10005 at init`, size: MULTI, ost: [{ ...rule, code: 10005, times: 1 }], expect: 'failed', error: 'OstUploadExpiredError', ostCode: 10005 });
    } else {
      out.push({ name: `10005 at ${where}: restart from init`, size: MULTI, ost: [{ ...rule, code: 10005, times: 1 }], expect: 'forwarded',
        verify: (r) => r.versions[0]?.record?.restarts === 1 ? [] : [`restarts ${r.versions[0]?.record?.restarts}, expected 1`] });
    }
  }
  out.push({ name: '10005 at every complete: restarts bounded (MAX_RESTARTS=2)', size: MULTI, ost: [{ call: 'complete', code: 10005, times: Infinity }], expect: 'failed', error: 'OstUploadExpiredError', ostCode: 10005,
    verify: (r) => r.calls.filter((c) => c.call === 'init').length === 3 ? [] : [`${r.calls.filter((c) => c.call === 'init').length} inits, expected 3`] });
  out.push({ name: 'transient 10002 at a slice, every time: retries exhausted, cancelled', size: MULTI, ost: [{ call: 'slice', sliceId: 2, code: 10002, times: Infinity }], expect: 'failed', error: SERVER_ERROR, ostCode: 10002 });
  // cancel faults only matter on a failure path: a fatal slice error, then the cancel fails
  const fatal = { call: 'slice' as const, sliceId: 2, code: 10001, times: Infinity };
  for (const code of [10001, ...TRANSIENT, 10005]) {
    out.push({
      name: `${code} at cancel (after a fatal 10001 at slice 2)`, size: MULTI, ost: [fatal, { call: 'cancel', code, times: 1 }], expect: 'failed', error: 'OstInvalidRequestError', ostCode: 10001,
      // 10001 is never retried, cancel included: OST refused to cancel, the upload waits for OST's idle expiry
      ...(code === 10001 ? { known: 'orphaned' as const } : {}),
      verify: (r) => {
        const rec = r.versions[0]?.record;
        if (TRANSIENT.includes(code)) return rec?.cancelled === true ? [] : ['not cancelled after a transient cancel fault'];
        return rec?.cancelled === false && rec.cancelReason?.includes(String(code)) ? [] : [`record: cancelled=${rec?.cancelled} reason=${rec?.cancelReason}`];
      },
    });
  }
  for (const code of [10001, 10002, 10005]) {
    out.push({ name: `${code} at the simple upload`, size: SIMPLE, ost: [{ call: 'upload', code, times: code === 10002 ? 2 : 1 }], expect: code === 10002 ? 'forwarded' : 'failed' });
  }
  return out;
}

describe('fault suite: OST codes through the whole pipeline', () => {
  defineFaultSuite('ost-codes', scenarios);
});
