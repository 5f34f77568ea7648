// What a container holds between invocations, and forgetting it: the AWS clients (lib/runtime/aws-clients.ts), the OST
// client (lib/runtime/ost.ts, kept apart so that a handler which never calls OST neither bundles nor loads undici
// and the SSM client), the secrets remembered for redaction (lib/runtime/step.ts) and the settings. The local stack and the
// tests reset it between runs that change the environment.
import { resetAwsClients } from './aws-clients';
import { resetSettings } from '../config/settings';
import { rememberSecrets } from './step';

const resetHooks = new Set<() => Promise<void> | void>();

/** What resetRuntime() must also forget (lib/runtime/ost.ts registers its OST client here). */
export function onResetRuntime(hook: () => Promise<void> | void): void {
  resetHooks.add(hook);
}

/** Forgets clients, secrets and settings (the local stack, tests). Open OST connections are closed. */
export async function resetRuntime(): Promise<void> {
  rememberSecrets(undefined);
  resetSettings();
  for (const hook of resetHooks) await hook();
  resetAwsClients();
}
