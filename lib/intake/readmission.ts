// A file that failed because OST stayed down past the outage budget goes back to the intake by itself: Report
// sends its ObjectCreated record again, carrying the next round (ROUND_ATTRIBUTE). The intake holds it while the
// breaker is open (lib/admission/health.ts) and starts it once OST is healthy, as execution `<name>-r<round>`
// (lib/intake/s3-event.ts executionName), so no command is needed for the common case. Rounds are bounded
// (OUTAGE_ROUNDS); the last failure stays failed, for `ost-forward backfill --failed-only`.
import type { ExecutionInput } from '../workflow/state';
import { MAX_DELAY_SECONDS, ROUND_ATTRIBUTE, type RequeueMessage } from './batch';
import { existingObjectRecord } from './event-record';
import { roundOfExecution } from './s3-event';

export interface ReadmissionPlan {
  round: number;
  message: RequeueMessage;
  delaySeconds: number;
}

/**
 * The message that re-admits an execution's object as the next round, or undefined when the rounds are used up.
 * `input` is the execution's input (the object version the trigger admitted: versionId or ETag + sequencer).
 */
export function readmission(input: ExecutionInput, executionName: string, maxRounds: number, delaySeconds: number, region = 'us-east-1'): ReadmissionPlan | undefined {
  const round = roundOfExecution(executionName) + 1;
  if (round > maxRounds) return undefined;
  const record = existingObjectRecord({
    bucket: input.bucket,
    key: input.key,
    size: input.size ?? 0,
    etag: input.etag ?? '',
    ...(input.versionId ? { versionId: input.versionId } : {}),
    ...(input.sequencer ? { sequencer: input.sequencer } : {}),
  }, region, 'ost-forwarder-readmission');
  if (input.size === undefined) delete (record.s3.object as { size?: number }).size;
  if (!input.etag) delete (record.s3.object as { eTag?: string }).eTag;
  return {
    round,
    message: { body: JSON.stringify({ Records: [record] }), attributes: { [ROUND_ATTRIBUTE]: String(round) } },
    delaySeconds: Math.max(0, Math.min(MAX_DELAY_SECONDS, Math.round(delaySeconds))),
  };
}
