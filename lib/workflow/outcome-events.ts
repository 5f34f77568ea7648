// The EventBridge event each outcome record is also published as (source ost-forwarder, one detail type per
// status: forwarded, failed, skipped by the consumer's rules); its detail is the record plus where the record was written.
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EventPublishError } from '../core/aws-errors';
import type { OutcomeRecord } from './outcome-records';

export const EVENT_SOURCE = 'ost-forwarder';
export const DETAIL_TYPE_FORWARDED = 'OST File Forwarded';
export const DETAIL_TYPE_FAILED = 'OST File Forward Failed';
export const DETAIL_TYPE_SKIPPED = 'OST File Skipped';

const DETAIL_TYPES = { forwarded: DETAIL_TYPE_FORWARDED, failed: DETAIL_TYPE_FAILED, skipped: DETAIL_TYPE_SKIPPED } as const;

export async function publishOutcomeEvent(events: EventBridgeClient, busName: string, record: OutcomeRecord, location: { bucket: string; key: string }): Promise<void> {
  const res = await events.send(new PutEventsCommand({
    Entries: [{
      Source: EVENT_SOURCE,
      DetailType: DETAIL_TYPES[record.status],
      Detail: JSON.stringify({ ...record, record: `s3://${location.bucket}/${location.key}` }),
      EventBusName: busName,
      Resources: [],
    }],
  }));
  if ((res.FailedEntryCount ?? 0) > 0) {
    const entry = res.Entries?.find((e) => e.ErrorCode);
    throw new EventPublishError(`PutEvents rejected the event: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim());
  }
}
