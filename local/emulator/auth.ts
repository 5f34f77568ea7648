// The gateway's HMAC check, written independently of lib/ost/signing.ts so that a bug in the client's signing
// cannot be mirrored here. iFlytek's gateway answers HTTP 401 with a bare {"message"} body. What each check rests
// on (the seed document, the vendor's demo, public clients, or an assumption) is tabled in docs/ost-api.md.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const HMAC_REJECTED = 'HMAC signature cannot be verified';
export const HMAC_DATE_REJECTED = `${HMAC_REJECTED}, a valid date or x-date header is required for HMAC Authentication`;
export const HMAC_DIGEST_REJECTED = `${HMAC_REJECTED}, the digest header does not match the body`;
/** The gateway's words when the signed headers leave out host (seen on other iFlytek APIs behind it). */
export const HMAC_HOST_REJECTED = `${HMAC_REJECTED}:enforced header 'host' not used for signature creation`;

const SIGNED_HEADERS = 'host date request-line digest';
const DIGEST_RE = /^SHA-256=([A-Za-z0-9+/]{43}=)$/;

export const EMPTY_BODY_DIGEST = digestOf(Buffer.alloc(0));

export function digestOf(body: Buffer): string {
  return `SHA-256=${createHash('sha256').update(body).digest('base64')}`;
}

export interface AuthSettings {
  apiKey: string;
  apiSecret: string;
  maxSkewSeconds: number;
  /**
   * Strict mode: the digest header must be `SHA-256=<base64>` and (checked after the body, by digestAgrees) the
   * body's digest, or the empty string's on multipart calls. Default (false): the HMAC covers the digest header as
   * sent and nothing else is asked of it, which is what the live service demonstrably accepts.
   */
  strict?: boolean;
  now?: () => number;
}

/**
 * Parses `k="v", k2="v2"` pairs; returns undefined if the header is not made of such pairs. The forms public
 * clients send are all accepted (docs/ost-api.md): a leading `hmac ` scheme word (the vendor's Java and Go demos),
 * no space after a comma (a Python demo), white space around `=`.
 */
export function parseAuthorization(value: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  const re = /\s*([A-Za-z_-]+)\s*=\s*"([^"]*)"\s*(,|$)/y;
  const scheme = /^\s*hmac\s+/i.exec(value);
  let pos = scheme ? scheme[0].length : 0;
  while (pos < value.length) {
    re.lastIndex = pos;
    const m = re.exec(value);
    if (!m) return undefined;
    out[m[1]!.toLowerCase()] = m[2]!;
    pos = re.lastIndex;
  }
  return out;
}

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? undefined : v;
}

/**
 * Checks everything the gateway can check before the body: authorization format and key, date skew, the HMAC
 * over `host`, `date`, the request line and the digest header as sent, and in strict mode the digest's format.
 * Returns the 401 message, or undefined when the headers are good. In strict mode the digest's agreement with the
 * body is checked after reading it (digestAgrees).
 */
export function checkSignature(method: string, path: string, headers: IncomingHttpHeaders, s: AuthSettings): string | undefined {
  const authorization = single(headers, 'authorization');
  const host = single(headers, 'host');
  const date = single(headers, 'date');
  const digest = single(headers, 'digest');
  if (!authorization || !host || digest === undefined) return HMAC_REJECTED;
  if (!date) return HMAC_DATE_REJECTED;
  const when = Date.parse(date);
  const now = (s.now ?? Date.now)();
  if (!Number.isFinite(when) || Math.abs(now - when) > s.maxSkewSeconds * 1000) return HMAC_DATE_REJECTED;
  if (s.strict && !DIGEST_RE.test(digest)) return HMAC_REJECTED;
  const fields = parseAuthorization(authorization);
  if (!fields) return HMAC_REJECTED;
  if (fields.api_key !== s.apiKey) return HMAC_REJECTED;
  if (fields.algorithm !== 'hmac-sha256') return HMAC_REJECTED;
  if (fields.headers !== undefined && !fields.headers.split(/\s+/).includes('host')) return HMAC_HOST_REJECTED;
  if (fields.headers !== SIGNED_HEADERS) return HMAC_REJECTED;
  if (!fields.signature) return HMAC_REJECTED;
  // The live service is reached on the default port, so its Host header never carries one. A client pointed at the
  // emulator's port may sign the host name alone (as it would for the service): by default that is accepted too.
  const hosts = [host];
  const bare = /^(\[[^\]]*\]|[^:]*):\d+$/.exec(host)?.[1];
  if (!s.strict && bare) hosts.push(bare);
  const given = Buffer.from(fields.signature);
  const matches = hosts.some((h) => {
    const signatureString = `host: ${h}\ndate: ${date}\n${method} ${path} HTTP/1.1\ndigest: ${digest}`;
    // Compare the base64 text itself: decoding first would accept padding and alphabet variants.
    const expected = Buffer.from(createHmac('sha256', s.apiSecret).update(signatureString).digest('base64'));
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return matches ? undefined : HMAC_REJECTED;
}

/**
 * Strict mode's body check: the digest must be the body's (sha256, raw bytes given), or on multipart calls the
 * empty string's (a streamed slice cannot be hashed before it is sent without reading it twice).
 */
export function digestAgrees(header: string, bodySha256: Buffer, multipart: boolean): boolean {
  const real = `SHA-256=${bodySha256.toString('base64')}`;
  return header === real || (multipart && header === EMPTY_BODY_DIGEST);
}
