// The local executor on a small definition shaped like ours: ARN mapping, Lambda-shaped errors for Retry/Catch,
// AWS's execution-name and payload rules, and the history estimate. The deployed definition is covered by
// pipeline-states.test.ts.
import { LocalExecutor, prepareDefinition, serverlessResolver, PAYLOAD_LIMIT_BYTES, type LambdaHandler } from '../local/executor';
import { AwsServiceError } from '../local/aws/endpoint';
import { OstServerError, OstAuthError } from '../lib/ost/errors';

const definition = {
  StartAt: 'Prepare',
  States: {
    Prepare: { Type: 'Task', Resource: { 'Fn::GetAtt': ['prepare', 'Arn'] }, Next: 'Mode' },
    Mode: { Type: 'Choice', Choices: [{ Variable: '$.plan.mode', StringEquals: 'simple', Next: 'UploadWhole' }], Default: 'UploadSlices' },
    UploadWhole: {
      Type: 'Task', Resource: { 'Fn::GetAtt': ['uploadWhole', 'Arn'] }, Next: 'Report',
      Retry: [{ ErrorEquals: ['OstServerError'], IntervalSeconds: 2, MaxAttempts: 2 }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Cancel' }],
    },
    UploadSlices: {
      Type: 'Map', ItemsPath: '$.batches', MaxConcurrency: '${self:custom.mapConcurrency}',
      ItemSelector: { 'batch.$': '$$.Map.Item.Value', 'uploadId.$': '$.uploadId' },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: 'UploadBatch',
        States: { UploadBatch: { Type: 'Task', Resource: { 'Fn::GetAtt': ['uploadSlices', 'Arn'] }, End: true } },
      },
      ResultPath: null, Next: 'Report',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Cancel' }],
    },
    Cancel: { Type: 'Task', Resource: { 'Fn::GetAtt': ['cancel', 'Arn'] }, ResultPath: null, Next: 'Failed' },
    Report: { Type: 'Pass', Next: 'Done' },
    Done: { Type: 'Succeed' },
    Failed: { Type: 'Fail', Error: 'ForwardFailed' },
  },
};
const serverless = { custom: { mapConcurrency: '${env:MAP_CONCURRENCY_TEST, 4}' } };

function withDefaults(handlers: Partial<Record<string, LambdaHandler>>): Record<string, LambdaHandler> {
  const base: Record<string, LambdaHandler> = {
    prepare: (e) => e,
    uploadWhole: () => ({ url: 'u' }),
    uploadSlices: (e) => ({ done: e.batch }),
    cancel: () => ({ cancelled: true }),
  };
  return { ...base, ...handlers } as Record<string, LambdaHandler>;
}

function executor(handlers: Partial<Record<string, LambdaHandler>>, extra: { payloadLimitBytes?: number } = {}) {
  return new LocalExecutor({ definition, handlers: withDefaults(handlers), resolve: serverlessResolver({}, serverless), ...extra });
}

describe('local executor', () => {
  it('maps Fn::GetAtt to local Lambda ARNs, resolves ${} variables and keeps types', () => {
    const p = prepareDefinition(definition, serverlessResolver({}, serverless));
    expect(p.taskFunctions).toEqual({ Prepare: 'prepare', UploadWhole: 'uploadWhole', UploadBatch: 'uploadSlices', Cancel: 'cancel' });
    expect(p.definition.States.Prepare!.Resource).toBe('arn:aws:lambda:us-east-1:000000000000:function:prepare');
    expect(p.definition.States.UploadSlices!.MaxConcurrency).toBe(4);
    expect(p.distributedMaps).toEqual(['UploadSlices']);
    expect(() => prepareDefinition(definition, serverlessResolver({}))).toThrow(/self:custom.mapConcurrency/);
  });

  it('runs the handlers with a Lambda-like context and a JSON copy of the input', async () => {
    const seen: unknown[] = [];
    const ex = executor({
      prepare: (e, ctx) => {
        seen.push(ctx.functionName, ctx.invokedFunctionArn, typeof ctx.getRemainingTimeInMillis());
        return { ...e, plan: { mode: 'multipart' }, uploadId: 'up1', batches: [[1, 2], [3, 2], [5, 1]], when: new Date(0) };
      },
    });
    const r = await ex.start({ key: 'a' }, 'exec-1').done;
    expect(r.status).toBe('SUCCEEDED');
    expect(seen).toEqual(['ost-forwarder-local-prepare', 'arn:aws:lambda:us-east-1:000000000000:function:prepare', 'number']);
    expect((r.output as { when: unknown }).when).toBe('1970-01-01T00:00:00.000Z');
    expect(r.entered.filter((s) => s.name === 'UploadBatch').map((s) => s.index).sort()).toEqual([0, 1, 2]);
    // parent: exec 2 + Prepare 5 + Choice 2 + Map 4 + Pass 2 + Succeed 2; children: 3 × (2 + Task 5)
    expect(r.history).toMatchObject({ events: 17, childExecutions: 3, childEvents: 21, maxChildEvents: 7 });
  });

  it('retries by error name and catches with the Lambda Cause shape', async () => {
    let calls = 0;
    const ex = executor({
      prepare: (e) => ({ ...e, plan: { mode: 'simple' } }),
      uploadWhole: () => {
        calls++;
        if (calls < 3) throw new OstServerError('busy', { ostCode: 10003 });
        throw new OstAuthError('bad signature', { status: 401 });
      },
    });
    const r = await ex.start({ key: 'b' }).done;
    expect(calls).toBe(3); // 1 + MaxAttempts 2, then the non-retryable error is caught
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('ForwardFailed');
    expect(r.retries.map((x) => x.state)).toEqual(['UploadWhole', 'UploadWhole']);
    expect(r.caught).toEqual([{ state: 'UploadWhole', error: 'OstAuthError' }]);
    const cancelInput = r.entered.find((s) => s.name === 'Cancel');
    expect(cancelInput).toBeDefined();
    const failedState = ex.executions.get(r.executionArn)!;
    expect(failedState.history.events).toBeGreaterThan(10);
  });

  it('hands Catch the same {Error, Cause} a Lambda error gives on AWS', async () => {
    let cancelInput: { error?: { Error: string; Cause: string } } = {};
    const ex = executor({
      prepare: (e) => ({ ...e, plan: { mode: 'simple' } }),
      uploadWhole: () => { throw new OstAuthError('bad signature', { status: 401 }); },
      cancel: (e) => { cancelInput = e; return {}; },
    });
    await ex.start({ key: 'c' }).done;
    expect(cancelInput.error!.Error).toBe('OstAuthError');
    const cause = JSON.parse(cancelInput.error!.Cause);
    expect(cause).toMatchObject({ errorType: 'OstAuthError', errorMessage: 'bad signature' });
    expect(Array.isArray(cause.trace)).toBe(true);
  });

  it('runs a Distributed Map child as its own execution and fails the Map as AWS does', async () => {
    const started: number[] = [];
    let cancelInput: { error?: { Error: string; Cause: string } } = {};
    const handlers = withDefaults({
      prepare: (e) => ({ ...e, plan: { mode: 'multipart' }, uploadId: 'u', batches: [[1, 1], [2, 1], [3, 1], [4, 1]] }),
      uploadSlices: (e) => {
        started.push(e.batch[0]);
        if (e.batch[0] === 2) throw new OstAuthError('denied', { status: 403 });
        return { done: e.batch };
      },
      cancel: (e) => { cancelInput = e; return {}; },
    });
    // MaxConcurrency 1 (from the resolver) keeps the order deterministic
    const serial = new LocalExecutor({ definition, handlers, resolve: serverlessResolver({ mapConcurrency: 1 }) });
    const r = await serial.start({ key: 'm' }).done;
    expect(r.status).toBe('FAILED');
    expect(cancelInput.error!.Error).toBe('States.ExceedToleratedFailureThreshold');
    expect(started).toEqual([1, 2]); // children after the failure are never started
    const [run] = serial.listMapRuns(r.executionArn);
    expect(run).toMatchObject({ status: 'FAILED', mapState: 'UploadSlices' });
    const failed = serial.listExecutions({ mapRunArn: run!.mapRunArn, statusFilter: 'FAILED' });
    expect(failed).toHaveLength(1);
    const child = serial.describeExecution(failed[0]!.executionArn);
    expect(child.error).toBe('OstAuthError');
    expect(JSON.parse(child.cause!)).toMatchObject({ errorType: 'OstAuthError', errorMessage: 'denied' });
    expect(r.history.childExecutions).toBe(2);
    expect(serial.stats()).toMatchObject({ executions: 1, childExecutions: 2 });
  });

  it('enforces execution names and uniqueness like StartExecution', async () => {
    const ex = executor({ prepare: (e) => ({ ...e, plan: { mode: 'simple' } }) });
    const arn = ex.stateMachineArn;
    expect(() => ex.startExecution({ stateMachineArn: arn, name: 'bad name', input: '{}' })).toThrow(AwsServiceError);
    expect(() => ex.startExecution({ stateMachineArn: arn, name: 'x'.repeat(81), input: '{}' })).toThrow(/Invalid Name/);
    expect(() => ex.startExecution({ stateMachineArn: arn + 'x', name: 'ok', input: '{}' })).toThrow(/Does Not Exist/);
    const first = ex.startExecution({ stateMachineArn: arn, name: 'dup', input: '{"k":1}' });
    // same name and input while running: idempotent, as on AWS
    expect(ex.startExecution({ stateMachineArn: arn, name: 'dup', input: '{"k":1}' }).executionArn).toBe(first.executionArn);
    try {
      ex.startExecution({ stateMachineArn: arn, name: 'dup', input: '{"k":2}' });
      throw new Error('expected ExecutionAlreadyExists');
    } catch (e) {
      expect((e as AwsServiceError).type).toBe('ExecutionAlreadyExists');
    }
    await ex.idle();
    expect(() => ex.startExecution({ stateMachineArn: arn, name: 'dup', input: '{"k":1}' })).toThrow(/Execution Already Exists/);
    expect(ex.describeExecution(first.executionArn).status).toBe('SUCCEEDED');
  });

  it('fails the execution with States.DataLimitExceeded when a state payload passes 256 KiB', async () => {
    let cancelled = false;
    const multipart = { prepare: (e: object) => ({ ...e, plan: { mode: 'multipart' }, uploadId: 'u', batches: [[1, 1], [2, 1], [3, 1]] }), uploadSlices: () => ({ blob: 'x'.repeat(100_000) }) };
    // Each child result is under the limit; with ResultPath null the gathered results are dropped.
    const ex1 = executor(multipart);
    const r = await ex1.start({ key: 'd' }).done;
    expect(r.status).toBe('SUCCEEDED');
    expect(ex1.stats().largestPayload).toMatchObject({ state: 'UploadBatch', direction: 'task-result' });
    expect(ex1.stats().largestPayload.bytes).toBeLessThan(PAYLOAD_LIMIT_BYTES);
    // Kept in the state output (3 × 100 kB), the Map's output passes the limit.
    const keeping = JSON.parse(JSON.stringify(definition));
    keeping.States.UploadSlices.ResultPath = '$.results';
    keeping.States.Report = { Type: 'Task', Resource: { 'Fn::GetAtt': ['report', 'Arn'] }, Next: 'Done' };
    let reported = false;
    const handlers = { ...multipart, uploadWhole: () => ({}), cancel: () => { cancelled = true; return {}; }, report: () => { reported = true; return {}; } };
    const ex2 = new LocalExecutor({ definition: keeping, handlers, resolve: serverlessResolver({ mapConcurrency: 2 }) });
    const r1 = await ex2.start({ key: 'd' }).done;
    expect(r1).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(r1.largestPayload).toMatchObject({ state: 'UploadSlices', direction: 'output' });
    // the next Task is entered before the event log sees the violation, but its handler never runs
    expect(reported).toBe(false);

    const big = executor({ prepare: (e) => ({ ...e, plan: { mode: 'simple' }, pad: 'y'.repeat(PAYLOAD_LIMIT_BYTES) }), cancel: () => { cancelled = true; return {}; } });
    const r2 = await big.start({ key: 'e' }).done;
    expect(r2.status).toBe('FAILED');
    expect(r2.error).toBe('States.DataLimitExceeded');
    expect(r2.largestPayload.bytes).toBeGreaterThan(PAYLOAD_LIMIT_BYTES);
    expect(cancelled).toBe(false); // terminal: States.ALL does not catch it
    expect(r2.entered.map((s) => s.name)).toEqual(['Prepare']);
  });

  it('rejects an execution input over the limit at StartExecution', () => {
    const ex = executor({});
    expect(() => ex.start({ pad: 'z'.repeat(PAYLOAD_LIMIT_BYTES) })).toThrow(/exceeds the limit/);
  });
});
