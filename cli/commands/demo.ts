// `ost-forward demo [file...]` (what `npm start` runs): the whole pipeline on this machine, no AWS account and no
// iFlytek credentials. Without arguments it writes two sample files — one under the multipart threshold, one over
// it, one with spaces and non-ASCII in its name — forwards them through the local stack, downloads each served URL
// from the emulator and compares sha256, then tells what happened (states, OST calls, record, event).
// Same environment as `ost-forward local` (OST_ENDPOINT…, S3_ENDPOINT…); exit 0 only if every file arrived intact.
import { escapeControlCharacters } from '../../lib/core/text';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { DEFAULT_SLICE_SIZE, DEFAULT_THRESHOLD, MiB } from '../../lib/ost/plan';
import type { ForwardResult, LocalStack } from '../../local/stack';
import { ConfigError } from '../../lib/core/errors';
import { recordLocation } from '../../lib/workflow/outcome-records';
import { readSetting } from '../../lib/config/table';
import { EXIT, isUsageError, reportFailure } from '../exit';

const DEMO_USAGE = 'usage: ost-forward demo [file...]   (npm start -- <file...>)';
import { checkFiles } from '../local/args';
import { stackOptions, withStack } from '../local/stack';

const KEY_PREFIX = 'demo/';

export const DEMO_FILES = [
  { name: '会议 录音 01.wav', size: 3 * MiB },
  { name: 'lecture-02 (full).wav', size: 40 * MiB },
];

function size(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < MiB) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / MiB).toFixed(1)} MiB`;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

async function sha256Url(url: string): Promise<{ sha256: string; bytes: number }> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`GET ${url}: HTTP ${res.status}`);
  const h = createHash('sha256');
  let bytes = 0;
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) { h.update(c); bytes += c.length; }
  return { sha256: h.digest('hex'), bytes };
}

/** "Prepare → ChooseMode → UploadBatches → [UploadSlices ×3 in 3 child executions] → Complete → ReportSuccess" */
export function statePath(entered: { name: string; index?: number }[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < entered.length) {
    if (entered[i]!.index === undefined) { parts.push(entered[i++]!.name); continue; }
    const counts = new Map<string, number>();
    const children = new Set<number>();
    while (i < entered.length && entered[i]!.index !== undefined) {
      const e = entered[i++]!;
      counts.set(e.name, (counts.get(e.name) ?? 0) + 1);
      children.add(e.index!);
    }
    const inner = [...counts].map(([n, c]) => `${n} ×${c}`).join(', ');
    parts.push(`[${inner} in ${children.size} child execution${children.size === 1 ? '' : 's'}]`);
  }
  return parts.join(' → ');
}

function ostCalls(stack: LocalStack, r: ForwardResult): string {
  const rec = r.records[0];
  if (!stack.emulator || !rec) return '';
  const calls = stack.emulator.calls.filter((c) => (rec.uploadId && c.uploadId === rec.uploadId) || (rec.sid && c.sid === rec.sid));
  const counts = new Map<string, number>();
  for (const c of calls) counts.set(c.call, (counts.get(c.call) ?? 0) + 1);
  return [...counts].map(([k, v]) => `${k} ×${v}`).join(', ');
}

export async function run(argv: string[]): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const files = argv.filter((a) => !a.startsWith('--'));
  if (files.length !== argv.length) {
    process.stderr.write(`${DEMO_USAGE}\n`);
    return EXIT.usage;
  }
  let opts: ReturnType<typeof stackOptions>;
  try {
    opts = stackOptions({});
    await checkFiles(files);
  } catch (err) {
    if (isUsageError(err) || err instanceof ConfigError) return reportFailure('demo', err, DEMO_USAGE);
    throw err;
  }
  // keys and messages may hold any character: none reaches the terminal as a control character
  const out = (line = '') => process.stdout.write(escapeControlCharacters(line) + '\n');
  const t0 = Date.now();
  const tmp = files.length ? undefined : await mkdtemp(join(tmpdir(), 'ost-forwarder-demo-'));
  try {
    const paths = files.length ? files : [];
    if (tmp) {
      for (const f of DEMO_FILES) {
        const p = join(tmp, f.name);
        await writeFile(p, randomBytes(f.size));
        paths.push(p);
      }
    }
    const { notices: _n, ...stackOpts } = opts;
    return await withStack(stackOpts, async (stack) => {
      const p = stack.executor.prepared;
      out('ost-forwarder demo: the whole pipeline on this machine (no AWS account, no iFlytek credentials)');
      out(`  S3         ${stack.s3.embedded ? 'embedded s3rver' : 'S3_ENDPOINT'} ${stack.s3.endpoint}, bucket ${stack.bucket}`);
      out(`  OST        ${stack.emulator ? 'emulator' : 'OST_ENDPOINT'} ${stack.ostEndpoint}`);
      out(`  AWS APIs   Step Functions, EventBridge, SSM on ${stack.aws.origin}`);
      out(`  workflow   statemachine/definition.yml (${Object.keys(p.states).length} states) on aws-local-stepfunctions, handlers from functions/`);
      for (const n of opts.notices) out(`  note       ${n}`);
      out();
      if (tmp) {
        out(`Sample files in ${tmp}:`);
        out(`  ${DEMO_FILES[0]!.name}  ${size(DEMO_FILES[0]!.size)}  under the ${size(DEFAULT_THRESHOLD)} threshold: one simple upload`);
        out(`  ${DEMO_FILES[1]!.name}  ${size(DEMO_FILES[1]!.size)}  over it: multipart, ${size(DEFAULT_SLICE_SIZE)} slices`);
        out();
      }
      const results = await stack.forwardFiles(paths, { keyPrefix: KEY_PREFIX });
      let intact = 0;
      for (const [i, r] of results.entries()) {
        const path = paths[i]!;
        out(`[${i + 1}/${results.length}] s3://${stack.bucket}/${r.key}  ${size(r.bytes)}`);
        if (r.status === 'forwarded' && r.url) {
          out(`  forwarded  ${r.url}`);
          const [local, served] = await Promise.all([sha256File(path), sha256Url(r.url)]);
          const same = local === served.sha256 && served.bytes === r.bytes;
          if (same) intact++;
          out(`  sha256     source ${local.slice(0, 16)}…  served ${served.sha256.slice(0, 16)}…  ${same ? 'identical' : 'DIFFERENT'}`);
        } else {
          out(`  FAILED     ${r.error?.code}: ${r.error?.message}`);
        }
        const e = r.execution;
        if (e) {
          out(`  states     ${statePath(e.entered)}`);
          const calls = ostCalls(stack, r);
          if (calls) out(`  OST calls  ${calls}`);
          out(`  execution  ${e.name}: ${e.status}, ~${e.history.events} history events${e.history.childExecutions ? ` (+${e.history.childEvents} in ${e.history.childExecutions} child execution${e.history.childExecutions === 1 ? '' : 's'})` : ''}, largest state payload ${size(e.largestPayload.bytes)}`);
        }
        for (const rec of r.records) {
          const at = recordLocation({ resultsBucket: readSetting(stack.env, 'RESULTS_BUCKET'), resultsPrefix: readSetting(stack.env, 'RESULTS_PREFIX') }, rec);
          out(`  record     s3://${at.bucket}/${at.key}`);
        }
        for (const ev of r.events) out(`  event      "${ev.detailType}" on bus ${ev.eventBusName}`);
        out();
      }
      const s = stack.stats();
      out(`${intact} of ${results.length} file${results.length === 1 ? '' : 's'} forwarded byte-exact in ${((Date.now() - t0) / 1000).toFixed(1)} s` +
        ` (${s.executions} execution${s.executions === 1 ? '' : 's'}, ${s.childExecutions} child execution${s.childExecutions === 1 ? '' : 's'}; largest state payload ${size(s.largestPayload.bytes)} of 256 KiB).`);
      if (tmp) out(`Try your own: npm start -- <file...>   or   npx ost-forward local <file...> --json`);
      return intact === results.length ? 0 : 1;
    });
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
}

export const demoKey = (path: string) => KEY_PREFIX + basename(path);
