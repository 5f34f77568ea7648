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
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { AwsServiceError, type DescribeExecutionResponse, type StartExecutionRequest, type StepFunctionsBackend } from '../aws/endpoint';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../aws/account';
import { waitForPlace } from '../aws/limits';
import { prepareDefinition, serverlessResolver, type JsonObject, type PreparedDefinition } from './definition';
import { HistoryCounter } from './history';
import { endOf } from './ending';
import { DEFAULT_FUNCTION_TIMEOUT_SECONDS, lambdaContext, lambdaError, LambdaTaskError, TerminalStatesError } from './lambda';
import { PAYLOAD_LIMIT_BYTES, type ExecutionRecord, type ExecutorStats, type LocalExecutorOptions, type MapRun, type PayloadDirection } from './types';

// aws-local-stepfunctions is ESM-first with a CJS build; its types are imported for shape only.
import type { StateMachine as StateMachineType, RunOptions } from 'aws-local-stepfunctions';

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
  /** Running top-level executions' stop (StopExecution). */
  private readonly stops = new Map<string, (error?: string, cause?: string) => void>();

  constructor(private readonly options: LocalExecutorOptions) {
    super();
    this.machineName = options.stateMachineName ?? 'ost-forwarder-local';
    this.stateMachineArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${this.machineName}`;
    this.limit = options.payloadLimitBytes ?? PAYLOAD_LIMIT_BYTES;
    this.prepared = prepareDefinition(options.definition, options.resolve ?? serverlessResolver({}));
    if (options.executionTimeoutSeconds !== undefined) (this.prepared.definition as JsonObject).TimeoutSeconds = options.executionTimeoutSeconds;
    for (const [state, fnKey] of Object.entries(this.prepared.taskFunctions)) {
      if (typeof options.handlers[fnKey] !== 'function') {
        throw new Error(`statemachine definition: Task ${state} names function ${fnKey}, but handlers has no ${fnKey}`);
      }
    }
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

  /** StopExecution: a running execution ends ABORTED (AWS: with the given error and cause). */
  stopExecution(executionArn: string, error?: string, cause?: string): { stopDate: Date } {
    const stop = this.stops.get(executionArn);
    if (!this.executions.has(executionArn)) throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    stop?.(error, cause);
    return { stopDate: new Date() };
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
    // The open-Map-Run place each run holds, given back when the run ends.
    const mapRunPlaces = new Map<MapRun, Promise<() => void>>();
    const closeRun = (run: MapRun) => { void mapRunPlaces.get(run)?.then((leave) => leave()); };

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
        const limit = this.options.limits?.mapRuns;
        // AWS refuses a run beyond the quota and the Map's retrier (MapRunLimitExceeded) starts it again; here the run
        // waits that retrier's scaled pause in place (a retried Map's items can arrive before its new run is recorded).
        if (limit && !mapRunPlaces.has(run)) mapRunPlaces.set(run, waitForPlace(limit, 30_000 * (this.options.retryIntervalScale ?? 0.01), () => run.status === 'RUNNING'));
        await mapRunPlaces.get(run);
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
        Execution: { Id: executionArn, Input: input as never, Name: name, RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local`, RedriveCount: 0 },
        StateMachine: { Id: this.stateMachineArn, Name: this.machineName },
      },
    });
    let stopped: { error?: string; cause?: string } | undefined;
    if (!parent) this.stops.set(executionArn, (error, cause) => { stopped = { error, cause }; execution.abort(); });
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
          if (run) closeRun(run);
          if (!(ev.state.name in this.prepared.childTasks) && measure(ev.state.output, ev.state.name, 'output')) execution.abort();
        } else if (ev.type === 'StateRetried') {
          chain((r) => r.retries.push({ state: ev.state.name, attempt: ev.retry.attempt }));
        } else if (ev.type === 'StateFailed') {
          lastError.set(ev.state.name, ev.Error);
          const run = currentRuns.get(ev.state.name);
          if (run) closeRun(run);
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
        Object.assign(record, endOf(violation ?? unwrap(err), !violation, stopped));
      }
      this.stops.delete(executionArn);
      for (const run of record.mapRuns) if (run.status === 'RUNNING') { run.status = 'ABORTED'; run.stopDate = new Date(); }
      record.stopDate = new Date();
      const children = record.mapRuns.flatMap((r) => r.children);
      await Promise.all(children.map((c) => c.done));
      for (const run of record.mapRuns) closeRun(run);
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
    let leave: () => void = () => undefined;
    try {
      leave = this.options.limits?.lambda?.enter() ?? leave;
    } catch (err) {
      throw new LambdaTaskError('Lambda.TooManyRequestsException', (err as Error).message, []);
    }
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
      leave();
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
