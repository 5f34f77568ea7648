// The docs pages the bench writes itself: docs/benchmarks.md (the last run's results), docs/fleet.md (the fleet
// phase) and docs/costs.md (the cost model). Nothing in them is edited by hand; the method lives in docs/bench.md.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { costTable, formatAssumptions, formatCostTable, formatMediaProbeCost, type CostRow, type DeploymentSettings } from './cost';
import { fleetCostTable, formatFleetAssumptions, formatFleetCostTable } from './fleet-cost';
import { formatOutageAssumptions, formatOutageCostTable, outageCostTable } from './outage-cost';

const GENERATED = (by: string) => `<!-- Written by \`${by}\`; do not edit by hand: run it again. -->`;

/** docs/benchmarks.md: the rendered results of one run, with the date and machine they come from. */
export async function writeBenchPage(root: string, rendered: string, generatedAt: string, hasChart: boolean): Promise<string> {
  const file = join(root, 'docs', 'benchmarks.md');
  const text = [
    '# Benchmark results',
    GENERATED('npm run bench'),
    '',
    `The last full run of \`npm run bench\` (${generatedAt}). What each number means and how it is measured:`,
    '[bench.md](bench.md). Read the ratios: both sides of each are measured in the same run; absolute MiB/s on a',
    'shared machine drift between runs. The cost model is in [costs.md](costs.md).',
    '',
    '```',
    rendered.trim(),
    '```',
    ...(hasChart ? ['', '![Throughput by slice size and slices in flight](../bench/throughput.svg)'] : []),
    '',
  ].join('\n');
  await writeFile(file, text);
  return file;
}

/** A generated page: title, who writes it, an introduction, then the table as preformatted text. */
async function writeTablePage(file: string, title: string, by: string, intro: string[], table: string): Promise<string> {
  await writeFile(file, [`# ${title}`, GENERATED(by), '', ...intro, '', '```', table.trim(), '```', ''].join('\n'));
  return file;
}

/** docs/cold-starts.md: each Lambda bundle's size and module load time, from `node dist/bench.js --cold-start`. */
export function writeColdStartPage(root: string, table: string): Promise<string> {
  return writeTablePage(join(root, 'docs', 'cold-starts.md'), 'Cold starts', 'node dist/bench.js --cold-start (also a phase of npm run bench)', [
    `Each handler's bundle as serverless-esbuild builds it for Lambda, and the time a fresh Node process takes to load`,
    `it (median of fresh processes), measured ${new Date().toISOString().slice(0, 10)} on ${process.version}. How the bundles are built: [deploy.md](deploy.md).`,
  ], table);
}

const usd = (v: number) => `$${v.toFixed(v < 0.01 ? 6 : v < 1 ? 4 : 2)}`;

/** What the table says, computed from its rows (so it cannot go stale). */
function findings(rows: CostRow[]): string[] {
  const by = (label: string, design: string) => rows.find((r) => r.label === label && r.design.startsWith(design))!;
  const largest = rows[rows.length - 2]!.label;
  const big = by(largest, 'batched');
  const bigOne = by(largest, 'one slice');
  const small = by(rows[0]!.label, 'batched');
  const gb = by('1 GB', 'batched');
  return [
    `- **Egress dominates.** At 1 GB the AWS side costs ${usd(gb.awsUsdPerGb)} per GB, ${(100 * gb.awsUsd / gb.egressUsd).toFixed(1)} % of the egress (${usd(gb.egressUsd)}).`,
    `- **Small files pay mostly Step Functions.** A ${small.label} file makes ${small.transitions} transitions (${usd(small.stepFunctionsUsd)} of ${usd(small.awsUsd)}).`,
    `- **Batching keeps Step Functions negligible.** At ${largest} the batched design makes ${big.transitions} transitions (${usd(big.stepFunctionsUsd)}); one slice per invocation would make ${bigOne.transitions} (${usd(bigOne.stepFunctionsUsd)}) and ${bigOne.invocations} Lambda invocations: ${(bigOne.awsUsd / big.awsUsd).toFixed(1)}× the AWS cost (${usd(bigOne.awsUsd)} against ${usd(big.awsUsd)}).`,
  ];
}

export const COST_FORMULA = [
  'slices        n = planUpload(S).sliceCount                      (lib/ost/plan.ts; 1 for a simple upload)',
  'batches       b = ceil(n / slicesPerBatch)                      (lib/workflow/batches.ts)',
  'Lambda GB-s   = memory × (S / throughput + b × overhead)        uploadSlices (or uploadWhole, b = 1)',
  '              + trigger and control steps at their memory × their assumed seconds',
  'Lambda $      = GB-s × price + invocations × price             (invocations = 3 + b + 1; simple: 4)',
  'SFN $         = transitions × price, transitions = 5 + b       (simple: 4)',
  'S3 $          = (1 HEAD + 1 head GET + n GET) × price + 1 PUT (the record) + attempt markers (simple 1 PUT; multipart 1 GET + 2 PUT)',
  'egress $      = S / GB × $0.09                                  shown separately: the bytes leave AWS for iFlytek',
].join('\n');

const OUTAGE_COST_FORMULA = [
  'in flight   per retry: 1 transition + 1 invocation (5 failing OST attempts) + 1 DynamoDB write + S3 reads',
  '            retries: expected delays 15, 30, 60, 120, 240 s, then 300 s (30 s doubling to 600 s, full jitter)',
  'in intake   per look: 1/B receive + 1 ChangeMessageVisibility + 1/B trigger invocation + 1/B breaker read',
  '            looks: expected delays 15, 30, 60, 120, 225 s (20 s doubling to 300 s, equal jitter)',
].join('\n');

const FLEET_COST_FORMULA = [
  'per file      SQS  1 send + 1/B receive + 1/B delete                (B = SQS batch size)',
  '              DynamoDB 2 conditional writes (acquire, release) × ceil(N/10) units   (N = MAX_FILES_IN_FLIGHT)',
  '              Lambda 1/B trigger + 1 release invocation; 1 status-change event (free)',
  'per wait      SQS  1/B receive + 1 ChangeMessageVisibility (a re-send every maxReceiveCount - 2 waits)',
  '              DynamoDB 1/B refused conditional write; Lambda 1/B trigger invocation',
].join('\n');

/** docs/fleet.md: the fleet phase's last run, from `node dist/bench.js --fleet` (also a phase of npm run bench). */
export function writeFleetPage(root: string, table: string, generatedAt: string): Promise<string> {
  return writeTablePage(join(root, 'docs', 'fleet.md'), 'Fleet benchmark', 'node dist/bench.js --fleet (also a phase of npm run bench)', [
    `The last run (${generatedAt}): 2,000 small files and 20 large ones dropped at once through the local stack with`,
    'admission on (S3 → SQS intake → trigger with DynamoDB slots → executions under the local Lambda, Map Run and',
    'StartExecution limits → the OST emulator with its gateway limit), everything in one process on this machine.',
    'The ideal is the total bytes at the plain limit\'s throughput (the bench\'s p1 measurement): what the caps would',
    'allow if per-file work cost nothing. The baseline is the issue\'s measurement before the concurrent executor.',
    'Method and what bounds the local rate: [bench.md](bench.md#the-fleet-phase-fleet); how admission works:',
    '[admission.md](admission.md); what it costs per 1,000 files: [costs.md](costs.md).',
  ], table);
}

/** What `node dist/bench.js --cost` prints: the three cost tables. */
export function costText(d: DeploymentSettings): string {
  return `${formatCostTable(costTable(d))}\n\n${formatAssumptions(d)}\n\nPer 1,000 files, intake and admission:\n${formatFleetCostTable(fleetCostTable(d))}\n\nWaiting out an OST outage:\n${formatOutageCostTable(outageCostTable(d))}\n`;
}

/** docs/costs.md: the cost model per file size, from the deployment read out of serverless.yml. */
export async function writeCostPage(root: string, d: DeploymentSettings): Promise<string> {
  const rows = costTable(d);
  const file = join(root, 'docs', 'costs.md');
  const text = [
    '# Costs',
    GENERATED('npm run bench (or node dist/bench.js --cost)'),
    '',
    'Cost per file of S bytes, from `bench/cost.ts` and the deployment read out of `serverless.yml`. Sizes are binary',
    '(1 GB = 2^30 bytes, as AWS bills data transfer). "One slice per invocation" is the same formula with one slice per',
    'batch: one Map child and one Lambda invocation per slice, shown to say what batching buys.',
    '',
    '```',
    COST_FORMULA,
    '```',
    '',
    formatCostTable(rows),
    '',
    'What the table says:',
    ...findings(rows),
    '',
    'Assumptions:',
    ...formatAssumptions(d).split('\n').map((l) => `- ${l}`),
    '',
    '## Describing the file: the media probe',
    '',
    'Prepare reads the head of every object once (content type, and for audio the container, codec, duration, sample',
    'rate and channels: lib/sources/media-probe.ts) so that records and events say what the file is.',
    '',
    ...formatMediaProbeCost(d).split('\n').map((l) => `- ${l}`),
    '',
    '## Many files at once: the intake and admission',
    '',
    'What the durable intake (SQS), the slot semaphore (DynamoDB) and the status-change rule (EventBridge → release)',
    'add per 1,000 files, on top of the per-file table above, from `bench/fleet-cost.ts`. A file that waits for a slot',
    'costs one wait cycle per look (docs/admission.md: 12 to 16 looks an hour at the default backoff).',
    '',
    '```',
    FLEET_COST_FORMULA,
    '```',
    '',
    formatFleetCostTable(fleetCostTable(d)),
    '',
    'Assumptions:',
    ...formatFleetAssumptions().split('\n').map((l) => `- ${l}`),
    '',
    '## Waiting out an OST outage',
    '',
    'What a file costs per hour that OST\'s gateway is down, from `bench/outage-cost.ts` (docs/admission.md, "OST',
    'outages"). A file admitted before the breaker opened waits in the state machine (the outage retrier: each retry',
    'a transition and a short failing invocation); every other file waits in the intake, which costs no transition.',
    '',
    '```',
    OUTAGE_COST_FORMULA,
    '```',
    '',
    formatOutageCostTable(outageCostTable(d)),
    '',
    'Assumptions:',
    ...formatOutageAssumptions(d).split('\n').map((l) => `- ${l}`),
    '',
  ].join('\n');
  await writeFile(file, text);
  return file;
}
