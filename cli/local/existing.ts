// `ost-forward local --existing <file...> [--key-prefix P] [--json]`: the backfill path on this machine. The files
// are put into the local bucket with no event (as objects that were there before the deployment), then forwarded
// by a backfill over the key prefix (lib/intake/backfill.ts) that submits into the local intake queue with admission on
// (local/stack/fleet.ts, MAX_FILES_IN_FLIGHT slots), the path a deployed backfill takes; each file gets the usual line
// (cli/local/lines.ts). A second backfill pass (dry run) then checks that nothing is left to submit. Both passes
// take only the named keys: anything else in the bucket stays. Exit 0 only when every named file is at OST (a
// file the filters leave out is a failure here, as in `local`).
// With the embedded S3 the command starts its own s3rver and hands it to the stack as an external endpoint, so no
// ObjectCreated notification reaches the trigger.
import { basename } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { isTransientAwsError } from '../../lib/core/aws-errors';
import { FileSource } from '../../lib/sources/file';
import type { BackfillItem } from '../../lib/intake/backfill';
import { intakeQueueSubmitter } from '../../lib/intake/backfill-submitter';
import { parseStepError } from '../../lib/workflow/step-errors';
import { loadSettings } from '../../lib/config/settings';
import { errorCode, type ForwardResult, type LocalStack, type LocalStackOptions } from '../../local/stack';
import type { ExecutionRecord } from '../../local/executor';
import { startEmbeddedS3 } from '../../local/aws/s3';
import type { LocalArgs } from './args';
import { withStack } from './stack';
import { humanLine, resultLine } from './lines';
import { runBackfill, summaryLine } from '../backfill-run';
import { safeJson, safeText } from '../output';

// An execution starts once the intake admits its message: under a small MAX_FILES_IN_FLIGHT that waits for others.
async function executionNamed(stack: LocalStack, name: string, timeoutMs = 600_000): Promise<ExecutionRecord | undefined> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const e = [...stack.executor.executions.values()].find((x) => x.name === name && !x.parentArn);
    if (e) return e.done;
    if (Date.now() > until) return undefined;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The per-file result of a backfilled object, as local/stack/index.ts shapes it for an event-started one. */
async function resultOf(stack: LocalStack, item: BackfillItem): Promise<ForwardResult> {
  const base = { key: item.key, bytes: item.bytes, slices: 0, events: stack.eventsFor(item.key) };
  if (item.status === 'error' || !item.execution) {
    return { ...base, records: [], status: 'failed', error: { code: 'NOT_SUBMITTED', message: item.error ?? `not submitted (${item.reason ?? item.status})` } };
  }
  const execution = await executionNamed(stack, item.execution);
  const records = (await stack.recordsFor(item.key).catch(() => [])).filter((r) => r.executionName === item.execution);
  const events = base.events.filter((e) => (e.detail as { executionName?: string } | undefined)?.executionName === item.execution);
  const record = records[0];
  const slices = record ? (record.mode === 'simple' ? 1 : record.slices) : 0;
  if (execution?.status === 'SUCCEEDED' && record?.status === 'forwarded' && record.url) {
    return { ...base, events, records, status: 'forwarded', url: record.url, slices, bytes: record.bytes ?? item.bytes, executionName: execution.name, execution };
  }
  const info = record?.error ?? (execution ? parseStepError({ Error: execution.error ?? execution.status, Cause: execution.cause }) : undefined);
  const error = info
    ? { code: errorCode(info.error), message: info.message, ...(info.ostCode !== undefined ? { ostCode: info.ostCode } : {}), ...(info.sid ? { sid: info.sid } : {}) }
    : { code: 'NOT_STARTED', message: `execution ${item.execution} was not found` };
  return { ...base, events, records, status: 'failed', slices, executionName: item.execution, ...(execution ? { execution } : {}), error };
}

/** Why a named file was not submitted, in a person's words; only 'forwarded' means it is at OST. */
const SKIPPED: Partial<Record<string, string>> = {
  forwarded: 'already forwarded',
  submitted: 'submitted by an earlier run, not known to be forwarded',
  filter: 'not forwarded: KEY_PREFIX_FILTER / KEY_SUFFIX_FILTER leave it out',
  'results-prefix': 'not forwarded: it is under RESULTS_PREFIX',
  folder: 'not forwarded: a folder marker',
};

function skippedLine(item: BackfillItem, json: boolean): string {
  if (json) return safeJson({ key: item.key, status: 'skipped', reason: item.reason ?? null, url: null, bytes: item.bytes, slices: 0, error: null });
  return `skipped   ${safeText(item.key)}: ${safeText(SKIPPED[item.reason ?? ''] ?? `not forwarded (${item.reason ?? 'skipped'})`)}`;
}

/**
 * Puts a file as `local` does (lib/sources/file.ts: its identity checked over the whole read, so a file rewritten
 * meanwhile fails instead of storing a mix). A streamed body cannot be replayed by the SDK, so a connection that
 * dropped (a keep-alive socket the server had just closed) is tried again with the file opened anew.
 */
async function putFile(stack: LocalStack, key: string, path: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const source = await FileSource.fromPath(path);
    try {
      await stack.s3.client.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: await source.open(0, source.size) as never, ContentLength: source.size }));
      return source.size;
    } catch (err) {
      if (attempt >= 3 || !isTransientAwsError(err)) throw err;
    }
  }
}

export async function runExisting(args: LocalArgs, opts: LocalStackOptions, progress: (line: string) => void): Promise<number> {
  // Our own s3rver, seen by the stack as an external endpoint: puts send no notification.
  const own = opts.s3 ? undefined : await startEmbeddedS3({});
  try {
    const withS3: LocalStackOptions = own ? { ...opts, s3: { endpoint: own.endpoint, region: own.region, accessKeyId: own.accessKeyId, secretAccessKey: own.secretAccessKey } } : opts;
    // Admission always on: backfill goes through the intake queue, as against a deployed stack.
    const stackOpts: LocalStackOptions = { ...withS3, fleet: withS3.fleet ?? {} };
    return await withStack({ ...stackOpts, log: progress }, async (stack) => {
      progress(`S3 ${stack.s3.endpoint} bucket ${stack.bucket}; OST ${stack.ostEndpoint}; backfill over s3://${stack.bucket}/${args.keyPrefix}`);
      const keyOf = new Map<string, number>();
      for (const [i, f] of args.files.entries()) {
        const key = args.keyPrefix + basename(f);
        keyOf.set(key, i);
        const size = await putFile(stack, key, f);
        progress(`put s3://${stack.bucket}/${key} (${size} bytes, no event)`);
      }
      const settings = loadSettings(process.env); // the stack's environment (filters, results prefix)
      const submit = intakeQueueSubmitter(stack.fleet.sqs.client, stack.fleet.queueUrl);
      const items: BackfillItem[] = [];
      const backfillArgs = { bucket: stack.bucket, prefix: args.keyPrefix, suffixes: [], failedOnly: false, dryRun: false, json: false, direct: false };
      // only what was named may leave: the bucket (S3_ENDPOINT, a bucket of one's own) may hold anything else
      const only = new Set(keyOf.keys());
      const first = await runBackfill({
        args: backfillArgs, settings, s3: stack.s3.client, submit, region: stack.s3.region, only,
        out: () => undefined, err: process.stderr, itemLines: false, onItem: (item) => { if (keyOf.has(item.key)) items.push(item); },
      });
      const out: (string | undefined)[] = args.files.map(() => undefined);
      let next = 0;
      const flush = () => { while (next < out.length && out[next] !== undefined) process.stdout.write(out[next++]! + '\n'); };
      const results = await Promise.all(items.map(async (item) => {
        const i = keyOf.get(item.key)!;
        // a named file counts as done only when it is at OST: already forwarded, or forwarded now
        if (item.status === 'skipped') { out[i] = skippedLine(item, args.json); flush(); return item.reason === 'forwarded' ? 'forwarded' as const : 'skipped' as const; }
        const r = await resultOf(stack, item);
        out[i] = args.json ? resultLine(r) : humanLine(r);
        flush();
        return r.status;
      }));
      for (const [i] of args.files.entries()) if (out[i] === undefined) out[i] = args.json ? safeJson({ key: args.keyPrefix + basename(args.files[i]!), status: 'failed', url: null, bytes: 0, slices: 0, error: { code: 'NOT_LISTED', message: 'the backfill did not list this object' } }) : `failed    ${safeText(args.keyPrefix + basename(args.files[i]!))}: NOT_LISTED`;
      flush();
      await stack.executor.idle().catch(() => undefined);
      const again = await runBackfill({
        args: { ...backfillArgs, dryRun: true }, settings, s3: stack.s3.client, submit, region: stack.s3.region, only,
        out: () => undefined, err: process.stderr, itemLines: false,
      });
      const where = `s3://${stack.bucket}/${args.keyPrefix}`;
      const lines = [summaryLine(where, first, false), `re-check (dry run): ${again.wouldSubmit} left to submit, ${again.skipped.forwarded ?? 0} already forwarded`];
      for (const l of lines) (args.json ? process.stderr : process.stdout).write((args.json ? 'ost-forward local: ' : '') + l + '\n');
      const ok = results.length === args.files.length && results.every((s) => s === 'forwarded') && first.errors === 0;
      return ok ? 0 : 1;
    });
  } finally {
    await own?.close();
  }
}
