// `serverless package` with dummy credentials and no network, then assertions on the CloudFormation template:
// the state machine, the S3 notification, runtime/architecture, least-privilege IAM, no dependency cycle, and
// no secret anywhere. Packages twice (created bucket / existing bucket), once each, in beforeAll.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CREATED_PARAMS, EXISTING_PARAMS, packaged, PACKAGING_API_KEY, PACKAGING_SECRET } from './support/package';
import { dependencyGraph, findCycle } from './support/aws/schema';

const ROOT = join(__dirname, '..');
const SECRET = PACKAGING_SECRET;
const KEY = PACKAGING_API_KEY;
type Json = any;

// Packaged once per content and shared with test/security.test.ts (test/support/package.ts).
async function packageService(_dir: string, params: string[]): Promise<{ template: Json; text: string; state: string }> {
  return packaged(params);
}

let created: { template: Json; text: string; state: string };
let existing: { template: Json; text: string; state: string };
const dirs: string[] = [];

beforeAll(async () => {
  const a = mkdtempSync(join(tmpdir(), 'ost-pkg-'));
  const b = mkdtempSync(join(tmpdir(), 'ost-pkg-'));
  dirs.push(a, b);
  created = await packageService(a, CREATED_PARAMS);
  existing = await packageService(b, EXISTING_PARAMS);
}, 240_000);

afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

const resources = (t: Json): Record<string, Json> => t.Resources;
const ofType = (t: Json, type: string) => Object.entries(resources(t)).filter(([, r]) => r.Type === type);

/** A statement under `Fn::If` (a condition of the params) counts as its granting branch. */
const unwrapIf = (s: Json): Json => (s['Fn::If'] ? [s['Fn::If'][1], s['Fn::If'][2]].find((b: Json) => !b.Ref) : s);

function statements(t: Json): Array<{ role: string; Action: string[]; Resource: Json[]; Condition?: Json }> {
  return ofType(t, 'AWS::IAM::Role').flatMap(([role, r]) => (r.Properties.Policies ?? []).flatMap((p: Json) => p.PolicyDocument.Statement.map(unwrapIf).map((s: Json) => ({
    role,
    Action: [s.Action].flat(),
    Resource: [s.Resource].flat(),
    Condition: s.Condition,
  }))));
}

const resourceText = (r: Json): string => (typeof r === 'string' ? r : JSON.stringify(r));

it('contains the state machine with the Distributed Map definition and Lambda ARNs by GetAtt', () => {
  const [[id, sm]] = ofType(created.template, 'AWS::StepFunctions::StateMachine') as [[string, Json]];
  expect(id).toBe('OstForwarderStateMachine');
  const [body, vars] = sm.Properties.DefinitionString['Fn::Sub'];
  const definition = JSON.parse(body.replace(/\$\{[0-9a-f]{32}\}/g, 'arn:aws:lambda:us-east-1:1:function:x'));
  expect(definition.States.UploadBatches.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
  expect(Object.values(vars).map((v: Json) => v['Fn::GetAtt'][0]).sort()).toEqual(
    ['CancelLambdaFunction', 'CompleteLambdaFunction', 'PrepareLambdaFunction', 'ReportLambdaFunction', 'UploadSlicesLambdaFunction', 'UploadWholeLambdaFunction'],
  );
  expect(sm.Properties.StateMachineName).toBe('ost-forwarder-test');
});

it('runs every function on nodejs22.x / arm64', () => {
  const fns = ofType(created.template, 'AWS::Lambda::Function').filter(([id]) => !id.startsWith('CustomDash'));
  // (the existing bucket's custom resource function exists only with existingBucket=true)
  expect(fns.map(([id]) => id).filter((id) => resources(created.template)[id].Condition !== 'UseExistingBucket')).toHaveLength(8);
  for (const [, f] of fns) {
    expect(f.Properties.Runtime).toBe('nodejs22.x');
    expect(f.Properties.Architectures).toEqual(['arm64']);
  }
});

it('wires the created bucket\'s notification and an existing bucket\'s EventBridge rule to the intake queue, never to the trigger', () => {
  const bucket = resources(created.template).SourceBucket;
  expect(bucket.Type).toBe('AWS::S3::Bucket');
  expect(bucket.Properties.BucketName).toEqual({ 'Fn::Sub': 'ost-forwarder-test-inbox-${AWS::AccountId}-${AWS::Region}' });
  expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  // the created bucket notifies the intake queue (admission); test/template.test.ts checks the queue's policy
  expect(bucket.Properties.NotificationConfiguration.QueueConfigurations).toEqual([
    { Event: 's3:ObjectCreated:*', Queue: { 'Fn::GetAtt': ['IntakeQueue', 'Arn'] } },
  ]);
  expect([bucket.DependsOn].flat()).toEqual(['IntakeQueuePolicy']);
  // existing bucket: no bucket of ours is created for the source
  expect(resources(existing.template).SourceBucket.Condition).toBe('CreateSourceBucket');
  expect(existing.template.Conditions.CreateSourceBucket).toEqual({ 'Fn::Equals': ['true', 'false'] });
  // no S3 notification invokes the trigger: no framework custom resource, no permission for s3 on the trigger
  expect(ofType(existing.template, 'Custom::S3')).toEqual([]);
  expect(ofType(existing.template, 'AWS::Lambda::Permission').map(([, r]) => r.Properties.Principal)).not.toContain('s3.amazonaws.com');
  const rule = resources(existing.template).SourceBucketEventsRule;
  expect(rule.Properties.EventPattern).toEqual({
    source: ['aws.s3'], 'detail-type': ['Object Created'],
    detail: { bucket: { name: ['team-audio'] }, object: { key: [{ wildcard: 'incoming/*.wav' }] } },
  });
  expect(rule.Properties.Targets).toEqual([{ Id: 'intake', Arn: { 'Fn::GetAtt': ['IntakeQueue', 'Arn'] } }]);
  expect(resources(existing.template).SourceBucketEventBridge.Properties).toEqual({ ServiceToken: { 'Fn::GetAtt': ['BucketEventBridgeFunction', 'Arn'] }, BucketName: 'team-audio' });
  const customRole = statements(existing.template).filter((s) => s.role === 'BucketEventBridgeRole');
  const notif = customRole.find((s) => s.Action.includes('s3:PutBucketNotification'))!;
  expect(notif.Action).toEqual(['s3:GetBucketNotification', 's3:PutBucketNotification']);
  expect(notif.Resource).toEqual([{ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::team-audio' }]);
});

it('scopes every IAM statement: no * resource for s3, states, events or ssm', () => {
  for (const t of [created.template, existing.template]) {
    for (const s of statements(t)) {
      for (const service of ['s3', 'states', 'events', 'ssm']) {
        if (!s.Action.some((a) => a.startsWith(`${service}:`))) continue;
        for (const r of s.Resource) {
          const text = resourceText(r);
          expect({ role: s.role, action: s.Action, resource: text }).not.toEqual(expect.objectContaining({ resource: '*' }));
          expect(text).not.toMatch(new RegExp(`arn:[^:]+:${service}:::\\*|:${service}:\\$\\{AWS::Region\\}:\\$\\{AWS::AccountId\\}:\\*`));
        }
      }
      expect(s.Action).not.toContain('*');
    }
  }
  const functionRoles = ['Trigger', 'Prepare', 'UploadWhole', 'UploadSlices', 'Complete', 'Cancel', 'Report', 'Release'].map((f) => `${f}Role`);
  const all = statements(existing.template).filter((s) => functionRoles.includes(s.role));
  const find = (action: string) => [...new Set(all.filter((s) => s.Action.includes(action)).flatMap((s) => s.Resource.map(resourceText)))].sort();
  // the source objects, and the workflow's own attempt markers under the records prefix
  // (failed/*: the release function looks for the failure record of an execution that ended FAILED)
  const rec = (path: string) => `{"Fn::Sub":"arn:\${AWS::Partition}:s3:::team-records/fwd/${path}"}`;
  expect(find('s3:GetObject')).toEqual(['{"Fn::Sub":"arn:${AWS::Partition}:s3:::team-audio/*"}', rec('attempts/init/*'), rec('attempts/slices/*'), rec('failed/*')]);
  expect(find('s3:DeleteObject')).toEqual([rec('attempts/upload/*')]);
  expect(find('s3:GetObjectVersion')).toEqual(['{"Fn::Sub":"arn:${AWS::Partition}:s3:::team-audio/*"}']);
  expect(find('s3:PutObject')).toEqual([rec('attempts/complete/*'), rec('attempts/init/*'), rec('attempts/slices/*'), rec('attempts/upload/*'), rec('failed/*'), rec('forwarded/*'), rec('skipped/*')]);
  expect(find('s3:ListBucket')).toEqual(['{"Fn::Sub":"arn:${AWS::Partition}:s3:::team-audio"}', '{"Fn::Sub":"arn:${AWS::Partition}:s3:::team-records"}']);
  expect(find('states:StartExecution')).toEqual([expect.stringContaining(':stateMachine:ost-forwarder-test"')]);
  expect(find('events:PutEvents')).toEqual([expect.stringContaining(':event-bus/audio-bus"')]);
  expect(find('ssm:GetParameter').sort()).toEqual([
    expect.stringContaining(':parameter/ost-forwarder/test/api-key"'),
    expect.stringContaining(':parameter/ost-forwarder/test/api-secret"'),
  ]);
  expect(find('sqs:SendMessage')).toEqual(['{"Fn::GetAtt":["IntakeDeadLetterQueue","Arn"]}', '{"Fn::GetAtt":["IntakeQueue","Arn"]}', '{"Fn::GetAtt":["TriggerDeadLetterQueue","Arn"]}']);
  expect(find('dynamodb:UpdateItem')).toEqual(['{"Fn::GetAtt":["SlotTable","Arn"]}']);
  // The created-bucket stack writes records to a records bucket of its own, never into the source bucket.
  const created3 = statements(created.template).filter((s) => s.role === 'ReportRole' && s.Action.includes('s3:PutObject'));
  expect(created3.flatMap((s) => s.Resource)).toEqual(['forwarded', 'failed', 'skipped'].map((status) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::ost-forwarder-test-records-\${AWS::AccountId}-\${AWS::Region}/ost-forwarder/${status}/*` })));
});

it('has no dependency cycle (Ref / GetAtt / Sub / DependsOn)', () => {
  for (const t of [created.template, existing.template]) {
    const graph = dependencyGraph(t);
    expect(graph.get('OstForwarderStateMachine')!.has('PrepareLambdaFunction')).toBe(true); // the graph sees Sub vars
    expect(findCycle(graph)).toBeUndefined();
  }
  // The self-test of the cycle finder.
  expect(findCycle(new Map([['a', new Set(['b'])], ['b', new Set(['a'])]]))).toEqual(['a', 'b', 'a']);
});

it('keeps the secret out of the template, the state and every function environment', () => {
  for (const p of [created, existing]) {
    for (const text of [p.text, p.state]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(KEY);
    }
    for (const [, f] of ofType(p.template, 'AWS::Lambda::Function')) {
      const vars = Object.keys(f.Properties.Environment?.Variables ?? {});
      expect(vars).not.toContain('OST_API_KEY');
      expect(vars).not.toContain('OST_API_SECRET');
    }
  }
  const trigger = resources(created.template).TriggerLambdaFunction.Properties.Environment.Variables;
  expect(trigger).toMatchObject({ OST_API_KEY_PARAM: '/ost-forwarder/test/api-key', OST_API_SECRET_PARAM: '/ost-forwarder/test/api-secret', OST_APP_ID: 'app123' });
  expect(trigger.STATE_MACHINE_ARN).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:ost-forwarder-test' });
});

it('has the DLQ on-failure destination, its alarm, and the failed-executions alarm', () => {
  const r = resources(created.template);
  expect(r.TriggerLambdaEvConf.Properties).toMatchObject({
    DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['TriggerDeadLetterQueue', 'Arn'] } } }, MaximumRetryAttempts: 2,
  });
  expect(r.TriggerDeadLetterQueue.Type).toBe('AWS::SQS::Queue');
  expect(r.TriggerDeadLetterAlarm.Properties).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 0 });
  expect(r.FailedExecutionsAlarm.Properties).toMatchObject({
    Namespace: 'AWS/States', MetricName: 'ExecutionsFailed', Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: 'OstForwarderStateMachine' } }],
  });
  for (const [, lg] of ofType(created.template, 'AWS::Logs::LogGroup')) expect(Number(lg.Properties.RetentionInDays)).toBe(30);
});
