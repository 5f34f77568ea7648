// Fault suite, part 4: workflow integrity on an unversioned bucket — a forwarded file never loses its
// outcome to a transient AWS error (records, events, attempt and init markers: SDK retries, then the state
// machine's), a partial PutEvents answer is a failure that is retried, a Prepare that gives up after init cancels
// its upload, and a HEAD or a ranged GET that disagrees with the event or the plan fails loudly before a byte is
// forwarded under the wrong name.
import { bytesFor, defineFaultSuite, MiB, KiB, type Scenario, type ScenarioResult } from './support/faults';

const MULTI = 12 * MiB;
const SIMPLE = 64 * KiB;
const SLICE2 = 5 * MiB;
const PREFIX = 'ost-forwarder/';

const cancelled = (r: ScenarioResult) => (r.versions.some((v) => v.record?.status === 'failed' && v.record.cancelled === true) ? [] : ['the failed version was not cancelled']);
const noInit = (r: ScenarioResult) => (r.calls.some((c) => c.call === 'init') ? ['init happened'] : []);
const noSlices = (r: ScenarioResult) => (r.calls.some((c) => c.call === 'slice' || c.call === 'upload') ? ['bytes were sent'] : []);
const oneRecord = (r: ScenarioResult) => (r.versions.length === 1 && r.versions[0]!.record ? [] : ['no record']);
const retried = (r: ScenarioResult) => (r.versions.some((v) => v.execution.retries.length > 0) ? [] : ['no state retry']);
const partial = { FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'injected partial failure' }] };

function scenarios(): Scenario[] {
  return [
    // item 2: outcomes never lost to a transient AWS error
    {
      name: 'record PutObject answers 503 SlowDown 8 times (beyond the SDK retries): Report retried, one record', size: SIMPLE, expect: 'forwarded',
      s3: (c) => [{ method: 'PUT', keyPrefix: `${PREFIX}forwarded/${c.key}/`, status: 503, code: 'SlowDown', times: 8 }],
      verify: (r) => [...oneRecord(r), ...retried(r)],
    },
    {
      name: 'failure record PutObject answers 503 SlowDown 8 times: the failure is still recorded', size: MULTI, expect: 'failed', error: 'OstInvalidRequestError',
      ost: [{ call: 'slice', sliceId: 2, code: 10001 }],
      s3: (c) => [{ method: 'PUT', keyPrefix: `${PREFIX}failed/${c.key}/`, status: 503, code: 'SlowDown', times: 8 }],
      verify: (r) => [...oneRecord(r), ...cancelled(r)],
    },
    {
      name: 'PutEvents answers 500 seven times (beyond the SDK retries): Report retried', size: SIMPLE, expect: 'forwarded', verify: retried,
      run: async (c) => { c.h.stack.aws.fail('AWSEvents.PutEvents', { type: 'InternalException', status: 500, times: 7 }); await c.put(bytesFor(SIMPLE, c.key)); },
    },
    {
      name: 'PutEvents answers 200 with FailedEntryCount 1 four times: a failure, retried until published', size: SIMPLE, expect: 'forwarded',
      run: async (c) => { c.h.aws.inject({ target: 'AWSEvents.PutEvents', times: 4, json: partial }); await c.put(bytesFor(SIMPLE, c.key)); },
      verify: retried,
    },
    // siblings: the markers written before a send are AWS calls too
    {
      name: 'simple upload attempt marker PutObject 503 x6: retried (not taken as an earlier attempt), forwarded once', size: SIMPLE, expect: 'forwarded',
      s3: () => [{ method: 'PUT', keyPrefix: `${PREFIX}attempts/upload/`, status: 503, code: 'SlowDown', times: 6 }],
      verify: retried,
    },
    {
      name: 'complete attempt marker PutObject 503 x6: retried, forwarded once', size: MULTI, expect: 'forwarded',
      s3: () => [{ method: 'PUT', keyPrefix: `${PREFIX}attempts/complete/`, status: 503, code: 'SlowDown', times: 6 }],
      verify: retried,
    },
    {
      name: 'init marker GetObject 503 x6: Prepare retried (no blind second init), one init', size: MULTI, expect: 'forwarded',
      s3: () => [{ method: 'GET', keyPrefix: `${PREFIX}attempts/init/`, status: 503, code: 'SlowDown', times: 6 }],
      verify: (r) => (r.calls.filter((c) => c.call === 'init').length === 1 ? [] : ['initialised more than once']),
    },
    {
      name: 'init marker PutObject 503 x6: the unrecorded upload is cancelled at once, Prepare retried, forwarded', size: MULTI, expect: 'forwarded',
      s3: () => [{ method: 'PUT', keyPrefix: `${PREFIX}attempts/init/`, status: 503, code: 'SlowDown', times: 6 }],
      verify: (r) => (r.calls.some((c) => c.call === 'cancel') ? [] : ['the unrecorded upload was not cancelled']),
    },
    // item 3: any failure after an init cancels that upload
    {
      name: 'Prepare times out after init on every attempt: the upload in the init marker is cancelled', size: MULTI, expect: 'failed', error: 'Sandbox.Timedout',
      crash: [{ step: 'prepare', when: 'after', error: 'Sandbox.Timedout', times: 3 }],
      verify: (r) => [...cancelled(r), ...(r.calls.filter((c) => c.call === 'init').length === 1 ? [] : ['initialised more than once'])],
    },
    {
      name: 'Prepare fails before init (HEAD 403): nothing to cancel, failure recorded', size: MULTI, expect: 'failed', verify: noInit,
      s3: (c) => [{ method: 'HEAD', key: c.key, status: 403, code: 'AccessDenied', times: Infinity }],
    },
    // item 4: HEAD and every read compared with the event and the plan
    {
      name: 'HEAD reports fewer bytes than the event: SourceChangedError before init (no truncated forward)', size: MULTI, expect: 'failed', error: 'SourceChangedError', verify: noInit,
      s3: (c) => [{ method: 'HEAD', key: c.key, headers: { 'content-length': String(MULTI - SLICE2) }, times: Infinity }],
    },
    {
      name: 'HEAD reports another ETag than the event (If-Match ignored): SourceChangedError before init', size: MULTI, expect: 'failed', error: 'SourceChangedError', verify: noInit,
      s3: (c) => [{ method: 'HEAD', key: c.key, headers: { etag: '"0123456789abcdef0123456789abcdef"' }, times: Infinity }],
    },
    {
      name: 'simple: HEAD reports fewer bytes than the event: SourceChangedError, nothing sent', size: SIMPLE, expect: 'failed', error: 'SourceChangedError', verify: noSlices,
      s3: (c) => [{ method: 'HEAD', key: c.key, headers: { 'content-length': String(SIMPLE - 1) }, times: Infinity }],
    },
    {
      name: 'ranged GET of slice 2 answers for an object of another size (Content-Range): SourceChangedError, cancelled', size: MULTI, expect: 'failed', error: 'SourceChangedError', verify: cancelled,
      s3: (c) => [{ method: 'GET', key: c.key, rangeStart: SLICE2, headers: { 'content-range': `bytes ${SLICE2}-${2 * SLICE2 - 1}/${MULTI + 7}` } }],
    },
    {
      name: 'ranged GET of slice 2 answers another ETag (If-Match ignored): SourceChangedError, cancelled', size: MULTI, expect: 'failed', error: 'SourceChangedError', verify: cancelled,
      s3: (c) => [{ method: 'GET', key: c.key, rangeStart: SLICE2, headers: { etag: '"0123456789abcdef0123456789abcdef"' } }],
    },
  ];
}

describe('fault suite: workflow integrity (AWS outcomes, cancel after Prepare, HEAD and reads vs the plan)', () => {
  defineFaultSuite('integrity', scenarios);
});

// item 5: SMALL_FILE_UPLOAD=multipart — a small file as one last slice (init, slice, complete): a lost answer or a
// crash at any step is retried without a second forward.
function singleSlice(): Scenario[] {
  return [
    {
      name: 'single-slice multipart: a small file forwarded byte-exact (init, one slice under 5 MiB, complete)', size: SIMPLE, expect: 'forwarded',
      verify: (r) => (r.calls.filter((c) => c.outcome === 'answered').map((c) => c.call).join(',') === 'init,slice,complete' ? [] : [`calls ${r.calls.map((c) => c.call).join(',')}`]),
    },
    { name: 'single-slice multipart: the slice is stored but its answer lost (reset/timeout): re-sent, forwarded once', size: SIMPLE, ost: [{ call: 'slice', delayMs: 2500 }], expect: 'forwarded' },
    { name: 'single-slice multipart: uploadSlices times out after its work: retried, forwarded once', size: SIMPLE, crash: [{ step: 'uploadSlices', when: 'after', error: 'Sandbox.Timedout' }], expect: 'forwarded' },
    { name: 'single-slice multipart: an empty file stays a simple upload', size: 0, expect: 'forwarded' },
  ];
}

describe('fault suite: SMALL_FILE_UPLOAD=multipart', () => {
  defineFaultSuite('single-slice', singleSlice, { env: { SMALL_FILE_UPLOAD: 'multipart' } });
});
