// The limits AWS enforces when the stack is created, which the registry schemas do not carry: name lengths and
// characters, the ranges of the numbers we set, and the rules between resources (an SQS event source's visibility
// timeout against the function's timeout, a dead-letter queue that keeps a message longer than its source).
// Each rule names the service quota or API constraint it stands for.
import type { Resolved } from './resolve';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const num = (v: Json) => Number(v);

export function limitProblems(r: Resolved): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, what: string) => { if (!ok) problems.push(what); };
  const name = (id: string, value: Json, max: number, pattern: RegExp, what: string) =>
    check(typeof value === 'string' && value.length <= max && pattern.test(value), `${id}: ${what} "${value}" (at most ${max}, ${pattern})`);
  const byId = Object.entries(r.resources);
  for (const [id, x] of byId) {
    const p = x.Properties;
    switch (x.Type) {
      case 'AWS::S3::Bucket':
        // S3 bucket naming rules: 3-63 characters, lowercase letters, digits, hyphens and dots, alphanumeric ends
        if (p.BucketName !== undefined) name(id, p.BucketName, 63, /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'bucket name');
        break;
      case 'AWS::SQS::Queue': {
        name(id, p.QueueName, 80, /^[A-Za-z0-9_-]+$/, 'queue name');
        check(num(p.MessageRetentionPeriod ?? 345600) >= 60 && num(p.MessageRetentionPeriod ?? 345600) <= 1209600, `${id}: MessageRetentionPeriod outside 60-1209600`);
        check(num(p.VisibilityTimeout ?? 30) >= 0 && num(p.VisibilityTimeout ?? 30) <= 43200, `${id}: VisibilityTimeout outside 0-43200`);
        const redrive = p.RedrivePolicy;
        if (redrive) {
          check(num(redrive.maxReceiveCount) >= 1 && num(redrive.maxReceiveCount) <= 1000, `${id}: maxReceiveCount outside 1-1000`);
          // SQS expires a dead letter by its original enqueue time: the DLQ must keep it longer than the source could
          const dlq = byId.find(([qid, q]) => q.Type === 'AWS::SQS::Queue' && r.getAtt(qid, 'Arn') === redrive.deadLetterTargetArn);
          check(!!dlq, `${id}: dead-letter target is not a queue of the stack`);
          if (dlq) check(num(dlq[1].Properties.MessageRetentionPeriod ?? 345600) > num(p.MessageRetentionPeriod ?? 345600), `${id}: its dead-letter queue ${dlq[0]} keeps messages no longer than ${id} (a dead letter expires by its first enqueue time)`);
        }
        break;
      }
      case 'AWS::Lambda::Function': {
        if (p.FunctionName !== undefined) name(id, p.FunctionName, 64, /^[A-Za-z0-9_-]+$/, 'function name');
        check(num(p.Timeout ?? 3) >= 1 && num(p.Timeout ?? 3) <= 900, `${id}: Timeout outside 1-900`);
        check(num(p.MemorySize ?? 128) >= 128 && num(p.MemorySize ?? 128) <= 10240, `${id}: MemorySize outside 128-10240`);
        // Lambda: the environment variables of a function are at most 4 KB in all
        const env = p.Environment?.Variables ?? {};
        check(Object.entries(env).reduce((n, [k, v]) => n + k.length + String(v).length, 0) <= 4096, `${id}: environment over 4 KB`);
        break;
      }
      case 'AWS::Lambda::EventInvokeConfig':
        check(num(p.MaximumRetryAttempts ?? 2) >= 0 && num(p.MaximumRetryAttempts ?? 2) <= 2, `${id}: MaximumRetryAttempts outside 0-2`);
        check(num(p.MaximumEventAgeInSeconds ?? 21600) >= 60 && num(p.MaximumEventAgeInSeconds ?? 21600) <= 21600, `${id}: MaximumEventAgeInSeconds outside 60-21600`);
        break;
      case 'AWS::Lambda::EventSourceMapping': {
        const queue = byId.find(([qid, q]) => q.Type === 'AWS::SQS::Queue' && r.getAtt(qid, 'Arn') === p.EventSourceArn);
        if (!queue) break;
        const fn = byId.find(([fid, f]) => f.Type === 'AWS::Lambda::Function' && (r.getAtt(fid, 'Arn') === p.FunctionName || f.Properties.FunctionName === p.FunctionName));
        const batch = num(p.BatchSize ?? 10);
        check(batch >= 1 && batch <= 10000 && (batch <= 10 || num(p.MaximumBatchingWindowInSeconds ?? 0) >= 1), `${id}: BatchSize ${batch} (over 10 needs a batching window)`);
        const max = p.ScalingConfig?.MaximumConcurrency;
        if (max !== undefined) check(num(max) >= 2 && num(max) <= 1000, `${id}: MaximumConcurrency outside 2-1000`);
        // Lambda refuses an SQS event source whose visibility timeout is shorter than the function's timeout
        if (fn) check(num(queue[1].Properties.VisibilityTimeout ?? 30) >= num(fn[1].Properties.Timeout ?? 3), `${id}: ${queue[0]}'s VisibilityTimeout is shorter than ${fn[0]}'s Timeout`);
        break;
      }
      case 'AWS::StepFunctions::StateMachine':
        name(id, p.StateMachineName, 80, /^[A-Za-z0-9_-]+$/, 'state machine name');
        check(Buffer.byteLength(p.DefinitionString ?? '') <= 1_048_576, `${id}: definition over 1 MB`);
        break;
      case 'AWS::Logs::LogGroup':
        name(id, p.LogGroupName, 512, /^[.\-_/#A-Za-z0-9]+$/, 'log group name');
        break;
      case 'AWS::CloudWatch::Alarm':
        name(id, p.AlarmName, 255, /^[^\s].*$/, 'alarm name');
        check([10, 20, 30].includes(num(p.Period)) || num(p.Period) % 60 === 0, `${id}: Period must be 10, 20, 30 or a multiple of 60`);
        break;
      case 'AWS::CloudWatch::Dashboard':
        name(id, p.DashboardName, 255, /^[A-Za-z0-9_-]+$/, 'dashboard name');
        check((() => { try { JSON.parse(p.DashboardBody); return true; } catch { return false; } })(), `${id}: DashboardBody is not JSON`);
        break;
      case 'AWS::SNS::Topic':
        if (p.TopicName !== undefined) name(id, p.TopicName, 256, /^[A-Za-z0-9_-]+$/, 'topic name');
        break;
      case 'AWS::Events::Rule':
        for (const t of p.Targets ?? []) {
          const retry = t.RetryPolicy ?? {};
          check(num(retry.MaximumRetryAttempts ?? 185) >= 0 && num(retry.MaximumRetryAttempts ?? 185) <= 185, `${id}: MaximumRetryAttempts outside 0-185`);
          check(num(retry.MaximumEventAgeInSeconds ?? 86400) >= 60 && num(retry.MaximumEventAgeInSeconds ?? 86400) <= 86400, `${id}: MaximumEventAgeInSeconds outside 60-86400`);
          check(typeof t.Id === 'string' && t.Id.length <= 64, `${id}: target Id`);
        }
        break;
      case 'AWS::IAM::Role': {
        // IAM: a role's inline policies together are at most 10,240 characters (white space not counted)
        const size = (p.Policies ?? []).reduce((n: number, x: Json) => n + JSON.stringify(x.PolicyDocument).replace(/\s/g, '').length, 0);
        check(size <= 10240, `${id}: inline policies of ${size} characters (at most 10,240)`);
        for (const x of p.Policies ?? []) name(id, x.PolicyName, 128, /^[\w+=,.@-]+$/, 'policy name');
        break;
      }
      default:
        break;
    }
  }
  return problems;
}
