// What the local executor keeps and answers: execution records, map runs, statistics, and its options.
import type { DescribeExecutionResponse } from '../aws/endpoint';
import type { EnterLimit } from '../aws/limits';
import type { Json } from './definition';
import type { HistoryEstimate } from './history';
import type { LambdaHandler } from './lambda';

/** AWS Step Functions' limit for any state input, output or execution input (UTF-8 bytes). */
export const PAYLOAD_LIMIT_BYTES = 262_144;

export type ExecutionStatus = DescribeExecutionResponse['status'];

export type PayloadDirection = 'input' | 'output' | 'task-input' | 'task-result' | 'execution-input';

export interface ExecutionRecord {
  executionArn: string;
  name: string;
  input: unknown;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  output?: unknown;
  error?: string;
  cause?: string;
  /** Set on a Distributed Map child. */
  parentArn?: string;
  mapRunArn?: string;
  /** States entered, in order, this execution's and its children's (children's tagged with their index). */
  entered: { name: string; type: string; index?: number }[];
  /** Retries and catches seen (children's included). */
  retries: { state: string; attempt: number }[];
  caught: { state: string; error?: string }[];
  history: HistoryEstimate;
  largestPayload: { bytes: number; state: string; direction: PayloadDirection };
  mapRuns: MapRun[];
  done: Promise<ExecutionRecord>;
}

export interface MapRun {
  mapRunArn: string;
  executionArn: string;
  mapState: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  startDate: Date;
  stopDate?: Date;
  children: ExecutionRecord[];
}

export interface ExecutorStats {
  /** Executions started through StartExecution (children not included). */
  executions: number;
  byStatus: Record<string, number>;
  childExecutions: number;
  largestPayload: ExecutionRecord['largestPayload'] & { execution?: string };
  maxHistoryEvents: number;
  maxChildHistoryEvents: number;
}

export interface LocalExecutorOptions {
  /** Raw definition (as parsed from YAML/JSON), before substitution. */
  definition: unknown;
  handlers: Record<string, LambdaHandler>;
  /** Resolves `${...}` in the definition. Default: serverlessResolver({}). */
  resolve?: (expression: string) => Json;
  stateMachineName?: string;
  /** Lambda timeout per function key in seconds (serverless.yml `functions.<key>.timeout`). */
  functionTimeouts?: Record<string, number>;
  /** Lambda memory per function key (only reported in the context). */
  functionMemory?: Record<string, number>;
  /**
   * Retry pauses: the definition's IntervalSeconds × this factor (0.01 by default, so a 5 s retry waits 50 ms
   * locally). The engine applies the override as a fixed pause per retrier, without backoff or jitter.
   */
  retryIntervalScale?: number;
  payloadLimitBytes?: number;
  /**
   * Account limits to enforce (local/aws/limits.ts): Lambda concurrency across every invoke (beyond it the task fails
   * with Lambda.TooManyRequestsException, as Step Functions reports it) and open Distributed Map Runs (beyond it
   * the Map fails with the limit's error, which the definition retries).
   */
  limits?: { lambda?: EnterLimit; mapRuns?: EnterLimit };
  /** The definition's top-level TimeoutSeconds replaced (tests time an execution out in seconds). */
  executionTimeoutSeconds?: number;
}
