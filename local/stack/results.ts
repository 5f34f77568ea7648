// What became of a key: its execution (waited for), its outcome records and events, and the per-file result the
// CLI and tests read (status, URL, error code).
import type { S3Client } from '@aws-sdk/client-s3';
import * as ostErrors from '../../lib/ost/errors';
import { parseStepError } from '../../lib/workflow/step-errors';
import type { OutcomeRecord } from '../../lib/workflow/outcome-records';
import { keyRecords } from '../../lib/workflow/record-reader';
import { readSetting } from '../../lib/config/table';
import type { RecordedEvent } from '../aws/endpoint';
import type { ExecutionRecord, LocalExecutor } from '../executor';
import type { Deliveries } from './deliveries';
import type { ForwardError, ForwardResult, TriggerDelivery } from './types';

function executionInputKey(e: ExecutionRecord): string | undefined {
  const i = e.input as { key?: unknown; object?: { key?: unknown } } | null;
  return typeof i?.key === 'string' ? i.key : typeof i?.object?.key === 'string' ? i.object.key : undefined;
}

/**
 * The execution of `key` started at or after `since`, once it ended; undefined when every delivery of the key
 * settled without one (the trigger skipped the object or failed).
 */
export function waitForExecution(executor: LocalExecutor, deliveries: Deliveries, key: string, since = 0): Promise<ExecutionRecord | undefined> {
  return new Promise((resolve) => {
    const match = (e: ExecutionRecord) => executionInputKey(e) === key && e.startDate.getTime() >= since;
    const found = [...executor.executions.values()].find(match);
    if (found) { void found.done.then(resolve); return; }
    const onStart = (e: ExecutionRecord) => {
      if (!match(e)) return;
      executor.off('started', onStart);
      clearInterval(poll);
      void e.done.then(resolve);
    };
    executor.on('started', onStart);
    const poll = setInterval(() => {
      const ds = deliveries.of(key).filter((d) => d.attempts > 0);
      const settled = ds.length > 0 && ds.every((d) => d.result !== undefined || d.deadLettered);
      if (settled && ![...executor.executions.values()].some(match)) {
        executor.off('started', onStart);
        clearInterval(poll);
        resolve(undefined);
      }
    }, 25);
  });
}

/**
 * lib/workflow/outcome-records.ts: <prefix><forwarded|failed>/<source key>/<etag>/<execution name>.json, every
 * execution of every version, read through the bounded reader (lib/workflow/record-reader.ts).
 */
export function recordsFor(client: S3Client, bucket: string, env: Record<string, string>, key: string): Promise<OutcomeRecord[]> {
  return keyRecords(client, { bucket: readSetting<string | undefined>(env, 'RESULTS_BUCKET') ?? bucket, prefix: readSetting<string>(env, 'RESULTS_PREFIX') }, key);
}

export function eventsFor(events: RecordedEvent[], key: string): RecordedEvent[] {
  return events.filter((e) => (e.detail as OutcomeRecord | undefined)?.key === key);
}

/** The per-file result of `key` from its execution (or the delivery that started none) and its records. */
export function resultOf(key: string, bytes: number, records: OutcomeRecord[], events: RecordedEvent[], execution: ExecutionRecord | undefined, delivery: TriggerDelivery | undefined): ForwardResult {
  const base = { key, bytes, slices: 0, records, events };
  if (!execution) {
    const error = delivery?.error ? { code: delivery.error.name, message: delivery.error.message } : { code: 'NOT_STARTED', message: 'the trigger started no execution for this object' };
    return { ...base, status: 'failed', error };
  }
  const mine = { ...base, records: records.filter((r) => r.executionName === execution.name), events: base.events.filter((e) => (e.detail as OutcomeRecord | undefined)?.executionName === execution.name) };
  const record = mine.records[0];
  // The status is the execution's outcome, and only that: a record that cannot be found (or read) never turns
  // a forwarded file into a "failure" that invites a second forward.
  if (execution.status === 'SUCCEEDED') {
    const output = (execution.output ?? {}) as Partial<OutcomeRecord>;
    const r = record?.status === 'forwarded' ? record : output;
    const slices = r.mode === 'simple' ? 1 : typeof r.slices === 'number' ? r.slices : 0;
    return { ...mine, status: 'forwarded', ...(typeof r.url === 'string' ? { url: r.url } : {}), slices, bytes: typeof r.bytes === 'number' ? r.bytes : bytes, executionName: execution.name, execution };
  }
  const slices = record?.slices ?? 0;
  const error = record?.error
    ? { code: errorCode(record.error.error), message: record.error.message, ...(record.error.ostCode !== undefined ? { ostCode: record.error.ostCode } : {}), ...(record.error.sid ? { sid: record.error.sid } : {}) }
    : failureOf(execution);
  return { ...mine, status: 'failed', slices, executionName: execution.name, execution, error };
}

/** The stable code of an error class (OstAuthError → OST_AUTH), else the error name (States.Timeout…). */
export function errorCode(name: string): string {
  const cls = (ostErrors as Record<string, unknown>)[name];
  if (typeof cls === 'function' && (cls as { prototype?: unknown }).prototype instanceof ostErrors.OstError) {
    return new (cls as new (m: string) => ostErrors.OstError)('').code;
  }
  return name;
}

function failureOf(e: ExecutionRecord): ForwardError {
  const info = parseStepError({ Error: e.error ?? e.status, Cause: e.cause });
  return { code: errorCode(info.error), message: info.message };
}
