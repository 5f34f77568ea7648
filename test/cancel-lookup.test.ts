// Cancel's lookup of the failed batch (lib/workflow/map-run-lookup.ts resolveMapRunError): ListMapRuns / ListExecutions are
// eventually consistent on AWS, so a failed child that is not listed yet is asked for again, with a doubling delay.
import { DescribeExecutionCommand, ListExecutionsCommand, ListMapRunsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { resolveMapRunError } from '../lib/workflow/map-run-lookup';

const sfnMock = mockClient(SFNClient);
const EXECUTION = 'arn:aws:states:us-east-1:1:execution:sm:clip';
const MAP_RUN = { mapRunArn: 'arn:aws:states:us-east-1:1:mapRun:sm/UploadBatches:r1', executionArn: EXECUTION, stateMachineArn: 'x', startDate: new Date() };
const CHILD = { executionArn: 'arn:child', stateMachineArn: 'x', name: 'c', status: 'FAILED' as const, startDate: new Date() };
const CAUSE = JSON.stringify({ errorType: 'OstUploadExpiredError', errorMessage: 'code=10005 message="expired" sid=s9 call=slice slice=4' });

beforeEach(() => {
  sfnMock.reset();
  sfnMock.on(DescribeExecutionCommand).resolves({ ...CHILD, error: 'OstUploadExpiredError', cause: CAUSE });
});

it('asks again until the failed child is listed (the 10005 is not lost)', async () => {
  const delays: number[] = [];
  sfnMock.on(ListMapRunsCommand).resolvesOnce({ mapRuns: [] }).resolves({ mapRuns: [MAP_RUN] });
  sfnMock.on(ListExecutionsCommand, { statusFilter: 'FAILED' }).resolvesOnce({ executions: [] }).resolves({ executions: [CHILD] });
  sfnMock.on(ListExecutionsCommand, { statusFilter: 'TIMED_OUT' }).resolves({ executions: [] });
  const error = await resolveMapRunError(new SFNClient({ region: 'us-east-1' }), EXECUTION, { sleep: async (ms) => { delays.push(ms); } });
  expect(error).toEqual({ Error: 'OstUploadExpiredError', Cause: CAUSE });
  // 1st: no map run yet; 2nd: the run, no failed child yet; 3rd: found
  expect(delays).toEqual([500, 1000]);
  expect(sfnMock.commandCalls(ListMapRunsCommand)).toHaveLength(3);
});

it('gives up after the last attempt with undefined (Cancel then keeps the Map error)', async () => {
  const delays: number[] = [];
  sfnMock.on(ListMapRunsCommand).resolves({ mapRuns: [MAP_RUN] });
  sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });
  const error = await resolveMapRunError(new SFNClient({ region: 'us-east-1' }), EXECUTION, { sleep: async (ms) => { delays.push(ms); } });
  expect(error).toBeUndefined();
  expect(delays).toEqual([500, 1000, 2000, 4000]);
  expect(sfnMock.commandCalls(ListMapRunsCommand)).toHaveLength(5);
});

it('answers at once when the child is listed on the first lookup', async () => {
  const delays: number[] = [];
  sfnMock.on(ListMapRunsCommand).resolves({ mapRuns: [MAP_RUN] });
  sfnMock.on(ListExecutionsCommand, { statusFilter: 'FAILED' }).resolves({ executions: [CHILD] });
  await expect(resolveMapRunError(new SFNClient({ region: 'us-east-1' }), EXECUTION, { sleep: async (ms) => { delays.push(ms); } }))
    .resolves.toEqual({ Error: 'OstUploadExpiredError', Cause: CAUSE });
  expect(delays).toEqual([]);
});
