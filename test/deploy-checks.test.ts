// Every packaging variant docs/deploy.md offers, checked offline as CloudFormation and IAM will check it: the
// registry schemas and the limits AWS enforces at create time, then every role simulated against the call model
// (test/support/aws/call-model.ts), whose call sites must be exactly those of the packaged bundles. A call a role
// denies fails, and so does a grant no call uses. Packagings are shared with the other template tests.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { packaged, packagingError, VARIANTS, type Packaged, type Variant } from './support/package';
import { resolveTemplate, targetFor, type Resolved } from './support/aws/resolve';
import { dependencyGraph, findCycle, referenceProblems, registry, schemaProblems } from './support/aws/schema';
import { limitProblems } from './support/aws/limits';
import { callSites, zipCallSites } from './support/aws/bundle-calls';
import { FUNCTION_CALLS, functionCalls, lambdaServiceCalls, stateMachineCalls, worldOf, type Call, type Declared } from './support/aws/call-model';
import { BUCKET_EVENTBRIDGE_CALLS, inlineCallSites } from './support/aws/custom-resource-calls';
import { deniedCalls, grantsOf, resourcePolicyFor, simulate, unusedGrants } from './support/aws/iam';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Checked { v: Variant; p: Packaged; r: Resolved; declared: Declared }
const checked: Checked[] = [];

const param = (v: Variant, name: string) => v.params.find((x) => x.startsWith(`${name}=`))?.slice(name.length + 1);

beforeAll(async () => {
  for (const v of VARIANTS) {
    const p = await packaged(v.params, { region: v.region, stage: v.stage });
    checked.push({ v, p, r: resolveTemplate(p.template, targetFor(v.region, v.stage)), declared: { sourceKmsKeyArn: param(v, 'sourceKmsKeyArn'), resultsKmsKeyArn: param(v, 'resultsKmsKeyArn') } });
  }
  registry();
}, 900_000);

const roleOf = (r: Resolved, functionId: string): string => {
  const arn = r.resources[functionId]!.Properties.Role as string;
  return Object.keys(r.resources).find((id) => r.resources[id]!.Type === 'AWS::IAM::Role' && r.getAtt(id, 'Arn') === arn)!;
};
/** Our functions by serverless key, with their logical ids. */
const ourFunctions = (r: Resolved) => Object.keys(FUNCTION_CALLS).map((key) => ({ key, id: `${key[0]!.toUpperCase()}${key.slice(1)}LambdaFunction` })).filter((f) => r.resources[f.id]);
const BUCKET_EVENTBRIDGE = 'BucketEventBridgeFunction';

/** Every role of a packaging with the calls made with it: ours, the bucket EventBridge custom resource's, the state machine's. */
function roleCalls(c: Checked): Map<string, Call[]> {
  const out = new Map<string, Call[]>();
  const add = (role: string, calls: Call[]) => out.set(role, [...(out.get(role) ?? []), ...calls]);
  for (const f of ourFunctions(c.r)) {
    add(roleOf(c.r, f.id), [...functionCalls(f.key, worldOf(c.r, f.id, c.declared)), ...lambdaServiceCalls(c.r, f.id)]);
  }
  if (c.r.resources[BUCKET_EVENTBRIDGE]) {
    const w = { ...worldOf(c.r, 'TriggerLambdaFunction', c.declared), bucket: String(c.r.outputs.SourceBucket) };
    add(roleOf(c.r, BUCKET_EVENTBRIDGE), [...Object.values(BUCKET_EVENTBRIDGE_CALLS).flatMap((f) => f(w)), ...lambdaServiceCalls(c.r, BUCKET_EVENTBRIDGE)]);
  }
  const sm = c.r.resources.OstForwarderStateMachine!.Properties.RoleArn as string;
  const smRole = Object.keys(c.r.resources).find((id) => c.r.resources[id]!.Type === 'AWS::IAM::Role' && c.r.getAtt(id, 'Arn') === sm)!;
  add(smRole, stateMachineCalls(c.r, 'OstForwarderStateMachine'));
  return out;
}

/** Grants kept although no modelled call needs them, with the reason. */
const KEPT: Array<{ role: string; action: string; why: string }> = [];

describe('the registry schemas and deploy-time limits', () => {
  it('holds every packaging to the CloudFormation registry: types, properties, required, allowed values, attributes, references', () => {
    for (const c of checked) {
      expect({ variant: c.v.name, problems: [...referenceProblems(c.p.template), ...schemaProblems(c.r)] }).toEqual({ variant: c.v.name, problems: [] });
      expect({ variant: c.v.name, cycle: findCycle(dependencyGraph(c.p.template)) }).toEqual({ variant: c.v.name, cycle: undefined });
    }
  });

  it('keeps every packaging within the limits AWS enforces at create time (names, sizes, queue and mapping rules)', () => {
    for (const c of checked) expect({ variant: c.v.name, problems: limitProblems(c.r) }).toEqual({ variant: c.v.name, problems: [] });
    // the longest stage the docs allow still names its buckets within S3's 63 characters
    const longest = checked.find((c) => c.v.stage.length === 13)!;
    expect(Object.values(longest.r.resources).filter((x) => x.Type === 'AWS::S3::Bucket').map((x) => x.Properties.BucketName?.length)).toContain(63);
  });

  it('finds what CloudFormation would refuse in a broken template', () => {
    const c = checked[0]!;
    const broken = JSON.parse(c.p.text);
    broken.Resources.IntakeQueue.Properties.MessageRetentionSeconds = 60;
    broken.Resources.StateMachineLogGroup.Properties.RetentionInDays = 45;
    broken.Resources.IntakeDeadLetterAlarm.Properties.Dimensions[0].Value = { 'Fn::GetAtt': ['IntakeDeadLetterQueue', 'Name'] };
    broken.Resources.ReleasePermission.DependsOn = ['ReleaseRuleTarget'];
    delete broken.Resources.TriggerRole.Properties.AssumeRolePolicyDocument;
    const r = resolveTemplate({ ...broken, Resources: { ...broken.Resources, IntakeDeadLetterAlarm: c.p.template.Resources.IntakeDeadLetterAlarm } }, c.r.target);
    const problems = [...referenceProblems(broken), ...schemaProblems(r)].join('\n');
    expect(problems).toContain('IntakeQueue: unknown property MessageRetentionSeconds');
    expect(problems).toContain('StateMachineLogGroup.RetentionInDays: not one of 1, 3, 5, 7, 14, 30');
    expect(problems).toContain('IntakeDeadLetterQueue (AWS::SQS::Queue) has no attribute Name');
    expect(problems).toContain('ReleasePermission: DependsOn unknown ReleaseRuleTarget');
    expect(problems).toContain('TriggerRole: required AssumeRolePolicyDocument is missing');
    broken.Resources.IntakeQueue.DependsOn = ['SourceBucket'];
    expect(findCycle(dependencyGraph(broken))).toBeDefined();
    const short = resolveTemplate(c.p.template, c.r.target);
    short.resources.IntakeDeadLetterQueue!.Properties.MessageRetentionPeriod = 1209600;
    short.resources.IntakeQueue!.Properties.MessageRetentionPeriod = 1209600;
    expect(limitProblems(short).join('\n')).toContain('its dead-letter queue IntakeDeadLetterQueue keeps messages no longer than IntakeQueue');
  });
});

describe('the call model against the packaged bundles', () => {
  it('has exactly the call sites of every packaged bundle and of the inline custom resource code', () => {
    // the bundles are the same in every variant: one each, plus the bucket EventBridge code where it is deployed
    const c = checked[0]!;
    for (const f of ourFunctions(c.r)) {
      const sites = zipCallSites(join(c.p.dir, `${f.key}.zip`)).map((s) => `${s.client}.${s.operation} @ ${s.source}`);
      expect({ fn: f.key, sites }).toEqual({ fn: f.key, sites: Object.keys(FUNCTION_CALLS[f.key]!).sort() });
    }
    const existing = checked.filter((y) => y.r.resources[BUCKET_EVENTBRIDGE]);
    expect(existing.length).toBeGreaterThan(0);
    for (const x of existing) {
      expect(inlineCallSites(x.r.resources[BUCKET_EVENTBRIDGE]!.Properties.Code.ZipFile)).toEqual(Object.keys(BUCKET_EVENTBRIDGE_CALLS).sort());
    }
  });

  it('sees an SDK call added to a function, built with the Lambda bundles\' esbuild options', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ost-calls-'));
    try {
      const entry = join(dir, 'added-call.ts');
      writeFileSync(entry, [
        "import { PurgeQueueCommand, SQSClient } from '@aws-sdk/client-sqs';",
        "export const handler = async (url: string) => new SQSClient({}).send(new PurgeQueueCommand({ QueueUrl: url }));",
      ].join('\n'));
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { options } = require('../scripts/lambda-esbuild.cjs');
      const out = buildSync({
        entryPoints: [entry], outfile: join(dir, 'out.js'), write: false, nodePaths: [join(__dirname, '..', 'node_modules')],
        bundle: true, minify: true, sourcemap: 'external', target: options.target, platform: 'node', format: 'cjs', mainFields: options.mainFields,
      });
      const js = out.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
      const map = out.outputFiles.find((f) => f.path.endsWith('.map'))!.text;
      expect(callSites(js, map).map((s) => `${s.client}.${s.operation} @ ${s.source.split('/').pop()}`)).toContain('SQSClient.PurgeQueue @ added-call.ts');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('IAM, simulated', () => {
  it('allows every modelled call in every packaging (0 denied)', async () => {
    const denied: string[] = [];
    for (const c of checked) {
      for (const [role, calls] of roleCalls(c)) {
        for (const d of await deniedCalls(c.r, role, calls)) denied.push(`${c.v.name}: ${role} ${d.action} ${d.resource} → ${d.result}`);
      }
    }
    expect(denied).toEqual([]);
  }, 120_000);

  it('grants nothing that no modelled call uses (0 unexplained)', async () => {
    const unused: string[] = [];
    for (const c of checked) {
      const calls = roleCalls(c);
      for (const role of Object.keys(c.r.resources).filter((id) => c.r.resources[id]!.Type === 'AWS::IAM::Role')) {
        for (const g of await unusedGrants(c.r, role, calls.get(role) ?? [])) {
          if (!KEPT.some((k) => k.role === role && k.action === g.action)) unused.push(`${c.v.name}: ${role} ${g.action} ${g.resource}`);
        }
      }
    }
    expect([...new Set(unused)]).toEqual([]);
  }, 120_000);

  it('lets only Lambda assume the function roles and only Step Functions the state machine\'s, in both partitions', async () => {
    for (const c of checked) {
      const calls = roleCalls(c);
      const smRole = [...calls.keys()].find((role) => calls.get(role)!.some((x) => x.action === 'states:StartExecution' && x.why));
      for (const role of calls.keys()) {
        const trust = c.r.resources[role]!.Properties.AssumeRolePolicyDocument;
        const roleArn = c.r.getAtt(role, 'Arn');
        const assume = (service: string) => simulate(c.r, service, [], { action: 'sts:AssumeRole', resource: roleArn, context: { 'aws:SourceAccount': c.r.target.account } }, trust);
        const own = role === smRole ? 'states.amazonaws.com' : 'lambda.amazonaws.com';
        expect({ variant: c.v.name, role, own: await assume(own) }).toEqual({ variant: c.v.name, role, own: 'Allowed' });
        for (const other of ['lambda.amazonaws.com', 'states.amazonaws.com', 'events.amazonaws.com'].filter((s) => s !== own)) {
          expect({ variant: c.v.name, role, other, result: await assume(other) }).toEqual({ variant: c.v.name, role, other, result: 'ImplicitlyDenied' });
        }
      }
    }
  }, 120_000);

  it('lets only the created source bucket of this account or the existing bucket\'s rule send to the intake, and only the release rule invoke release', async () => {
    for (const c of checked) {
      const queue = c.r.getAtt('IntakeQueue', 'Arn');
      const policy = resourcePolicyFor(c.r, queue);
      const bucketArn = `arn:${c.r.target.partition}:s3:::${c.r.outputs.SourceBucket}`;
      const s3Send = (sourceArn: string, account = c.r.target.account) =>
        simulate(c.r, 's3.amazonaws.com', [], { action: 'sqs:SendMessage', resource: queue, context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': account } }, policy);
      if (c.r.resources.SourceBucket) {
        expect(await s3Send(bucketArn)).toBe('Allowed');
        expect(await s3Send(`arn:${c.r.target.partition}:s3:::someone-elses-bucket`)).toBe('ImplicitlyDenied');
        expect(await s3Send(bucketArn, '444455556666')).toBe('ImplicitlyDenied');
      } else {
        // no S3 notification of ours targets the queue: no statement lets S3 write to it
        expect({ variant: c.v.name, policy: policy?.Statement.filter((s: Json) => JSON.stringify(s.Principal).includes('s3.')) ?? [] }).toEqual({ variant: c.v.name, policy: [] });
        // the existing bucket's events come through its rule, and only that rule may send
        const rule = c.r.getAtt('SourceBucketEventsRule', 'Arn');
        const eventsSend = (sourceArn: string) => simulate(c.r, 'events.amazonaws.com', [], { action: 'sqs:SendMessage', resource: queue, context: { 'aws:SourceArn': sourceArn } }, policy);
        expect(await eventsSend(rule)).toBe('Allowed');
        expect(await eventsSend(rule.replace(/rule\/.*/, 'rule/another-rule'))).toBe('ImplicitlyDenied');
      }
      const release = c.r.getAtt('ReleaseLambdaFunction', 'Arn');
      const invoke = (sourceArn: string) => simulate(c.r, 'events.amazonaws.com', [], { action: 'lambda:InvokeFunction', resource: release, context: { 'aws:SourceArn': sourceArn } }, resourcePolicyFor(c.r, release));
      expect(await invoke(c.r.getAtt('ReleaseRule', 'Arn'))).toBe('Allowed');
      expect(await invoke(c.r.getAtt('ReleaseRule', 'Arn').replace(/rule\/.*/, 'rule/another-rule'))).toBe('ImplicitlyDenied');
    }
  }, 120_000);

  it('uses a KMS key only through S3 or SSM of the stack\'s region and partition (both partitions)', async () => {
    for (const c of checked.filter((x) => x.declared.sourceKmsKeyArn)) {
      const role = roleOf(c.r, 'UploadSlicesLambdaFunction');
      const calls = roleCalls(c).get(role)!.filter((x) => x.action === 'kms:Decrypt' && x.context?.['kms:ViaService']?.startsWith('s3.'));
      expect(calls.length).toBeGreaterThan(0);
      expect(calls[0]!.context!['kms:ViaService']).toBe(`s3.${c.v.region}.${c.v.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`);
      const elsewhere = { ...calls[0]!, context: { ...calls[0]!.context, 'kms:ViaService': `sqs.${c.v.region}.amazonaws.com` } };
      expect(await deniedCalls(c.r, role, [elsewhere])).toHaveLength(1);
    }
    // the OST secrets through SSM, with the endpoint suffix of the partition (amazonaws.com.cn in China)
    for (const c of checked) {
      const role = roleOf(c.r, 'PrepareLambdaFunction');
      const [viaSsm] = roleCalls(c).get(role)!.filter((x) => x.action === 'kms:Decrypt' && x.context?.['kms:ViaService']?.startsWith('ssm.'));
      expect(viaSsm!.context!['kms:ViaService']).toBe(`ssm.${c.v.region}.${c.r.target.urlSuffix}`);
      const otherSuffix = c.r.target.urlSuffix === 'amazonaws.com' ? 'amazonaws.com.cn' : 'amazonaws.com';
      expect(await deniedCalls(c.r, role, [{ ...viaSsm!, context: { ...viaSsm!.context, 'kms:ViaService': `ssm.${c.v.region}.${otherSuffix}` } }])).toHaveLength(1);
    }
  }, 60_000);

  it('lists every grant the roles keep with a reason, and each is still granted', () => {
    for (const k of KEPT) expect(checked.some((c) => c.r.resources[k.role] && grantsOf(c.r, k.role).some((g) => g.action === k.action))).toBe(true);
  });
});

describe('packaging refusals', () => {
  it('refuses records in the source bucket encrypted with a key the roles are not given, naming resultsKmsKeyArn', async () => {
    const out = await packagingError(['ostAppId=app123', 'existingBucket=true', 'bucketName=shared-audio', 'resultsBucket=shared-audio', 'keyPrefixFilter=inbox/',
      'sourceKmsKeyArn=arn:aws:kms:us-east-1:111122223333:key/shared-key']);
    expect(out).toContain('param resultsKmsKeyArn');
  }, 180_000);
});
