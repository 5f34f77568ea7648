// The cost model: AWS cost of forwarding one file, per design, from the deployed settings (serverless.yml) and
// stated prices and assumptions. Pure arithmetic, so the table in docs/bench.md is reproducible:
// `npm run bench` prints it, and `node dist/bench.js --cost` prints only it.
//
// Per file of S bytes (sizes binary: 1 GB = 2^30 bytes, as AWS bills data transfer; throughput in MiB/s):
//   slices      n = planUpload(S).sliceCount (1 for a simple upload)            — lib/ost/plan.ts
//   batches     b = ceil(n / slicesPerBatch), slicesPerBatch from batchSizing() — lib/workflow/batches.ts
//   Lambda      GB-s = sum over invocations of memoryGB(fn) × seconds
//               data seconds = S / throughput, spread over the b batch invocations (or 1 uploadWhole)
//               + a fixed overhead per invocation (start, secrets cache, TLS to the OST host)
//               + the control steps (trigger, prepare, complete, report) at their assumed durations
//               requests = invocations × price per request
//   Step Functions (Standard) transitions = states entered: simple 4 (Prepare, ChooseMode, UploadWhole,
//               ReportSuccess); multipart 5 (Prepare, ChooseMode, UploadBatches, Complete, ReportSuccess) + 1 per
//               Distributed Map child (UploadSlices) — the count the bench measures in p3
//   S3          1 HEAD + 1 ranged GET of the head (Prepare: content type and media facts, ≤ 128 KiB) + 1 ranged
//               GET per slice, + 1 PUT (the result record), + the attempt markers:
//               simple 1 PUT (UploadWhole); multipart 1 GET + 1 PUT (Prepare's init marker) + 1 PUT (Complete)
//   egress      S / GB × price per GB (bytes leave AWS for iFlytek), shown separately
// The one-slice-per-invocation design: the same, with slicesPerBatch = 1 (one Map child and one Lambda per slice).
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { batchSizing } from '../lib/workflow/batches';
import { GiB, MiB, planUpload } from '../lib/ost/plan';

export const PRICES = {
  /** "list prices as of 2026-11, us-east-1; check the pricing pages" */
  asOf: '2026-11, us-east-1 (list prices; check the pricing pages)',
  lambdaArmPerGbSecond: 0.0000133334,
  lambdaPerRequest: 0.2 / 1e6,
  stepFunctionsPerTransition: 0.025 / 1000,
  s3GetPerRequest: 0.0004 / 1000,
  s3PutPerRequest: 0.005 / 1000,
  egressPerGb: 0.09,
} as const;

export interface CostAssumptions {
  /** Throughput from one Lambda invocation to the OST host, MiB/s (all its slices in flight together). */
  throughputMiBps: number;
  /** Fixed seconds per slice-carrying invocation (start, secrets, TLS handshake to the OST host in China). */
  invocationOverheadSeconds: number;
  /** Assumed durations of the control steps, seconds. */
  controlSeconds: { trigger: number; prepare: number; complete: number; report: number };
  /** Seconds Prepare spends on the media probe (one ranged GET of ≤ 128 KiB and its parse), within `prepare`. */
  mediaProbeSeconds: number;
}

export const DEFAULT_ASSUMPTIONS: CostAssumptions = {
  throughputMiBps: 20,
  invocationOverheadSeconds: 0.5,
  controlSeconds: { trigger: 0.2, prepare: 0.5, complete: 1.0, report: 0.3 },
  mediaProbeSeconds: 0.05,
};

/** What the deployment configures: read from serverless.yml (params.default, provider, functions). */
export interface DeploymentSettings {
  memoryMb: Record<'trigger' | 'prepare' | 'uploadWhole' | 'uploadSlices' | 'complete' | 'report', number>;
  uploadSlicesTimeoutSeconds: number;
  sliceSize: number;
  simpleThreshold: number;
  sliceConcurrency: number;
  conservativeMBps: number;
  source: string;
}

/** Reads memory sizes, the uploadSlices timeout and the slicing params from serverless.yml. */
export function deploymentSettings(root: string): DeploymentSettings {
  const path = join(root, 'serverless.yml');
  const sls = parseYaml(readFileSync(path, 'utf8'), { logLevel: 'error' } /* CloudFormation tags (!Sub, !If…) do not matter here */) as {
    params?: { default?: Record<string, string> };
    custom?: Record<string, unknown>;
    provider?: { memorySize?: number };
    functions?: Record<string, { memorySize?: number; timeout?: unknown }>;
  };
  const params = sls.params?.default ?? {};
  const resolve = (v: unknown): string => String(v).replace(/\$\{(param|self:custom)[:.]([A-Za-z0-9_]+)[^}]*\}/g, (_m, kind: string, name: string) =>
    kind === 'param' ? String(params[name] ?? '') : String(sls.custom?.[name] ?? ''));
  const num = (v: unknown, what: string): number => {
    const n = Number(resolve(v));
    if (!Number.isFinite(n) || n <= 0) throw new Error(`serverless.yml: cannot read ${what} (${JSON.stringify(v)})`);
    return n;
  };
  const memory = (fn: string) => num(sls.functions?.[fn]?.memorySize ?? sls.provider?.memorySize ?? 1024, `${fn} memorySize`);
  return {
    memoryMb: {
      trigger: memory('trigger'), prepare: memory('prepare'), uploadWhole: memory('uploadWhole'),
      uploadSlices: memory('uploadSlices'), complete: memory('complete'), report: memory('report'),
    },
    uploadSlicesTimeoutSeconds: num(sls.functions?.uploadSlices?.timeout ?? 900, 'uploadSlices timeout'),
    sliceSize: num(params.sliceSize ?? 16 * MiB, 'params.sliceSize'),
    simpleThreshold: num(params.simpleThreshold ?? 30 * MiB, 'params.simpleThreshold'),
    sliceConcurrency: num(params.sliceConcurrency ?? 4, 'params.sliceConcurrency'),
    conservativeMBps: num(params.conservativeMBps ?? 10, 'params.conservativeMBps'),
    source: relative(root, path) || path,
  };
}

export type Design = 'batched (default)' | 'one slice per invocation';

export interface CostRow {
  fileBytes: number;
  label: string;
  design: Design;
  slices: number;
  invocations: number;
  lambdaGbSeconds: number;
  lambdaUsd: number;
  transitions: number;
  stepFunctionsUsd: number;
  s3Requests: number;
  s3Usd: number;
  /** Lambda + Step Functions + S3 requests: what the forwarder itself costs. */
  awsUsd: number;
  awsUsdPerGb: number;
  egressUsd: number;
  totalUsd: number;
}

export const COST_SIZES: Array<[string, number]> = [['10 MB', 10 * MiB], ['100 MB', 100 * MiB], ['1 GB', GiB], ['10 GB', 10 * GiB], ['100 GB', 100 * GiB]];

export function costRow(label: string, size: number, design: Design, d: DeploymentSettings, a: CostAssumptions = DEFAULT_ASSUMPTIONS): CostRow {
  const plan = planUpload(size, { sliceSize: d.sliceSize, threshold: d.simpleThreshold });
  const gb = (mb: number) => mb / 1024;
  const dataSeconds = size / (a.throughputMiBps * MiB);
  const c = a.controlSeconds;
  const probe = mediaProbeCost(d, a);
  let gbs = gb(d.memoryMb.trigger) * c.trigger + gb(d.memoryMb.prepare) * c.prepare + gb(d.memoryMb.report) * c.report + probe.lambdaGbSeconds;
  let invocations = 3; // trigger, prepare, report
  let transitions: number;
  let s3Requests = 1 /* HEAD */ + 1 /* record PUT */ + probe.s3Requests;
  let s3Usd = PRICES.s3GetPerRequest + PRICES.s3PutPerRequest + probe.s3Usd;
  let slices: number;
  if (plan.mode === 'simple') {
    slices = 1;
    gbs += gb(d.memoryMb.uploadWhole) * (dataSeconds + a.invocationOverheadSeconds);
    invocations += 1;
    transitions = 4;
    s3Requests += 1 + 1 /* UploadWhole's attempt marker */;
    s3Usd += PRICES.s3GetPerRequest + PRICES.s3PutPerRequest;
  } else {
    slices = plan.sliceCount;
    const perBatch = design === 'batched (default)'
      ? batchSizing(plan.sliceSize, d.conservativeMBps, d.uploadSlicesTimeoutSeconds, d.sliceConcurrency).slicesPerBatch
      : 1;
    const batches = Math.ceil(slices / perBatch);
    gbs += gb(d.memoryMb.uploadSlices) * (dataSeconds + batches * a.invocationOverheadSeconds);
    gbs += gb(d.memoryMb.complete) * c.complete;
    invocations += batches + 1;
    transitions = 5 + batches;
    // + Prepare's init marker (a GET, then a PUT) and Complete's attempt marker (a PUT)
    s3Requests += slices + 3;
    s3Usd += (slices + 1) * PRICES.s3GetPerRequest + 2 * PRICES.s3PutPerRequest;
  }
  const lambdaUsd = gbs * PRICES.lambdaArmPerGbSecond + invocations * PRICES.lambdaPerRequest;
  const stepFunctionsUsd = transitions * PRICES.stepFunctionsPerTransition;
  const awsUsd = lambdaUsd + stepFunctionsUsd + s3Usd;
  const egressUsd = (size / GiB) * PRICES.egressPerGb;
  return {
    fileBytes: size, label, design, slices, invocations, lambdaGbSeconds: gbs, lambdaUsd, transitions, stepFunctionsUsd,
    s3Requests, s3Usd, awsUsd, awsUsdPerGb: awsUsd / (size / GiB), egressUsd, totalUsd: awsUsd + egressUsd,
  };
}

/** What describing a file adds to every forward: one ranged GET of its head, and Prepare's time to read and parse it. */
export function mediaProbeCost(d: DeploymentSettings, a: CostAssumptions = DEFAULT_ASSUMPTIONS): { s3Requests: number; s3Usd: number; lambdaGbSeconds: number; lambdaUsd: number; usd: number } {
  const lambdaGbSeconds = (d.memoryMb.prepare / 1024) * a.mediaProbeSeconds;
  const lambdaUsd = lambdaGbSeconds * PRICES.lambdaArmPerGbSecond;
  return { s3Requests: 1, s3Usd: PRICES.s3GetPerRequest, lambdaGbSeconds, lambdaUsd, usd: PRICES.s3GetPerRequest + lambdaUsd };
}

/** The media probe's share of the AWS cost per file, for each size of the table (batched design). */
export function formatMediaProbeCost(d: DeploymentSettings, a: CostAssumptions = DEFAULT_ASSUMPTIONS): string {
  const p = mediaProbeCost(d, a);
  const tiny = (v: number) => `$${v.toFixed(9).replace(/0+$/, '')}`;
  const shares = costTable(d, a).filter((r) => r.design === 'batched (default)').map((r) => `${r.label} ${((p.usd / r.awsUsd) * 100).toPrecision(2)}%`);
  return [
    `Per file: 1 ranged GET of at most 128 KiB (${tiny(p.s3Usd)}) + ${a.mediaProbeSeconds} s of prepare at ${d.memoryMb.prepare} MB (${p.lambdaGbSeconds.toFixed(3)} GB-s, ${tiny(p.lambdaUsd)}) = ${tiny(p.usd)} per file, ${usd(p.usd * 1000)} per 1,000 files.`,
    `Share of the AWS cost per file (included in the table above): ${shares.join(', ')}.`,
  ].join('\n');
}

export function costTable(d: DeploymentSettings, a: CostAssumptions = DEFAULT_ASSUMPTIONS): CostRow[] {
  const rows: CostRow[] = [];
  for (const [label, size] of COST_SIZES) {
    for (const design of ['batched (default)', 'one slice per invocation'] as Design[]) rows.push(costRow(label, size, design, d, a));
  }
  return rows;
}

const usd = (v: number) => `$${v.toFixed(v < 0.01 ? 6 : v < 1 ? 4 : 2)}`;

/** Markdown table (also readable on a terminal). */
export function formatCostTable(rows: CostRow[]): string {
  const head = ['file', 'design', 'slices', 'Lambda inv.', 'Lambda GB-s', 'Lambda $', 'SFN transitions', 'SFN $', 'S3 req.', 'S3 $', 'AWS $ / file', 'AWS $ / GB', 'egress $ (separate)'];
  const lines = rows.map((r) => [
    r.label, r.design, String(r.slices), String(r.invocations), r.lambdaGbSeconds.toFixed(1), usd(r.lambdaUsd), String(r.transitions),
    usd(r.stepFunctionsUsd), String(r.s3Requests), usd(r.s3Usd), usd(r.awsUsd), usd(r.awsUsdPerGb), usd(r.egressUsd),
  ]);
  return markdownTable(head, lines);
}

export function formatAssumptions(d: DeploymentSettings, a: CostAssumptions = DEFAULT_ASSUMPTIONS): string {
  const perBatch = batchSizing(d.sliceSize, d.conservativeMBps, d.uploadSlicesTimeoutSeconds, d.sliceConcurrency).slicesPerBatch;
  return [
    `Prices: ${PRICES.asOf}: Lambda arm64 $${PRICES.lambdaArmPerGbSecond} per GB-s and $0.20 per 1M requests; Step Functions Standard $0.025 per 1,000 transitions; S3 GET/HEAD $0.0004 per 1,000, PUT $0.005 per 1,000; internet egress $0.09/GB (first 10 TB/month tier).`,
    `Deployment (${d.source}): memory uploadSlices/uploadWhole ${d.memoryMb.uploadSlices}/${d.memoryMb.uploadWhole} MB, prepare/complete/report ${d.memoryMb.prepare}/${d.memoryMb.complete}/${d.memoryMb.report} MB, trigger ${d.memoryMb.trigger} MB; slice ${d.sliceSize / MiB} MiB, simple below ${d.simpleThreshold / MiB} MiB, ${d.sliceConcurrency} slices in flight per invocation; batches of ${perBatch} slices (${d.conservativeMBps} MiB/s × ${d.uploadSlicesTimeoutSeconds} s × 0.5).`,
    `Assumed: ${a.throughputMiBps} MiB/s from one invocation to the OST host; ${a.invocationOverheadSeconds} s fixed per slice-carrying invocation; control steps trigger ${a.controlSeconds.trigger} s, prepare ${a.controlSeconds.prepare} s (+ ${a.mediaProbeSeconds} s for the media probe), complete ${a.controlSeconds.complete} s, report ${a.controlSeconds.report} s; no retries. Sizes binary (1 GB = 2^30 bytes).`,
    'Not counted (each well under $0.0001 per file): EventBridge PutEvents ($1.00/M), KMS decrypts of the cached SSM secrets, CloudWatch Logs and metrics, the trigger\'s S3 event delivery (free).',
  ].join('\n');
}

export function markdownTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
