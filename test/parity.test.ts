// What deploys is what is tested: the packaged template (`serverless package`, shared with the other packaging tests:
// test/support/package.ts) bound to the local resources, against what the local stack runs — every function's
// environment, and every wire (intake queue → event source mapping → trigger, status-change rule → release, the
// notification's filter rules). The local stack may differ only where LOCAL_DIFFERENCES says why.
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { CREATED_PARAMS, packaged, type Packaged } from './support/package';
import { LOCAL_DIFFERENCES, startLocalStack, type LocalStack } from '../local/stack';
import { notificationRules, resolveIntrinsics, type LocalResources } from '../local/template-config';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../local/aws/account';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

let template: Packaged;
let stack: LocalStack;
let resources: LocalResources;

beforeAll(async () => {
  template = await packaged(CREATED_PARAMS);
  // the packaging's stage and params (test, ostAppId=app123), run locally
  stack = await startLocalStack({ stage: 'test', env: { OST_APP_ID: 'app123' } });
  resources = {
    account: LOCAL_ACCOUNT, region: LOCAL_REGION,
    refs: { SlotTable: stack.fleet.dynamo.tableName, IntakeQueue: stack.fleet.queueUrl, IntakeDeadLetterQueue: stack.fleet.dlqUrl },
    arns: { IntakeQueue: stack.fleet.queueArn, TriggerLambdaFunction: 'trigger', ReleaseLambdaFunction: 'release' },
  };
}, 600_000);

afterAll(async () => { await stack?.close(); });

const R = (): Record<string, Json> => template.template.Resources;
/** serverless.yml's function key of a packaged function resource (TriggerLambdaFunction → trigger). */
const functionKey = (id: string) => id.replace(/LambdaFunction$/, '').replace(/^./, (c) => c.toLowerCase());
const functions = () => Object.entries(R()).filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.endsWith('LambdaFunction') && !r.Condition);

it('gives every function, locally, the environment the packaged template gives it (LOCAL_DIFFERENCES aside)', () => {
  expect(functions().map(([id]) => functionKey(id)).sort()).toEqual(Object.keys(stack.templateEnvironments).sort());
  const differences: string[] = [];
  for (const [id, fn] of functions()) {
    const key = functionKey(id);
    const deployed = resolveIntrinsics(fn.Properties.Environment.Variables, resources) as Record<string, unknown>;
    // the local stack's reading of serverless.yml is serverless' own, variable for variable
    expect([key, stack.templateEnvironments[key]]).toEqual([key, Object.fromEntries(Object.entries(deployed).map(([k, v]) => [k, String(v)]))]);
    // and the process runs with it
    for (const [variable, value] of Object.entries(deployed)) {
      if (stack.env[variable] === String(value)) continue;
      differences.push(variable);
      expect([key, variable, variable in LOCAL_DIFFERENCES]).toEqual([key, variable, true]);
    }
  }
  expect([...new Set(differences)].sort()).toEqual(Object.keys(LOCAL_DIFFERENCES).filter((v) => !v.startsWith('INTAKE_WAIT_') && !v.startsWith('OUTAGE_PROBE_')).sort());
  // records in their own bucket, as deployed
  expect(stack.env.RESULTS_BUCKET).toBe(stack.recordsBucket);
  expect(stack.recordsBucket).not.toBe(stack.bucket);
});

it('wires the intake queue → event source mapping → trigger as the template does', async () => {
  const queue = R().IntakeQueue.Properties;
  const [[, esm]] = Object.entries(R()).filter(([, r]) => r.Type === 'AWS::Lambda::EventSourceMapping') as [[string, Json]];
  expect(esm.Properties.EventSourceArn).toEqual({ 'Fn::GetAtt': ['IntakeQueue', 'Arn'] });
  expect(esm.Properties.FunctionName).toEqual({ 'Fn::GetAtt': ['TriggerLambdaFunction', 'Arn'] });
  expect(stack.wires.mapping).toEqual({ batchSize: esm.Properties.BatchSize, maximumConcurrency: esm.Properties.ScalingConfig.MaximumConcurrency, functionResponseTypes: esm.Properties.FunctionResponseTypes });
  // the local queue as created: visibility, and the redrive policy to its dead-letter queue
  const attrs = (await stack.fleet.sqs.client.send(new GetQueueAttributesCommand({ QueueUrl: stack.fleet.queueUrl, AttributeNames: ['All'] }))).Attributes!;
  expect(Number(attrs.VisibilityTimeout)).toBe(queue.VisibilityTimeout);
  const redrive = JSON.parse(attrs.RedrivePolicy!);
  expect(Number(redrive.maxReceiveCount)).toBe(Number(queue.RedrivePolicy.maxReceiveCount));
  expect(redrive.deadLetterTargetArn).toBe(resolveIntrinsics(queue.RedrivePolicy.deadLetterTargetArn, { ...resources, arns: { IntakeDeadLetterQueue: redrive.deadLetterTargetArn } }));
  expect(stack.wires.queue).toEqual({ visibilityTimeout: queue.VisibilityTimeout, retentionSeconds: queue.MessageRetentionPeriod, maxReceiveCount: Number(queue.RedrivePolicy.maxReceiveCount) });
});

it('hands the ends the status-change rule matches to the release function, and notifies what the bucket\'s filter rules pass', () => {
  const rule = R().ReleaseRule.Properties;
  expect(rule.Targets.map((t: Json) => t.Arn)).toEqual([{ 'Fn::GetAtt': ['ReleaseLambdaFunction', 'Arn'] }]);
  expect(resolveIntrinsics(rule.EventPattern.detail.stateMachineArn, resources)).toEqual([stack.executor.stateMachineArn]);
  expect([...stack.fleet.releaseStatuses].sort()).toEqual([...rule.EventPattern.detail.status].sort());
  expect(stack.wires.notificationRules).toEqual(notificationRules(R().SourceBucket.Properties.NotificationConfiguration.QueueConfigurations));
  expect(R().SourceBucket.Properties.NotificationConfiguration.QueueConfigurations.map((c: Json) => c.Queue)).toEqual([{ 'Fn::GetAtt': ['IntakeQueue', 'Arn'] }]);
});
