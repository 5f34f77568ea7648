// One forwarding through the real local pipeline (local/stack/index.ts): the trigger handler gets the ObjectCreated
// record of an object already in S3, starts the execution, and the executor runs statemachine/definition.yml with
// the real handlers against the servers' S3 and OST emulator. The object is put once and forwarded many times,
// so a run measures the workflow, not the PutObject.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startLocalStack, type LocalStack } from '../local/stack';
import { localS3Client, s3Event } from '../local/aws/s3';
import type { ExecutionRecord } from '../local/executor';
import type { Servers } from './servers';

export async function putObject(servers: Servers, key: string, path: string): Promise<number> {
  const client = localS3Client(servers.s3);
  const started = performance.now();
  try {
    const { size } = await stat(path);
    await client.send(new PutObjectCommand({ Bucket: servers.bucket, Key: key, Body: createReadStream(path, { highWaterMark: 1024 * 1024 }), ContentLength: size }));
  } finally {
    client.destroy();
  }
  return performance.now() - started;
}

export interface PipelineRun {
  /** Wall time of the execution (Prepare … Report), ms. */
  ms: number;
  /** From handing the S3 record to the trigger to the end of the execution, ms. */
  triggerToEndMs: number;
  status: string;
  error?: string;
  execution: ExecutionRecord;
  stack: LocalStack;
  /** Per-step wall time (sum over invocations, and the span first start → last end), from wrapped handlers. */
  steps: Record<string, { invocations: number; totalMs: number; spanMs: number }>;
  /** Largest task input and result seen by the wrapped handlers (JSON bytes) — a cross-check of the executor's own. */
  largestTaskPayload: { bytes: number; step: string; direction: 'input' | 'result' };
}

export interface PipelineOptions {
  env?: Record<string, string>;
  /** Keep the stack open (the caller closes it) — e.g. to read records or executor stats afterwards. */
  keepOpen?: boolean;
}

/** Starts a stack against `servers`, forwards `key` once, and returns timings and the execution record. */
export async function forwardOnce(servers: Servers, key: string, opts: PipelineOptions = {}): Promise<PipelineRun> {
  const steps: PipelineRun['steps'] = {};
  const spans: Record<string, { first: number; last: number }> = {};
  const largest: PipelineRun['largestTaskPayload'] = { bytes: 0, step: '', direction: 'input' };
  const measure = (value: unknown, step: string, direction: 'input' | 'result') => {
    const bytes = value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value));
    if (bytes > largest.bytes) Object.assign(largest, { bytes, step, direction });
  };
  const { handlers } = await import('../functions');
  const wrapped = Object.fromEntries(Object.entries(handlers).map(([name, h]) => [name, async (event: unknown, ctx: unknown) => {
    const t0 = performance.now();
    measure(event, name, 'input');
    try {
      const result = await (h as (e: unknown, c: unknown) => Promise<unknown>)(event, ctx);
      measure(result, name, 'result');
      return result;
    } finally {
      const t1 = performance.now();
      const s = (steps[name] ??= { invocations: 0, totalMs: 0, spanMs: 0 });
      s.invocations++;
      s.totalMs += t1 - t0;
      const sp = (spans[name] ??= { first: t0, last: t1 });
      sp.first = Math.min(sp.first, t0);
      sp.last = Math.max(sp.last, t1);
      s.spanMs = sp.last - sp.first;
    }
  }]));
  const stack = await startLocalStack({
    bucket: servers.bucket,
    s3: servers.s3,
    ost: servers.ost,
    env: opts.env,
    handlers: wrapped,
  });
  try {
    const record = await stack.recordFor(key);
    const since = Date.now();
    const t0 = performance.now();
    stack.deliver(s3Event([record]));
    const execution = await stack.waitForExecution(key, since - 1);
    const t1 = performance.now();
    if (!execution) throw new Error(`no execution started for ${key}`);
    const ms = (execution.stopDate ?? new Date()).getTime() - execution.startDate.getTime();
    return { ms, triggerToEndMs: t1 - t0, status: execution.status, error: execution.error ? `${execution.error}: ${execution.cause}` : undefined, execution, stack, steps, largestTaskPayload: largest };
  } finally {
    if (!opts.keepOpen) await stack.close();
  }
}
