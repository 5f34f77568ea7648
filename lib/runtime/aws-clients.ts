// The AWS SDK clients a container creates once, lazily on first use (so a local runner can set the environment
// first). Each client is imported here but only bundled into the handlers that call its factory (esbuild drops
// the unused ones: the SDK packages are side-effect free).
// Endpoints: the SDK reads AWS_ENDPOINT_URL_SFN / _EVENTBRIDGE / _SSM by itself (verified with the installed
// v3 clients); S3 uses S3_ENDPOINT / S3_FORCE_PATH_STYLE when set.
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SSMClient } from '@aws-sdk/client-ssm';
import { settings } from '../config/settings';

interface Clients {
  s3?: S3Client;
  sfn?: SFNClient;
  events?: EventBridgeClient;
  ssm?: SSMClient;
}

let clients: Clients = {};

export function s3(): S3Client {
  const s = settings();
  return (clients.s3 ??= new S3Client({
    ...(s.s3Endpoint ? { endpoint: s.s3Endpoint } : {}),
    forcePathStyle: s.s3ForcePathStyle,
    maxAttempts: 5,
  }));
}

export function sfn(): SFNClient {
  return (clients.sfn ??= new SFNClient({ maxAttempts: 5 }));
}

export function eventBridge(): EventBridgeClient {
  return (clients.events ??= new EventBridgeClient({ maxAttempts: 5 }));
}

export function ssm(): SSMClient {
  return (clients.ssm ??= new SSMClient({}));
}

/** Forgets and closes the clients (resetRuntime): the next call creates them from the environment as it is then. */
export function resetAwsClients(): void {
  const old = clients;
  clients = {};
  for (const c of [old.s3, old.sfn, old.events, old.ssm]) c?.destroy();
}
