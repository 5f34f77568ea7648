// Runs the deployed state machine definition locally with aws-local-stepfunctions, invoking the real step
// handlers in-process, and enforces what AWS Step Functions would: 256 KiB state payloads, valid and unique
// execution names. It also estimates the execution history AWS would write.
//
// Tasks: each `{"Fn::GetAtt": [fnKey, Arn]}` becomes `arn:aws:lambda:us-east-1:000000000000:function:<fnKey>`
// and the state (the engine keys overrides by state name) is mapped to `handlers[fnKey]`.
// Errors: the engine matches ErrorEquals against `error.name` and catches as {Error: name, Cause: message}, so a
// thrown handler error is re-thrown as an error whose name is the Lambda errorType and whose message is the
// Lambda-style Cause JSON `{"errorType","errorMessage","trace"}` — what a Catch's ResultPath receives on AWS.
// Distributed Maps: the engine runs every Map inline, so a DISTRIBUTED ItemProcessor is replaced by one
// synthetic Task whose local handler runs the processor as a child execution of its own (own name, history,
// payload checks), registered under a map run (ListMapRuns / ListExecutions / DescribeExecution answer for it).
// As on AWS, a failed child fails the Map with States.ExceedToleratedFailureThreshold (tolerance 0), children
// not yet started are not started, and the child's own error is found on the child execution.
// aws-local-stepfunctions needs Promise.withResolvers, which Node 20 lacks: whoever loads the executor gets it.
import './polyfills';
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml, type Tags } from 'yaml';
import type { Context as LambdaContext } from 'aws-lambda';
import { AwsServiceError, type DescribeExecutionResponse, type StartExecutionRequest, type StepFunctionsBackend } from './aws-server';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './s3';

// aws-local-stepfunctions is ESM-first with a CJS build; its types are imported for shape only.
import type { StateMachine as StateMachineType, RunOptions } from 'aws-local-stepfunctions';
type EventLog = ReturnType<StateMachineType['run']>['eventLogs'] extends AsyncGenerator<infer T> ? T : never;

/** AWS Step Functions' limit for any state input, output or execution input (UTF-8 bytes). */
export const PAYLOAD_LIMIT_BYTES = 262_144;
/** AWS Step Functions' limit on events in one execution history. */
export const HISTORY_EVENT_LIMIT = 25_000;
export const DEFAULT_FUNCTION_TIMEOUT_SECONDS = 900;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LambdaHandler = (event: any, context: LambdaContext) => Promise<unknown> | unknown;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

export interface AslState extends JsonObject {}
export interface AslDefinition { StartAt: string; States: Record<string, JsonObject>; [k: string]: Json }

/** A `${...}` expression in the definition that could not be resolved. */
export class DefinitionVariableError extends Error {
  constructor(readonly expression: string) {
    super(`statemachine definition: cannot resolve \${${expression}} locally; pass it in variables`);
    this.name = 'DefinitionVariableError';
  }
}

// CloudFormation short forms, in case the definition uses them.
const cfnTags: Tags = [
  { tag: '!GetAtt', resolve: (v: string) => ({ 'Fn::GetAtt': v.split('.') }) },
  { tag: '!Ref', resolve: (v: string) => ({ Ref: v }) },
  { tag: '!Sub', resolve: (v: string) => ({ 'Fn::Sub': v }) },
];

/** Parses YAML; CloudFormation tags other than GetAtt/Ref/Sub (e.g. !If in serverless.yml) stay unresolved, quietly. */
export function readYaml(path: string): unknown {
  return parseYaml(readFileSync(path, 'utf8'), { customTags: cfnTags, logLevel: 'error' });
}

export const localFunctionArn = (fnKey: string) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${fnKey}`;

export interface PreparedDefinition {
  /** The definition the engine runs: ARNs substituted, variables resolved, Task timeouts made explicit. */
  definition: AslDefinition;
  /** Task state name → function key (for every Task, at any depth). */
  taskFunctions: Record<string, string>;
  /** Every state name with its type, at any depth (Map processors included). */
  states: Record<string, string>;
  /** Map states whose ItemProcessor runs DISTRIBUTED (children are separate executions on AWS). */
  distributedMaps: string[];
  /** The original processor of each distributed Map (run as child executions); keyed by Map state name. */
  childMachines: Record<string, AslDefinition>;
  /** Synthetic Task state name → its distributed Map state name. */
  childTasks: Record<string, string>;
}

/** Name of the synthetic Task that stands for a distributed Map's child execution. */
export const childTaskName = (mapState: string) => `${mapState} (child execution)`;
const CHILD_TASK_ARN = localFunctionArn('__distributedMapChild');
const UNSUPPORTED_DISTRIBUTED = ['ItemReader', 'ItemBatcher', 'ResultWriter', 'ToleratedFailurePercentage', 'ToleratedFailureCount', 'ToleratedFailurePercentagePath', 'ToleratedFailureCountPath'];

/**
 * Resolves `${...}` variables with `resolve` (a whole-string variable keeps the resolved value's type),
 * replaces `Fn::GetAtt` Lambda ARNs with local ARNs and gives every Task an explicit TimeoutSeconds (AWS's
 * default is 99999999 s; the engine's is 60 s, and Node timers cannot exceed 24.8 days).
 */
export function prepareDefinition(raw: unknown, resolve: (expression: string) => Json): PreparedDefinition {
  const taskFunctions: Record<string, string> = {};
  const states: Record<string, string> = {};
  const distributedMaps: string[] = [];
  const childMachines: Record<string, AslDefinition> = {};
  const childTasks: Record<string, string> = {};
  const substitute = (v: unknown): Json => {
    if (typeof v === 'string') {
      const whole = /^\$\{([^{}]+)\}$/.exec(v);
      if (whole) return resolve(whole[1]!.trim());
      return v.replace(/\$\{([^{}]+)\}/g, (_m, e: string) => String(resolve(e.trim())));
    }
    if (Array.isArray(v)) return v.map(substitute);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const getAtt = o['Fn::GetAtt'];
      if (Array.isArray(getAtt) && Object.keys(o).length === 1) {
        if (getAtt[1] !== 'Arn') throw new Error(`statemachine definition: unsupported Fn::GetAtt ${JSON.stringify(getAtt)}`);
        return localFunctionArn(String(getAtt[0]));
      }
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, substitute(x)]));
    }
    return v as Json;
  };
  const definition = substitute(raw) as unknown as AslDefinition;
  if (!definition || typeof definition !== 'object' || typeof definition.StartAt !== 'string' || !definition.States) {
    throw new Error('statemachine definition: expected StartAt and States at the top level');
  }
  const walk = (machine: { States: Record<string, JsonObject> }) => {
    for (const [name, state] of Object.entries(machine.States)) {
      if (name in states) throw new Error(`statemachine definition: state name ${name} is used twice`);
      states[name] = String(state.Type);
      if (state.Type === 'Task') {
        const m = /^arn:aws:lambda:[^:]+:[^:]+:function:([^:]+)/.exec(String(state.Resource));
        if (m) taskFunctions[name] = m[1]!;
        else if (state.Resource === 'arn:aws:states:::lambda:invoke') {
          const p = state.Parameters as JsonObject | undefined;
          const fn = String(p?.FunctionName ?? p?.['FunctionName.$'] ?? '');
          const fm = /function:([^:]+)/.exec(fn);
          if (fm) taskFunctions[name] = fm[1]!;
        }
        if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) state.TimeoutSeconds = 2_000_000;
      }
      if (state.Type === 'Map') {
        const processor = (state.ItemProcessor ?? state.Iterator) as (AslDefinition & { ProcessorConfig?: JsonObject }) | undefined;
        if (processor) {
          walk(processor);
          if (processor.ProcessorConfig?.Mode === 'DISTRIBUTED') {
            // The local engine would silently ignore these (or throw, for ItemReader): refuse instead.
            const unsupported = UNSUPPORTED_DISTRIBUTED.filter((f) => state[f] !== undefined && !(f.startsWith('Tolerated') && Number(state[f]) === 0));
            if (unsupported.length) throw new Error(`statemachine definition: Map ${name} uses ${unsupported.join(', ')}, which the local runner cannot run`);
            distributedMaps.push(name);
            const { ProcessorConfig: _pc, ...machine } = processor;
            childMachines[name] = machine as AslDefinition;
            const task = childTaskName(name);
            childTasks[task] = name;
            state.ItemProcessor = { StartAt: task, States: { [task]: { Type: 'Task', Resource: CHILD_TASK_ARN, TimeoutSeconds: 2_000_000, End: true } } };
            delete state.Iterator;
            delete state.Label;
          }
        }
      }
      if (state.Type === 'Parallel') for (const b of state.Branches as unknown as { States: Record<string, JsonObject> }[]) walk(b);
    }
  };
  walk(definition);
  return { definition, taskFunctions, states, distributedMaps, childMachines, childTasks };
}

/**
 * A resolver for serverless variables: explicit `variables` first (keyed by the whole expression or its last
 * path segment), then `self:` paths into serverless.yml (recursively), `env:` with defaults, `sls:stage`,
 * `aws:region`, `aws:accountId`, `opt:stage`.
 */
export function serverlessResolver(variables: Record<string, Json>, serverless?: unknown, env: NodeJS.ProcessEnv = process.env): (expression: string) => Json {
  const resolve = (expression: string, depth = 0): Json => {
    if (depth > 10) throw new DefinitionVariableError(expression);
    // `${a, b}`: the first that resolves, a literal default otherwise
    const parts = splitTopLevel(expression);
    for (const part of parts) {
      const p = part.trim();
      const v = resolveOne(p, depth);
      if (v !== undefined) return v;
    }
    throw new DefinitionVariableError(expression);
  };
  const resolveOne = (p: string, depth: number): Json | undefined => {
    if (p in variables) return variables[p]!;
    const last = p.split(/[.:]/).pop() ?? p;
    if (last in variables) return variables[last]!;
    if (/^(['"]).*\1$/.test(p)) return p.slice(1, -1);
    if (/^-?\d+(\.\d+)?$/.test(p)) return Number(p);
    if (p === 'true' || p === 'false') return p === 'true';
    if (p === 'sls:stage' || p === 'opt:stage' || p === 'self:provider.stage') return 'local';
    if (p === 'aws:region' || p === 'opt:region' || p === 'self:provider.region') return LOCAL_REGION;
    if (p === 'aws:accountId') return LOCAL_ACCOUNT;
    if (p.startsWith('env:')) return env[p.slice(4)] ?? undefined;
    if (p.startsWith('self:') && serverless) {
      let v: unknown = serverless;
      for (const k of p.slice(5).split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
      if (v === undefined) return undefined;
      if (typeof v === 'string') {
        const whole = /^\$\{(.+)\}$/.exec(v);
        if (whole) return resolve(whole[1]!, depth + 1);
        return v.replace(/\$\{([^{}]+)\}/g, (_m, e: string) => String(resolve(e, depth + 1)));
      }
      return v as Json;
    }
    return undefined;
  };
  return (e) => resolve(e);
}

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0, cur = '', quote = '';
  for (const c of s) {
    if (quote) { if (c === quote) quote = ''; cur += c; continue; }
    if (c === '"' || c === "'") { quote = c; cur += c; continue; }
    if (c === '{') depth++;
    if (c === '}') depth--;
    if (c === ',' && depth === 0) { out.push(cur); cur = ''; continue; }
    cur += c;
  }
  out.push(cur);
  return out;
}

// ---------------------------------------------------------------------------------------------------------

/** The error a Task fails with when its handler throws: what Lambda reports to Step Functions. */
export class LambdaTaskError extends Error {
  constructor(readonly errorType: string, readonly errorMessage: string, readonly trace: string[]) {
    super(JSON.stringify({ errorType, errorMessage, trace }));
    this.name = errorType;
  }
}

/** A terminal error: States.ALL does not match it, Retry never retries it (AWS: States.DataLimitExceeded). */
class TerminalStatesError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
  get isRetryable(): boolean { return false; }
  get isCatchable(): boolean { return false; }
}

export function lambdaError(err: unknown): LambdaTaskError {
  if (err instanceof LambdaTaskError) return err;
  if (err instanceof Error) {
    const trace = (err.stack ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
    return new LambdaTaskError(err.name || 'Error', err.message, trace);
  }
  return new LambdaTaskError('Error', typeof err === 'string' ? err : JSON.stringify(err), []);
}

export type ExecutionStatus = DescribeExecutionResponse['status'];

export interface HistoryEstimate {
  /** Events this execution's history would hold. */
  events: number;
  /** Events per state type. */
  byStateType: Record<string, number>;
  /** Distributed Map children: separate executions on AWS, each with its own history. */
  childExecutions: number;
  childEvents: number;
  /** The largest child history. */
  maxChildEvents: number;
}

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
}

const NAME_RE = /^[A-Za-z0-9_-]{1,80}$/;
const EXCEED_TOLERATED = 'States.ExceedToleratedFailureThreshold';

interface RunSpec {
  machine: StateMachineType;
  executionArn: string;
  name: string;
  input: unknown;
  inputBytes: number;
  parent?: ExecutionRecord;
  mapRun?: MapRun;
  /** The context's Execution fields beyond Id/Name. */
  childIndex?: number;
}

export class LocalExecutor extends EventEmitter implements StepFunctionsBackend {
  readonly stateMachineArn: string;
  readonly prepared: PreparedDefinition;
  /** Every execution, Distributed Map children included, by ARN. */
  readonly executions = new Map<string, ExecutionRecord>();
  readonly mapRuns = new Map<string, MapRun>();
  private readonly machine: StateMachineType;
  private readonly childMachines: Record<string, StateMachineType> = {};
  private readonly overrides: NonNullable<RunOptions['overrides']>;
  private readonly limit: number;
  private readonly machineName: string;

  constructor(private readonly options: LocalExecutorOptions) {
    super();
    this.machineName = options.stateMachineName ?? 'ost-forwarder-local';
    this.stateMachineArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${this.machineName}`;
    this.limit = options.payloadLimitBytes ?? PAYLOAD_LIMIT_BYTES;
    this.prepared = prepareDefinition(options.definition, options.resolve ?? serverlessResolver({}));
    for (const [state, fnKey] of Object.entries(this.prepared.taskFunctions)) {
      if (typeof options.handlers[fnKey] !== 'function') {
        throw new Error(`statemachine definition: Task ${state} names function ${fnKey}, but handlers has no ${fnKey}`);
      }
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { StateMachine } = require('aws-local-stepfunctions') as typeof import('aws-local-stepfunctions');
    this.machine = new StateMachine(this.prepared.definition as never, { validationOptions: { checkArn: true, checkPaths: true } });
    for (const [mapState, def] of Object.entries(this.prepared.childMachines)) {
      this.childMachines[mapState] = new StateMachine(def as never, { validationOptions: { checkArn: true, checkPaths: true } });
    }
    this.overrides = { retryIntervalOverrides: this.retryOverrides(options.retryIntervalScale ?? 0.01) };
  }

  /** StartExecution: validates the name (AWS rules) and input size, then runs in the background. */
  startExecution(req: StartExecutionRequest): { executionArn: string; startDate: Date } {
    if (req.stateMachineArn !== this.stateMachineArn) {
      throw new AwsServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${req.stateMachineArn}'`);
    }
    const name = req.name ?? randomUUID();
    if (!NAME_RE.test(name)) throw new AwsServiceError('InvalidName', `Invalid Name: '${name}'`);
    const inputText = req.input ?? '{}';
    const inputBytes = Buffer.byteLength(inputText);
    if (inputBytes > this.limit) {
      throw new AwsServiceError('InvalidExecutionInput', `Execution input of ${inputBytes} bytes exceeds the limit of ${this.limit} bytes`);
    }
    let input: unknown;
    try { input = JSON.parse(inputText); } catch { throw new AwsServiceError('InvalidExecutionInput', 'Invalid execution input: not JSON'); }
    const executionArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${this.machineName}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      // AWS: same name and same input while RUNNING is idempotent; anything else is a duplicate.
      if (existing.status === 'RUNNING' && JSON.stringify(existing.input) === JSON.stringify(input)) {
        return { executionArn, startDate: existing.startDate };
      }
      throw new AwsServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const record = this.run({ machine: this.machine, executionArn, name, input, inputBytes });
    return { executionArn, startDate: record.startDate };
  }

  describeExecution(executionArn: string): DescribeExecutionResponse {
    const r = this.executions.get(executionArn);
    if (!r) throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return {
      executionArn: r.executionArn,
      stateMachineArn: r.parentArn ? `${this.stateMachineArn}/${r.mapRunArn?.split(':').pop() ?? 'map'}` : this.stateMachineArn,
      name: r.name,
      status: r.status,
      startDate: r.startDate,
      stopDate: r.stopDate,
      input: JSON.stringify(r.input),
      output: r.output === undefined ? undefined : JSON.stringify(r.output),
      error: r.error,
      cause: r.cause,
      ...(r.mapRunArn ? { mapRunArn: r.mapRunArn } : {}),
    };
  }

  listMapRuns(executionArn: string): MapRun[] {
    const r = this.executions.get(executionArn);
    if (!r) throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return r.mapRuns;
  }

  listExecutions(filter: { mapRunArn?: string; stateMachineArn?: string; statusFilter?: string }): ExecutionRecord[] {
    let list: ExecutionRecord[];
    if (filter.mapRunArn) {
      const run = this.mapRuns.get(filter.mapRunArn);
      if (!run) throw new AwsServiceError('ResourceNotFound', `Map Run Does Not Exist: '${filter.mapRunArn}'`);
      list = run.children;
    } else {
      list = [...this.executions.values()].filter((e) => !e.parentArn);
    }
    return list.filter((e) => !filter.statusFilter || e.status === filter.statusFilter);
  }

  /** Starts an execution directly (tests); same checks as StartExecution. */
  start(input: unknown, name?: string): ExecutionRecord {
    const { executionArn } = this.startExecution({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) });
    return this.executions.get(executionArn)!;
  }

  /** Resolves when every execution started so far has finished. */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.executions.values()].filter((e) => e.status === 'RUNNING');
      if (running.length === 0) return;
      await Promise.all(running.map((e) => e.done));
    }
  }

  stats(): ExecutorStats {
    const all = [...this.executions.values()];
    const top = all.filter((e) => !e.parentArn);
    const byStatus: Record<string, number> = {};
    let largest: ExecutorStats['largestPayload'] = { bytes: 0, state: '', direction: 'input' };
    for (const e of top) byStatus[e.status] = (byStatus[e.status] ?? 0) + 1;
    for (const e of all) if (e.largestPayload.bytes > largest.bytes) largest = { ...e.largestPayload, execution: e.name };
    return {
      executions: top.length,
      byStatus,
      childExecutions: all.length - top.length,
      largestPayload: largest,
      maxHistoryEvents: Math.max(0, ...top.map((e) => e.history.events)),
      maxChildHistoryEvents: Math.max(0, ...all.filter((e) => e.parentArn).map((e) => e.history.events)),
    };
  }

  private retryOverrides(scale: number): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    const walk = (machine: { States: Record<string, JsonObject> }) => {
      for (const [name, state] of Object.entries(machine.States)) {
        const retry = state.Retry as { IntervalSeconds?: number; MaxDelaySeconds?: number }[] | undefined;
        if (retry) out[name] = retry.map((r) => Math.round(Math.min(r.IntervalSeconds ?? 1, r.MaxDelaySeconds ?? Infinity) * 1000 * scale));
        const processor = (state.ItemProcessor ?? state.Iterator) as { States: Record<string, JsonObject> } | undefined;
        if (processor) walk(processor);
        if (state.Type === 'Parallel') for (const b of state.Branches as unknown as { States: Record<string, JsonObject> }[]) walk(b);
      }
    };
    walk(this.prepared.definition);
    for (const m of Object.values(this.prepared.childMachines)) walk(m);
    return out;
  }

  private run(spec: RunSpec): ExecutionRecord {
    const { executionArn, name, input, parent, mapRun } = spec;
    let resolveDone!: (r: ExecutionRecord) => void;
    const record: ExecutionRecord = {
      executionArn, name, input,
      status: 'RUNNING',
      startDate: new Date(),
      ...(parent ? { parentArn: parent.executionArn, mapRunArn: mapRun?.mapRunArn } : {}),
      entered: [], retries: [], caught: [], mapRuns: [],
      history: { events: 0, byStateType: {}, childExecutions: 0, childEvents: 0, maxChildEvents: 0 },
      largestPayload: { bytes: spec.inputBytes, state: '(execution)', direction: 'execution-input' },
      done: new Promise((r) => { resolveDone = r; }),
    };
    this.executions.set(executionArn, record);
    // Children report what they enter to their parent too, so one list shows the whole run.
    const chain = (fn: (r: ExecutionRecord) => void) => { fn(record); if (parent) fn(parent); };
    let violation: TerminalStatesError | undefined;
    const measure = (value: unknown, state: string, direction: PayloadDirection) => {
      const bytes = value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value));
      if (bytes > record.largestPayload.bytes) record.largestPayload = { bytes, state, direction };
      if (bytes > this.limit && !violation) {
        violation = new TerminalStatesError('States.DataLimitExceeded', `The state/task '${state}' ${direction} of ${bytes} bytes exceeds the maximum number of bytes service limit (${this.limit}).`);
      }
      return violation;
    };
    const currentRuns = new Map<string, MapRun>();

    const taskResourceLocalHandlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [state, fnKey] of Object.entries(this.prepared.taskFunctions)) {
      taskResourceLocalHandlers[state] = async (taskInput) => {
        // Let the event log catch up (it runs on microtasks) so a payload violation seen on the way in
        // stops the execution before the handler's side effects.
        await new Promise((r) => setImmediate(r));
        if (violation) throw violation;
        const v = measure(taskInput, state, 'task-input');
        if (v) throw v;
        const result = await this.invoke(fnKey, taskInput);
        const rv = measure(result, state, 'task-result');
        if (rv) throw rv;
        return result as never;
      };
    }
    for (const [task, mapState] of Object.entries(this.prepared.childTasks)) {
      taskResourceLocalHandlers[task] = async (item) => {
        await new Promise((r) => setImmediate(r));
        if (violation) throw violation;
        const run = currentRuns.get(mapState);
        if (!run) throw new Error(`local executor: no map run for ${mapState}`);
        if (run.status !== 'RUNNING') throw mapRunFailure(run);
        const index = run.children.length;
        const childName = `${run.mapRunArn.split(':').pop()!.split('/').pop()}:${index}`;
        const childArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${this.machineName}/${mapState}:${childName}`;
        const text = JSON.stringify(item ?? null);
        const child = this.run({ machine: this.childMachines[mapState]!, executionArn: childArn, name: childName, input: item, inputBytes: Buffer.byteLength(text), parent: record, mapRun: run, childIndex: index });
        run.children.push(child);
        const done = await child.done;
        if (done.status === 'SUCCEEDED') return done.output as never;
        if (run.status === 'RUNNING') {
          run.status = 'FAILED';
          run.stopDate = new Date();
        }
        throw mapRunFailure(run);
      };
    }
    const execution = spec.machine.run(input as never, {
      overrides: { ...this.overrides, taskResourceLocalHandlers: taskResourceLocalHandlers as never },
      context: {
        Execution: { Id: executionArn, Name: name, RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local`, RedriveCount: 0 },
        StateMachine: { Id: this.stateMachineArn, Name: this.machineName },
      },
    });
    const history = new HistoryCounter(this.prepared);
    const lastError = new Map<string, string>();
    const consume = (async () => {
      for await (const ev of execution.eventLogs) {
        history.add(ev);
        if (ev.type === 'StateEntered') {
          if (this.prepared.childTasks[ev.state.name] === undefined) {
            const entry = { name: ev.state.name, type: ev.state.type };
            // a child's states are tagged with its index in the parent's list; an inline Map's with the iteration
            record.entered.push(ev.index !== undefined ? { ...entry, index: ev.index } : entry);
            parent?.entered.push({ ...entry, index: spec.childIndex ?? 0 });
          }
          if (this.prepared.distributedMaps.includes(ev.state.name)) {
            const mapRunArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:mapRun:${this.machineName}/${ev.state.name}:${randomUUID()}`;
            const run: MapRun = { mapRunArn, executionArn, mapState: ev.state.name, status: 'RUNNING', startDate: new Date(), children: [] };
            currentRuns.set(ev.state.name, run);
            this.mapRuns.set(mapRunArn, run);
            record.mapRuns.push(run);
          }
          // a synthetic child task's payloads are the child execution's input and output, measured there
          if (!(ev.state.name in this.prepared.childTasks) && measure(ev.state.input, ev.state.name, 'input')) execution.abort();
        } else if (ev.type === 'StateExited') {
          const run = currentRuns.get(ev.state.name);
          if (run && run.status === 'RUNNING') { run.status = 'SUCCEEDED'; run.stopDate = new Date(); }
          if (!(ev.state.name in this.prepared.childTasks) && measure(ev.state.output, ev.state.name, 'output')) execution.abort();
        } else if (ev.type === 'StateRetried') {
          chain((r) => r.retries.push({ state: ev.state.name, attempt: ev.retry.attempt }));
        } else if (ev.type === 'StateFailed') {
          lastError.set(ev.state.name, ev.Error);
        } else if (ev.type === 'StateCaught') {
          chain((r) => r.caught.push({ state: ev.state.name, error: lastError.get(ev.state.name) }));
        }
      }
    })();
    void (async () => {
      try {
        const output = await execution.result;
        await consume;
        if (violation) throw violation;
        record.status = 'SUCCEEDED';
        record.output = output;
      } catch (err) {
        await consume.catch(() => undefined);
        const e = violation ?? unwrap(err);
        record.status = 'FAILED';
        record.error = e.name;
        record.cause = e.message;
      }
      for (const run of record.mapRuns) if (run.status === 'RUNNING') { run.status = 'ABORTED'; run.stopDate = new Date(); }
      record.stopDate = new Date();
      const children = record.mapRuns.flatMap((r) => r.children);
      await Promise.all(children.map((c) => c.done));
      record.history = {
        ...history.estimate(),
        childExecutions: children.length,
        childEvents: children.reduce((n, c) => n + c.history.events, 0),
        maxChildEvents: Math.max(0, ...children.map((c) => c.history.events)),
      };
      this.emit('finished', record);
      resolveDone(record);
    })();
    this.emit('started', record);
    return record;
  }

  private async invoke(fnKey: string, event: unknown): Promise<unknown> {
    const handler = this.options.handlers[fnKey]!;
    const timeoutS = this.options.functionTimeouts?.[fnKey] ?? DEFAULT_FUNCTION_TIMEOUT_SECONDS;
    const deadline = Date.now() + timeoutS * 1000;
    const requestId = randomUUID();
    const context = lambdaContext(fnKey, requestId, deadline, this.options.functionMemory?.[fnKey] ?? 1024);
    // Lambda hands the function a JSON copy and serialises what it returns.
    const copy = JSON.parse(JSON.stringify(event ?? null));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_r, reject) => {
      timer = setTimeout(() => reject(new LambdaTaskError('Sandbox.Timedout', `RequestId: ${requestId} Error: Task timed out after ${timeoutS.toFixed(2)} seconds`, [])), timeoutS * 1000);
    });
    try {
      const result = await Promise.race([Promise.resolve().then(() => handler(copy, context)), timeout]);
      return result === undefined ? null : JSON.parse(JSON.stringify(result));
    } catch (err) {
      throw lambdaError(err);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** What a Distributed Map reports when a child failed (tolerated failures: 0). */
function mapRunFailure(run: MapRun): Error {
  const e = new Error(`The specified tolerated failure threshold was exceeded (map run ${run.mapRunArn.split(':').slice(-2).join(':')})`);
  e.name = EXCEED_TOLERATED;
  return e;
}

function unwrap(err: unknown): Error {
  // ExecutionError wraps the state's error in `cause`.
  let e = err as Error & { cause?: unknown };
  if (e && e.name === 'ExecutionError' && e.cause instanceof Error) e = e.cause as Error & { cause?: unknown };
  return e instanceof Error ? e : new Error(String(err));
}

export function lambdaContext(fnKey: string, requestId: string, deadline: number, memoryMb: number): LambdaContext {
  const functionName = `ost-forwarder-local-${fnKey}`;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: localFunctionArn(fnKey),
    memoryLimitInMB: String(memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${new Date().toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]${requestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Counts the history events AWS would write. Standard workflows: ExecutionStarted/Succeeded|Failed; a Lambda
 * Task writes Entered, Scheduled, Started, Succeeded|Failed, Exited (5), each retry another Scheduled, Started,
 * Failed|Succeeded (3); Pass/Choice/Wait/Succeed write Entered and Exited (2), Fail only Entered; an inline Map
 * writes Entered, Started, Succeeded, Exited plus 2 per iteration and the iteration's states; a Distributed Map
 * writes Entered, MapRunStarted, MapRunSucceeded|Failed, Exited in the parent, and each child is an execution of
 * its own with its own history (counted on the child's record).
 */
class HistoryCounter {
  private events = 0;
  private byType: Record<string, number> = {};
  private distributed: Set<string>;
  private synthetic: Set<string>;
  constructor(prepared: PreparedDefinition) {
    this.distributed = new Set(prepared.distributedMaps);
    this.synthetic = new Set(Object.keys(prepared.childTasks));
  }
  private bump(n: number, type: string) {
    this.events += n;
    this.byType[type] = (this.byType[type] ?? 0) + n;
  }
  add(ev: EventLog): void {
    switch (ev.type) {
      case 'ExecutionStarted': case 'ExecutionSucceeded': case 'ExecutionFailed': case 'ExecutionAborted': case 'ExecutionTimeout':
        this.bump(1, 'Execution');
        return;
      case 'MapIterationStarted': case 'MapIterationSucceeded': case 'MapIterationFailed':
        if (!this.distributed.has(ev.parentState.name)) this.bump(1, 'Map');
        return;
      case 'StateEntered': case 'StateExited': case 'StateRetried': case 'StateCaught': {
        if (this.synthetic.has(ev.state.name)) return; // stands for a child execution: not in this history
        const t = ev.state.type;
        let n: number;
        if (ev.type === 'StateEntered') n = t === 'Task' ? 4 : t === 'Map' ? 2 : 1; // Map: Entered + (MapRun|MapState)Started
        else if (ev.type === 'StateExited') n = t === 'Map' ? 2 : 1; // Map: (MapRun|MapState)Succeeded + Exited
        else if (ev.type === 'StateRetried') n = 3; // another Scheduled, Started, Succeeded|Failed
        else n = 1; // caught: the state's Exited
        this.bump(n, t);
        return;
      }
      default:
        return;
    }
  }
  estimate(): HistoryEstimate {
    return { events: this.events, byStateType: { ...this.byType }, childExecutions: 0, childEvents: 0, maxChildEvents: 0 };
  }
}

/** Reads statemachine/definition.yml and the function timeouts from serverless.yml (if present). */
export function loadProjectDefinition(root: string): { definition: unknown; serverless?: unknown; functionTimeouts: Record<string, number>; functionMemory: Record<string, number> } {
  const definition = readYaml(`${root}/statemachine/definition.yml`);
  let serverless: unknown;
  try { serverless = readYaml(`${root}/serverless.yml`); } catch { serverless = undefined; }
  const functionTimeouts: Record<string, number> = {};
  const functionMemory: Record<string, number> = {};
  const sls = serverless as { provider?: { timeout?: unknown; memorySize?: unknown }; functions?: Record<string, { timeout?: unknown; memorySize?: unknown }> } | undefined;
  for (const [key, fn] of Object.entries(sls?.functions ?? {})) {
    const t = Number(fn?.timeout ?? sls?.provider?.timeout);
    if (Number.isFinite(t) && t > 0) functionTimeouts[key] = t;
    const m = Number(fn?.memorySize ?? sls?.provider?.memorySize);
    if (Number.isFinite(m) && m > 0) functionMemory[key] = m;
  }
  return { definition, serverless, functionTimeouts, functionMemory };
}
