// The OST api_key and api_secret come from SSM SecureString parameters (decrypted), cached for a bounded time by
// Powertools' SSMProvider — never from plain environment variables or the template. The values are never logged.
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError } from '../core/errors';
import { redactValues } from '../ost/redaction';
import { hasControlCharacters } from '../core/text';
import { required, Settings } from '../config/settings';

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
  return {
    apiKey: secretValue(apiKey, 'OST_API_KEY_PARAM', keyName),
    apiSecret: secretValue(apiSecret, 'OST_API_SECRET_PARAM', secretName),
  };
}

/**
 * A secret as stored, without the white space around it (`put-parameter --value file://key.txt` keeps the file's
 * final newline, which the gateway then rejects as "invalid authorization header"). A control character inside
 * the value is refused naming the setting and the parameter, never showing the value.
 */
export function secretValue(value: unknown, setting: string, parameter: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new ConfigError(setting, `SSM parameter ${parameter} is empty`);
  const v = value.trim();
  if (hasControlCharacters(v)) throw new ConfigError(setting, `SSM parameter ${parameter} holds a control character (a line break inside the value?); store the value alone`);
  return v;
}

/** A provider over the given client (whose endpoint honours AWS_ENDPOINT_URL_SSM). */
export function secretsProvider(ssm: SSMClient): SSMProvider {
  return new SSMProvider({ awsSdkV3Client: ssm });
}

/** Replaces every occurrence of the secret values in `text` (defence in depth for error messages and logs). */
export function redact(text: string, secrets: OstSecrets | undefined): string {
  return secrets ? redactValues(text, [secrets.apiSecret, secrets.apiKey]) : text;
}
