// The OST endpoint: its default and its checks (https, or plain http on loopback only). Separate from client.ts so
// that settings can be validated without loading undici.
import { isIP } from 'node:net';
import { ConfigError } from '../errors';

export const DEFAULT_ENDPOINT = 'https://upload-ost-api.xfyun.cn';

const LOOPBACK_NAMES = new Set(['localhost', '::1', '[::1]']);

/** True for 127.0.0.0/8, ::1 and localhost, where plain http is allowed. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  if (LOOPBACK_NAMES.has(h) || h.endsWith('.localhost')) return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** Parses and checks the endpoint; bad values raise ConfigError naming OST_ENDPOINT. */
export function parseEndpoint(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new ConfigError('OST_ENDPOINT', `not a valid URL: ${JSON.stringify(endpoint)}`);
  }
  if (url.username || url.password) throw new ConfigError('OST_ENDPOINT', 'must not contain credentials');
  if (url.search || url.hash) throw new ConfigError('OST_ENDPOINT', 'must not contain a query or fragment');
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:') {
    if (isLoopbackHost(url.hostname)) return url;
    throw new ConfigError('OST_ENDPOINT', `must use https (http is allowed only for loopback hosts), got ${url.origin}`);
  }
  throw new ConfigError('OST_ENDPOINT', `unsupported protocol ${url.protocol}`);
}
