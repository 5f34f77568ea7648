// Proof that the deployed definition does not lean on what the local engine ignores (Distributed mode, item
// batching, tolerated failures, result writers) or cannot run (ItemReader): across a few scenarios, every state of
// statemachine/definition.yml is entered locally, through the real handlers.
import { MiB } from './support/files';
import { resolve } from 'node:path';
import { startLocalStack, type LocalStack } from '../local/stack';
import { loadProjectDefinition, prepareDefinition, serverlessResolver } from '../local/executor';

describe('every state of the deployed definition runs locally', () => {
  let stack: LocalStack;
  const entered = new Map<string, Set<string>>();
  const note = (scenario: string, names: string[]) => entered.set(scenario, new Set(names));

  beforeAll(async () => {
    // 5 MiB slices over a 6 MiB threshold: multipart with small objects
    stack = await startLocalStack({ env: { SLICE_SIZE: String(5 * MiB), SIMPLE_THRESHOLD: String(6 * MiB) } });
  });
  afterAll(() => stack?.close());

  it('simple upload', async () => {
    const r = await stack.forwardObject('states/simple.bin', Buffer.alloc(1000, 1));
    expect(r.status).toBe('forwarded');
    note('simple', r.execution!.entered.map((e) => e.name));
  });

  it('multipart upload', async () => {
    const r = await stack.forwardObject('states/multipart.bin', Buffer.alloc(11 * MiB, 2));
    expect(r).toMatchObject({ status: 'forwarded', slices: 3 });
    note('multipart', r.execution!.entered.map((e) => e.name));
  });

  it('failure after init → cancel → failure report', async () => {
    stack.emulator!.inject({ call: 'slice', sliceId: 1, code: 10001, times: Infinity });
    try {
      const r = await stack.forwardObject('states/fail.bin', Buffer.alloc(11 * MiB, 3));
      expect(r).toMatchObject({ status: 'failed', error: { code: 'OST_INVALID_REQUEST' } });
      note('failure', r.execution!.entered.map((e) => e.name));
    } finally {
      stack.emulator!.clearFaults();
    }
  });

  it('10005 at complete → restart from Prepare', async () => {
    stack.emulator!.inject({ call: 'complete', code: 10005, times: 1 });
    try {
      const r = await stack.forwardObject('states/restart.bin', Buffer.alloc(11 * MiB, 4));
      expect(r.status).toBe('forwarded');
      note('restart', r.execution!.entered.map((e) => e.name));
    } finally {
      stack.emulator!.clearFaults();
    }
  });

  it('Prepare fails (init refused) → CancelPrepared → failure report', async () => {
    stack.emulator!.inject({ call: 'init', code: 10001, times: Infinity });
    try {
      const r = await stack.forwardObject('states/prepare-fail.bin', Buffer.alloc(11 * MiB, 6));
      expect(r).toMatchObject({ status: 'failed', error: { code: 'OST_INVALID_REQUEST' } });
      note('prepare failure', r.execution!.entered.map((e) => e.name));
    } finally {
      stack.emulator!.clearFaults();
    }
  });

  it('the outcome cannot be recorded (EventBridge refuses) → NotReported', async () => {
    stack.aws.fail('AWSEvents.PutEvents', { type: 'AccessDeniedException', message: 'not allowed', times: 1 });
    const r = await stack.forwardObject('states/unreported.bin', Buffer.alloc(10, 5));
    expect(r.status).toBe('failed');
    expect(r.execution).toMatchObject({ status: 'FAILED', error: 'ReportFailed' });
    note('not reported', r.execution!.entered.map((e) => e.name));
  });

  it('together the scenarios entered every state of statemachine/definition.yml', () => {
    const { definition, serverless } = loadProjectDefinition(resolve(__dirname, '..'));
    const all = Object.keys(prepareDefinition(definition, serverlessResolver({}, serverless)).states).sort();
    const seen = new Set([...entered.values()].flatMap((s) => [...s]));
    expect(entered.size).toBe(6);
    expect(all.filter((s) => !seen.has(s))).toEqual([]);
    expect([...seen].filter((s) => !all.includes(s))).toEqual([]);
  });
});
