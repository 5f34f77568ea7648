// The EventBridge event each outcome record is also published as (source ost-forwarder, one detail type per
// status); its detail is the record plus where the record was written.
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EventPublishError } from '../core/aws-errors';
import type { OutcomeRecord } from './outcome-records';

export const EVENT_SOURCE = 'ost-forwarder';
export const DETAIL_TYPE_FORWARDED = 'OST File Forwarded';
export const DETAIL_TYPE_FAILED = 'OST File Forward Failed';

export async function publishOutcomeEvent(events: EventBridgeClient, busName: string, record: OutcomeRecord, location: { bucket: string; key: string }): Promise<void> {
  const res = await events.send(new PutEventsCommand({
    Entries: [{
      Source: EVENT_SOURCE,
      DetailType: record.status === 'forwarded' ? DETAIL_TYPE_FORWARDED : DETAIL_TYPE_FAILED,
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
