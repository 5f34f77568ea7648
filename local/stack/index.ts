// The whole pipeline on one machine: S3 (embedded s3rver, or S3_ENDPOINT) → ObjectCreated event record → the real
// trigger handler → StartExecution on the loopback AWS endpoint → the local executor running
// statemachine/definition.yml with the real step handlers → OST (the emulator, or OST_ENDPOINT).
//
//   file ──PutObject──▶ S3 ──event record──▶ trigger ──SFN StartExecution──▶ aws endpoint ──▶ executor
//                                                                                 │ Prepare, Map(UploadSlices)…
//             EventBridge PutEvents / SSM GetParameter ◀── aws endpoint ◀── handlers ──▶ OST emulator
//
// Each part starts in its own piece (./s3, ./ost, ./fleet, ./workflow, ./environment, ./deliveries); this module
// wires them and answers what became of each forwarded file (./results).
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { handlers } from '../../functions';
import { FileSource } from '../../lib/sources/file';
import { escapeControlCharacters } from '../../lib/core/text';
import type { OutcomeRecord } from '../../lib/workflow/outcome-records';
import { readSetting } from '../../lib/config/table';
import { recordFromHead } from '../aws/s3';
import type { LambdaHandler } from '../executor';
import { executorPeaks, startLocalFleet } from './fleet';
import { StartedPieces } from './pieces';
import { startS3 } from './s3';
import { startOst } from './ost';
import { startWorkflow } from './workflow';
import { API_KEY_PARAM, API_SECRET_PARAM, handlerEnvironment, processEnvironment } from './environment';
import { startDeliveries } from './deliveries';
import { eventsFor, recordsFor, resultOf, waitForExecution } from './results';
import type { ForwardResult, LocalStack, LocalStackOptions } from './types';

export type { ForwardError, ForwardResult, LocalStack, LocalStackOptions, TriggerDelivery } from './types';
export { errorCode } from './results';

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

    // Admission: the intake queue, the slots, the limits
    // through the table of settings, as the deployed trigger reads it: a bad value is a ConfigError naming it
    const slotsText = options.env?.MAX_FILES_IN_FLIGHT ?? process.env.MAX_FILES_IN_FLIGHT;
    const fromEnv = slotsText?.trim() ? readSetting<number>({ MAX_FILES_IN_FLIGHT: slotsText }, 'MAX_FILES_IN_FLIGHT') : undefined;
    const fleet = options.fleet || fromEnv !== undefined
      ? pieces.add(await startLocalFleet({ ...options.fleet, maxFilesInFlight: options.fleet?.maxFilesInFlight ?? fromEnv }))
      : undefined;

    const allHandlers = { ...(handlers as unknown as Record<string, LambdaHandler>), ...options.handlers } as Record<string, LambdaHandler>;
    const { project, executor, aws } = pieces.add(await startWorkflow({
      root,
      handlers: allHandlers,
      env: { ...process.env, ...options.env },
      retryIntervalScale: options.retryIntervalScale,
      limits: fleet?.limits,
      parameters: { [API_KEY_PARAM]: ost.apiKey, [API_SECRET_PARAM]: ost.apiSecret },
    }));

    const env = handlerEnvironment({ aws, s3, ost, stateMachineArn: executor.stateMachineArn, admission: fleet?.env, overrides: options.env });
    await environment.apply(env);

    const deliveries = startDeliveries({
      trigger: allHandlers.trigger!,
      timeoutSeconds: project.functionTimeouts.trigger ?? 30,
      memoryMb: project.functionMemory.trigger ?? 256,
      retries: options.triggerRetries ?? 2,
      fleet,
    });
    fleet?.start({ trigger: allHandlers.trigger!, release: allHandlers.release!, executor });
    if (embedded) embedded.onObjectCreated((record) => { deliveries.notify(record); });

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
      if (!embedded) deliveries.notify(await recordFromHead(s3.client, bucket, key));
      log(escapeControlCharacters(`put s3://${bucket}/${key} (${bytes} bytes)`));
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
      fleetSummary: async () => (fleet ? fleet.summary() : executorPeaks(executor)),
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
