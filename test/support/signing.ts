// Requests signed for the OST gateway by the vendor's recipe (docs/ost-api.md, "Request signing"), written out here
// rather than taken from lib/ost/signing.ts: the emulator tests hold the emulator to the recipe, not to our client.
import { createHash, createHmac } from 'node:crypto';

/** `SHA-256=` + base64(sha256(body)). */
export const digestOf = (body: Buffer | string): string => `SHA-256=${createHash('sha256').update(body).digest('base64')}`;

/** The digest of the empty string: what the vendor's demo sends for every call. */
export const EMPTY_DIGEST = digestOf('');

/** Where a request goes and whose keys sign it (an OstEmulator is one). */
export interface SignTarget {
  endpoint: string;
  credentials: { apiKey: string; apiSecret: string };
}

export interface SignOptions {
  date?: Date;
  /** Sign this Host header value instead of the endpoint's host[:port]. */
  host?: string;
  /** Sign this path instead of the one requested. */
  signedPath?: string;
  /** Sign with this secret instead of the target's. */
  secret?: string;
}

/** The date, digest and authorization headers of a POST to `path` whose digest header is `digest`. */
export function signedHeaders(to: SignTarget, path: string, digest: string, o: SignOptions = {}): Record<string, string> {
  const date = (o.date ?? new Date()).toUTCString();
  const toSign = `host: ${o.host ?? new URL(to.endpoint).host}\ndate: ${date}\nPOST ${o.signedPath ?? path} HTTP/1.1\ndigest: ${digest}`;
  const signature = createHmac('sha256', o.secret ?? to.credentials.apiSecret).update(toSign).digest('base64');
  const authorization = `api_key="${to.credentials.apiKey}", algorithm="hmac-sha256", headers="host date request-line digest", signature="${signature}"`;
  return { date, digest, authorization };
}
