// The OST endpoint: its default and its checks (https, or plain http on loopback only). Separate from client.ts so
// that settings can be validated without loading undici.
import * as dns from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { ConfigError } from '../core/errors';
import type { ErrorHandling } from '../core/error-handling';
import { bounded, quote, withoutUserInfo } from '../core/text';

export const DEFAULT_ENDPOINT = 'https://upload-ost-api.xfyun.cn';

const LOOPBACK_NAMES = new Set(['localhost']);

/** True for a literal loopback address: 127.0.0.0/8 or ::1 (with or without brackets). */
export function isLoopbackAddress(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (isIP(a) === 4) return a.startsWith('127.');
  if (isIP(a) === 6) return a === '::1' || a === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(a);
  return false;
}

/**
 * True for the hosts where plain http is allowed: a literal loopback address, or `localhost` / `*.localhost`, a
 * name the client then connects to only if it resolves to loopback addresses alone (loopbackOnlyLookup): a name
 * alone proves nothing, since a resolver may answer anything for it.
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return isLoopbackAddress(h) || LOOPBACK_NAMES.has(h) || h.endsWith('.localhost');
}

/** A name resolved to an address that is not loopback, for an http endpoint. Not retried. */
export class LoopbackResolutionError extends Error {
  static readonly errorName = 'LoopbackResolutionError';
  static readonly handling: ErrorHandling = 'fatal';
  readonly code = 'ERR_OST_NOT_LOOPBACK';
  constructor(hostname: string, address: string) {
    super(`OST_ENDPOINT: ${hostname} resolved to ${address}, not a loopback address (plain http is allowed only to loopback)`);
    this.name = LoopbackResolutionError.errorName;
  }
}

/** Resolves a name to all its addresses (dns.lookup with `all: true`). */
export type ResolveAll = (hostname: string, options: dns.LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void) => void;

/** A lookup for net.connect that fails unless every address of the name is a loopback address (checked at connect time). */
export const loopbackOnlyLookup = (resolveAll: ResolveAll = dns.lookup): LookupFunction => (hostname, options, callback) => {
  resolveAll(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return (callback as (e: Error) => void)(err);
    const bad = addresses.find((a) => !isLoopbackAddress(a.address));
    if (bad || addresses.length === 0) return (callback as (e: Error) => void)(new LoopbackResolutionError(hostname, bad?.address ?? 'nothing'));
    if (options.all) return (callback as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
    return callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};

/** Parses and checks the endpoint; bad values raise ConfigError naming OST_ENDPOINT. */
export function parseEndpoint(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new ConfigError('OST_ENDPOINT', `not a valid URL: ${quote(bounded(withoutUserInfo(endpoint), 200))}`);
  }
  if (url.username || url.password) throw new ConfigError('OST_ENDPOINT', 'must not contain a user or password (user:password@)');
  if (url.search || url.hash) throw new ConfigError('OST_ENDPOINT', 'must not contain a query or fragment');
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:') {
    if (isLoopbackHost(url.hostname)) return url;
    throw new ConfigError('OST_ENDPOINT', `must use https (http is allowed only for loopback hosts), got ${url.origin}`);
  }
  throw new ConfigError('OST_ENDPOINT', `unsupported protocol ${url.protocol}`);
}
