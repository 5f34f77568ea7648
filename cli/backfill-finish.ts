// The edges of a backfill run the command adds around lib/intake/backfill.ts: the bucket a list names when the
// command line gives none, and the "backfill finished" summary record and event at the end of a run that
// submitted (lib/intake/backfill-report.ts; a dry run reports nothing).
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { S3Client } from '@aws-sdk/client-s3';
import { backfillRunRecord, reportBackfillRun } from '../lib/intake/backfill-report';
import { resultsLocation, type BackfillSummary } from '../lib/intake/backfill';
import { listBucket } from '../lib/intake/from-list';
import type { Settings } from '../lib/config/settings';
import type { BackfillArgs } from './backfill-run';
import { UsageError } from './args';

/** The bucket to backfill: the command line's, else the one the list names (an inventory, a manifest's rows). */
export async function bucketOf(args: BackfillArgs, s3: Pick<S3Client, 'send'>): Promise<string> {
  if (args.bucket) return args.bucket;
  const named = args.fromList ? await listBucket(s3, args.fromList) : undefined;
  if (!named) throw new UsageError('the list names no bucket (a text list holds keys only): give s3://bucket after --from-list FILE');
  return named;
}

/** Writes the run's summary record and publishes `OST Backfill Finished`; returns the record's location. */
export async function finishBackfill(o: {
  args: BackfillArgs; settings: Settings; s3: Pick<S3Client, 'send'>; events?: Pick<EventBridgeClient, 'send'>;
  summary: BackfillSummary; failures: Array<{ key: string; error: string }>; startedAt: Date;
}): Promise<string> {
  const source = o.args.fromList ?? `s3://${o.args.bucket}/${o.args.prefix}`;
  const record = backfillRunRecord({ source, bucket: o.args.bucket, startedAt: o.startedAt, summary: o.summary, failures: o.failures });
  const results = resultsLocation(o.settings, o.args.bucket);
  return reportBackfillRun(
    { s3: o.s3, events: o.events ?? new EventBridgeClient({ maxAttempts: 5 }) },
    { bucket: results.bucket, prefix: results.prefix, eventBusName: o.settings.eventBusName },
    record,
  );
}
