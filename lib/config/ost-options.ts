// The OST client's options, built in one place from the settings (lib/config/table.ts) for both of its users:
// the functions (lib/runtime/ost.ts: credentials from SSM) and the command line (`put`: credentials from the
// environment). lib/ost itself reads no environment: it takes this options object.
import { ConfigError } from '../core/errors';
import { credentialValue, type OstClientOptions } from '../ost/options';
import type { Env } from './parsers';
import { loadOstTuning, type OstTuning } from './settings';
import { readSetting } from './table';

export interface OstSettings {
  endpoint: string;
  appId: string;
  cloudId?: string;
  multipartDigest?: 'empty' | 'body';
}

/** Options from settings, secrets and tuning; retry and timeouts only where a setting is given (the client's defaults otherwise). */
export function ostClientOptions(s: OstSettings, secrets: { apiKey: string; apiSecret: string }, tuning: OstTuning): OstClientOptions {
  const given = <T extends object>(o: T): T | undefined => (Object.values(o).some((v) => v !== undefined) ? o : undefined);
  const retry = given(tuning.retry);
  const timeouts = given(tuning.timeouts);
  return {
    endpoint: s.endpoint,
    appId: s.appId,
    apiKey: secrets.apiKey,
    apiSecret: secrets.apiSecret,
    ...(s.cloudId !== undefined ? { cloudId: s.cloudId } : {}),
    ...(s.multipartDigest !== undefined ? { multipartDigest: s.multipartDigest } : {}),
    ...(retry ? { retry } : {}),
    ...(timeouts ? { timeouts } : {}),
  };
}

/**
 * The command line's options: OST_ENDPOINT, OST_APP_ID, OST_API_KEY, OST_API_SECRET, OST_CLOUD_ID, and the same
 * OST_MULTIPART_DIGEST and OST_RETRY_* / OST_*_TIMEOUT_MS the functions honour.
 */
export function ostClientOptionsFromEnv(env: Env): OstClientOptions {
  const endpoint = readSetting<string>(env, 'OST_ENDPOINT');
  const required = (name: string): string => {
    const v = env[name];
    if (v === undefined || v.trim() === '') throw new ConfigError(name, 'is required (set it in the environment)');
    return credentialValue(name, v.trim());
  };
  const appId = required('OST_APP_ID');
  const apiKey = required('OST_API_KEY');
  const apiSecret = required('OST_API_SECRET');
  const cloudId = env.OST_CLOUD_ID?.trim();
  const digestSet = env.OST_MULTIPART_DIGEST !== undefined && env.OST_MULTIPART_DIGEST.trim() !== '';
  return ostClientOptions(
    {
      endpoint,
      appId,
      ...(cloudId ? { cloudId: credentialValue('OST_CLOUD_ID', cloudId) } : {}),
      ...(digestSet ? { multipartDigest: readSetting<'empty' | 'body'>(env, 'OST_MULTIPART_DIGEST') } : {}),
    },
    { apiKey, apiSecret },
    loadOstTuning(env),
  );
}
