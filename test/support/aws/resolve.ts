// A packaged CloudFormation template as one account would deploy it: conditions evaluated, Fn::If / Fn::Sub / Ref /
// Fn::GetAtt / Fn::Join replaced by the values CloudFormation would give (physical names as it generates them), so
// that IAM policies, function environments and resource policies can be simulated with concrete ARNs.
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Target {
  partition: 'aws' | 'aws-cn';
  region: string;
  account: string;
  urlSuffix: string;
  stackName: string;
}

export const ACCOUNT = '111122223333';

export function targetFor(region: string, stage: string): Target {
  const china = region.startsWith('cn-');
  return { partition: china ? 'aws-cn' : 'aws', region, account: ACCOUNT, urlSuffix: china ? 'amazonaws.com.cn' : 'amazonaws.com', stackName: `ost-forwarder-${stage}` };
}

export interface Resolved {
  target: Target;
  conditions: Record<string, boolean>;
  /** The resources whose condition holds, with every intrinsic resolved. */
  resources: Record<string, { Type: string; Properties: Json; DependsOn?: string[] }>;
  /** The stack outputs' values. */
  outputs: Record<string, Json>;
  ref(id: string): string;
  getAtt(id: string, attribute: string): string;
  /** A value of the raw template resolved the same way. */
  value(v: Json): Json;
}

const NO_VALUE = Symbol('AWS::NoValue');

/** The name CloudFormation generates for an unnamed resource: <stack>-<logical id>-<suffix>, within `max` characters. */
function generatedName(stackName: string, id: string, max = 64): string {
  const suffix = 'A1B2C3D4E5F6';
  return `${stackName}-${id}`.slice(0, max - suffix.length - 1) + `-${suffix}`;
}

export function resolveTemplate(template: Json, target: Target): Resolved {
  const raw: Record<string, Json> = template.Resources;
  const conditions: Record<string, boolean> = {};
  const pseudo: Record<string, string> = {
    'AWS::Partition': target.partition, 'AWS::Region': target.region, 'AWS::AccountId': target.account,
    'AWS::URLSuffix': target.urlSuffix, 'AWS::StackName': target.stackName,
    'AWS::StackId': `arn:${target.partition}:cloudformation:${target.region}:${target.account}:stack/${target.stackName}/0`,
  };
  const arn = (service: string, rest: string, region = target.region) => `arn:${target.partition}:${service}:${region}:${target.account}:${rest}`;

  const condition = (name: string): boolean => {
    if (!(name in conditions)) {
      if (!template.Conditions || !(name in template.Conditions)) throw new Error(`unknown condition ${name}`);
      conditions[name] = Boolean(value(template.Conditions[name]));
    }
    return conditions[name]!;
  };

  const prop = (id: string, name: string): Json => {
    const r = raw[id];
    return r?.Properties?.[name] === undefined ? undefined : value(r.Properties[name]);
  };

  const ref = (id: string): string => {
    if (id in pseudo) return pseudo[id]!;
    const r = raw[id];
    if (!r) throw new Error(`Ref to unknown ${id}`);
    switch (r.Type) {
      case 'AWS::SQS::Queue': return `https://sqs.${target.region}.${target.urlSuffix}/${target.account}/${getAtt(id, 'QueueName')}`;
      case 'AWS::StepFunctions::StateMachine': return getAtt(id, 'Arn');
      case 'AWS::SNS::Topic': return getAtt(id, 'TopicArn');
      case 'AWS::Lambda::Function': return prop(id, 'FunctionName') ?? generatedName(target.stackName, id);
      case 'AWS::S3::Bucket': return prop(id, 'BucketName') ?? generatedName(target.stackName, id, 63).toLowerCase();
      case 'AWS::Logs::LogGroup': return prop(id, 'LogGroupName') ?? generatedName(target.stackName, id, 512);
      case 'AWS::Events::Rule': return prop(id, 'Name') ?? generatedName(target.stackName, id);
      case 'AWS::DynamoDB::Table': return prop(id, 'TableName') ?? generatedName(target.stackName, id, 255);
      case 'AWS::IAM::Role': return prop(id, 'RoleName') ?? generatedName(target.stackName, id);
      default: return generatedName(target.stackName, id);
    }
  };

  const getAtt = (id: string, attribute: string): string => {
    const r = raw[id];
    if (!r) throw new Error(`GetAtt of unknown ${id}`);
    const key = `${r.Type}.${attribute}`;
    switch (key) {
      case 'AWS::SQS::Queue.QueueName': return prop(id, 'QueueName') ?? generatedName(target.stackName, id, 80);
      case 'AWS::SQS::Queue.Arn': return arn('sqs', getAtt(id, 'QueueName'));
      case 'AWS::SQS::Queue.QueueUrl': return ref(id);
      case 'AWS::DynamoDB::Table.Arn': return arn('dynamodb', `table/${ref(id)}`);
      case 'AWS::Lambda::Function.Arn': return arn('lambda', `function:${ref(id)}`);
      case 'AWS::IAM::Role.Arn': return `arn:${target.partition}:iam::${target.account}:role/${ref(id)}`;
      case 'AWS::Events::Rule.Arn': return arn('events', `rule/${ref(id)}`);
      case 'AWS::Logs::LogGroup.Arn': return arn('logs', `log-group:${ref(id)}:*`);
      case 'AWS::StepFunctions::StateMachine.Name': return prop(id, 'StateMachineName') ?? generatedName(target.stackName, id, 80);
      case 'AWS::StepFunctions::StateMachine.Arn': return arn('states', `stateMachine:${getAtt(id, 'Name')}`);
      case 'AWS::S3::Bucket.Arn': return `arn:${target.partition}:s3:::${ref(id)}`;
      case 'AWS::SNS::Topic.TopicName': return prop(id, 'TopicName') ?? generatedName(target.stackName, id, 256);
      case 'AWS::SNS::Topic.TopicArn': return arn('sns', getAtt(id, 'TopicName'));
      default: throw new Error(`GetAtt ${id}.${attribute} (${r.Type}) is not modelled`);
    }
  };

  const sub = (text: string, vars: Record<string, Json>): string => text.replace(/\$\{([^}]+)\}/g, (all, name: string) => {
    if (name.startsWith('!')) return `\${${name.slice(1)}}`;
    if (name in vars) return String(value(vars[name]));
    if (name in pseudo) return pseudo[name]!;
    const [id, attribute] = name.split('.');
    if (attribute) return getAtt(id!, attribute);
    if (raw[id!]) return ref(id!);
    throw new Error(`Fn::Sub of unknown \${${name}}`);
  });

  function value(v: Json): Json {
    if (Array.isArray(v)) return v.map(value).filter((x) => x !== NO_VALUE);
    if (!v || typeof v !== 'object') return v;
    const keys = Object.keys(v);
    if (keys.length === 1) {
      const [k] = keys;
      const x = v[k!];
      switch (k) {
        case 'Ref': return x === 'AWS::NoValue' ? NO_VALUE : ref(x);
        case 'Fn::GetAtt': { const [id, a] = Array.isArray(x) ? x : String(x).split('.'); return getAtt(id, a); }
        case 'Fn::Sub': return Array.isArray(x) ? sub(x[0], x[1] ?? {}) : sub(x, {});
        case 'Fn::Join': return value(x[1]).join(x[0]);
        case 'Fn::Select': return value(x[1])[Number(value(x[0]))];
        case 'Fn::Split': return String(value(x[1])).split(x[0]);
        case 'Fn::If': return condition(x[0]) ? value(x[1]) : value(x[2]);
        case 'Fn::Equals': return value(x[0]) === value(x[1]);
        case 'Fn::Not': return !value(x[0]);
        case 'Fn::And': return x.every((c: Json) => value(c));
        case 'Fn::Or': return x.some((c: Json) => value(c));
        case 'Condition': if (typeof x === 'string') return condition(x); break;
        default: break;
      }
    }
    const out: Record<string, Json> = {};
    for (const [k, x] of Object.entries(v)) {
      const r = value(x);
      if (r !== NO_VALUE) out[k] = r;
    }
    return out;
  }

  const resources: Resolved['resources'] = {};
  for (const [id, r] of Object.entries(raw)) {
    if (r.Condition && !condition(r.Condition)) continue;
    resources[id] = { Type: r.Type, Properties: value(r.Properties ?? {}), ...(r.DependsOn ? { DependsOn: [r.DependsOn].flat() } : {}) };
  }
  for (const name of Object.keys(template.Conditions ?? {})) condition(name);
  const outputs: Record<string, Json> = {};
  for (const [name, o] of Object.entries(template.Outputs ?? {}) as Array<[string, Json]>) {
    if (!o.Condition || condition(o.Condition)) outputs[name] = value(o.Value);
  }
  return { target, conditions, resources, outputs, ref, getAtt, value };
}
