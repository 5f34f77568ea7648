// What the trigger and the release function create once per container for admission: the DynamoDB and SQS
// clients and the slot semaphore, from the admission settings (lib/config/settings.ts). Kept apart from lib/runtime/reset.ts so
// the step functions, which never admit, neither bundle nor load these SDK clients. Endpoints: the SDK reads
// AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS by itself (the local stack sets them).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { onResetRuntime } from './reset';
import { admissionSettings, type AdmissionSettings } from '../config/settings';
import { ConfigError } from '../core/errors';
import { SlotSemaphore } from '../admission/semaphore';
import type { IntakePolicy } from '../intake/batch';

let dynamo: DynamoDBClient | undefined;
let sqs: SQSClient | undefined;
let slots: SlotSemaphore | undefined;

onResetRuntime(() => {
  dynamo?.destroy();
  sqs?.destroy();
  dynamo = undefined;
  sqs = undefined;
  slots = undefined;
});

export function sqsClient(): SQSClient {
  return (sqs ??= new SQSClient({ maxAttempts: 3 }));
}

/** The slot semaphore of MAX_FILES_IN_FLIGHT slots in SLOT_TABLE (ConfigError when the table is not set). */
export function slotSemaphore(s: AdmissionSettings = admissionSettings()): SlotSemaphore {
  if (!s.slotTable) throw new ConfigError('SLOT_TABLE', 'is required by this function');
  // Few SDK attempts: a busy table is waited out by the queue (the message's backoff), not inside the invocation.
  dynamo ??= new DynamoDBClient({ maxAttempts: 2 });
  return (slots ??= new SlotSemaphore({ client: dynamo, tableName: s.slotTable, maxSlots: s.maxFilesInFlight, leaseSeconds: s.slotLeaseSeconds }));
}

/** The intake's policy from the settings. */
export function intakePolicy(s: AdmissionSettings = admissionSettings()): Partial<IntakePolicy> {
  return { maxReceiveCount: s.intakeMaxReceiveCount, waitBaseSeconds: s.intakeWaitBaseSeconds, waitMaxSeconds: s.intakeWaitMaxSeconds };
}
