// The packaged template against what a first real deploy needs: the aws-cn partition, one least-privilege
// role per function, S3 filter rules and no self-triggering, unique bucket names, SSE-KMS grants, state machine
// logging/tracing/timeout, alarms that reach a person, the dashboard, lifecycle and retention of user data.
// Packaged offline (dummy credentials) through test/support/package.ts, which shares packagings between test files.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CHINA_PARAMS, CHINA_REGION, CREATED_PARAMS, EXISTING_PARAMS, packaged, packagingError, VARIANTS, type Packaged } from './support/package';

type Json = any;

let created: Packaged;
let existing: Packaged;
let china: Packaged;
let kms: Packaged;

beforeAll(async () => {
  created = await packaged(CREATED_PARAMS);
  existing = await packaged(EXISTING_PARAMS);
  china = await packaged(CHINA_PARAMS, { region: CHINA_REGION });
  kms = await packaged(VARIANTS.find((v) => v.name === 'SSE-KMS on both created buckets')!.params);
}, 600_000);

const R = (p: Packaged): Record<string, Json> => p.template.Resources;
const FUNCTIONS = ['Trigger', 'Prepare', 'UploadWhole', 'UploadSlices', 'Complete', 'Cancel', 'Report', 'Release'];

/** Evaluates a template condition (the params are literals by then; AWS::Partition as given). */
function condition(p: Packaged, name: string, partition = 'aws'): boolean {
  const ev = (c: Json): Json => {
    if (typeof c === 'string') return c;
    if (c.Ref === 'AWS::Partition') return partition;
    if (c.Condition) return ev(p.template.Conditions[c.Condition]);
    if (c['Fn::Equals']) return ev(c['Fn::Equals'][0]) === ev(c['Fn::Equals'][1]);
    if (c['Fn::Not']) return !ev(c['Fn::Not'][0]);
    if (c['Fn::And']) return c['Fn::And'].every(ev);
    throw new Error(`condition ${JSON.stringify(c)}`);
  };
  return ev(p.template.Conditions[name]);
}

/** The statements a role grants once its Fn::If conditions are evaluated. */
function grants(p: Packaged, role: string): Array<{ Sid?: string; Action: string[]; Resource: string[]; Condition?: Json }> {
  return R(p)[role].Properties.Policies.flatMap((pol: Json) => pol.PolicyDocument.Statement)
    .map((s: Json) => {
      if (!s['Fn::If']) return s;
      const [cond, yes, no] = s['Fn::If'];
      return condition(p, cond) ? yes : no;
    })
    .filter((s: Json) => !s.Ref)
    .map((s: Json) => ({ ...s, Action: [s.Action].flat(), Resource: [s.Resource].flat().map((r: Json) => (typeof r === 'string' ? r : JSON.stringify(r))) }));
}
const actionsOf = (p: Packaged, role: string) => [...new Set(grants(p, role).flatMap((s) => s.Action))].sort();

describe('partition', () => {
  it('has no arn:aws: literal in any packaging, and builds every ARN with ${AWS::Partition}', () => {
    for (const p of [created, existing, china]) {
      expect(p.text.match(/"arn:aws:[^"]*"/g) ?? []).toEqual([]);
      expect(p.text.match(/arn:aws:/g) ?? []).toEqual([]);
    }
    expect(china.text).toContain('arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:ost-forwarder-test');
    // the KMS keys given as params are used as given (aws-cn ARNs)
    expect(china.text).toContain('arn:aws-cn:kms:cn-north-1:111122223333:key/src-key');
  });

  it('links the dashboard on the console of the partition', () => {
    const url = china.template.Outputs.DashboardUrl.Value['Fn::If'];
    expect(url[0]).toBe('InChina');
    expect(url[1]['Fn::Sub']).toContain('console.amazonaws.cn');
    expect(condition(china, 'InChina', 'aws-cn')).toBe(true);
    expect(condition(china, 'InChina', 'aws')).toBe(false);
  });
});

describe('least privilege per function', () => {
  it('gives every function a role of its own and drops the shared role', () => {
    const roles = FUNCTIONS.map((f) => R(created)[`${f}LambdaFunction`].Properties.Role);
    expect(roles).toEqual(FUNCTIONS.map((f) => ({ 'Fn::GetAtt': [`${f}Role`, 'Arn'] })));
    expect(R(created).IamRoleLambdaExecution).toBeUndefined();
  });

  it('lets the trigger start executions and reach its queues and the slots, nothing else', () => {
    // ssm/kms: the OST secrets for the breaker's recovery probe (init + cancel) while admission is paused
    expect(actionsOf(created, 'TriggerRole')).toEqual([
      'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'kms:Decrypt', 'logs:CreateLogStream', 'logs:PutLogEvents',
      'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:SendMessage', 'ssm:GetParameter', 'states:StartExecution',
    ]);
    expect(grants(created, 'TriggerRole').find((s) => s.Action.includes('sqs:ReceiveMessage'))!.Resource).toEqual(['{"Fn::GetAtt":["IntakeQueue","Arn"]}']);
    expect(grants(created, 'TriggerRole').find((s) => s.Action.includes('dynamodb:UpdateItem'))!.Resource).toEqual(['{"Fn::GetAtt":["SlotTable","Arn"]}']);
    // the slot; and for an execution that ended without its record: the init marker, the failure record (HeadObject
    // first), its event, and OST (the cancel) through the SSM secrets
    expect(actionsOf(created, 'ReleaseRole')).toEqual(['dynamodb:UpdateItem', 'events:PutEvents', 'kms:Decrypt', 'logs:CreateLogStream', 'logs:PutLogEvents', 's3:GetObject', 's3:ListBucket', 's3:PutObject', 'ssm:GetParameter']);
    expect(grants(created, 'ReleaseRole').filter((s) => s.Action.some((a) => a.startsWith('s3:'))).map((s) => [s.Action, s.Resource])).toEqual([
      [['s3:GetObject'], ['{"Fn::Sub":"arn:${AWS::Partition}:s3:::ost-forwarder-test-records-${AWS::AccountId}-${AWS::Region}/ost-forwarder/attempts/init/*"}']],
      [['s3:GetObject', 's3:PutObject'], ['{"Fn::Sub":"arn:${AWS::Partition}:s3:::ost-forwarder-test-records-${AWS::AccountId}-${AWS::Region}/ost-forwarder/failed/*"}']],
      [['s3:ListBucket'], ['{"Fn::Sub":"arn:${AWS::Partition}:s3:::ost-forwarder-test-records-${AWS::AccountId}-${AWS::Region}"}']],
    ]);
    expect(grants(created, 'TriggerRole').find((s) => s.Action.includes('logs:PutLogEvents'))!.Resource).toEqual([
      '{"Fn::Sub":"arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/ost-forwarder-test-trigger:*"}',
    ]);
  });

  it('reads the OST secrets only in the functions that call OST', () => {
    for (const f of FUNCTIONS) {
      const a = actionsOf(created, `${f}Role`);
      const callsOst = ['Trigger', 'Prepare', 'UploadWhole', 'UploadSlices', 'Complete', 'Cancel', 'Release'].includes(f);
      expect({ f, ssm: a.includes('ssm:GetParameter') }).toEqual({ f, ssm: callsOst });
      expect(a).not.toContain('ssm:GetParameters');
      expect({ f, kms: a.includes('kms:Decrypt') }).toEqual({ f, kms: callsOst });
    }
    expect(actionsOf(created, 'ReportRole')).toEqual(['events:PutEvents', 'logs:CreateLogStream', 'logs:PutLogEvents', 's3:PutObject', 'sqs:SendMessage']);
    expect(grants(created, 'ReportRole').find((s) => s.Action.includes('sqs:SendMessage'))!.Resource).toEqual(['{"Fn::GetAtt":["IntakeQueue","Arn"]}']);
  });

  it('lets the OST steps count outages into the breaker item only (UpdateItem on the key ost-health)', () => {
    for (const f of ['Prepare', 'UploadWhole', 'UploadSlices', 'Complete', 'Cancel']) {
      const g = grants(created, `${f}Role`).filter((s) => s.Action.some((a) => a.startsWith('dynamodb:')));
      expect({ f, g }).toEqual({ f, g: [{ Sid: 'OstHealth', Effect: 'Allow', Action: ['dynamodb:UpdateItem'], Resource: ['{"Fn::GetAtt":["SlotTable","Arn"]}'], Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['ost-health'] } } }] });
    }
  });

  it('grants s3:ListBucket on the source to the functions that read it (a missing key is a 404, not a 403)', () => {
    for (const f of ['Prepare', 'UploadWhole', 'UploadSlices']) {
      const list = grants(existing, `${f}Role`).filter((s) => s.Action.includes('s3:ListBucket')).flatMap((s) => s.Resource);
      expect(list).toContain('{"Fn::Sub":"arn:${AWS::Partition}:s3:::team-audio"}');
    }
    // markers and batch progress are read (absent = 404) by Prepare, Upload slices and Cancel, init markers and failure
    // records by Release; the others only write
    const listsRecords = (f: string) => grants(existing, `${f}Role`).filter((s) => s.Action.includes('s3:ListBucket')).flatMap((s) => s.Resource).includes('{"Fn::Sub":"arn:${AWS::Partition}:s3:::team-records"}');
    expect(FUNCTIONS.filter(listsRecords)).toEqual(['Prepare', 'UploadSlices', 'Cancel', 'Release']);
  });

  it('gives the state machine a role of ours: its batch executions only, assumed by states.amazonaws.com', () => {
    expect(R(created).OstForwarderStateMachine.Properties.RoleArn).toEqual({ 'Fn::GetAtt': ['StateMachineRole', 'Arn'] });
    expect(R(created).OstForwarderStateMachineRole).toBeUndefined();
    const role = R(china).StateMachineRole.Properties;
    expect(role.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: ['states.amazonaws.com'] });
    const sm = role.Policies[0].PolicyDocument.Statement as Json[];
    const children = sm.filter((s) => [s.Action].flat().some((a: string) => ['states:RedriveExecution', 'states:StopExecution', 'states:DescribeExecution'].includes(a)));
    expect(children.flatMap((s) => [s.Resource].flat())).toEqual([{ 'Fn::Sub': 'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:ost-forwarder-test/*' }]);
    expect(JSON.stringify(sm)).not.toContain('events:PutRule');
  });
});

describe('buckets and notifications', () => {
  it('names the default buckets per account and region', () => {
    expect(R(created).SourceBucket.Properties.BucketName).toEqual({ 'Fn::Sub': 'ost-forwarder-test-inbox-${AWS::AccountId}-${AWS::Region}' });
    expect(R(created).RecordsBucket.Properties.BucketName).toEqual({ 'Fn::Sub': 'ost-forwarder-test-records-${AWS::AccountId}-${AWS::Region}' });
    expect(condition(created, 'CreateRecordsBucket')).toBe(true);
    expect(created.template.Outputs.SourceBucket.Value).toEqual({ 'Fn::Sub': 'ost-forwarder-test-inbox-${AWS::AccountId}-${AWS::Region}' });
  });

  it('turns keyPrefixFilter / keySuffixFilter into S3 filter rules (existing bucket and created bucket)', () => {
    expect(R(existing).SourceBucketEventsRule.Properties.EventPattern.detail.object).toEqual({ key: [{ wildcard: 'incoming/*.wav' }] });
    expect(R(china).SourceBucket.Properties.NotificationConfiguration.QueueConfigurations).toEqual([{
      Event: 's3:ObjectCreated:*',
      Queue: { 'Fn::GetAtt': ['IntakeQueue', 'Arn'] },
      Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'inbox/' }] } },
    }]);
    // the trigger applies the same filters
    expect(R(existing).TriggerLambdaFunction.Properties.Environment.Variables).toMatchObject({ KEY_PREFIX_FILTER: 'incoming/', KEY_SUFFIX_FILTER: '.wav' });
  });

  it('writes nothing into the source bucket that could invoke the trigger', () => {
    // default: a records bucket of the stack's own
    const env = R(created).ReportLambdaFunction.Properties.Environment.Variables;
    expect(env.RESULTS_BUCKET).toEqual({ 'Fn::Sub': 'ost-forwarder-test-records-${AWS::AccountId}-${AWS::Region}' });
    expect(R(created).SourceBucket.Properties.NotificationConfiguration.QueueConfigurations[0].Filter).toBeUndefined();
    // records in the source bucket: only with a notification prefix that the records prefix is outside of
    expect(condition(china, 'CreateRecordsBucket')).toBe(false);
    expect(R(china).ReportLambdaFunction.Properties.Environment.Variables.RESULTS_BUCKET).toEqual({ 'Fn::Sub': 'audio-cn' });
  });

  it('refuses records in the source bucket without a prefix filter that keeps them out, and an existing bucket without a name', async () => {
    const out = await packagingError(['ostAppId=app123', 'bucketName=audio', 'resultsBucket=audio']);
    expect(out).toContain('param resultsBucket');
    expect(out).toContain('keyPrefixFilter');
    const nested = await packagingError(['ostAppId=app123', 'bucketName=audio', 'resultsBucket=audio', 'keyPrefixFilter=ost-']);
    expect(nested).toContain('param resultsBucket');
    expect(await packagingError(['ostAppId=app123', 'existingBucket=true'])).toContain('param bucketName');
    expect(await packagingError(['ostAppId=app123', 'keySuffixFilter=.wav,x.wav'])).toContain('param keySuffixFilter: ".wav" and "x.wav" overlap');
    // a value a function would refuse at its first invocation is refused here, by the same parser (lib/config/table.ts)
    expect(await packagingError(['ostAppId=app123', 'maxFilesInFlight=0'])).toContain('param maxFilesInFlight (MAX_FILES_IN_FLIGHT): must be between 1 and 1000, got 0');
  }, 240_000);

  it('makes one notification configuration per prefix × suffix of comma-separated filters', async () => {
    // the resolver serverless.yml calls, with the params a `--param` would give
    const notification = require('../scripts/s3-notification.js') as (a: { resolveVariable: (q: string) => Promise<unknown> }) => Promise<Json>;
    const params: Record<string, string> = { bucketName: 'audio', existingBucket: 'true', keyPrefixFilter: 'a/, b/', keySuffixFilter: '.wav,.mp3' };
    const resolveVariable = async (q: string) => { const [, name, fallback] = /^param:(\w+), '(.*)'$/.exec(q)!; return params[name!] ?? fallback; };
    const n = await notification({ resolveVariable });
    expect(n.eventPattern.detail.object.key).toEqual([{ wildcard: 'a/*.wav' }, { wildcard: 'a/*.mp3' }, { wildcard: 'b/*.wav' }, { wildcard: 'b/*.mp3' }]);
    expect(n.queueConfigurations).toHaveLength(4);
    expect(n.queueConfigurations[3].Filter).toEqual({ S3Key: { Rules: [{ Name: 'prefix', Value: 'b/' }, { Name: 'suffix', Value: '.mp3' }] } });
  });

  it('keeps user data: buckets retained, versions and markers expired by lifecycle rules', () => {
    for (const id of ['SourceBucket', 'RecordsBucket']) {
      expect(R(created)[id]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      expect(R(created)[id].Properties.PublicAccessBlockConfiguration).toMatchObject({ BlockPublicAcls: true, RestrictPublicBuckets: true });
    }
    // (params reach the template as strings; CloudFormation reads "30" as the integer 30)
    const [inbox] = R(created).SourceBucket.Properties.LifecycleConfiguration.Rules;
    expect(inbox).toMatchObject({ Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } });
    expect(Number(inbox.NoncurrentVersionExpiration.NoncurrentDays)).toBe(30);
    const [markers] = R(created).RecordsBucket.Properties.LifecycleConfiguration.Rules;
    expect(markers).toMatchObject({ Status: 'Enabled', Prefix: 'ost-forwarder/attempts/' });
    expect(Number(markers.ExpirationInDays)).toBe(14);
  });
});

describe('SSE-KMS', () => {
  it('grants the source key (Decrypt) to the readers and the results key (GenerateDataKey) to the writers, through S3 only', () => {
    const keyGrants = (p: Packaged, f: string) => grants(p, `${f}Role`).filter((s) => s.Sid === 'SourceKey' || s.Sid === 'ResultsKey');
    for (const f of ['Prepare', 'UploadWhole', 'UploadSlices']) {
      expect(keyGrants(china, f).find((s) => s.Sid === 'SourceKey')).toEqual(expect.objectContaining({
        Action: ['kms:Decrypt'], Resource: ['arn:aws-cn:kms:cn-north-1:111122223333:key/src-key'],
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 's3.${AWS::Region}.${AWS::URLSuffix}' } } },
      }));
    }
    // the results key: GenerateDataKey to the writers, Decrypt to the readers (markers, batch progress)
    const resultsKey = (f: string) => keyGrants(kms, f).filter((s) => s.Sid === 'ResultsKey').map((s) => ({ f, Action: s.Action, Resource: s.Resource }));
    const rec = ['arn:aws:kms:us-east-1:111122223333:key/rec-key'];
    expect(['Prepare', 'UploadWhole', 'UploadSlices', 'Complete', 'Cancel', 'Report', 'Release'].flatMap(resultsKey)).toEqual([
      { f: 'Prepare', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: rec },
      { f: 'UploadWhole', Action: ['kms:GenerateDataKey'], Resource: rec },
      { f: 'UploadSlices', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: rec },
      { f: 'Complete', Action: ['kms:GenerateDataKey'], Resource: rec },
      { f: 'Cancel', Action: ['kms:Decrypt'], Resource: rec },
      { f: 'Report', Action: ['kms:GenerateDataKey'], Resource: rec },
      { f: 'Release', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: rec },
    ]);
    // records in the source bucket (china): the results key is the source key
    expect(keyGrants(china, 'Report').map((s) => s.Resource)).toEqual([['arn:aws-cn:kms:cn-north-1:111122223333:key/src-key']]);
    expect(keyGrants(china, 'Trigger')).toEqual([]);
    // the release function reads init markers and writes failure records
    expect(keyGrants(china, 'Release')).toEqual([expect.objectContaining({ Sid: 'ResultsKey', Action: ['kms:Decrypt', 'kms:GenerateDataKey'] })]);
    // no key params: no key grant at all
    for (const f of FUNCTIONS) expect(keyGrants(created, f)).toEqual([]);
    // the created bucket is encrypted with the given key
    expect(JSON.stringify(R(china).SourceBucket.Properties.BucketEncryption)).toContain('key/src-key');
    expect(condition(china, 'HasSourceKey')).toBe(true);
    expect(condition(created, 'HasSourceKey')).toBe(false);
  });
});

describe('operations', () => {
  it('logs the state machine at ERROR without execution data, traces it, and bounds an execution', () => {
    const sm = R(created).OstForwarderStateMachine.Properties;
    expect(sm.LoggingConfiguration).toMatchObject({ Level: 'ERROR', IncludeExecutionData: false });
    expect(sm.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn).toEqual({ 'Fn::GetAtt': ['StateMachineLogGroup', 'Arn'] });
    expect(R(created).StateMachineLogGroup.Properties.LogGroupName).toBe('/aws/vendedlogs/states/ost-forwarder-test');
    expect(Number(R(created).StateMachineLogGroup.Properties.RetentionInDays)).toBe(30);
    expect(sm.TracingConfiguration).toEqual({ Enabled: true });
    const [body] = sm.DefinitionString['Fn::Sub'];
    expect(JSON.parse(body.replace(/\$\{[0-9a-f]{32}\}/g, 'x')).TimeoutSeconds).toBe(86400);
  });

  it('alarms on failed, timed-out, aborted and throttled executions and dead letters, sent to a topic it creates', () => {
    const metrics = Object.values(R(created)).filter((r: Json) => r.Type === 'AWS::CloudWatch::Alarm').map((r: Json) => r.Properties.MetricName).sort();
    expect(metrics).toEqual(['ApproximateAgeOfOldestMessage', 'ApproximateNumberOfMessagesVisible', 'ApproximateNumberOfMessagesVisible', 'ApproximateNumberOfMessagesVisible', 'ExecutionThrottled', 'ExecutionsAborted', 'ExecutionsFailed', 'ExecutionsTimedOut', 'IntakeUnreadable']);
    // the trigger's metric of what it sent to the intake's dead-letter queue (Powertools: namespace, service dimension)
    expect(R(created).UnreadableIntakeAlarm.Properties).toMatchObject({ Namespace: 'OstForwarder', MetricName: 'IntakeUnreadable', Dimensions: [{ Name: 'service', Value: 'ost-forwarder' }], Threshold: 0 });
    for (const r of Object.values(R(created)).filter((x: Json) => x.Type === 'AWS::CloudWatch::Alarm') as Json[]) {
      expect(r.Properties.AlarmActions).toEqual([{ 'Fn::If': ['HasAlarmTopic', '', { Ref: 'AlarmTopic' }] }]);
    }
    expect(condition(created, 'CreateAlarmTopic')).toBe(true);
    expect(condition(created, 'HasAlarmEmail')).toBe(false);
    expect(condition(china, 'HasAlarmEmail')).toBe(true);
    expect(R(china).AlarmTopic.Properties.Subscription['Fn::If'][1]).toEqual([{ Protocol: 'email', Endpoint: 'ops@example.com' }]);
  });

  it('has a dashboard of files, bytes, executions, duration, throttles and queue depth', () => {
    const [text, vars] = R(created).Dashboard.Properties.DashboardBody['Fn::Sub'];
    const body = JSON.parse(text.replace(/\$\{[^}]+\}/g, 'x'));
    const names = body.widgets.flatMap((w: Json) => w.properties.metrics.map((m: Json[]) => m[1]));
    for (const n of ['FilesForwarded', 'FilesFailed', 'BytesForwarded', 'ExecutionsFailed', 'ExecutionTime', 'Throttles', 'ApproximateNumberOfMessagesVisible']) {
      expect(names).toContain(n);
    }
    expect(vars).toMatchObject({
      StateMachine: { Ref: 'OstForwarderStateMachine' }, Queue: { 'Fn::GetAtt': ['TriggerDeadLetterQueue', 'QueueName'] },
      IntakeDeadLetters: { 'Fn::GetAtt': ['IntakeDeadLetterQueue', 'QueueName'] },
    });
  });
});

/** Names and unix modes of a zip's entries, from its central directory. */
function zipEntries(path: string): Array<{ name: string; mode: number; size: number }> {
  const b = readFileSync(path);
  const eocd = b.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = b.readUInt16LE(eocd + 10);
  let at = b.readUInt32LE(eocd + 16);
  const out: Array<{ name: string; mode: number; size: number }> = [];
  for (let i = 0; i < count; i++) {
    const nameLength = b.readUInt16LE(at + 28), extra = b.readUInt16LE(at + 30), comment = b.readUInt16LE(at + 32);
    out.push({ name: b.toString('utf8', at + 46, at + 46 + nameLength), mode: b.readUInt32LE(at + 38) >>> 16, size: b.readUInt32LE(at + 24) });
    at += 46 + nameLength + extra + comment;
  }
  return out;
}

describe('the heap bounds on Lambda (exec wrapper)', () => {
  const WRAPPER = join(__dirname, '..', 'scripts', 'lambda-exec-wrapper.sh');

  // Prepare also carries the media parser (music-metadata and file-type, ~230 kB minified) and the breaker's
  // DynamoDB client: 1.25 MB for it.
  const bundleBound = (zip: string) => (zip.startsWith('prepare') ? 1_250_000 : 1_000_000);

  it('sets AWS_LAMBDA_EXEC_WRAPPER and ships the wrapper, executable, in every function zip, beside a JS bundle of at most 1 MB (1.25 MB for prepare)', () => {
    for (const f of FUNCTIONS) {
      expect(R(created)[`${f}LambdaFunction`].Properties.Environment.Variables).toMatchObject({
        AWS_LAMBDA_EXEC_WRAPPER: '/var/task/scripts/lambda-exec-wrapper.sh', LAMBDA_MAX_SEMI_SPACE_MB: '1',
      });
    }
    const zips = readdirSync(created.dir).filter((n) => n.endsWith('.zip') && !n.startsWith('custom-resources'));
    expect(zips).toHaveLength(8);
    for (const z of zips) {
      const entries = zipEntries(join(created.dir, z));
      const wrapper = entries.find((e) => e.name === 'scripts/lambda-exec-wrapper.sh');
      expect({ z, wrapper: !!wrapper, executable: !!wrapper && (wrapper.mode & 0o111) === 0o111 }).toEqual({ z, wrapper: true, executable: true });
      const js = entries.filter((e) => e.name.endsWith('.js'));
      expect(js).toHaveLength(1);
      expect({ z, size: js[0]!.size, under: js[0]!.size <= bundleBound(z) }).toEqual({ z, size: js[0]!.size, under: true });
    }
  });

  // The two bootstrap behaviours, for a 1024 MB function with NODE_OPTIONS=--max-semi-space-size=1 (serverless.yml):
  // one passes its own heap flags on the command line; the published node20.x/node24.x ones pass none when
  // NODE_OPTIONS sets one (V8's default old space then).
  const BOOTSTRAP = {
    'adds its heap flags': ['--expose-gc', '--max-http-header-size', '81920', '--max-semi-space-size=51', '--max-old-space-size=922'],
    'adds none (NODE_OPTIONS sets one)': ['--expose-gc', '--max-http-header-size', '81920'],
  };
  const print = 'process.stdout.write(JSON.stringify({ argv: process.execArgv, limit: require("v8").getHeapStatistics().heap_size_limit / 1048576 }))';
  const run = async (args: string[], env: Record<string, string>, viaWrapper = true) => {
    const [file, argv] = viaWrapper ? [WRAPPER, [process.execPath, ...args, '-e', print]] : [process.execPath, [...args, '-e', print]];
    const { stdout } = await promisify(execFile)(file, argv, { env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: '--max-semi-space-size=1', ...env } });
    return JSON.parse(stdout) as { argv: string[]; limit: number };
  };
  const heapFlags = (argv: string[]) => argv.filter((a) => /^--max-(semi|old)-space-size=/.test(a)).sort();

  it.each(Object.entries(BOOTSTRAP))('bounds both heap spaces when the bootstrap %s: semi-space 1 MiB, old space memory less a tenth', async (_how, args) => {
    const got = await run(args, { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024', LAMBDA_MAX_SEMI_SPACE_MB: '1' });
    expect(heapFlags(got.argv)).toEqual(['--max-old-space-size=922', '--max-semi-space-size=1']);
    expect(got.argv.filter((a) => !/^--max-(semi|old)-space-size=/.test(a))).toEqual([...args.filter((a) => !/^--max-(semi|old)/.test(a)), '-e', print]);
    expect(got.limit).toBeGreaterThanOrEqual(922);
    expect(got.limit).toBeLessThan(1000);
    const small = await run(args, { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256' });
    expect(heapFlags(small.argv)).toEqual(['--max-old-space-size=231', '--max-semi-space-size=1']);
    expect(small.limit).toBeLessThan(256);
  });

  it('without the wrapper, a bootstrap that adds no heap flags leaves the old space at V8\'s default', async () => {
    const got = await run(BOOTSTRAP['adds none (NODE_OPTIONS sets one)'], { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256' }, false);
    expect(heapFlags(got.argv)).toEqual([]);
    const bounded = await run(BOOTSTRAP['adds none (NODE_OPTIONS sets one)'], { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256' });
    expect(got.limit).toBeGreaterThan(bounded.limit);
  });

  it('takes LAMBDA_MAX_OLD_SPACE_MB over the memory, falls back to 1 MiB for a semi-space that is not a number, and keeps the bootstrap\'s old space when no bound is known', async () => {
    const flags = BOOTSTRAP['adds its heap flags'];
    expect(heapFlags((await run(flags, { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024', LAMBDA_MAX_OLD_SPACE_MB: '700', LAMBDA_MAX_SEMI_SPACE_MB: '8' })).argv))
      .toEqual(['--max-old-space-size=700', '--max-semi-space-size=8']);
    expect(heapFlags((await run(flags, { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024', LAMBDA_MAX_SEMI_SPACE_MB: '1; rm -rf /' })).argv))
      .toEqual(['--max-old-space-size=922', '--max-semi-space-size=1']);
    expect(heapFlags((await run(flags, {})).argv)).toEqual(['--max-old-space-size=922', '--max-semi-space-size=1']);
  });
});

describe('admission', () => {
  it('sends the created bucket\'s notifications to an intake queue only S3 from that bucket may write to', () => {
    const q = R(created).IntakeQueue.Properties;
    // 7 days, the DLQ's 14: a dead letter expires by its first enqueue time
    expect(q).toMatchObject({ MessageRetentionPeriod: 604800, VisibilityTimeout: 360, RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['IntakeDeadLetterQueue', 'Arn'] }, maxReceiveCount: '10' } });
    // the visibility timeout is at least 6 × the trigger's timeout
    expect(q.VisibilityTimeout).toBeGreaterThanOrEqual(6 * R(created).TriggerLambdaFunction.Properties.Timeout);
    expect(R(created).IntakeDeadLetterQueue.Properties.MessageRetentionPeriod).toBe(1209600);
    // the S3 statement exists only for the bucket the stack creates
    const [{ 'Fn::If': [condition, st, otherwise] }] = R(created).IntakeQueuePolicy.Properties.PolicyDocument.Statement;
    expect([condition, otherwise]).toEqual(['CreateSourceBucket', { Ref: 'AWS::NoValue' }]);
    expect(st).toMatchObject({ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: ['sqs:SendMessage'] });
    expect(st.Condition.ArnLike['aws:SourceArn']).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::ost-forwarder-test-inbox-${AWS::AccountId}-${AWS::Region}' });
    expect(st.Condition.StringEquals['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
    expect([R(created).SourceBucket.DependsOn].flat()).toEqual(['IntakeQueuePolicy']);
  });

  it('consumes the intake through an event source mapping: batches, partial failures, a maximum concurrency', () => {
    const [[, esm]] = Object.entries(R(created)).filter(([, r]: [string, Json]) => r.Type === 'AWS::Lambda::EventSourceMapping') as [[string, Json]];
    expect(esm.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['IntakeQueue', 'Arn'] }, FunctionName: { 'Fn::GetAtt': ['TriggerLambdaFunction', 'Arn'] },
      BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'], ScalingConfig: { MaximumConcurrency: 2 },
    });
    expect(R(created).TriggerLambdaFunction.Properties.Environment.Variables).toMatchObject({
      MAX_FILES_IN_FLIGHT: '32', SLOT_TABLE: { Ref: 'SlotTable' }, INTAKE_QUEUE_URL: { Ref: 'IntakeQueue' }, INTAKE_MAX_RECEIVE_COUNT: '10',
    });
  });

  it('keeps the slots in an on-demand table keyed as lib/admission/table.ts describes', () => {
    expect(R(created).SlotTable.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    });
  });

  it('releases slots on every final status of this state machine (EventBridge rule → release function)', () => {
    const rule = R(created).ReleaseRule.Properties;
    expect(rule.EventPattern).toEqual({
      source: ['aws.states'], 'detail-type': ['Step Functions Execution Status Change'],
      detail: { status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [{ 'Fn::Sub': 'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:ost-forwarder-test' }] },
    });
    expect(rule.Targets[0].Arn).toEqual({ 'Fn::GetAtt': ['ReleaseLambdaFunction', 'Arn'] });
    expect(R(created).ReleasePermission.Properties).toMatchObject({ Principal: 'events.amazonaws.com', SourceArn: { 'Fn::GetAtt': ['ReleaseRule', 'Arn'] } });
  });

  it('alarms on the intake\'s dead letters, age and depth', () => {
    expect(R(created).IntakeDeadLetterAlarm.Properties).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 0 });
    expect(R(created).IntakeAgeAlarm.Properties).toMatchObject({ MetricName: 'ApproximateAgeOfOldestMessage' });
    expect(R(created).IntakeDepthAlarm.Properties).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible' });
  });
});
