// The whole pipeline on one machine: S3 (embedded s3rver, or S3_ENDPOINT) → ObjectCreated notification → the intake
// queue (local/fleet.ts) → the real trigger handler → StartExecution on the loopback AWS endpoint → the local executor running
// statemachine/definition.yml with the real step handlers → OST (the emulator, or OST_ENDPOINT).
//
//   file ──PutObject──▶ S3 ──notification──▶ intake (SQS) ──▶ trigger ──SFN StartExecution──▶ aws-server ──▶ executor
//                                                                                 │ Prepare, Map(UploadSlices)…
//             EventBridge PutEvents / SSM GetParameter ◀── aws-server ◀──── handlers ──▶ OST emulator
//
// The handlers are configured only through the environment they read on AWS (lib/config/settings.ts): the one the
// packaged template gives each function (local/template-config.ts, checked by test/parity.test.ts) — records in a
// bucket of their own, the template's lease, queue and mapping — with only LOCAL_DIFFERENCES changed; `env` options
// that are stage params (lib/config/table.ts) are given as params. Set for the lifetime of the stack, restored on close().
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { S3EventRecord } from 'aws-lambda';
import { handlers } from '../functions';
import { FileSource } from '../lib/sources/file';
import { escapeControlCharacters } from '../lib/core/text';
import * as ostErrors from '../lib/ost/errors';
import { parseStepError } from '../lib/workflow/step-errors';
import { recordFolder, type OutcomeRecord } from '../lib/workflow/outcome-records';
import { decodeS3Key } from '../lib/intake/s3-event';
import { REASON_ATTRIBUTE } from '../lib/intake/batch';
import { DEFAULT_RESULTS_PREFIX, logLevelSetting, settings } from '../lib/config/settings';
import { settingDefault } from '../lib/config/table';
import { logger, metrics } from '../lib/runtime/logging';
import { resetRuntime } from '../lib/runtime/reset';
import { startEmulator, type OstEmulator } from './emulator';
import { startAwsServer, type AwsServer, type RecordedEvent } from './aws-server';
import { LocalExecutor, loadProjectDefinition, serverlessResolver, lambdaContext, type ExecutionRecord, type ExecutorStats, type LambdaHandler } from './executor';
import { keysOfMessage, keysWithoutExecution, startLocalFleet, type FleetOptions, type FleetSummary, type LocalFleet } from './fleet';
import { ensureBucket, localS3Client, recordFromHead, s3Event, startEmbeddedS3, LOCAL_ACCOUNT, LOCAL_REGION, type EmbeddedS3, type S3Connection } from './s3';
import { notified, paramsOfEnv, templateConfig, type Wires } from './template-config';

export { LOCAL_DIFFERENCES } from './template-config';

export const DEFAULT_LOCAL_BUCKET = 'ost-forwarder-local';


export interface LocalStackOptions {
  bucket?: string;
  /** An external S3-compatible endpoint (radosgw, MinIO, AWS) instead of the embedded s3rver. */
  s3?: S3Connection;
  /** A real or external OST endpoint instead of the emulator. */
  ost?: { endpoint: string; appId: string; apiKey: string; apiSecret: string };
  /** Options for the emulator (ignored with `ost`). */
  emulator?: { dir?: string; minSliceSize?: number; uploadTtlMs?: number; maxConcurrency?: number };
  /** Extra environment for the handlers (SLICE_SIZE, SIMPLE_THRESHOLD, SLICE_CONCURRENCY, MAP_MAX_CONCURRENCY…). */
  env?: Record<string, string | undefined>;
  /** Project root holding statemachine/definition.yml and serverless.yml. */
  root?: string;
  /** Scale of the definition's Retry intervals (default 0.01). */
  retryIntervalScale?: number;
  /** The state machine's TimeoutSeconds replaced (a test times executions out in seconds). */
  executionTimeoutSeconds?: number;
  /** The stage the template is resolved for (names: `ost-forwarder-<stage>`); default `local`. */
  stage?: string;
  /** Override step handlers (tests wrap them to observe or fail). */
  handlers?: Partial<Record<string, LambdaHandler>>;
  /** Lambda's asynchronous invocation retries of the trigger (AWS: 2). */
  triggerRetries?: number;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  /**
   * Admission (local/fleet.ts): S3 → SQS intake → trigger with slots → executions under the account's limits.
   * On when given, or when MAX_FILES_IN_FLIGHT is set (in `env` or the process); otherwise S3 invokes the trigger.
   */
  fleet?: FleetOptions;
}

export interface ForwardError { code: string; message: string; ostCode?: number; sid?: string }

export interface ForwardResult {
  key: string;
  status: 'forwarded' | 'failed';
  url?: string;
  bytes: number;
  slices: number;
  error?: ForwardError;
  executionName?: string;
  /** Outcome records this execution wrote (lib/workflow/outcome-records.ts). */
  records: OutcomeRecord[];
  /** EventBridge events published for this key. */
  events: RecordedEvent[];
  execution?: ExecutionRecord;
  sha256?: string;
}

export interface TriggerDelivery {
  id: string;
  event: unknown;
  attempts: number;
  result?: unknown;
  error?: { name: string; message: string };
  /** Failed all attempts: on AWS the event goes to the trigger's dead-letter queue. */
  deadLettered: boolean;
  done: Promise<TriggerDelivery>;
}

export interface LocalStack {
  bucket: string;
  s3: S3Connection & { client: S3Client; embedded: boolean };
  emulator?: OstEmulator;
  ostEndpoint: string;
  aws: AwsServer;
  executor: LocalExecutor;
  deliveries: TriggerDelivery[];
  /** The environment the handlers see. */
  env: Record<string, string>;
  /** The intake, slots and limits. */
  fleet: LocalFleet;
  /** Where records and attempt markers go (the template's records bucket, or RESULTS_BUCKET given). */
  recordsBucket: string;
  /** The wires the template gives, as the local stack runs them. */
  wires: Wires;
  /** Each function's environment as the template gives it, bound to the local resources (before LOCAL_DIFFERENCES). */
  templateEnvironments: Record<string, Record<string, string>>;
  /** Peaks of the fleet: the semaphore's and the limits' with admission, else from the executor's records. */
  fleetSummary(): Promise<FleetSummary>;
  /** Puts each file as `<keyPrefix><basename>` and waits for its workflow. */
  forwardFiles(files: string[], options?: { keyPrefix?: string; onResult?: (r: ForwardResult) => void }): Promise<ForwardResult[]>;
  /** Puts bytes or a file under `key` and waits for its workflow. */
  forwardObject(key: string, body: Buffer | string, options?: { file?: boolean }): Promise<ForwardResult>;
  /** Invokes the trigger handler directly with any payload (it queues it into the intake; retries included). */
  deliver(event: unknown): TriggerDelivery;
  /** Sends any body into the intake queue (as a rule or S3 would) and waits until the intake holds no message. */
  notify(body: unknown): Promise<void>;
  /** What the intake's dead-letter queue holds: each body and why the trigger could not read it. */
  intakeDeadLetters(): Array<{ body: string; reason?: string }>;
  /** The ObjectCreated event record S3 would send for an existing object. */
  recordFor(key: string): Promise<S3EventRecord>;
  /** Waits for the execution of `key` started at or after `since` (and its end). */
  waitForExecution(key: string, since?: number): Promise<ExecutionRecord | undefined>;
  /** Outcome records of `key`, every execution. */
  recordsFor(key: string): Promise<OutcomeRecord[]>;
  eventsFor(key: string): RecordedEvent[];
  stats(): ExecutorStats;
  close(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const root = options.root ?? projectRoot();
  const log = options.log ?? (() => undefined);
  const bucket = options.bucket ?? DEFAULT_LOCAL_BUCKET;
  const closers: (() => Promise<void>)[] = [];
  const savedEnv: Record<string, string | undefined> = {};
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    closers.length = 0;
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await resetRuntime();
  };
  try {
    // S3
    let embedded: EmbeddedS3 | undefined;
    let s3: LocalStack['s3'];
    if (options.s3) {
      const client = localS3Client(options.s3);
      await ensureBucket(client, bucket);
      s3 = { ...options.s3, client, embedded: false };
      closers.push(async () => client.destroy());
    } else {
      embedded = await startEmbeddedS3({ buckets: [bucket] });
      s3 = { endpoint: embedded.endpoint, region: embedded.region, accessKeyId: embedded.accessKeyId, secretAccessKey: embedded.secretAccessKey, client: embedded.client, embedded: true };
      closers.push(() => embedded!.close());
    }

    // OST
    let emulator: OstEmulator | undefined;
    let ost = options.ost;
    if (!ost) {
      emulator = await startEmulator({ ...options.emulator });
      closers.push(() => emulator!.close());
      ost = { endpoint: emulator.endpoint, ...emulator.credentials };
    }

    // The deployed configuration: the template's params (given ones from `env`), its functions' environments, its wires
    // (MAX_FILES_IN_FLIGHT of this process counts as given; the command line passes the rest of a user's in `env`)
    const given = paramsOfEnv({ ...(process.env.MAX_FILES_IN_FLIGHT?.trim() ? { MAX_FILES_IN_FLIGHT: process.env.MAX_FILES_IN_FLIGHT } : {}), ...options.env });
    if (options.fleet?.maxFilesInFlight !== undefined) given.params.maxFilesInFlight = String(options.fleet.maxFilesInFlight);
    const stage = options.stage ?? 'local';
    const template = await templateConfig(root, { ostAppId: ost.appId, ...given.params }, stage);
    const wires = template.wires;

    // Admission: the intake queue, the slots, the limits
    const templateSlots = given.params.maxFilesInFlight !== undefined ? Number(given.params.maxFilesInFlight) : undefined;
    const fleet = await startLocalFleet({
      batchSize: wires.mapping.batchSize, maximumConcurrency: wires.mapping.maximumConcurrency,
      maxReceiveCount: wires.queue.maxReceiveCount, visibilityTimeout: wires.queue.visibilityTimeout, releaseStatuses: wires.releaseStatuses,
      ...options.fleet,
      maxFilesInFlight: options.fleet?.maxFilesInFlight ?? (Number.isSafeInteger(templateSlots) ? templateSlots : undefined),
      leaseSeconds: Number(given.params.slotLeaseSeconds ?? settingDefault('SLOT_LEASE_SECONDS')),
    });
    closers.push(() => fleet.close());
    // Every function's environment from the template, bound to the local resources (one process: their union)
    const templateEnvironments = template.environments({
      account: LOCAL_ACCOUNT, region: LOCAL_REGION,
      refs: { SlotTable: fleet.dynamo.tableName, IntakeQueue: fleet.queueUrl, IntakeDeadLetterQueue: fleet.dlqUrl },
    });
    const fromTemplate: Record<string, string> = Object.assign({}, ...Object.values(templateEnvironments));
    for (const k of ['AWS_LAMBDA_EXEC_WRAPPER', 'NODE_OPTIONS', 'LAMBDA_MAX_SEMI_SPACE_MB']) delete fromTemplate[k];
    const recordsBucket = given.rest.RESULTS_BUCKET ?? fromTemplate.RESULTS_BUCKET!;
    await ensureBucket(s3.client, recordsBucket);

    // Step Functions, EventBridge, SSM
    const project = loadProjectDefinition(root);
    const allHandlers = { ...(handlers as unknown as Record<string, LambdaHandler>), ...options.handlers } as Record<string, LambdaHandler>;
    const executor = new LocalExecutor({
      definition: project.definition,
      handlers: allHandlers,
      resolve: serverlessResolver({}, project.serverless, { ...process.env, ...options.env }),
      functionTimeouts: project.functionTimeouts,
      functionMemory: project.functionMemory,
      retryIntervalScale: options.retryIntervalScale,
      stateMachineName: `ost-forwarder-${stage}`,
      executionTimeoutSeconds: options.executionTimeoutSeconds,
      ...(fleet ? { limits: { lambda: fleet.limits.lambda, mapRuns: fleet.limits.mapRuns } } : {}),
    });
    executor.setMaxListeners(0); // one 'started' listener per file waiting for its execution
    const aws = await startAwsServer({ stepFunctions: executor, parameters: { [fromTemplate.OST_API_KEY_PARAM!]: ost.apiKey, [fromTemplate.OST_API_SECRET_PARAM!]: ost.apiSecret } });
    closers.push(() => aws.close());

    const env: Record<string, string> = {
      ...fromTemplate,
      ...aws.env(),
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_REGION: s3.region || LOCAL_REGION,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      S3_ENDPOINT: s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      // s3rver (and older radosgw) cannot read the aws-chunked bodies flexible checksums produce
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? 'true',
      OST_ENDPOINT: ost.endpoint,
      POWERTOOLS_LOG_LEVEL: logLevelSetting(process.env) ?? 'SILENT',
      POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
      POWERTOOLS_DEV: 'false',
      AWS_ENDPOINT_URL_DYNAMODB: fleet.env.AWS_ENDPOINT_URL_DYNAMODB!,
      AWS_ENDPOINT_URL_SQS: fleet.env.AWS_ENDPOINT_URL_SQS!,
      INTAKE_WAIT_BASE_SECONDS: fleet.env.INTAKE_WAIT_BASE_SECONDS!,
      INTAKE_WAIT_MAX_SECONDS: fleet.env.INTAKE_WAIT_MAX_SECONDS!,
    };
    if (env.STATE_MACHINE_ARN !== executor.stateMachineArn) throw new Error(`the template's STATE_MACHINE_ARN ${env.STATE_MACHINE_ARN} is not the local state machine ${executor.stateMachineArn}`);
    // what the caller gave wins (a param's variable included: its value is the template's by then anyway)
    for (const [k, v] of Object.entries(options.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    for (const [k, v] of Object.entries(env)) {
      if (!(k in savedEnv)) savedEnv[k] = process.env[k];
      process.env[k] = v;
    }
    await resetRuntime();
    // runtime.ts built its Logger and Metrics at import, before this environment existed: apply it now, so the
    // handlers' JSON logs and EMF lines do not mix with a command's output (POWERTOOLS_LOG_LEVEL=INFO shows them).
    const previousLevel = logger.getLevelName();
    logger.setLogLevel(logLevelSetting(env) ?? 'SILENT');
    const m = metrics as unknown as { disabled?: boolean };
    const previousDisabled = m.disabled;
    m.disabled = env.POWERTOOLS_METRICS_DISABLED !== 'false';
    closers.push(async () => { logger.setLogLevel(previousLevel); m.disabled = previousDisabled; });

    // S3 → trigger, as an asynchronous Lambda invocation
    const deliveries: TriggerDelivery[] = [];
    const retries = options.triggerRetries ?? 2;
    const deliver = (event: unknown): TriggerDelivery => {
      let resolveDone!: (d: TriggerDelivery) => void;
      const d: TriggerDelivery = { id: randomUUID(), event, attempts: 0, deadLettered: false, done: new Promise((r) => { resolveDone = r; }) };
      deliveries.push(d);
      void (async () => {
        for (;;) {
          d.attempts++;
          try {
            const copy = JSON.parse(JSON.stringify(event ?? null));
            const ctx = lambdaContext('trigger', randomUUID(), Date.now() + (project.functionTimeouts.trigger ?? 30) * 1000, project.functionMemory.trigger ?? 256);
            d.result = (await allHandlers.trigger!(copy, ctx)) ?? null;
            d.error = undefined;
            break;
          } catch (err) {
            const e = err instanceof Error ? err : new Error(String(err));
            d.error = { name: e.name, message: e.message };
            if (d.attempts > retries) { d.deadLettered = true; break; }
            await new Promise((r) => setTimeout(r, 20 * d.attempts)); // AWS waits ~1 min, then ~2 min
          }
        }
        resolveDone(d);
      })();
      return d;
    };
    // Deliveries per key, to tell "the trigger decided not to start" from "not started yet".
    const deliveredKeys = new Map<string, TriggerDelivery[]>();
    // With admission, a notification is "delivered" once the intake deleted its message (started, duplicate,
    // skipped or malformed); it stays pending while it waits for a slot.
    const pendingIntake = new Map<string, Array<(d: unknown) => void>>();
    // S3's notification: the source bucket's objects whose key passes the template's filter rules, into the intake
    const deliverEventRecord = (record: S3EventRecord): TriggerDelivery | undefined => {
      const key = decodeS3Key(record.s3.object.key);
      if (record.s3.bucket.name !== bucket || !notified(key, wires.notificationRules)) return undefined;
      let resolveDone!: (x: TriggerDelivery) => void;
      const d: TriggerDelivery = { id: randomUUID(), event: s3Event([record]), attempts: 1, deadLettered: false, done: new Promise((r) => { resolveDone = r; }) };
      pendingIntake.set(key, [...(pendingIntake.get(key) ?? []), (result) => { d.result = result; resolveDone(d); }]);
      fleet.notify(d.event).catch((err: Error) => { d.error = { name: err.name, message: err.message }; d.deadLettered = true; resolveDone(d); });
      deliveries.push(d);
      deliveredKeys.set(key, [...(deliveredKeys.get(key) ?? []), d]);
      return d;
    };
    fleet.start({
      trigger: allHandlers.trigger!,
      release: allHandlers.release!,
      executor,
      onBatch(event, response) {
        const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
        for (const m of event.Records) {
          if (failed.has(m.messageId)) continue;
          // a deleted message is done with its keys: skipped or unreadable ones, and those whose execution exists
          // (one deleted because a fresh copy was re-sent to wait on has none yet: it stays pending)
          const without = keysWithoutExecution(m.body, settings());
          for (const key of without) {
            for (const settle of pendingIntake.get(key)?.splice(0) ?? []) settle({ intake: 'done' });
          }
          for (const key of keysOfMessage(m.body)) {
            if (without.includes(key) || !pendingIntake.get(key)?.length) continue;
            if (![...executor.executions.values()].some((e) => !e.parentArn && executionInputKey(e) === key)) continue;
            for (const settle of pendingIntake.get(key)?.splice(0) ?? []) settle({ intake: 'started' });
          }
        }
      },
    });
    if (embedded) embedded.onObjectCreated((record) => { deliverEventRecord(record); });

    const executionInputKey = (e: ExecutionRecord) => {
      const i = e.input as { key?: unknown; object?: { key?: unknown } } | null;
      return typeof i?.key === 'string' ? i.key : typeof i?.object?.key === 'string' ? i.object.key : undefined;
    };
    const waitForExecution = (key: string, since = 0): Promise<ExecutionRecord | undefined> =>
      new Promise((resolve) => {
        const match = (e: ExecutionRecord) => executionInputKey(e) === key && e.startDate.getTime() >= since;
        const found = [...executor.executions.values()].find(match);
        if (found) { void found.done.then(resolve); return; }
        const onStart = (e: ExecutionRecord) => {
          if (!match(e)) return;
          executor.off('started', onStart);
          clearInterval(poll);
          void e.done.then(resolve);
        };
        executor.on('started', onStart);
        // No execution once every delivery for the key has settled: the trigger skipped it or failed.
        const poll = setInterval(() => {
          const ds = (deliveredKeys.get(key) ?? []).filter((d) => d.attempts > 0);
          const settled = ds.length > 0 && ds.every((d) => d.result !== undefined || d.deadLettered);
          if (settled && ![...executor.executions.values()].some(match)) {
            executor.off('started', onStart);
            clearInterval(poll);
            resolve(undefined);
          }
        }, 25);
      });

    // lib/workflow/outcome-records.ts: <prefix><forwarded|failed>/<source key>/<execution name>.json in RESULTS_BUCKET (or the source bucket)
    const recordsFor = async (key: string): Promise<OutcomeRecord[]> => {
      const resultsBucket = env.RESULTS_BUCKET ?? bucket;
      const prefix = env.RESULTS_PREFIX ?? DEFAULT_RESULTS_PREFIX;
      const out: OutcomeRecord[] = [];
      for (const status of ['forwarded', 'failed']) {
        let token: string | undefined;
        do {
          const folder = recordFolder(prefix, status as 'forwarded' | 'failed', key);
          const page = await s3.client.send(new ListObjectsV2Command({ Bucket: resultsBucket, Prefix: folder, ContinuationToken: token }));
          for (const o of page.Contents ?? []) {
            // only <key>/<name>.json, not records of a longer key that shares this prefix
            if (o.Key!.slice(folder.length).includes('/')) continue;
            const body = await s3.client.send(new GetObjectCommand({ Bucket: resultsBucket, Key: o.Key! }));
            try { out.push(JSON.parse(await body.Body!.transformToString()) as OutcomeRecord); } catch { /* not a record */ }
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
      }
      return out;
    };
    const eventsFor = (key: string) => aws.events.filter((e) => (e.detail as OutcomeRecord | undefined)?.key === key);

    const resultOf = async (key: string, bytes: number, execution: ExecutionRecord | undefined, delivery: TriggerDelivery | undefined): Promise<ForwardResult> => {
      const records = await recordsFor(key).catch(() => [] as OutcomeRecord[]);
      const base = { key, bytes, slices: 0, records, events: eventsFor(key) };
      if (!execution) {
        const error = delivery?.error ? { code: delivery.error.name, message: delivery.error.message } : { code: 'NOT_STARTED', message: 'the trigger started no execution for this object' };
        return { ...base, status: 'failed', error };
      }
      const mine = { ...base, records: records.filter((r) => r.executionName === execution.name), events: base.events.filter((e) => (e.detail as OutcomeRecord | undefined)?.executionName === execution.name) };
      const record = mine.records[0];
      // The status is the execution's outcome, and only that: a record that cannot be found (or read) never turns
      // a forwarded file into a "failure" that invites a second forward.
      if (execution.status === 'SUCCEEDED') {
        const output = (execution.output ?? {}) as Partial<OutcomeRecord>;
        const r = record?.status === 'forwarded' ? record : output;
        const slices = r.mode === 'simple' ? 1 : typeof r.slices === 'number' ? r.slices : 0;
        return { ...mine, status: 'forwarded', ...(typeof r.url === 'string' ? { url: r.url } : {}), slices, bytes: typeof r.bytes === 'number' ? r.bytes : bytes, executionName: execution.name, execution };
      }
      const slices = record?.slices ?? 0;
      const error = record?.error
        ? { code: errorCode(record.error.error), message: record.error.message, ...(record.error.ostCode !== undefined ? { ostCode: record.error.ostCode } : {}), ...(record.error.sid ? { sid: record.error.sid } : {}) }
        : failureOf(execution);
      return { ...mine, status: 'failed', slices, executionName: execution.name, execution, error };
    };

    const forwardObject = async (key: string, body: Buffer | string, opts: { file?: boolean } = {}): Promise<ForwardResult> => {
      const since = Date.now();
      let bytes: number;
      let putBody: Buffer | NodeJS.ReadableStream;
      if (opts.file) {
        // The file's identity is checked over the whole read (lib/sources/file.ts): a file rewritten while it is
        // put fails the PUT instead of storing a mix of old and new bytes.
        const source = await FileSource.fromPath(body as string);
        bytes = source.size;
        putBody = await source.open(0, bytes);
      } else {
        putBody = typeof body === 'string' ? Buffer.from(body) : body;
        bytes = (putBody as Buffer).length;
      }
      await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: putBody as never, ContentLength: bytes }));
      if (!embedded) deliverEventRecord(await recordFromHead(s3.client, bucket, key));
      log(escapeControlCharacters(`put s3://${bucket}/${key} (${bytes} bytes)`));
      const execution = await waitForExecution(key, since - 1);
      const ds = deliveredKeys.get(key) ?? [];
      const result = await resultOf(key, bytes, execution, ds[ds.length - 1]);
      log(escapeControlCharacters(`${result.status}: ${key}${result.error ? ` (${result.error.code}: ${result.error.message})` : ''}`));
      return result;
    };

    const stack: LocalStack = {
      bucket,
      s3,
      emulator,
      ostEndpoint: ost.endpoint,
      aws,
      executor,
      deliveries,
      env,
      fleet,
      recordsBucket,
      wires,
      templateEnvironments,
      fleetSummary: () => fleet.summary(),
      forwardObject,
      async forwardFiles(files, fopts = {}) {
        const prefix = fopts.keyPrefix ?? '';
        return Promise.all(files.map(async (f) => {
          const r = await forwardObject(prefix + basename(f), f, { file: true });
          fopts.onResult?.(r);
          return r;
        }));
      },
      deliver,
      async notify(body) {
        await fleet.notify(body);
        await fleet.drained();
      },
      intakeDeadLetters: () => fleet.sqs.peek(fleet.dlqUrl).map((m) => ({ body: m.body, reason: m.attributes[REASON_ATTRIBUTE] })),
      recordFor: (key) => recordFromHead(s3.client, bucket, key),
      waitForExecution,
      recordsFor,
      eventsFor,
      stats: () => executor.stats(),
      async close() {
        for (const waiting of pendingIntake.values()) for (const settle of waiting.splice(0)) settle({ intake: 'closed' });
        await executor.idle().catch(() => undefined);
        await Promise.all(deliveries.map((d) => d.done));
        await close();
      },
    };
    return stack;
  } catch (err) {
    await close();
    throw err;
  }
}

/** The nearest directory above this module holding statemachine/definition.yml (src, dist/ or a test bundle). */
export function projectRoot(from = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'statemachine', 'definition.yml'))) return dir;
    if (dirname(dir) === dir) return resolvePath(__dirname, '..');
  }
}

/** The stable code of an error class (OstAuthError → OST_AUTH), else the error name (States.Timeout…). */
export function errorCode(name: string): string {
  const cls = (ostErrors as Record<string, unknown>)[name];
  if (typeof cls === 'function' && (cls as { prototype?: unknown }).prototype instanceof ostErrors.OstError) {
    return new (cls as new (m: string) => ostErrors.OstError)('').code;
  }
  return name;
}

function failureOf(e: ExecutionRecord): ForwardError {
  const info = parseStepError({ Error: e.error ?? e.status, Cause: e.cause });
  return { code: errorCode(info.error), message: info.message };
}
