// Every end has a record (lib/workflow/execution-end.ts): an execution that ended ABORTED or TIMED_OUT, or FAILED
// without its record, gets a failure record and event from the status-change rule's function, after the upload its
// init marker names is cancelled. Fakes at the boundaries; the local stack test (test/execution-ends.test.ts) runs
// the real functions.
import { endedExecution, recordExecutionEnd, type EndDeps } from '../lib/workflow/execution-end';
import type { OutcomeRecord } from '../lib/workflow/outcome-records';

function deps(o: { markers?: Record<string, string>; existing?: string[]; cancelFails?: boolean } = {}) {
  const written: Array<{ location: { bucket: string; key: string }; record: OutcomeRecord }> = [];
  const published: OutcomeRecord[] = [];
  const cancelled: string[] = [];
  const d: EndDeps = {
    settings: { resultsBucket: 'records', resultsPrefix: 'fwd/', maxRestarts: 2 },
    exists: async (l) => (o.existing ?? []).includes(l.key),
    initUpload: async (_bucket, execution, restarts) => o.markers?.[`${execution}/${restarts}`],
    cancel: async (uploadId) => {
      if (o.cancelFails) throw Object.assign(new Error('upload info expired'), { name: 'OstUploadExpiredError' });
      cancelled.push(uploadId);
      return { sid: 'sid-c' };
    },
    write: async (location, record) => { written.push({ location, record }); },
    publish: async (record) => { published.push(record); },
    now: () => new Date('2026-12-01T10:00:00Z'),
  };
  return { d, written, published, cancelled };
}

const detail = (extra: Record<string, unknown> = {}) => ({
  input: JSON.stringify({ bucket: 'inbox', key: 'a/b.wav', versionId: 'v1', etag: 'e1', size: 123 }),
  startDate: Date.parse('2026-12-01T09:00:00Z'), stopDate: Date.parse('2026-12-01T09:30:00Z'), ...extra,
});

it('an aborted execution: the open upload of its latest run cancelled, a failure record and its event', async () => {
  const { d, written, published, cancelled } = deps({ markers: { 'x1/0': 'up-0', 'x1/1': 'up-1' } });
  const r = await recordExecutionEnd(endedExecution(detail(), 'x1', 'ABORTED'), d);
  expect(r.written).toBe(true);
  expect(cancelled).toEqual(['up-1']);
  expect(written).toEqual([{
    location: { bucket: 'records', key: 'fwd/failed/a/b.wav/e1/x1.json' },
    record: expect.objectContaining({
      status: 'failed', bucket: 'inbox', key: 'a/b.wav', versionId: 'v1', etag: 'e1', bytes: 123, executionName: 'x1', restarts: 1,
      uploadId: 'up-1', cancelled: true, cancelSid: 'sid-c', durationMs: 30 * 60_000, finishedAt: '2026-12-01T09:30:00.000Z',
      error: { error: 'States.Aborted', message: 'the execution was stopped before the file was forwarded' },
    }),
  }]);
  expect(published).toEqual([written[0]!.record]);
});

it('a timed-out execution without an upload: the record says so; a cancel that fails is noted, not thrown', async () => {
  const none = deps();
  const r = await recordExecutionEnd(endedExecution(detail({ error: 'States.Timeout', cause: 'Execution timed out' }), 'x2', 'TIMED_OUT'), none.d);
  expect(r.written && r.record).toMatchObject({ error: { error: 'States.Timeout', message: 'Execution timed out' }, cancelled: false, cancelReason: 'no multipart upload to cancel', uploadId: null });
  const failing = deps({ markers: { 'x3/0': 'up-9' }, cancelFails: true });
  const r2 = await recordExecutionEnd(endedExecution(detail(), 'x3', 'TIMED_OUT'), failing.d);
  expect(r2.written && r2.record).toMatchObject({ cancelled: false, uploadId: 'up-9', cancelReason: 'OstUploadExpiredError: upload info expired' });
});

it('a FAILED execution that wrote its record gets no second one; one that did not gets it; a success gets none', async () => {
  const wrote = deps({ existing: ['fwd/failed/a/b.wav/e1/x4.json'] });
  expect(await recordExecutionEnd(endedExecution(detail(), 'x4', 'FAILED'), wrote.d)).toEqual({ written: false, reason: 'the execution wrote its record' });
  expect(wrote.written).toEqual([]);
  const lost = deps();
  expect((await recordExecutionEnd(endedExecution(detail({ error: 'Lambda.Unknown' }), 'x5', 'FAILED'), lost.d)).written).toBe(true);
  expect(lost.written[0]!.record.error).toEqual({ error: 'Lambda.Unknown', message: 'the execution failed without writing its record' });
  const ok = deps();
  expect((await recordExecutionEnd(endedExecution(detail(), 'x6', 'SUCCEEDED'), ok.d)).written).toBe(false);
});

it('an input that names no object writes nothing (and says why)', async () => {
  const { d, written } = deps();
  expect(await recordExecutionEnd(endedExecution({ input: 'not json' }, 'x7', 'ABORTED'), d)).toEqual({ written: false, reason: 'the execution\'s input names no object' });
  expect(written).toEqual([]);
});
