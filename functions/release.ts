// Release: the EventBridge rule on "Step Functions Execution Status Change" (final statuses of this state machine)
// → the execution's slot back to the semaphore (lib/admission/status-event.ts). Every end releases here — success,
// failure, abort, timeout — so no workflow step is needed; a lost event is covered by the lease expiry.
import type { Context } from 'aws-lambda';
import { releaseOnStatusChange } from '../lib/admission/status-event';
import { slotSemaphore } from '../lib/runtime/admission-clients';
import { logger } from '../lib/runtime/logging';
import { reportHeapOnce } from '../lib/runtime/heap-report';
import { settings } from '../lib/config/settings';

export const handler = async (event: unknown, context?: Context): Promise<{ released: boolean; execution?: string }> => {
  if (context) logger.addContext(context);
  reportHeapOnce();
  const r = await releaseOnStatusChange(event, slotSemaphore(), settings().stateMachineArn);
  if (!r) return { released: false };
  logger.info('slot release', { execution: r.execution, status: r.status, released: r.released });
  return { released: r.released, execution: r.execution };
};
