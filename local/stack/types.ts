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
import type { Wires } from '../template-config';

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
   * Admission (local/stack/fleet.ts): S3 → SQS intake → trigger with slots → executions under the account's limits,
   * always on, as deployed; these options change the template's wires (batch size, slots, limits).
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
  /** Peaks of the fleet: the semaphore's and the limits'. */
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
