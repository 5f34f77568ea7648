// The fault suite's harness: one local stack (embedded S3 → trigger → definition.yml → handlers → OST emulator)
// with every fault hook a scenario needs, and ONE invariant checker run after every scenario:
//
//   - each object version ends either forwarded byte-exact (sha256 of the served URL = the source) with exactly one
//     forward at OST, or failed loudly: a failure record + failure event naming the error (OST code and message when
//     OST answered), and `cancel` called for every upload_id it inited;
//   - no orphaned upload at the emulator (inited, neither completed nor cancelled);
//   - at most one forward (complete or simple upload) per object version, whatever the number of duplicate events;
//   - every forwarded file at OST is byte-identical to one version of the source (never mixed bytes);
//   - neither the api_secret nor the api_key appears in any log line, record, event, state payload or error.
//
// Scenarios are tallied held / lost / corrupt / orphaned (plus secret leaks and other violations) and the tally is
// written where test/support/summary-reporter.js prints it as the closing `faults:` line of `npm test`.
import { createCipheriv, createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, createReadStream, existsSync } from 'node:fs';
import { request as httpRequest, createServer, Agent, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { DeleteObjectCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { handlers as realHandlers } from '../../functions';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../local/stack';
import type { ExecutionRecord, LambdaHandler } from '../../local/executor';
import type { FaultRule } from '../../local/emulator';
import type { OutcomeRecord } from '../../lib/workflow/outcome-records';
import { KiB, MiB } from './files';

const { FAULTS_SUMMARY_FILE } = require('./summary-reporter.js') as { FAULTS_SUMMARY_FILE: string };

export { KiB, MiB };

// ---------------------------------------------------------------------------------------------------------------
// S3 faults: a loopback proxy between the handlers and s3rver (the handlers' S3_ENDPOINT points at it; the test's
// own client talks to s3rver directly, so puts and event records are unaffected).

export interface S3FaultRule {
  method?: 'GET' | 'HEAD' | 'PUT' | 'DELETE';
  /** Decoded object key (exact) — default: any key. */
  key?: string;
  /** Decoded object keys starting with this (records, attempt markers: their names hold the execution's). */
  keyPrefix?: string;
  /** Let this many matching requests through untouched first (e.g. fault the restart's HEAD, not the first). */
  skip?: number;
  /** Only ranged GETs whose range starts here (byte offset). */
  rangeStart?: number;
  /** Default 1; Infinity allowed. */
  times?: number;
  /** Answer with this status and S3 error code (XML body; none for HEAD). */
  status?: number;
  code?: string;
  /** Destroy the connection without an answer. */
  reset?: boolean;
  /** Forward the request, then cut the response body after this many bytes. */
  cutAfterBytes?: number;
  /** Forward, then replace these response headers (e.g. a HEAD's content-length). */
  headers?: Record<string, string>;
  /** Runs before the request is forwarded (e.g. overwrite or delete the object). */
  before?: () => Promise<void>;
}

export interface S3FaultProxy {
  endpoint: string;
  target: string;
  inject(rule: S3FaultRule): void;
  clear(): void;
  /** Requests seen: method, key, range, what happened. */
  log: { method: string; key: string; range?: string; fault?: string; status?: number }[];
  close(): Promise<void>;
}

export async function startS3FaultProxy(): Promise<S3FaultProxy> {
  let rules: { rule: S3FaultRule; left: number; skip: number }[] = [];
  const log: S3FaultProxy['log'] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const sockets = new Set<Socket>();
  const proxy: S3FaultProxy = {
    endpoint: '',
    target: '',
    inject(rule) { rules.push({ rule, left: rule.times ?? 1, skip: rule.skip ?? 0 }); },
    clear() { rules = []; },
    log,
    async close() {
      for (const s of sockets) s.destroy();
      agent.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const take = (method: string, key: string, range: string | undefined): S3FaultRule | undefined => {
    const start = range ? Number(/^bytes=(\d+)-/.exec(range)?.[1]) : undefined;
    const i = rules.findIndex(({ rule, left }) => left > 0
      && (rule.method === undefined || rule.method === method)
      && (rule.key === undefined || rule.key === key)
      && (rule.keyPrefix === undefined || key.startsWith(rule.keyPrefix))
      && (rule.rangeStart === undefined || rule.rangeStart === start));
    if (i < 0) return undefined;
    const r = rules[i]!;
    if (r.skip > 0) { r.skip -= 1; return undefined; }
    r.left -= 1;
    if (r.left <= 0) rules.splice(i, 1);
    return r.rule;
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const url = req.url ?? '/';
      const path = url.split('?')[0]!;
      const m = /^\/[^/]+\/(.+)$/.exec(path);
      let key = '';
      try { key = m ? decodeURIComponent(m[1]!) : ''; } catch { key = m?.[1] ?? ''; }
      const method = req.method ?? 'GET';
      const range = typeof req.headers.range === 'string' ? req.headers.range : undefined;
      const isObjectCall = m !== null && !/[?&](uploads|uploadId|list-type|tagging|acl|versioning)/.test(url);
      const rule = isObjectCall ? take(method, key, range) : undefined;
      const entry: S3FaultProxy['log'][number] = { method, key, ...(range ? { range } : {}) };
      if (isObjectCall) log.push(entry);
      if (rule) entry.fault = JSON.stringify({ ...rule, before: rule.before ? 'fn' : undefined });
      if (rule?.before) await rule.before();
      if (rule?.reset) { req.socket.destroy(); return; }
      if (rule?.status !== undefined) {
        req.resume();
        entry.status = rule.status;
        const body = method === 'HEAD' ? '' : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${rule.code ?? 'InternalError'}</Code><Message>injected</Message></Error>`;
        res.writeHead(rule.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), 'x-amz-request-id': 'FAULT' });
        res.end(body);
        return;
      }
      const target = new URL(proxy.target);
      const out = httpRequest({ host: target.hostname, port: target.port, method, path: url, headers: req.headers, agent }, (up) => {
        entry.status = up.statusCode;
        const headers = { ...up.headers, ...(rule?.headers ?? {}) };
        // A client that stops reading (e.g. a read refused after its headers) must not leave the upstream
        // connection to s3rver open: closing the stack would wait for it forever.
        res.on('close', () => { if (!res.writableFinished) up.destroy(); });
        res.writeHead(up.statusCode ?? 502, headers);
        if (rule?.cutAfterBytes !== undefined) {
          let n = 0;
          up.on('data', (c: Buffer) => {
            if (n + c.length >= rule.cutAfterBytes!) {
              res.write(c.subarray(0, Math.max(0, rule.cutAfterBytes! - n)));
              res.socket?.destroy();
              up.destroy();
              return;
            }
            n += c.length;
            res.write(c);
          });
          up.on('end', () => res.end());
          return;
        }
        up.pipe(res);
      });
      out.on('error', () => res.destroy());
      req.pipe(out);
    })().catch(() => res.destroy());
  });
  server.on('connection', (s: Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}

// ---------------------------------------------------------------------------------------------------------------
// AWS JSON faults the loopback AWS server cannot answer: a loopback proxy in front of its EventBridge endpoint
// (the handlers' AWS_ENDPOINT_URL_EVENTBRIDGE points at it) that answers PutEvents with a partial failure.

export interface AwsFaultRule {
  /** X-Amz-Target, e.g. AWSEvents.PutEvents. */
  target: string;
  times?: number;
  /** Answer 200 with this JSON instead of forwarding (e.g. FailedEntryCount: 1). */
  json: unknown;
}

export interface AwsFaultProxy { endpoint: string; target: string; inject(rule: AwsFaultRule): void; clear(): void; close(): Promise<void> }

export async function startAwsFaultProxy(): Promise<AwsFaultProxy> {
  let rules: { rule: AwsFaultRule; left: number }[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const sockets = new Set<Socket>();
  const proxy: AwsFaultProxy = {
    endpoint: '',
    target: '',
    inject(rule) { rules.push({ rule, left: rule.times ?? 1 }); },
    clear() { rules = []; },
    async close() {
      for (const sk of sockets) sk.destroy();
      agent.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const i = rules.findIndex((r) => r.left > 0 && r.rule.target === target);
    if (i >= 0) {
      const r = rules[i]!;
      r.left -= 1;
      if (r.left <= 0) rules.splice(i, 1);
      req.resume();
      const body = JSON.stringify(r.rule.json);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(body), 'x-amzn-requestid': 'FAULT' });
      res.end(body);
      return;
    }
    const t = new URL(proxy.target);
    // The AWS endpoint answers only under its per-run token path: keep that path in front of the request's.
    const path = `${t.pathname.replace(/\/$/, '')}${req.url ?? '/'}`;
    const out = httpRequest({ host: t.hostname, port: t.port, method: req.method, path, headers: req.headers, agent }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  server.on('connection', (sk: Socket) => { sockets.add(sk); sk.on('close', () => sockets.delete(sk)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}

// ---------------------------------------------------------------------------------------------------------------
// Handler crashes and the state payload log: every step handler is wrapped; a crash rule makes the next matching
// invocation throw before the real handler runs ('before'), or after it ran with its result lost ('after': what a
// Lambda timeout or a crash past the side effect looks like).

export type StepName = 'prepare' | 'uploadWhole' | 'uploadSlices' | 'complete' | 'cancel' | 'report';
export interface CrashRule { step: StepName; when: 'before' | 'after'; error: 'Error' | 'Sandbox.Timedout' | 'Runtime.ExitError'; times?: number }

export interface PayloadEntry { fn: string; input: unknown; output?: unknown; error?: { name: string; message: string }; crash?: CrashRule }

// ---------------------------------------------------------------------------------------------------------------
// Output capture: Powertools writes JSON lines to process.stdout/stderr (a Console over the streams).

export interface Capture { text(): string; lines(): string[]; stop(): void }

export function captureOutput(passThrough = process.env.FAULTS_VERBOSE === '1'): Capture {
  const chunks: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const hook = (orig: typeof out) => ((chunk: unknown, ...rest: unknown[]) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    if (passThrough) return (orig as (...a: unknown[]) => boolean)(chunk, ...rest);
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  }) as typeof out;
  process.stdout.write = hook(out);
  process.stderr.write = hook(err);
  return {
    text: () => chunks.join(''),
    lines: () => chunks.join('').split('\n').filter(Boolean),
    stop: () => { process.stdout.write = out; process.stderr.write = err; },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The harness

export const FAULT_ENV: Record<string, string> = {
  SLICE_SIZE: String(5 * MiB),
  SIMPLE_THRESHOLD: String(6 * MiB),
  // one slice per batch: three Distributed Map children for a 12 MiB object
  CONSERVATIVE_MBPS: '0.01', // per stream: x SLICE_CONCURRENCY 2
  SLICE_CONCURRENCY: '2',
  MAX_RESTARTS: '2',
  POWERTOOLS_LOG_LEVEL: 'DEBUG',
  // the OST client's own retries and timeouts, shortened
  OST_RETRY_ATTEMPTS: '3',
  OST_RETRY_BASE_MS: '10',
  OST_RETRY_MAX_DELAY_MS: '100',
  OST_RETRY_THROTTLED_BASE_MS: '40',
  OST_RESPONSE_TIMEOUT_MS: '1500',
  OST_CONNECT_TIMEOUT_MS: '1500',
};

export interface Harness {
  stack: LocalStack;
  s3: S3FaultProxy;
  /** EventBridge faults the loopback AWS server has no hook for (partial PutEvents failures). */
  aws: AwsFaultProxy;
  payloads: PayloadEntry[];
  capture: Capture;
  crash(rule: CrashRule): void;
  secrets: { apiKey: string; apiSecret: string };
  close(): Promise<void>;
}

export async function startHarness(options: { env?: Record<string, string>; stack?: Partial<LocalStackOptions>; versioning?: 'Enabled' | 'Suspended' } = {}): Promise<Harness> {
  const s3 = await startS3FaultProxy();
  const aws = await startAwsFaultProxy();
  const payloads: PayloadEntry[] = [];
  let crashes: { rule: CrashRule; left: number }[] = [];
  const wrap = (fn: string, real: LambdaHandler): LambdaHandler => async (event, context) => {
    const entry: PayloadEntry = { fn, input: event };
    payloads.push(entry);
    const i = crashes.findIndex((c) => c.rule.step === fn && c.left > 0);
    const crash = i >= 0 ? crashes[i]!.rule : undefined;
    if (crash) { crashes[i]!.left -= 1; entry.crash = crash; }
    const fail = (): never => {
      const e = new Error(crash!.error === 'Sandbox.Timedout' ? `RequestId: ${context.awsRequestId} Error: Task timed out after 120.00 seconds` : `injected crash in ${fn}`);
      e.name = crash!.error;
      entry.error = { name: e.name, message: e.message };
      throw e;
    };
    if (crash?.when === 'before') fail();
    try {
      const out = await real(event, context);
      entry.output = out;
      if (crash?.when === 'after') fail();
      return out;
    } catch (err) {
      if (!entry.error) entry.error = { name: (err as Error).name, message: (err as Error).message };
      throw err;
    }
  };
  const handlers: Record<string, LambdaHandler> = {};
  for (const [k, h] of Object.entries(realHandlers)) handlers[k] = wrap(k, h as unknown as LambdaHandler);
  const capture = captureOutput();
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      ...options.stack,
      handlers,
      env: { ...FAULT_ENV, S3_ENDPOINT: s3.endpoint, AWS_ENDPOINT_URL_EVENTBRIDGE: aws.endpoint, ...options.env },
    });
    if (options.versioning) {
      await stack.s3.client.send(new PutBucketVersioningCommand({ Bucket: stack.bucket, VersioningConfiguration: { Status: options.versioning } }));
    }
  } catch (err) {
    capture.stop();
    await s3.close();
    await aws.close();
    throw err;
  }
  s3.target = stack.s3.endpoint;
  aws.target = stack.aws.endpoint;
  const creds = stack.emulator!.credentials;
  return {
    stack,
    s3,
    aws,
    payloads,
    capture,
    secrets: { apiKey: creds.apiKey, apiSecret: creds.apiSecret },
    crash(rule) { crashes.push({ rule, left: rule.times ?? 1 }); },
    async close() {
      crashes = [];
      try { await stack.close(); } finally { capture.stop(); await s3.close(); await aws.close(); }
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Scenarios and the checker

export type Outcome = 'forwarded' | 'failed' | 'skipped' | 'mixed';
export type Verdict = 'held' | 'lost' | 'corrupt' | 'orphaned' | 'leaked' | 'violated';

export interface ScenarioContext {
  h: Harness;
  key: string;
  /** Puts `body` under `key` (the embedded S3 then sends its ObjectCreated event). */
  put(body: Buffer, key?: string): Promise<void>;
  /** Declares a version of a key's bytes that may legitimately be forwarded (an overwrite). */
  version(key: string, body: Buffer): void;
}

export interface Scenario {
  name: string;
  /** Object size (bytes) or its bytes. */
  size: number;
  /** OST emulator faults. */
  ost?: FaultRule[];
  s3?: (ctx: ScenarioContext) => S3FaultRule[];
  crash?: CrashRule[];
  /** What must happen (beyond the invariants). */
  expect: Outcome;
  /** The error name of a failure (e.g. OstInvalidRequestError). */
  error?: string;
  ostCode?: number;
  /** Extra assertions (return problems). */
  verify?: (r: ScenarioResult, ctx: ScenarioContext) => string[] | Promise<string[]>;
  /**
   * A known limit: the verdict this scenario is expected to get (counted as such in the tally, documented in
   * docs/failures.md, "Known limits"). Only for what the project cannot prevent.
   */
  known?: Verdict;
  /** Replaces the default put (duplicates, raw events). */
  run?: (ctx: ScenarioContext) => Promise<void>;
}

export interface VersionOutcome {
  key: string;
  executionName: string;
  status: 'forwarded' | 'failed' | 'skipped' | 'running' | 'none';
  record?: OutcomeRecord;
  execution: ExecutionRecord;
}

export interface ScenarioResult {
  scenario: string;
  verdict: Verdict;
  outcome: Outcome;
  problems: string[];
  versions: VersionOutcome[];
  /** Forwards at OST during the scenario (served files). */
  forwards: { file: string; sha256: string; bytes: number }[];
  calls: { call: string; sliceId?: number; code?: number; outcome: string; fault: boolean }[];
  summary: string;
  ms: number;
}

/** `size` pseudo-random bytes, distinct per seed and per slice (AES-256-CTR keystream: fast). */
export function bytesFor(size: number, seed: string): Buffer {
  const key = createHash('sha256').update(seed).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function sha256OfFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const c of createReadStream(path)) { h.update(c as Buffer); bytes += (c as Buffer).length; }
  return { sha256: h.digest('hex'), bytes };
}

function filesAtOst(h: Harness): string[] {
  const dir = join(h.stack.emulator!.dir, 'files');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

export class FaultSuite {
  readonly results: ScenarioResult[] = [];
  private seen = new Set<string>();
  constructor(readonly h: Harness, readonly part: string) {}

  async run(s: Scenario, index: number): Promise<ScenarioResult> {
    const h = this.h;
    const started = Date.now();
    const key = `faults/${this.part}/${String(index).padStart(2, '0')} ${s.name.replace(/[^A-Za-z0-9 ._-]+/g, '-').slice(0, 80)}.bin`;
    const versions = new Map<string, Set<string>>(); // key -> sha256 of every legitimate version
    const version = (k: string, body: Buffer) => { if (!versions.has(k)) versions.set(k, new Set()); versions.get(k)!.add(sha(body)); };
    const callStart = h.stack.emulator!.calls.length;
    const payloadStart = h.payloads.length;
    const eventStart = h.stack.aws.events.length;
    const captureStart = h.capture.text().length;
    const filesBefore = new Set(filesAtOst(h));
    const execsBefore = new Set(h.stack.executor.executions.keys());
    const ctx: ScenarioContext = {
      h, key, version,
      put: async (body, k = key) => {
        version(k, body);
        await h.stack.s3.client.send(new PutObjectCommand({ Bucket: h.stack.bucket, Key: k, Body: body, ContentLength: body.length }));
      },
    };
    for (const f of s.ost ?? []) h.stack.emulator!.inject(f);
    for (const f of s.s3?.(ctx) ?? []) h.s3.inject(f);
    for (const c of s.crash ?? []) h.crash(c);
    const problems: string[] = [];
    const debug = (m: string) => { if (process.env.FAULTS_DEBUG) writeFileSync(process.env.FAULTS_DEBUG, `${new Date().toISOString()} ${s.name}: ${m}\n`, { flag: 'a' }); };
    debug('start');
    try {
      if (s.run) await s.run(ctx);
      else await ctx.put(bytesFor(s.size, key));
      // every delivery settled, then every execution (children included) finished
      debug('ran');
      // A notification is settled once its message was sent to the intake and left it (started or dropped): an
      // empty queue alone says nothing while the notification's SendMessage is still on its way.
      await waitFor(() => h.stack.deliveries.every((d) => d.result !== undefined || d.deadLettered), 60_000);
      debug('delivered');
      await settle(h, debug);
      debug('settled');
    } catch (err) {
      problems.push(`scenario did not run: ${(err as Error).message}`);
    } finally {
      h.stack.emulator!.clearFaults();
      h.s3.clear();
      h.aws.clear();
    }

    // --- what happened ----------------------------------------------------------------------------------------
    const emulator = h.stack.emulator!;
    const calls = emulator.calls.slice(callStart);
    const executions = [...h.stack.executor.executions.values()].filter((e) => !execsBefore.has(e.executionArn) && !e.parentArn);
    const keys = new Set([...versions.keys(), ...executions.map((e) => (e.input as { key?: string }).key ?? '')]);
    const records: OutcomeRecord[] = [];
    for (const k of keys) if (k) records.push(...await h.stack.recordsFor(k));
    const events = h.stack.aws.events.slice(eventStart);
    const newFiles = filesAtOst(h).filter((f) => !filesBefore.has(f));
    const forwards = await Promise.all(newFiles.map(async (f) => ({ file: f, ...await sha256OfFile(join(emulator.dir, 'files', f)) })));
    const allShas = new Set([...versions.values()].flatMap((v) => [...v]));

    let corrupt = false;
    let lost = false;
    // every forward at OST is byte-identical to a version of the source
    for (const f of forwards) {
      if (!allShas.has(f.sha256)) { corrupt = true; problems.push(`forwarded file ${f.file} (${f.bytes} bytes) matches no version of the source`); }
    }
    // at most one forward per object version
    const perSha = new Map<string, number>();
    for (const f of forwards) perSha.set(f.sha256, (perSha.get(f.sha256) ?? 0) + 1);
    for (const [v, n] of perSha) if (n > 1) problems.push(`forwarded ${n} times: one object version (sha ${v.slice(0, 12)})`);

    const outcomes: VersionOutcome[] = [];
    for (const e of executions) {
      const mine = records.filter((r) => r.executionName === e.name);
      const myEvents = events.filter((ev) => (ev.detail as OutcomeRecord | undefined)?.executionName === e.name);
      const record = mine[0];
      const status = e.status === 'RUNNING' ? 'running' : record?.status ?? 'none';
      outcomes.push({ key: (e.input as { key: string }).key, executionName: e.name, status, record, execution: e });
      if (status === 'running') { problems.push(`execution ${e.name} still running`); continue; }
      if (mine.length !== 1) problems.push(`execution ${e.name}: ${mine.length} records`);
      // EventBridge is at-least-once (and a Report re-run after publishing publishes again): consumers dedupe on
      // executionName; what must hold is at least one event, every one saying the same.
      if (myEvents.length < 1) problems.push(`execution ${e.name}: no event`);
      if (new Set(myEvents.map((ev) => ev.detailType)).size > 1) problems.push(`execution ${e.name}: events disagree`);
      if (!record) { lost = true; problems.push(`execution ${e.name} (${e.status}${e.error ? ` ${e.error}` : ''}) left no record`); continue; }
      if (record.status === 'forwarded') {
        if (e.status !== 'SUCCEEDED') problems.push(`forwarded record but execution ${e.status}`);
        if (myEvents[0] && myEvents[0].detailType !== 'OST File Forwarded') problems.push(`event ${myEvents[0].detailType} for a forwarded record`);
        const served = await fetchSha(record.url!);
        const wanted = versions.get(record.key);
        if (!wanted || !wanted.has(served.sha256)) {
          // a version we did not write ourselves is only acceptable when nothing claims it
          corrupt = true;
          problems.push(`served ${record.url} (${served.status}, ${served.bytes} bytes) differs from the source`);
        }
        if (record.bytes !== served.bytes) problems.push(`record says ${record.bytes} bytes, served ${served.bytes}`);
      } else {
        if (e.status !== 'FAILED') problems.push(`failure record but execution ${e.status}`);
        if (myEvents[0] && myEvents[0].detailType !== 'OST File Forward Failed') problems.push(`event ${myEvents[0].detailType} for a failure record`);
        const err = record.error;
        if (!err || !err.error || !err.message) problems.push('failure record without error name and message');
        if (e.error !== err?.error) problems.push(`execution error ${e.error} differs from the record's ${err?.error}`);
        if (e.cause && err?.message && !e.cause.includes(JSON.stringify(err.message).slice(1, -1).slice(0, 40))) problems.push('execution cause does not carry the message');
        // cancel called for every upload this execution inited (the record names the last one)
        if (record.uploadId && !calls.some((c) => c.call === 'cancel' && c.uploadId === record.uploadId)) {
          problems.push(`upload ${record.uploadId} was not cancelled`);
        }
        if (record.uploadId && record.cancelled === undefined) problems.push('failure record does not say whether the upload was cancelled');
      }
    }
    // inits during this scenario: each upload ends completed or cancelled
    const uploads = new Map(emulator.uploads().map((u) => [u.uploadId, u]));
    const inited = calls.filter((c) => c.call === 'init' && c.uploadId).map((c) => c.uploadId!);
    // An upload whose cancel OST answered with 10005 ("expired or never uploaded") is gone by the service's own
    // word; only the emulator's injected 10005 (which has no effect) leaves it open behind the answer.
    const goneByAnswer = (id: string) => calls.some((c) => c.call === 'cancel' && c.uploadId === id && c.code === 10005);
    const orphans = inited.filter((id) => { const u = uploads.get(id); return u && (u.state === 'open' || u.state === 'expired') && !goneByAnswer(id); });
    for (const id of orphans) problems.push(`orphaned upload ${id}: ${uploads.get(id)!.state}, calls ${calls.filter((c) => c.uploadId === id).map((c) => `${c.call}${c.sliceId ?? ''}:${c.code ?? c.outcome}`).join(',')}`);
    // an object version forwarded by OST but recorded as failed, or recorded nowhere, is lost to the user
    for (const k of versions.keys()) {
      const any = outcomes.some((o) => o.key === k);
      if (!any && s.expect !== 'skipped') { lost = true; problems.push(`no execution for ${k}`); }
    }

    // --- the secret -------------------------------------------------------------------------------------------
    const haystack = [
      h.capture.text().slice(captureStart),
      JSON.stringify(h.payloads.slice(payloadStart)),
      JSON.stringify(records),
      JSON.stringify(events),
      JSON.stringify(executions.map((e) => ({ input: e.input, output: e.output, error: e.error, cause: e.cause, children: e.mapRuns.flatMap((m) => m.children.map((c) => ({ input: c.input, output: c.output, error: c.error, cause: c.cause }))) }))),
      JSON.stringify(h.stack.deliveries.map((d) => ({ result: d.result, error: d.error }))),
    ].join('\n');
    let leaked = false;
    for (const [name, value] of Object.entries(h.secrets)) {
      if (haystack.includes(value)) { leaked = true; problems.push(`${name} appears in logs/records/events/payloads`); }
    }

    // --- the scenario's own expectation -----------------------------------------------------------------------
    const statuses = new Set(outcomes.map((o) => o.status));
    const outcome: Outcome = outcomes.length === 0 ? 'skipped' : statuses.size === 1 ? ([...statuses][0] as Outcome) : 'mixed';
    if (outcome !== s.expect) problems.push(`expected ${s.expect}, got ${outcome}`);
    const failure = outcomes.find((o) => o.record?.status === 'failed')?.record?.error;
    if (s.error && failure?.error !== s.error) problems.push(`expected error ${s.error}, got ${failure?.error}`);
    if (s.ostCode !== undefined && failure?.ostCode !== s.ostCode) problems.push(`expected OST code ${s.ostCode}, got ${failure?.ostCode}`);
    const result: ScenarioResult = {
      scenario: s.name,
      verdict: 'held',
      outcome,
      problems,
      versions: outcomes,
      forwards,
      calls: calls.map((c) => ({ call: c.call, ...(c.sliceId !== undefined ? { sliceId: c.sliceId } : {}), ...(c.code !== undefined ? { code: c.code } : {}), outcome: c.outcome, fault: c.fault !== undefined })),
      summary: '',
      ms: Date.now() - started,
    };
    if (s.verify) problems.push(...await s.verify(result, ctx));
    result.verdict = corrupt ? 'corrupt' : lost ? 'lost' : orphans.length ? 'orphaned' : leaked ? 'leaked' : problems.length ? 'violated' : 'held';
    result.summary = describeOutcome(result);
    // leave no orphan behind for the next scenario's accounting
    this.results.push(result);
    this.writeSummary();
    return result;
  }

  /** The tally of this file, merged with the other fault files of the same jest run, in FAULTS_SUMMARY_FILE. */
  writeSummary(): void {
    const dir = dirname(FAULTS_SUMMARY_FILE);
    mkdirSync(dir, { recursive: true });
    const mine = tally(this.results);
    // The rows feed docs/faults.md, which the summary reporter writes after a run of the whole fault suite.
    const rows = this.results.map((r) => ({ scenario: r.scenario, summary: r.summary, verdict: r.verdict, problems: r.problems.map((p) => p.slice(0, 300)).slice(0, 5), ms: r.ms }));
    writeFileSync(join(dir, `faults-part-${this.part}.json`), JSON.stringify({ run: runId(), part: this.part, ...mine, scenarios: mine.scenarios, rows }));
    const total = { scenarios: 0, held: 0, lost: 0, corrupt: 0, orphaned: 0, leaked: 0, violated: 0 };
    for (const f of readdirSync(dir).filter((n) => n.startsWith('faults-part-'))) {
      try {
        const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as typeof total & { run: string };
        if (p.run !== runId()) continue;
        for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += p[k] ?? 0;
      } catch { /* another worker is writing it */ }
    }
    writeFileSync(FAULTS_SUMMARY_FILE, JSON.stringify(total));
  }
}

/** Workers of one jest run share their parent; a file run in band is its own run. */
function runId(): string {
  return process.env.JEST_WORKER_ID && process.send ? `ppid-${process.ppid}` : `pid-${process.pid}`;
}

export function tally(results: ScenarioResult[]) {
  const n = (v: Verdict) => results.filter((r) => r.verdict === v).length;
  return { scenarios: results.length, held: n('held'), lost: n('lost'), corrupt: n('corrupt'), orphaned: n('orphaned'), leaked: n('leaked'), violated: n('violated') };
}

function describeOutcome(r: ScenarioResult): string {
  const v = r.versions.map((o) => {
    if (o.record?.status === 'forwarded') return `forwarded byte-exact${o.record.restarts ? ` (restart ${o.record.restarts})` : ''}`;
    if (o.record?.status === 'failed') {
      const e = o.record.error!;
      return `failed ${e.error}${e.ostCode !== undefined ? ` ${e.ostCode}` : ''}${o.record.uploadId ? (o.record.cancelled ? ', cancelled' : `, not cancelled (${o.record.cancelReason ?? '?'})`) : ''}`;
    }
    return o.status;
  });
  const retries = r.versions.reduce((n, o) => n + o.execution.retries.length, 0);
  const faulted = r.calls.filter((c) => c.fault).length;
  return `${[...new Set(v)].join(' / ') || 'no execution'}${faulted ? `; ${faulted} faulted OST calls` : ''}${retries ? `; ${retries} state retries` : ''}`;
}

async function fetchSha(url: string): Promise<{ sha256: string; bytes: number; status: number }> {
  const res = await fetch(url);
  const buf = Buffer.from(await res.arrayBuffer());
  return { sha256: sha(buf), bytes: buf.length, status: res.status };
}

export async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits until no execution runs and no delivery is pending, twice in a row (a finished one may start another). */
async function settle(h: Harness, debug: (m: string) => void = () => undefined): Promise<void> {
  const t = setTimeout(() => {
    const running = [...h.stack.executor.executions.values()].filter((e) => e.status === 'RUNNING');
    debug(`still running: ${running.map((e) => `${e.name} entered ${e.entered.map((x) => x.name).join('>')}`).join(' | ')}; payloads: ${h.payloads.filter((p) => p.output === undefined && !p.error).map((p) => p.fn).join(',')}`);
  }, 5000);
  try { await settleLoop(h); } finally { clearTimeout(t); }
}
async function settleLoop(h: Harness): Promise<void> {
  for (let quiet = 0; quiet < 2;) {
    await h.stack.executor.idle();
    await new Promise((r) => setTimeout(r, 30));
    const running = [...h.stack.executor.executions.values()].some((e) => e.status === 'RUNNING');
    quiet = running ? 0 : quiet + 1;
  }
}

/** A markdown table row per scenario. */
export function tableRows(results: ScenarioResult[]): string {
  return results.map((r) => `| ${r.scenario} | ${r.summary} | ${r.verdict}${r.verdict === 'held' ? '' : `: ${r.problems.join('; ')}`} | ${(r.ms / 1000).toFixed(1)} s |`).join('\n');
}

export { sha as sha256Hex };
export type { DeleteObjectCommand };
export const s3Commands = { PutObjectCommand, DeleteObjectCommand };

/** One jest test per scenario, on one harness; the table rows are appended to $FAULTS_TABLE when set. */
export function defineFaultSuite(part: string, scenarios: () => Scenario[], options: Parameters<typeof startHarness>[0] = {}): void {
  let h: Harness;
  let suite: FaultSuite;
  beforeAll(async () => { h = await startHarness(options); suite = new FaultSuite(h, part); });
  afterAll(async () => {
    if (suite && process.env.FAULTS_TABLE) writeFileSync(process.env.FAULTS_TABLE, tableRows(suite.results) + '\n', { flag: 'a' });
    await h?.close();
  });
  const list = scenarios();
  it.each(list.map((s, i) => [s.name, s, i] as const))('%s', async (_name, s, i) => {
    const r = await suite.run(s, i);
    expect({ verdict: r.verdict, problems: r.problems }).toEqual({ verdict: s.known ?? 'held', problems: s.known ? expect.any(Array) : [] });
  });
}
