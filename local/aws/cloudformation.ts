// CloudFormation's DescribeStacks for the local AWS endpoint (local/aws/endpoint.ts): the stacks are given as name →
// outputs. CloudFormation speaks the AWS query protocol: a form-encoded POST (Action=DescribeStacks&StackName=…)
// answered in XML, errors as <ErrorResponse><Error><Code>…</Code><Message>…</Message></Error></ErrorResponse>.
import { randomUUID } from 'node:crypto';

const NS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

export interface XmlAnswer { status: number; xml: string; error?: string }

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function cloudFormationError(code: string, message: string, status = 400): XmlAnswer {
  return {
    status,
    error: code,
    xml: `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error>` +
      `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  };
}

/** Answers one query-protocol request against `stacks`; only DescribeStacks of a named stack is implemented. */
export function cloudFormationCall(body: string, stacks: Map<string, Record<string, string>>, region: string, account: string): XmlAnswer {
  const q = new URLSearchParams(body);
  const action = q.get('Action') ?? '';
  if (action !== 'DescribeStacks') return cloudFormationError('InvalidAction', `local AWS endpoint does not implement CloudFormation ${action}`);
  const name = q.get('StackName') ?? '';
  const outputs = stacks.get(name);
  if (!outputs) return cloudFormationError('ValidationError', `Stack with id ${name} does not exist`);
  const members = Object.entries(outputs)
    .map(([k, v]) => `<member><OutputKey>${esc(k)}</OutputKey><OutputValue>${esc(v)}</OutputValue></member>`).join('');
  const id = `arn:aws:cloudformation:${region}:${account}:stack/${name}/${randomUUID()}`;
  return {
    status: 200,
    xml: `<DescribeStacksResponse xmlns="${NS}"><DescribeStacksResult><Stacks><member>` +
      `<StackName>${esc(name)}</StackName><StackId>${esc(id)}</StackId><StackStatus>UPDATE_COMPLETE</StackStatus>` +
      `<CreationTime>2026-01-01T00:00:00.000Z</CreationTime><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult>` +
      `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></DescribeStacksResponse>`,
  };
}
