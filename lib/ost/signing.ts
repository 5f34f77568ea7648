// Request signing for the OST gateway (the vendor API document, "Request signing").
// The signature covers host, date, the request line and the digest header — never the body itself, which is
// why the digest of a streamed multipart body is a policy choice (see MultipartDigest in client.ts).
import { createHash, createHmac } from 'node:crypto';

/** `SHA-256=` + base64(sha256(body)). */
export function bodyDigest(body: Buffer | Uint8Array | string): string {
  return digestHeader(createHash('sha256').update(body).digest());
}

/** Formats a finished sha256 (raw 32 bytes) as a digest header value. */
export function digestHeader(sha256: Buffer): string {
  return `SHA-256=${sha256.toString('base64')}`;
}

/** Digest of the empty string: what the vendor's Python demo sends for every call. */
export const EMPTY_DIGEST = bodyDigest('');

/** RFC 1123 date in GMT, e.g. `Tue, 24 Nov 2026 20:19:40 GMT` (what Date#toUTCString produces). */
export function httpDate(date: Date = new Date()): string {
  return date.toUTCString();
}

export interface SignInput {
  /** Host header value (host[:port] as sent). */
  host: string;
  /** Request path, e.g. /file/upload. */
  path: string;
  /** Date header value. */
  date: string;
  /** Digest header value. */
  digest: string;
  apiKey: string;
  apiSecret: string;
}

export interface Signature {
  /** Authorization header value. Contains the signature, never the secret. */
  authorization: string;
  /** The exact string that was signed (safe to log: it holds no secret). */
  signatureString: string;
}

export function signRequest(input: SignInput): Signature {
  const signatureString = [
    `host: ${input.host}`,
    `date: ${input.date}`,
    `POST ${input.path} HTTP/1.1`,
    `digest: ${input.digest}`,
  ].join('\n');
  const signature = createHmac('sha256', input.apiSecret).update(signatureString, 'utf8').digest('base64');
  const authorization =
    `api_key="${input.apiKey}", algorithm="hmac-sha256", headers="host date request-line digest", ` +
    `signature="${signature}"`;
  return { authorization, signatureString };
}
