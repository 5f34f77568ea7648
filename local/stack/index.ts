// The whole pipeline on one machine: S3 (embedded s3rver, or S3_ENDPOINT) → ObjectCreated notification → the intake
// queue (./fleet) → the real trigger handler → StartExecution on the loopback AWS endpoint → the local executor
// running statemachine/definition.yml with the real step handlers → OST (the emulator, or OST_ENDPOINT). It runs the
// deployed configuration: the packaged template's environments, records bucket, lease, queue and mapping
// (local/template-config.ts), with only LOCAL_DIFFERENCES changed.
//
//   file ──PutObject──▶ S3 ──notification──▶ intake (SQS) ──▶ trigger ──SFN StartExecution──▶ aws endpoint ──▶ executor
//                                                                                 │ Prepare, Map(UploadSlices)…
//             EventBridge PutEvents / SSM GetParameter ◀── aws endpoint ◀── handlers ──▶ OST emulator
//
// Each part starts in its own piece (./s3, ./ost, ./fleet, ./workflow, ./environment, ./deliveries); this module
// wires them and answers what became of each forwarded file (./results).
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import type { S3EventRecord } from 'aws-lambda';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { handlers } from '../../functions';
import { FileSource } from '../../lib/sources/file';
import { escapeControlCharacters } from '../../lib/core/text';
import type { OutcomeRecord } from '../../lib/workflow/outcome-records';
import { settingDefault } from '../../lib/config/table';
import { REASON_ATTRIBUTE } from '../../lib/intake/batch';
import { decodeS3Key } from '../../lib/intake/s3-event';
import { ensureBucket, recordFromHead } from '../aws/s3';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../aws/account';
import { notified, paramsOfEnv, templateConfig } from '../template-config';
import type { LambdaHandler } from '../executor';
import { startLocalFleet } from './fleet';
import { StartedPieces } from './pieces';
import { startS3 } from './s3';
import { startOst } from './ost';
import { startWorkflow } from './workflow';
import { handlerEnvironment, processEnvironment } from './environment';
import { startDeliveries } from './deliveries';
import { eventsFor, recordsFor, resultOf, waitForExecution } from './results';
import type { ForwardResult, LocalStack, LocalStackOptions } from './types';

export type { ForwardError, ForwardResult, LocalStack, LocalStackOptions, TriggerDelivery } from './types';
export { errorCode } from './results';
export { LOCAL_DIFFERENCES } from '../template-config';

export const DEFAULT_LOCAL_BUCKET = 'ost-forwarder-local';

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const root = options.root ?? projectRoot();
  const log = options.log ?? (() => undefined);
  const bucket = options.bucket ?? DEFAULT_LOCAL_BUCKET;
  const pieces = new StartedPieces();
  try {
    const environment = pieces.add(processEnvironment());
    const { s3, embedded } = pieces.add(await startS3(bucket, options.s3));
    const { ost, emulator } = pieces.add(await startOst(options));

    // The deployed configuration: the template's params (given ones from `env`), its functions' environments, its
    // wires (MAX_FILES_IN_FLIGHT of this process counts as given; the command line passes the rest of a user's in `env`)
    const given = paramsOfEnv({ ...(process.env.MAX_FILES_IN_FLIGHT?.trim() ? { MAX_FILES_IN_FLIGHT: process.env.MAX_FILES_IN_FLIGHT } : {}), ...options.env });
    if (options.fleet?.maxFilesInFlight !== undefined) given.params.maxFilesInFlight = String(options.fleet.maxFilesInFlight);
    const stage = options.stage ?? 'local';
    const template = await templateConfig(root, { ostAppId: ost.appId, ...given.params }, stage);
    const wires = template.wires;

    // Admission: the intake queue, the slots, the limits, as the template wires them
    const templateSlots = given.params.maxFilesInFlight !== undefined ? Number(given.params.maxFilesInFlight) : undefined;
    const fleet = pieces.add(await startLocalFleet({
      batchSize: wires.mapping.batchSize, maximumConcurrency: wires.mapping.maximumConcurrency,
      maxReceiveCount: wires.queue.maxReceiveCount, visibilityTimeout: wires.queue.visibilityTimeout, releaseStatuses: wires.releaseStatuses,
      ...options.fleet,
      maxFilesInFlight: options.fleet?.maxFilesInFlight ?? (Number.isSafeInteger(templateSlots) ? templateSlots : undefined),
      leaseSeconds: Number(given.params.slotLeaseSeconds ?? settingDefault('SLOT_LEASE_SECONDS')),
    }));
    // Every function's environment from the template, bound to the local resources (one process: their union)
    const templateEnvironments = template.environments({
      account: LOCAL_ACCOUNT, region: LOCAL_REGION,
      refs: { SlotTable: fleet.dynamo.tableName, IntakeQueue: fleet.queueUrl, IntakeDeadLetterQueue: fleet.dlqUrl },
    });
    const fromTemplate: Record<string, string> = Object.assign({}, ...Object.values(templateEnvironments));
    for (const k of ['AWS_LAMBDA_EXEC_WRAPPER', 'NODE_OPTIONS', 'LAMBDA_MAX_SEMI_SPACE_MB']) delete fromTemplate[k];
    const recordsBucket = given.rest.RESULTS_BUCKET ?? fromTemplate.RESULTS_BUCKET!;
    await ensureBucket(s3.client, recordsBucket);

    const allHandlers = { ...(handlers as unknown as Record<string, LambdaHandler>), ...options.handlers } as Record<string, LambdaHandler>;
    const { project, executor, aws } = pieces.add(await startWorkflow({
      root,
      handlers: allHandlers,
      env: { ...process.env, ...options.env },
      retryIntervalScale: options.retryIntervalScale,
      limits: fleet.limits,
      stateMachineName: `ost-forwarder-${stage}`,
      executionTimeoutSeconds: options.executionTimeoutSeconds,
      parameters: { [fromTemplate.OST_API_KEY_PARAM!]: ost.apiKey, [fromTemplate.OST_API_SECRET_PARAM!]: ost.apiSecret },
    }));

    const env = handlerEnvironment({ template: fromTemplate, aws, s3, ost, stateMachineArn: executor.stateMachineArn, admission: fleet.env, overrides: options.env });
    await environment.apply(env);

    const deliveries = startDeliveries({
      trigger: allHandlers.trigger!,
      timeoutSeconds: project.functionTimeouts.trigger ?? 30,
      memoryMb: project.functionMemory.trigger ?? 256,
      retries: options.triggerRetries ?? 2,
      fleet,
    });
    fleet.start({ trigger: allHandlers.trigger!, release: allHandlers.release!, executor });
    // S3's notification: the source bucket's objects whose key passes the template's filter rules, into the intake
    const passes = (key: string) => notified(key, wires.notificationRules);
    const notifyCreated = (record: S3EventRecord) => {
      if (record.s3.bucket.name === bucket && passes(decodeS3Key(record.s3.object.key))) deliveries.notify(record);
    };
    if (embedded) embedded.onObjectCreated(notifyCreated);

    const records = (key: string) => recordsFor(s3.client, bucket, env, key);
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
      if (!embedded) notifyCreated(await recordFromHead(s3.client, bucket, key));
      log(escapeControlCharacters(`put s3://${bucket}/${key} (${bytes} bytes)`));
      if (!passes(key)) {
        // S3 sends no notification for it, as deployed: nothing to wait for
        const message = 'no notification: the filter rules (KEY_PREFIX_FILTER / KEY_SUFFIX_FILTER) leave it out';
        log(escapeControlCharacters(`failed: ${key} (NOT_STARTED: ${message})`));
        return { key, bytes, slices: 0, records: [], events: [], status: 'failed', error: { code: 'NOT_STARTED', message } };
      }
      const execution = await waitForExecution(executor, deliveries, key, since - 1);
      const found = await records(key).catch(() => [] as OutcomeRecord[]);
      const result = resultOf(key, bytes, found, eventsFor(aws.events, key), execution, deliveries.of(key).at(-1));
      log(escapeControlCharacters(`${result.status}: ${key}${result.error ? ` (${result.error.code}: ${result.error.message})` : ''}`));
      return result;
    };

    return {
      bucket,
      s3,
      emulator,
      ostEndpoint: ost.endpoint,
      aws,
      executor,
      deliveries: deliveries.list,
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
      deliver: (event) => deliveries.invoke(event),
      async notify(body) {
        await fleet.notify(body);
        await fleet.drained();
      },
      intakeDeadLetters: () => fleet.sqs.peek(fleet.dlqUrl).map((m) => ({ body: m.body, reason: m.attributes[REASON_ATTRIBUTE] })),
      recordFor: (key) => recordFromHead(s3.client, bucket, key),
      waitForExecution: (key, since) => waitForExecution(executor, deliveries, key, since),
      recordsFor: records,
      eventsFor: (key) => eventsFor(aws.events, key),
      stats: () => executor.stats(),
      async close() {
        const delivered = deliveries.close();
        await executor.idle().catch(() => undefined);
        await delivered;
        await pieces.closeAll();
      },
    };
  } catch (err) {
    await pieces.closeAll();
    throw err;
  }
}

/** The nearest directory above this module holding statemachine/definition.yml (src, dist/ or a test bundle). */
export function projectRoot(from = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'statemachine', 'definition.yml'))) return dir;
    if (dirname(dir) === dir) return resolvePath(__dirname, '../..');
  }
}
