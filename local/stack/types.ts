// The local stack's shape: what startLocalStack takes (LocalStackOptions) and gives (LocalStack), and the result of
// one forwarded file.
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3EventRecord } from 'aws-lambda';
import type { OutcomeRecord } from '../../lib/workflow/outcome-records';
import type { OstEmulator } from '../emulator';
import type { AwsServer, RecordedEvent } from '../aws/endpoint';
import type { S3Connection } from '../aws/s3';
import type { ExecutionRecord, ExecutorStats, LambdaHandler, LocalExecutor } from '../executor';
import type { FleetOptions, FleetSummary, LocalFleet } from './fleet';

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
  /** Override step handlers (tests wrap them to observe or fail). */
  handlers?: Partial<Record<string, LambdaHandler>>;
  /** Lambda's asynchronous invocation retries of the trigger (AWS: 2). */
  triggerRetries?: number;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  /**
   * Admission (local/stack/fleet.ts): S3 → SQS intake → trigger with slots → executions under the account's limits.
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
  /** The intake, slots and limits when admission is on. */
  fleet?: LocalFleet;
  /** Peaks of the fleet: the semaphore's and the limits' with admission, else from the executor's records. */
  fleetSummary(): Promise<FleetSummary>;
  /** Puts each file as `<keyPrefix><basename>` and waits for its workflow. */
  forwardFiles(files: string[], options?: { keyPrefix?: string; onResult?: (r: ForwardResult) => void }): Promise<ForwardResult[]>;
  /** Puts bytes or a file under `key` and waits for its workflow. */
  forwardObject(key: string, body: Buffer | string, options?: { file?: boolean }): Promise<ForwardResult>;
  /** Invokes the trigger handler with any payload, as S3's asynchronous invocation would (retries included). */
  deliver(event: unknown): TriggerDelivery;
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
