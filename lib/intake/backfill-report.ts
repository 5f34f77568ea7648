// The end of a backfill run, for people and for rules: one summary record at
// `<resultsPrefix>backfill/runs/<started>-<id>.json` in the records bucket and one `OST Backfill Finished` event
// (source ost-forwarder) with the same detail, so an EventBridge rule can notify when a run is done. Counts and
// bytes, and at most MAX_FAILURE_EXAMPLES failures (key and error, bounded): the record never grows with the run.
import { randomBytes } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EventPublishError } from '../core/aws-errors';
import { EVENT_SOURCE } from '../workflow/outcome-events';
import type { BackfillItem, BackfillSummary } from './backfill';

export const DETAIL_TYPE_BACKFILL_FINISHED = 'OST Backfill Finished';
export const BACKFILL_RUNS_FOLDER = 'backfill/runs/';
export const MAX_FAILURE_EXAMPLES = 10;

export interface BackfillRunRecord {
  type: 'backfill-finished';
  /** What was backfilled: s3://bucket/prefix, or the list it read. */
  source: string;
  bucket: string;
  startedAt: string;
  finishedAt: string;
  listed: number;
  submitted: number;
  bytesSubmitted: number;
  skipped: number;
  skippedBy: BackfillSummary['skipped'];
  failed: number;
  failures: Array<{ key: string; error: string }>;
  stopped: BackfillSummary['stopped'] | null;
}

/** Collects the failure examples of a run from its items (bounded). */
export function failureExamples(): { onItem(item: BackfillItem): void; list: Array<{ key: string; error: string }> } {
  const list: Array<{ key: string; error: string }> = [];
  return {
    list,
    onItem(item) {
      if (item.status === 'error' && list.length < MAX_FAILURE_EXAMPLES) list.push({ key: item.key.slice(0, 1100), error: (item.error ?? '').slice(0, 300) });
    },
  };
}

export interface BackfillRun {
  source: string;
  bucket: string;
  startedAt: Date;
  finishedAt?: Date;
  summary: BackfillSummary;
  failures: Array<{ key: string; error: string }>;
}

export function backfillRunRecord(o: BackfillRun): BackfillRunRecord {
  const s = o.summary;
  return {
    type: 'backfill-finished',
    source: o.source.slice(0, 1100),
    bucket: o.bucket,
    startedAt: o.startedAt.toISOString(),
    finishedAt: (o.finishedAt ?? new Date()).toISOString(),
    listed: s.listed,
    submitted: s.submitted,
    bytesSubmitted: s.bytesSubmitted,
    skipped: Object.values(s.skipped).reduce((a, n) => a + (n ?? 0), 0),
    skippedBy: s.skipped,
    failed: s.errors,
    failures: o.failures.slice(0, MAX_FAILURE_EXAMPLES),
    stopped: s.stopped ?? null,
  };
}

/** Writes the run's record, then publishes its event; returns where the record is. */
export async function reportBackfillRun(
  clients: { s3: Pick<S3Client, 'send'>; events: Pick<EventBridgeClient, 'send'> },
  where: { bucket: string; prefix: string; eventBusName: string },
  record: BackfillRunRecord,
): Promise<string> {
  const key = `${where.prefix}${BACKFILL_RUNS_FOLDER}${record.startedAt.replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.json`;
  await clients.s3.send(new PutObjectCommand({ Bucket: where.bucket, Key: key, Body: JSON.stringify(record, null, 2) + '\n', ContentType: 'application/json' }));
  const location = `s3://${where.bucket}/${key}`;
  const res = await clients.events.send(new PutEventsCommand({
    Entries: [{
      Source: EVENT_SOURCE,
      DetailType: DETAIL_TYPE_BACKFILL_FINISHED,
      Detail: JSON.stringify({ ...record, record: location }),
      EventBusName: where.eventBusName,
      Resources: [],
    }],
  }));
  if ((res.FailedEntryCount ?? 0) > 0) {
    const entry = res.Entries?.find((e) => e.ErrorCode);
    throw new EventPublishError(`PutEvents rejected the backfill event: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim());
  }
  return location;
}
