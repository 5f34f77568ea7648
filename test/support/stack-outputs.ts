// A stand-in for CloudFormation's DescribeStacks (the AWS query protocol, XML), so a CLI run with
// AWS_ENDPOINT_URL_CLOUDFORMATION pointed at it finds a stack's outputs with `--stage`, as against a deployed stack.
// Stacks are given by name → outputs; any other stack answers ValidationError, as CloudFormation does.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StackOutputsStandIn {
  endpoint: string;
  /** Stack names asked for, in order. */
  asked: string[];
  close(): Promise<void>;
}

const xml = (s: string) => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

export async function startStackOutputs(stacks: Record<string, Record<string, string>>): Promise<StackOutputsStandIn> {
  const asked: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const q = new URLSearchParams(body);
      const name = q.get('StackName') ?? '';
      asked.push(name);
      res.setHeader('content-type', 'text/xml');
      const outputs = q.get('Action') === 'DescribeStacks' ? stacks[name] : undefined;
      if (!outputs) {
        res.statusCode = 400;
        res.end(`<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${xml(name)} does not exist</Message></Error><RequestId>r</RequestId></ErrorResponse>`);
        return;
      }
      const members = Object.entries(outputs).map(([k, v]) => `<member><OutputKey>${xml(k)}</OutputKey><OutputValue>${xml(v)}</OutputValue></member>`).join('');
      res.end(`<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>${xml(name)}</StackName><StackId>arn:aws:cloudformation:us-east-1:000000000000:stack/${xml(name)}/1</StackId><StackStatus>UPDATE_COMPLETE</StackStatus><CreationTime>2026-01-01T00:00:00Z</CreationTime><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeStacksResponse>`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    asked,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
