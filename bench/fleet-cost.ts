// The fleet's cost model: what the intake (SQS), admission (the DynamoDB slot semaphore) and the status-change
// rule (EventBridge → release) add per 1,000 files, on top of the per-file table in bench/cost.ts. Pure arithmetic
// from the mechanism in lib/intake/batch.ts and docs/admission.md, so docs/costs.md can show its formula.
//
// Per file, no waiting:
//   SQS        1 SendMessage (S3's notification) + 1/B ReceiveMessage + 1/B DeleteMessageBatch   (B = batch size)
//   Lambda     1/B trigger invocations (one per SQS batch) + 1 release invocation (the status-change rule)
//   DynamoDB   2 conditional writes (acquire + release), each ⌈N/10⌉ write units for the one item of N holders
//   EventBridge 1 status-change event delivered to the release rule (AWS service events: no charge)
// Per wait cycle of a file that finds no free slot (the message is reported as a batch item failure):
//   SQS        1/B ReceiveMessage + 1 ChangeMessageVisibility; every (maxReceiveCount − 2)th cycle a re-send
//              (1 SendMessage + 1/B DeleteMessageBatch) instead of the ChangeMessageVisibility
//   Lambda     1/B trigger invocations;  DynamoDB 1/B refused conditional writes (the first "full" stops the batch;
//              a refused conditional write is billed like a write)
import { PRICES, markdownTable, type DeploymentSettings } from './cost';

export const FLEET_PRICES = {
  asOf: PRICES.asOf,
  sqsPerRequest: 0.4 / 1e6,
  dynamoPerWriteUnit: 0.625 / 1e6,
  eventBridgeAwsEvent: 0,
} as const;

export interface FleetCostAssumptions {
  /** SQS batch size of the event source mapping (serverless.yml: 10). */
  batchSize: number;
  /** MAX_FILES_IN_FLIGHT: the slot item holds up to this many holders. */
  maxFilesInFlight: number;
  maxReceiveCount: number;
  /** Seconds a trigger batch and a release take (short: one conditional write and a StartExecution or two). */
  triggerSeconds: number;
  releaseSeconds: number;
}

export const DEFAULT_FLEET_ASSUMPTIONS: FleetCostAssumptions = { batchSize: 10, maxFilesInFlight: 32, maxReceiveCount: 10, triggerSeconds: 0.2, releaseSeconds: 0.1 };

export interface FleetCostRow {
  scenario: string;
  waitCycles: number;
  sqsRequests: number;
  sqsUsd: number;
  dynamoWriteUnits: number;
  dynamoUsd: number;
  statusEvents: number;
  lambdaInvocations: number;
  lambdaUsd: number;
  totalUsd: number;
}

/** Cost per 1,000 files when each waits `waitCycles` backoff cycles for a slot. */
export function fleetCostPer1000(scenario: string, waitCycles: number, d: DeploymentSettings, a: FleetCostAssumptions = DEFAULT_FLEET_ASSUMPTIONS): FleetCostRow {
  const files = 1000;
  const b = a.batchSize;
  const units = Math.ceil(a.maxFilesInFlight / 10);
  const resendEvery = Math.max(1, a.maxReceiveCount - 2);
  const resends = Math.floor(waitCycles / resendEvery);
  const perFileSqs = 1 + 2 / b + waitCycles / b + (waitCycles - resends) + resends * (1 + 1 / b);
  const perFileWrites = 2 + waitCycles / b;
  const perFileInvocations = { trigger: (1 + waitCycles) / b, release: 1 };
  const gbs = (d.memoryMb.trigger / 1024) * a.triggerSeconds * perFileInvocations.trigger + (256 / 1024) * a.releaseSeconds;
  const sqsRequests = files * perFileSqs;
  const dynamoWriteUnits = files * perFileWrites * units;
  const lambdaInvocations = files * (perFileInvocations.trigger + perFileInvocations.release);
  const lambdaUsd = lambdaInvocations * PRICES.lambdaPerRequest + files * gbs * PRICES.lambdaArmPerGbSecond;
  const sqsUsd = sqsRequests * FLEET_PRICES.sqsPerRequest;
  const dynamoUsd = dynamoWriteUnits * FLEET_PRICES.dynamoPerWriteUnit;
  return {
    scenario, waitCycles, sqsRequests: Math.round(sqsRequests), sqsUsd, dynamoWriteUnits: Math.round(dynamoWriteUnits), dynamoUsd,
    statusEvents: files, lambdaInvocations: Math.round(lambdaInvocations), lambdaUsd, totalUsd: sqsUsd + dynamoUsd + lambdaUsd,
  };
}

/** No wait; a burst that drains within minutes; a backlog waiting about an hour (12–16 looks, docs/admission.md). */
export function fleetCostTable(d: DeploymentSettings, a: FleetCostAssumptions = DEFAULT_FLEET_ASSUMPTIONS): FleetCostRow[] {
  return [fleetCostPer1000('a free slot at once', 0, d, a), fleetCostPer1000('a burst (4 waits each)', 4, d, a), fleetCostPer1000('an hour of backlog (16 waits each)', 16, d, a)];
}

const usd = (v: number) => `$${v.toFixed(4)}`;

export function formatFleetCostTable(rows: FleetCostRow[]): string {
  const head = ['per 1,000 files', 'SQS req.', 'SQS $', 'DynamoDB WRU', 'DynamoDB $', 'status events (free)', 'trigger + release inv.', 'Lambda $', 'intake + admission $'];
  return markdownTable(head, rows.map((r) => [
    r.scenario, String(r.sqsRequests), usd(r.sqsUsd), String(r.dynamoWriteUnits), usd(r.dynamoUsd), String(r.statusEvents),
    String(r.lambdaInvocations), usd(r.lambdaUsd), usd(r.totalUsd),
  ]));
}

export function formatFleetAssumptions(a: FleetCostAssumptions = DEFAULT_FLEET_ASSUMPTIONS): string {
  return [
    `Prices: ${FLEET_PRICES.asOf}: SQS standard $0.40 per 1M requests (64 KB chunks; a notification is one); DynamoDB on-demand $0.625 per 1M write request units; EventBridge events from AWS services and their rule deliveries to Lambda: no charge.`,
    `Assumed: SQS batches of ${a.batchSize}; MAX_FILES_IN_FLIGHT ${a.maxFilesInFlight} (the slot item of up to ${a.maxFilesInFlight} holders costs ${Math.ceil(a.maxFilesInFlight / 10)} write units a write); re-send every ${Math.max(1, a.maxReceiveCount - 2)} wait cycles (maxReceiveCount ${a.maxReceiveCount}); a trigger batch ${a.triggerSeconds} s, a release ${a.releaseSeconds} s at 256 MB.`,
    'Not counted: the event source mapping\'s empty long polls (a few pollers per queue, ~0.3M requests a month ≈ $0.12, whatever the load), the queues\' alarms (CloudWatch, per alarm).',
  ].join('\n');
}
