// The breaker beside the slots (lib/admission/health.ts) as a container uses it: the steps that call OST count
// their outage-class failures into it (registered by lib/runtime/ost.ts), the trigger asks it before admitting.
// Nothing happens without SLOT_TABLE (a deployment without admission has no breaker).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { OstHealth } from '../admission/health';
import { isOutage } from '../ost/errors';
import { admissionSettings, type AdmissionSettings } from '../config/settings';
import { log } from './logging';
import { onResetRuntime } from './reset';

let dynamo: DynamoDBClient | undefined;
let health: OstHealth | undefined;

onResetRuntime(() => {
  dynamo?.destroy();
  dynamo = undefined;
  health = undefined;
});

/** The breaker of SLOT_TABLE, or undefined when the deployment has no slot table. */
export function ostHealth(s: AdmissionSettings = admissionSettings()): OstHealth | undefined {
  if (!s.slotTable) return undefined;
  // One attempt: counting a failure is best effort, and the trigger's gate answers "admit" when it cannot read.
  dynamo ??= new DynamoDBClient({ maxAttempts: 1 });
  return (health ??= new OstHealth({
    client: dynamo,
    tableName: s.slotTable,
    policy: { threshold: s.outage.threshold, windowMs: s.outage.windowMs, probeBaseMs: s.outage.probeBaseMs, probeMaxMs: s.outage.probeMaxMs },
  }));
}

/** Counts a step's outage-class failure (never throws: the step's own error is what matters). */
export async function reportOutage(err: unknown): Promise<void> {
  if (!isOutage(err)) return;
  try {
    const h = ostHealth();
    if (!h) return;
    const state = await h.recordFailure();
    if (state.open) log.warn('OST outage: admission paused', { failures: state.failures, openedAt: state.openedAt });
  } catch (e) {
    log.warn('could not count an OST outage failure', { error: e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 300) : String(e) });
  }
}
