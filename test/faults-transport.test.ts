// Fault suite, part 2: HTTP statuses, throttling, connection resets, a slow server past the client's timeout and a
// server that takes the body and never answers — at init, slices, complete, cancel and the simple upload.
// The client's response timeout is 1.5 s here (OST_RESPONSE_TIMEOUT_MS in test/support/faults.ts).
import { defineFaultSuite, MiB, KiB, type Scenario, type ScenarioResult } from './support/faults';

const MULTI = 12 * MiB;
const SIMPLE = 64 * KiB;
const SLOW = 2500; // past the 1.5 s response timeout

const retried = (call: string, n: number) => (r: ScenarioResult) =>
  r.calls.filter((c) => c.call === call).length >= n ? [] : [`${call} called ${r.calls.filter((c) => c.call === call).length} times, expected >= ${n}`];
const cancelled = (r: ScenarioResult) => (r.versions[0]?.record?.cancelled === true ? [] : ['upload not cancelled']);

function scenarios(): Scenario[] {
  return [
    { name: 'HTTP 401 at the middle slice: fatal, cancelled', size: MULTI, ost: [{ call: 'slice', sliceId: 2, status: 401 }], expect: 'failed', error: 'OstAuthError', verify: cancelled },
    { name: 'HTTP 401 at init: fatal, nothing to cancel', size: MULTI, ost: [{ call: 'init', status: 401 }], expect: 'failed', error: 'OstAuthError' },
    { name: 'HTTP 401 at the simple upload', size: SIMPLE, ost: [{ call: 'upload', status: 401 }], expect: 'failed', error: 'OstAuthError' },
    { name: 'HTTP 429 twice at the first slice: backed off, forwarded', size: MULTI, ost: [{ call: 'slice', sliceId: 1, status: 429, times: 2 }], expect: 'forwarded', verify: retried('slice', 5) },
    { name: '11202 twice at the last slice: backed off, forwarded', size: MULTI, ost: [{ call: 'slice', sliceId: 3, code: 11202, times: 2 }], expect: 'forwarded' },
    { name: '11203 twice at complete: backed off, forwarded', size: MULTI, ost: [{ call: 'complete', code: 11203, times: 2 }], expect: 'forwarded' },
    { name: '11202 at every init: client and state machine retries exhausted', size: MULTI, ost: [{ call: 'init', code: 11202, times: Infinity }], expect: 'failed', error: 'OstThrottledError', ostCode: 11202 },
    { name: '11200 (licence) at the middle slice: fatal, cancelled', size: MULTI, ost: [{ call: 'slice', sliceId: 2, code: 11200 }], expect: 'failed', error: 'OstQuotaError', ostCode: 11200, verify: cancelled },
    ...[500, 502, 503].map((status): Scenario => ({ name: `HTTP ${status} twice at the middle slice`, size: MULTI, ost: [{ call: 'slice', sliceId: 2, status, times: 2 }], expect: 'forwarded' })),
    { name: 'HTTP 503 twice at init', size: MULTI, ost: [{ call: 'init', status: 503, times: 2 }], expect: 'forwarded' },
    { name: 'HTTP 502 twice at complete', size: MULTI, ost: [{ call: 'complete', status: 502, times: 2 }], expect: 'forwarded' },
    // A 5xx is outage-class: waited out within the outage budget (docs/admission.md), the upload kept open.
    {
      name: 'HTTP 500 at the middle slice 8 times (past the client\'s retries, twice): waited out, forwarded, not cancelled', size: MULTI,
      ost: [{ call: 'slice', sliceId: 2, status: 500, times: 8 }], expect: 'forwarded',
      verify: (r) => [...retried('slice', 11)(r), ...(r.calls.some((c) => c.call === 'cancel') ? ['cancelled'] : [])],
    },
    { name: 'connection reset mid-slice (middle slice)', size: MULTI, ost: [{ call: 'slice', sliceId: 2, reset: 'mid-body' }], expect: 'forwarded' },
    { name: 'connection reset before the body (last slice)', size: MULTI, ost: [{ call: 'slice', sliceId: 3, reset: 'before-body' }], expect: 'forwarded' },
    { name: 'connection reset mid-body of the simple upload', size: SIMPLE, ost: [{ call: 'upload', reset: 'mid-body' }], expect: 'forwarded' },
    { name: 'connection reset at complete', size: MULTI, ost: [{ call: 'complete', reset: 'before-body' }], expect: 'forwarded' },
    { name: 'slow server, still inside the timeout (1 s at a slice)', size: MULTI, ost: [{ call: 'slice', sliceId: 2, delayMs: 1000 }], expect: 'forwarded' },
    { name: 'slow server past the timeout at the middle slice (stored, answer lost): re-sent', size: MULTI, ost: [{ call: 'slice', sliceId: 2, delayMs: SLOW }], expect: 'forwarded' },
    {
      name: 'slow server past the timeout at complete (completed, answer lost): fails, never restarts', size: MULTI, ost: [{ call: 'complete', delayMs: SLOW }],
      expect: 'failed', error: 'OstCompleteUncertainError', ostCode: 10005,
      verify: (r) => (r.calls.filter((c) => c.call === 'init').length === 1 ? [] : ['restarted from init']),
    },
    {
      name: 'slow server past the timeout at init (inited, answer lost)', size: MULTI, ost: [{ call: 'init', delayMs: SLOW }], expect: 'forwarded',
      // OST never told us the first upload_id: nothing can cancel it; it waits for OST's idle expiry
      known: 'orphaned',
    },
    { name: 'slow server past the timeout at cancel (after a fatal slice error)', size: MULTI, ost: [{ call: 'slice', sliceId: 1, code: 10001 }, { call: 'cancel', delayMs: SLOW }], expect: 'failed', error: 'OstInvalidRequestError' },
    { name: 'server takes the middle slice and never answers', size: MULTI, ost: [{ call: 'slice', sliceId: 2, hang: true }], expect: 'forwarded' },
    {
      name: 'slow server past the timeout at the simple upload (stored, answer lost): fails, never re-sent', size: SIMPLE, ost: [{ call: 'upload', delayMs: SLOW }],
      // the simple upload has no id: re-sending after a lost answer would store the file a second time
      expect: 'failed', error: 'OstUploadUncertainError',
      verify: (r) => (r.calls.filter((c) => c.call === 'upload').length === 1 ? [] : ['simple upload sent again']),
    },
    { name: 'server takes init and never answers', size: MULTI, ost: [{ call: 'init', hang: true }], expect: 'forwarded' },
    { name: 'server takes complete and never answers', size: MULTI, ost: [{ call: 'complete', hang: true }], expect: 'forwarded' },
    { name: 'server takes the simple upload and never answers: fails, never re-sent', size: SIMPLE, ost: [{ call: 'upload', hang: true }], expect: 'failed', error: 'OstUploadUncertainError' },
    { name: 'server takes cancel and never answers (after a fatal slice error)', size: MULTI, ost: [{ call: 'slice', sliceId: 3, code: 10001 }, { call: 'cancel', hang: true }], expect: 'failed', error: 'OstInvalidRequestError', verify: cancelled },
  ];
}

describe('fault suite: HTTP, throttling, resets, slow and silent servers', () => {
  defineFaultSuite('transport', scenarios);
});
