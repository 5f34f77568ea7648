// The OST client of a container (the handlers that call OST import this, and the trigger for its recovery probe;
// Report and release do not, so their bundles carry neither undici nor the SSM client). Created lazily;
// resetRuntime() (lib/runtime/reset.ts) forgets it.
import type { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { preferBaselineWasmCompiler } from './memory';
import { OstClient } from '../ost/client';
import { ostClientOptions } from '../config/ost-options';
import { log } from './logging';
import { onResetRuntime } from './reset';
import { onStepFailure, rememberSecrets } from './step';
import { reportOutage } from './ost-health';
import { ssm } from './aws-clients';
import { loadSecrets, secretsProvider, type OstSecrets } from './secrets';
import { ostTuning, required, settings } from '../config/settings';

// Before the OST client's first request: keeps undici's parser from costing ~35 MB of RSS (lib/runtime/memory.ts).
preferBaselineWasmCompiler();

// A step that calls OST and ends with an outage-class error counts it towards pausing admission.
onStepFailure(reportOutage);

let provider: SSMProvider | undefined;
let current: { client: OstClient; secrets: OstSecrets } | undefined;

onResetRuntime(async () => {
  const old = current;
  provider?.clearCache();
  provider = undefined;
  current = undefined;
  if (old) await old.client.close().catch(() => undefined);
});

/**
 * The OST client of this container. Secrets are re-read through the SSM cache (maxAge) on each call; when they
 * changed (rotation), a new client replaces the old one.
 */
export async function ostClient(): Promise<OstClient> {
  const s = settings();
  provider ??= secretsProvider(ssm());
  const secrets = await loadSecrets(provider, s);
  rememberSecrets(secrets);
  const previous = current;
  if (previous && previous.secrets.apiKey === secrets.apiKey && previous.secrets.apiSecret === secrets.apiSecret) return previous.client;
  const client = new OstClient({
    ...ostClientOptions(
      { endpoint: s.ostEndpoint, appId: required(s, 'ostAppId', 'OST_APP_ID'), cloudId: s.ostCloudId, multipartDigest: s.multipartDigest },
      secrets,
      ostTuning(),
    ),
    connections: Math.max(2, s.sliceConcurrency),
    log,
  });
  current = { client, secrets };
  if (previous) void previous.client.close().catch(() => undefined);
  return client;
}

/**
 * The breaker's recovery probe: a call that costs nothing (init, then cancel of that upload). Throws when the
 * gateway is still down (an outage-class error, or no answer within `timeoutMs`); an answer in OST's own words,
 * even a refusal, means the gateway is back.
 */
export async function probeOst(timeoutMs = 15_000): Promise<void> {
  const ost = await ostClient();
  const signal = AbortSignal.timeout(timeoutMs);
  const { uploadId } = await ost.init({ signal });
  await ost.cancel(uploadId, { signal }).catch((err: unknown) => log.warn('probe: cancel failed', { uploadId, error: err instanceof Error ? err.name : String(err) }));
}
