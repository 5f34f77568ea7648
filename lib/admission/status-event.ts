// The "Step Functions Execution Status Change" event (EventBridge, source aws.states) → the slot to release.
// A finished execution releases its own slot in the workflow; this rule covers the ones that never get there
// (aborted, timed out, failed outside a Catch). Delivery is best effort: the lease expiry is the last resort.
import type { SlotSemaphore, ReleaseResult } from './semaphore';

export const STATUS_CHANGE_DETAIL_TYPE = 'Step Functions Execution Status Change';
/** The statuses that end an execution; RUNNING (and PENDING_REDRIVE) hold the slot. */
export const FINAL_STATUSES = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const;

export interface StatusChange {
  execution: string;
  status: string;
  stateMachineArn?: string;
}

/** The execution name and status of an event, or undefined when the event is not a final status change. */
export function finalStatusChange(event: unknown): StatusChange | undefined {
  const e = (event ?? {}) as { source?: unknown; 'detail-type'?: unknown; detail?: Record<string, unknown> };
  if (e.source !== 'aws.states' || e['detail-type'] !== STATUS_CHANGE_DETAIL_TYPE) return undefined;
  const d = e.detail ?? {};
  const status = typeof d.status === 'string' ? d.status : '';
  if (!(FINAL_STATUSES as readonly string[]).includes(status)) return undefined;
  let name = typeof d.name === 'string' ? d.name : undefined;
  // detail.name is the execution name; older events carry only the ARN (…:execution:<machine>:<name>).
  if (!name && typeof d.executionArn === 'string') name = d.executionArn.split(':').pop();
  if (!name) return undefined;
  return { execution: name, status, stateMachineArn: typeof d.stateMachineArn === 'string' ? d.stateMachineArn : undefined };
}

/** Releases the slot of an execution that ended; ignores other events and other state machines. */
export async function releaseOnStatusChange(
  event: unknown,
  slots: Pick<SlotSemaphore, 'release'>,
  stateMachineArn?: string,
): Promise<(StatusChange & ReleaseResult) | undefined> {
  const change = finalStatusChange(event);
  if (!change) return undefined;
  if (stateMachineArn && change.stateMachineArn && change.stateMachineArn !== stateMachineArn) return undefined;
  const result = await slots.release(change.execution);
  return { ...change, ...result };
}
