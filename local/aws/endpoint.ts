// A loopback endpoint speaking the AWS JSON 1.0/1.1 protocol for the calls the handlers make: Step Functions
// (StartExecution, DescribeExecution), EventBridge (PutEvents), SSM (GetParameter[s]) and CloudFormation
// (DescribeStacks, query protocol: local/aws-cloudformation.ts). The SDK v3 clients send
// POST / with `X-Amz-Target: <prefix>.<Operation>` and `Content-Type: application/x-amz-json-1.0|1.1`; errors are
// read from `__type` (and `x-amzn-ErrorType`) plus `message`. Point clients here with AWS_ENDPOINT_URL_SFN,
// AWS_ENDPOINT_URL_EVENTBRIDGE and AWS_ENDPOINT_URL_SSM (see `awsServerEnv`).
// The port is open to every local user, and the SSM parameters it serves are the OST credentials: every action
// answers only requests to the per-run token path (`endpoint` is http://127.0.0.1:<port>/<token>, which the SDK
// uses as the base path of every request); anything else gets 403 before the body is looked at.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './account';
import { cloudFormationCall, cloudFormationError } from './cloudformation';

/** An error answered in AWS's JSON error shape. */
export class AwsServiceError extends Error {
  constructor(readonly type: string, message: string, readonly status = 400) {
    super(message);
    this.name = type;
  }
}

export interface StartExecutionRequest { stateMachineArn: string; name?: string; input?: string; traceHeader?: string }
export interface DescribeExecutionResponse {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  startDate: Date;
  stopDate?: Date;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
}

export interface MapRunListItem { mapRunArn: string; executionArn: string; startDate: Date; stopDate?: Date; status: string }
export interface ExecutionListItem { executionArn: string; name: string; status: string; startDate: Date; stopDate?: Date; mapRunArn?: string }

/** What the Step Functions endpoint delegates to (the local executor). */
export interface StepFunctionsBackend {
  startExecution(req: StartExecutionRequest): { executionArn: string; startDate: Date };
  describeExecution(executionArn: string): DescribeExecutionResponse;
  /** Distributed Map runs of an execution (ListMapRuns). */
  listMapRuns?(executionArn: string): MapRunListItem[];
  /** Executions, or the child executions of a map run (ListExecutions). */
  listExecutions?(filter: { mapRunArn?: string; stateMachineArn?: string; statusFilter?: string }): ExecutionListItem[];
}

export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Resources?: string[];
  Time?: number;
}
export interface RecordedEvent {
  eventId: string;
  time: Date;
  source: string;
  detailType: string;
  eventBusName: string;
  resources: string[];
  /** `Detail` parsed as JSON (undefined if it was not JSON). */
  detail: unknown;
}

export interface AwsCall { target: string; status: number; error?: string; at: Date }

export interface AwsServerOptions {
  stepFunctions: StepFunctionsBackend;
  /** SSM parameters served as SecureString (name → value). */
  parameters?: Record<string, string>;
  /** CloudFormation stacks served to DescribeStacks (stack name → outputs). */
  stacks?: Record<string, Record<string, string>>;
  port?: number;
  /** The per-run token every request's path must start with (default: 128 random bits). */
  token?: string;
}

export interface AwsServer {
  /** http://127.0.0.1:<port>/<token>: holds the per-run token, so it is itself a secret. */
  endpoint: string;
  /** http://127.0.0.1:<port>, safe to show. */
  origin: string;
  /** Every PutEvents entry accepted, in order. */
  events: RecordedEvent[];
  /** Every request, in order. */
  calls: AwsCall[];
  parameters: Map<string, string>;
  stacks: Map<string, Record<string, string>>;
  /** Answers the next `times` calls of `target` (e.g. 'AWSEvents.PutEvents') with this error. */
  fail(target: string, error: { type: string; message?: string; status?: number; times?: number }): void;
  /** Environment that points SDK v3 clients (SFN, EventBridge, SSM) here with dummy credentials. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

export function awsServerEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_SFN: endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: endpoint,
    AWS_ENDPOINT_URL_SSM: endpoint,
    AWS_ENDPOINT_URL_CLOUDFORMATION: endpoint,
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  };
}

type Operation = (body: Record<string, unknown>) => unknown;

export async function startAwsServer(options: AwsServerOptions): Promise<AwsServer> {
  const events: RecordedEvent[] = [];
  const calls: AwsCall[] = [];
  const parameters = new Map(Object.entries(options.parameters ?? {}));
  const stacks = new Map(Object.entries(options.stacks ?? {}));
  const sfn = options.stepFunctions;
  const faults: { target: string; type: string; message: string; status: number; times: number }[] = [];
  const token = options.token ?? randomBytes(16).toString('hex');
  if (!/^[A-Za-z0-9_-]{16,}$/.test(token)) throw new RangeError('the aws-server token must be at least 16 URL-safe characters');
  const expectedPath = Buffer.from(`/${token}/`);
  /** True when the request's path is the token path (constant time in the token). */
  const authorized = (url: string | undefined): boolean => {
    const path = (url ?? '').split('?')[0]!;
    const got = Buffer.from(path.endsWith('/') ? path : `${path}/`);
    return got.length === expectedPath.length && timingSafeEqual(got, expectedPath);
  };

  const parameter = (name: unknown) => {
    const n = String(name);
    const value = parameters.get(n);
    if (value === undefined) return undefined;
    return {
      Name: n,
      Type: 'SecureString',
      Value: value,
      Version: 1,
      LastModifiedDate: epoch(new Date(0)),
      ARN: `arn:aws:ssm:${LOCAL_REGION}:${LOCAL_ACCOUNT}:parameter${n.startsWith('/') ? '' : '/'}${n}`,
      DataType: 'text',
    };
  };

  const operations: Record<string, Operation> = {
    'AWSStepFunctions.StartExecution': (b) => {
      const r = sfn.startExecution({
        stateMachineArn: String(b.stateMachineArn ?? ''),
        name: b.name === undefined ? undefined : String(b.name),
        input: b.input === undefined ? undefined : String(b.input),
      });
      return { executionArn: r.executionArn, startDate: epoch(r.startDate) };
    },
    'AWSStepFunctions.DescribeExecution': (b) => {
      const d = sfn.describeExecution(String(b.executionArn ?? ''));
      return { ...d, startDate: epoch(d.startDate), stopDate: d.stopDate ? epoch(d.stopDate) : undefined };
    },
    'AWSStepFunctions.ListMapRuns': (b) => {
      if (!sfn.listMapRuns) throw new AwsServiceError('UnknownOperationException', 'ListMapRuns is not available');
      const runs = sfn.listMapRuns(String(b.executionArn ?? ''));
      const max = typeof b.maxResults === 'number' && b.maxResults > 0 ? b.maxResults : 1000;
      return {
        mapRuns: runs.slice(0, max).map((r) => ({
          executionArn: r.executionArn, mapRunArn: r.mapRunArn,
          stateMachineArn: `${r.executionArn.replace(':execution:', ':stateMachine:').split(':').slice(0, 7).join(':')}/${r.mapRunArn.split('/').pop()!.split(':')[0]}`,
          startDate: epoch(r.startDate), ...(r.stopDate ? { stopDate: epoch(r.stopDate) } : {}),
        })),
      };
    },
    'AWSStepFunctions.ListExecutions': (b) => {
      if (!sfn.listExecutions) throw new AwsServiceError('UnknownOperationException', 'ListExecutions is not available');
      const list = sfn.listExecutions({
        mapRunArn: b.mapRunArn === undefined ? undefined : String(b.mapRunArn),
        stateMachineArn: b.stateMachineArn === undefined ? undefined : String(b.stateMachineArn),
        statusFilter: b.statusFilter === undefined ? undefined : String(b.statusFilter),
      });
      const max = typeof b.maxResults === 'number' && b.maxResults > 0 ? b.maxResults : 1000;
      return {
        executions: list.slice(0, max).map((e) => ({
          executionArn: e.executionArn, name: e.name, status: e.status, startDate: epoch(e.startDate),
          stateMachineArn: e.executionArn.replace(':execution:', ':stateMachine:').split(':').slice(0, 7).join(':'),
          ...(e.stopDate ? { stopDate: epoch(e.stopDate) } : {}), ...(e.mapRunArn ? { mapRunArn: e.mapRunArn } : {}),
        })),
      };
    },
    'AWSEvents.PutEvents': (b) => {
      const entries = Array.isArray(b.Entries) ? (b.Entries as PutEventsEntry[]) : [];
      if (entries.length === 0 || entries.length > 10) {
        throw new AwsServiceError('ValidationException', `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10`);
      }
      return {
        FailedEntryCount: 0,
        Entries: entries.map((e) => {
          const eventId = randomUUID();
          let detail: unknown;
          try { detail = e.Detail === undefined ? undefined : JSON.parse(e.Detail); } catch { detail = undefined; }
          events.push({
            eventId,
            time: e.Time !== undefined ? new Date(e.Time * 1000) : new Date(),
            source: e.Source ?? '',
            detailType: e.DetailType ?? '',
            eventBusName: e.EventBusName ?? 'default',
            resources: e.Resources ?? [],
            detail,
          });
          return { EventId: eventId };
        }),
      };
    },
    'AmazonSSM.GetParameter': (b) => {
      const p = parameter(b.Name);
      if (!p) throw new AwsServiceError('ParameterNotFound', `Parameter ${String(b.Name)} not found.`);
      return { Parameter: p };
    },
    'AmazonSSM.GetParameters': (b) => {
      const names = Array.isArray(b.Names) ? b.Names.map(String) : [];
      const found = names.map(parameter).filter((p) => p !== undefined);
      return { Parameters: found, InvalidParameters: names.filter((n) => !parameters.has(n)) };
    },
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const contentType = String(req.headers['content-type'] ?? 'application/x-amz-json-1.1');
    const send = (status: number, body: unknown, errorType?: string) => {
      const text = JSON.stringify(body ?? {});
      const headers: Record<string, string> = {
        'content-type': contentType.startsWith('application/x-amz-json') ? contentType : 'application/x-amz-json-1.1',
        'content-length': String(Buffer.byteLength(text)),
        'x-amzn-requestid': randomUUID(),
      };
      if (errorType) headers['x-amzn-errortype'] = errorType;
      res.writeHead(status, headers).end(text);
      calls.push({ target, status, error: errorType, at: new Date() });
    };
    if (!authorized(req.url)) {
      req.resume();
      send(403, { __type: 'UnrecognizedClientException', message: 'the request does not carry this run\'s token' }, 'UnrecognizedClientException');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_REQUEST_BYTES) {
        send(413, { __type: 'ValidationException', message: `request larger than ${MAX_REQUEST_BYTES} bytes` }, 'ValidationException');
        req.destroy();
        return;
      }
      chunks.push(c as Buffer);
    }
    if (contentType.startsWith('application/x-www-form-urlencoded')) {
      const text = Buffer.concat(chunks).toString('utf8');
      const cfnTarget = `CloudFormation.${new URLSearchParams(text).get('Action') ?? ''}`;
      const fault = faults.find((f) => f.target === cfnTarget && f.times > 0);
      if (fault) fault.times--;
      const a = fault ? cloudFormationError(fault.type, fault.message, fault.status) : cloudFormationCall(text, stacks, LOCAL_REGION, LOCAL_ACCOUNT);
      res.writeHead(a.status, { 'content-type': 'text/xml', 'content-length': String(Buffer.byteLength(a.xml)), 'x-amzn-requestid': randomUUID() }).end(a.xml);
      calls.push({ target: cfnTarget, status: a.status, error: a.error, at: new Date() });
      return;
    }
    const op = operations[target];
    if (req.method !== 'POST' || !op) {
      send(400, { __type: 'UnknownOperationException', message: `local AWS endpoint does not implement ${target || `${req.method} ${req.url}`}` }, 'UnknownOperationException');
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
    } catch {
      send(400, { __type: 'SerializationException', message: 'request body is not JSON' }, 'SerializationException');
      return;
    }
    const fault = faults.find((f) => f.target === target && f.times > 0);
    if (fault) {
      fault.times--;
      send(fault.status, { __type: fault.type, message: fault.message }, fault.type);
      return;
    }
    try {
      send(200, op(body));
    } catch (err) {
      if (err instanceof AwsServiceError) {
        send(err.status, { __type: err.type, message: err.message }, err.type);
      } else {
        const message = err instanceof Error ? err.message : String(err);
        send(500, { __type: 'InternalFailure', message }, 'InternalFailure');
      }
    }
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const endpoint = `${origin}/${token}`;
  return {
    endpoint,
    origin,
    events,
    calls,
    parameters,
    stacks,
    fail(target, e) {
      faults.push({ target, type: e.type, message: e.message ?? `injected ${e.type}`, status: e.status ?? 400, times: e.times ?? 1 });
    },
    env: () => awsServerEnv(endpoint),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** PutEvents takes at most 256 KiB per call; nothing the handlers send is larger. */
const MAX_REQUEST_BYTES = 1024 * 1024;

/** AWS JSON protocols carry timestamps as epoch seconds. */
function epoch(d: Date): number {
  return d.getTime() / 1000;
}
