// statemachine/definition.yml: valid ASL, only known error names, the rules the local runner and AWS both need.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, type Tags } from 'yaml';
import { FATAL_ERROR_NAMES, RESTART_ERROR_NAMES, RETRYABLE_ERROR_NAMES } from '../lib/ost/errors';
import { handlers } from '../functions';
import { AWS_RETRYABLE_ERROR_NAMES } from '../lib/core/aws-errors';
import { BATCH_FATAL_ERROR_NAMES, BATCH_RETRYABLE_ERROR_NAMES } from '../lib/workflow/batch-errors';

// asl-validator ships no type declarations.
const aslValidator = require('asl-validator') as (definition: unknown) => { isValid: boolean; errors: unknown[] };

const ROOT = join(__dirname, '..');
const TEXT = readFileSync(join(ROOT, 'statemachine/definition.yml'), 'utf8');
type State = Record<string, any>;
const RAW = parse(TEXT) as { StartAt: string; States: Record<string, State> };

const cfnNames = ['!Sub', '!GetAtt', '!Ref', '!If', '!Not', '!Equals'];
const cfnTags: Tags = [
  ...cfnNames.map((tag) => ({ tag, resolve: (v: string) => ({ [tag]: v }) })),
  ...cfnNames.map((tag) => ({ tag, collection: 'seq' as const, resolve: (v: unknown) => ({ [tag]: v }) })),
] as Tags;
const SLS = parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { customTags: cfnTags }) as Record<string, any>;

/** Lambda service errors, handler crashes/timeouts, and the States.* names the definition may use. */
const INFRA_ERRORS = [
  'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException',
  'Lambda.Unknown', 'States.Timeout', 'Sandbox.Timedout', 'Runtime.ExitError', 'Error', 'States.ALL',
  'MapRunLimitExceeded', // local/aws/limits.ts: the open-Map-Run quota
];
const KNOWN = new Set<string>([...RETRYABLE_ERROR_NAMES, ...AWS_RETRYABLE_ERROR_NAMES, ...FATAL_ERROR_NAMES, ...RESTART_ERROR_NAMES, ...BATCH_RETRYABLE_ERROR_NAMES, ...BATCH_FATAL_ERROR_NAMES, ...INFRA_ERRORS]);

function allStates(machine: { States: Record<string, State> } = RAW): Array<[string, State]> {
  return Object.entries(machine.States).flatMap(([name, s]) => [[name, s] as [string, State], ...(s.ItemProcessor ? allStates(s.ItemProcessor) : [])]);
}

function withArns(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withArns);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Array.isArray(o['Fn::GetAtt'])) return `arn:aws:lambda:us-east-1:123456789012:function:ost-forwarder-test-${(o['Fn::GetAtt'] as string[])[0]}`;
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, withArns(x)]));
  }
  return v;
}

it('passes asl-validator once the Fn::GetAtt resources are ARNs', () => {
  const { isValid, errors } = aslValidator(withArns(RAW) as never);
  expect(errors).toEqual([]);
  expect(isValid).toBe(true);
});

it('uses only Fn::GetAtt [functionKey, Arn] resources, for keys that are serverless.yml functions and handlers', () => {
  const tasks = allStates().filter(([, s]) => s.Type === 'Task');
  expect(tasks.length).toBeGreaterThan(0);
  const functionKeys = Object.keys(SLS.functions);
  expect(functionKeys.sort()).toEqual(Object.keys(handlers).sort());
  for (const [, s] of tasks) {
    expect(Object.keys(s.Resource)).toEqual(['Fn::GetAtt']);
    const [key, attr] = s.Resource['Fn::GetAtt'];
    expect(attr).toBe('Arn');
    expect(functionKeys).toContain(key);
  }
  expect(new Set(tasks.map(([, s]) => s.Resource['Fn::GetAtt'][0]))).toEqual(new Set(['prepare', 'uploadWhole', 'uploadSlices', 'complete', 'cancel', 'report']));
});

it('has no ${...} variables and no other intrinsics', () => {
  const body = TEXT.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n');
  expect(body).not.toMatch(/\$\{/);
  expect(JSON.stringify(RAW)).not.toMatch(/"(Ref|Fn::(?!GetAtt)[A-Za-z]+)"/);
  expect(SLS.stepFunctions.stateMachines.forwarder.definition).toBe('${file(statemachine/definition.yml)}');
});

it('names only known errors, retries the retryable ones with full jitter, never the fatal ones', () => {
  for (const [name, s] of allStates()) {
    for (const r of [...(s.Retry ?? []), ...(s.Catch ?? [])]) {
      for (const e of r.ErrorEquals) expect({ state: name, error: e, known: KNOWN.has(e) }).toEqual({ state: name, error: e, known: true });
    }
    for (const r of s.Retry ?? []) {
      expect(r).toMatchObject({ BackoffRate: expect.any(Number), MaxDelaySeconds: expect.any(Number), JitterStrategy: 'FULL', MaxAttempts: expect.any(Number) });
      for (const e of r.ErrorEquals) {
        expect([...FATAL_ERROR_NAMES, ...BATCH_FATAL_ERROR_NAMES, ...RESTART_ERROR_NAMES, 'States.ALL']).not.toContain(e);
      }
    }
  }
  const uploading = ['Prepare', 'UploadWhole', 'UploadSlices', 'Complete'];
  for (const [name, s] of allStates().filter(([n]) => uploading.includes(n))) {
    const retried = (s.Retry as State[]).flatMap((r) => r.ErrorEquals);
    for (const e of [...RETRYABLE_ERROR_NAMES, 'Lambda.ServiceException', 'Lambda.TooManyRequestsException', 'Lambda.Unknown', 'States.Timeout', 'Sandbox.Timedout', 'Error']) {
      expect({ state: name, retried: retried.includes(e), e }).toEqual({ state: name, retried: true, e });
    }
  }
  // a batch that stopped itself after OST acknowledged slices is retried, and only UploadSlices throws that
  for (const [name, s] of allStates()) {
    const retried = (s.Retry as State[] | undefined ?? []).flatMap((r) => r.ErrorEquals);
    for (const e of BATCH_RETRYABLE_ERROR_NAMES) expect({ state: name, e, retried: retried.includes(e) }).toEqual({ state: name, e, retried: name === 'UploadSlices' });
  }
  // every Task retries transient AWS failures (records, events, markers): a forwarded file must not lose its outcome
  for (const [name, s] of allStates().filter(([, s]) => s.Type === 'Task')) {
    const retried = (s.Retry as State[]).flatMap((r) => r.ErrorEquals);
    for (const e of [...AWS_RETRYABLE_ERROR_NAMES, 'Lambda.ServiceException', 'States.Timeout', 'Error']) {
      expect({ state: name, retried: retried.includes(e), e }).toEqual({ state: name, retried: true, e });
    }
  }
});

it('fans out with a Distributed Map of STANDARD children over the batch descriptors, without the features the local engine lacks', () => {
  const map = RAW.States.UploadBatches!;
  expect(map.Type).toBe('Map');
  expect(map.ItemsPath).toBe('$.batches');
  expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
  expect(map.MaxConcurrencyPath).toBe('$.mapMaxConcurrency');
  expect(map.ResultPath).toBeNull();
  expect(map.ItemSelector['batch.$']).toBe('$$.Map.Item.Value');
  expect(map.ItemProcessor.States.UploadSlices.OutputPath).toBe('$.slices');
  for (const forbidden of ['ItemReader', 'ItemBatcher', 'ResultWriter', 'ToleratedFailureCount', 'ToleratedFailurePercentage', 'ToleratedFailureCountPath', 'ToleratedFailurePercentagePath']) {
    expect(TEXT).not.toContain(forbidden);
  }
});

it('routes every failure after init through Cancel and Report to Fail, and restarts on 10005 a bounded number of times', () => {
  const S = RAW.States;
  for (const name of ['UploadBatches', 'Complete']) {
    expect(S[name]!.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Cancel' }]);
  }
  expect(S.UploadWhole!.Catch[0]).toMatchObject({ ResultPath: '$.error', Next: 'ReportFailure' });
  // a Prepare that gave up may have initialised an upload (its init marker names it): cancelled before the report
  expect(S.Prepare!.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'CancelPrepared' }]);
  expect(S.CancelPrepared).toMatchObject({ Type: 'Task', ResultPath: '$.cancel', Next: 'ReportFailure', Parameters: { 'input.$': '$', 'error.$': '$.error', 'execution.$': '$$.Execution' } });
  expect(S.CancelPrepared!.Resource['Fn::GetAtt'][0]).toBe('cancel');
  expect(S.CancelPrepared!.Catch[0]).toMatchObject({ ErrorEquals: ['States.ALL'], ResultPath: '$.cancelFailure', Next: 'ReportFailure' });
  expect(S.Cancel!.Catch[0]).toMatchObject({ ErrorEquals: ['States.ALL'], ResultPath: '$.cancelFailure', Next: 'ReportFailure' });
  expect(S.Cancel!.ResultPath).toBe('$.cancel');
  expect(S.Cancel!.Next).toBe('RestartOrReport');
  const restart = S.RestartOrReport!.Choices[0];
  expect(restart.And).toEqual([
    { Variable: '$.cancel.error.Error', StringEquals: RESTART_ERROR_NAMES[0] },
    { Variable: '$.restarts', NumericLessThanPath: '$.maxRestarts' },
  ]);
  expect(restart.Next).toBe('Restart');
  expect(S.Restart!.Parameters['restarts.$']).toBe('States.MathAdd($.restarts, 1)');
  // the restart is pinned like the first run: ETag and size always (a null version id pins nothing)
  expect(S.Restart!.Parameters).toMatchObject({ 'etag.$': '$.object.etag', 'size.$': '$.object.size', 'versionId.$': '$.object.versionId' });
  expect(S.Restart!.Next).toBe('Prepare');
  expect(S.ReportFailure!.Next).toBe('Failed');
  expect(S.Failed).toMatchObject({ Type: 'Fail', ErrorPath: '$.report.errorName', CausePath: '$.report.summary' });
});

it('gives every Task a TimeoutSeconds above its function timeout', () => {
  const timeoutOf = (key: string): number => {
    const t = SLS.functions[key].timeout;
    return typeof t === 'number' ? t : Number(SLS.custom.uploadSlicesTimeout);
  };
  for (const [name, s] of allStates().filter(([, s]) => s.Type === 'Task')) {
    const key = s.Resource['Fn::GetAtt'][0];
    expect({ name, above: s.TimeoutSeconds > timeoutOf(key) }).toEqual({ name, above: true });
  }
});
