// The DynamoDB side of the local stack: dynalite in-process on a loopback ephemeral port, in memory, with the
// semaphore table created. Like local/aws/s3.ts for s3rver: a real server speaking DynamoDB's protocol, so the
// semaphore (lib/admission) runs the same requests here as against AWS.
//
// `outage(mode)` makes the server briefly unavailable, as a fault test needs: 'error' answers 500
// InternalServerError, 'throttle' answers 400 ProvisionedThroughputExceededException, 'reset' drops the connection.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureSemaphoreTable } from '../../lib/admission/table';
import { LOCAL_REGION } from './account';

export const DEFAULT_SEMAPHORE_TABLE = 'ost-forwarder-slots';

export type DynamoOutage = 'error' | 'throttle' | 'reset';

export interface LocalDynamoConnection {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface LocalDynamo extends LocalDynamoConnection {
  /** A client for the local endpoint (SDK retries as configured by `maxAttempts`). */
  client: DynamoDBClient;
  tableName: string;
  /** Requests answered so far (all operations). */
  requests(): number;
  /** Starts (mode) or ends (false) an outage: every request meanwhile fails as the mode says. */
  outage(mode: DynamoOutage | false): void;
  close(): Promise<void>;
}

type DynaliteFactory = (options: Record<string, unknown>) => Server;
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export function localDynamoClient(conn: LocalDynamoConnection, maxAttempts = 3): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: conn.endpoint,
    region: conn.region,
    credentials: { accessKeyId: conn.accessKeyId, secretAccessKey: conn.secretAccessKey },
    maxAttempts,
  });
}

/** Starts dynalite on 127.0.0.1 (port 0 by default), in memory, and creates the semaphore table. */
export async function startLocalDynamo(options: { port?: number; tableName?: string; maxAttempts?: number } = {}): Promise<LocalDynamo> {
  const dynalite = require('dynalite') as DynaliteFactory;
  // Tables become ACTIVE at once: the 500 ms CREATING phase of the default only slows tests.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const [inner] = server.listeners('request') as Handler[];
  if (!inner) throw new Error('dynalite exposes no request handler');
  server.removeAllListeners('request');
  let mode: DynamoOutage | false = false;
  let count = 0;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    count++;
    if (mode === false) return inner(req, res);
    if (mode === 'reset') {
      req.socket.destroy();
      return;
    }
    req.resume();
    req.on('end', () => {
      const [status, type, message] = mode === 'throttle'
        ? [400, 'ProvisionedThroughputExceededException', 'The level of configured provisioned throughput for the table was exceeded.']
        : [500, 'InternalServerError', 'Internal server error (local outage)'];
      const body = JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message });
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(body), 'x-amzn-requestid': `local-${count}` });
      res.end(body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const { port } = server.address() as AddressInfo;
  const conn: LocalDynamoConnection = { endpoint: `http://127.0.0.1:${port}`, region: LOCAL_REGION, accessKeyId: 'LOCAL', secretAccessKey: 'LOCAL' };
  const client = localDynamoClient(conn, options.maxAttempts ?? 3);
  const tableName = options.tableName ?? DEFAULT_SEMAPHORE_TABLE;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    client.destroy();
    (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  try {
    await ensureSemaphoreTable(client, tableName);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    ...conn,
    client,
    tableName,
    requests: () => count,
    outage(m) { mode = m; },
    close,
  };
}
