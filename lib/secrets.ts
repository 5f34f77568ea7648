// The OST api_key and api_secret come from SSM SecureString parameters (decrypted), cached for a bounded time by
// Powertools' SSMProvider — never from plain environment variables or the template. The values are never logged.
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError } from './errors';
import { required, Settings } from './settings';

export interface OstSecrets {
  readonly apiKey: string;
  readonly apiSecret: string;
}

/** Reads both secrets through `provider` (decrypted, cached for settings.secretsMaxAgeSeconds). */
export async function loadSecrets(provider: Pick<SSMProvider, 'get'>, s: Settings): Promise<OstSecrets> {
  const keyName = required(s, 'apiKeyParam', 'OST_API_KEY_PARAM');
  const secretName = required(s, 'apiSecretParam', 'OST_API_SECRET_PARAM');
  const options = { decrypt: true, maxAge: s.secretsMaxAgeSeconds };
  const [apiKey, apiSecret] = await Promise.all([provider.get(keyName, options), provider.get(secretName, options)]);
  if (typeof apiKey !== 'string' || apiKey === '') throw new ConfigError('OST_API_KEY_PARAM', `SSM parameter ${keyName} is empty`);
  if (typeof apiSecret !== 'string' || apiSecret === '') throw new ConfigError('OST_API_SECRET_PARAM', `SSM parameter ${secretName} is empty`);
  return { apiKey, apiSecret };
}

/** A provider over the given client (whose endpoint honours AWS_ENDPOINT_URL_SSM). */
export function secretsProvider(ssm: SSMClient): SSMProvider {
  return new SSMProvider({ awsSdkV3Client: ssm });
}

/** Replaces every occurrence of the secret values in `text` (defence in depth for error messages and logs). */
export function redact(text: string, secrets: OstSecrets | undefined): string {
  if (!secrets) return text;
  let out = text;
  for (const value of [secrets.apiSecret, secrets.apiKey]) {
    if (value && value.length >= 4) out = out.split(value).join('[redacted]');
  }
  return out;
}
