// What comes back from a call, read with care: the code of a transport failure (TLS, no answer in time, a
// connection lost), a response body read up to a bound and parsed, and the ids and URLs in it checked before use.
import { hasControlCharacters } from '../core/text';

export interface OstResponseBody { code?: unknown; message?: unknown; sid?: unknown; data?: unknown }

export const TRANSPORT_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN',
  'EAI_AGAIN', 'ENOTFOUND', 'EADDRNOTAVAIL',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UND_ERR_INFO',
]);

export function errorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    // Happy eyeballs reports an AggregateError whose members carry the codes.
    const errors = (err as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) return errorCode(errors[errors.length - 1]);
  }
  return undefined;
}

export const MAX_RESPONSE_BYTES = 256 * 1024;

/** TLS handshake and certificate failures (OpenSSL's ERR_SSL_*, Node's certificate codes). */
export const TLS_CODES = /^(ERR_SSL_|ERR_TLS_|EPROTO$|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_|CERT_|HOSTNAME_MISMATCH$)/;

/** A sid, upload_id: an id, never longer than this. */
export const MAX_SID_CHARS = 128;
export const MAX_TOKEN_CHARS = 256;
/** The longest URL accepted from OST. */
export const MAX_URL_CHARS = 4_096;

/** Why an id from OST (upload_id) cannot be used as is, or undefined: one line, bounded, no control character. */
export function tokenProblem(value: string): string | undefined {
  if (value.length > MAX_TOKEN_CHARS) return `is longer than ${MAX_TOKEN_CHARS} characters`;
  if (hasControlCharacters(value) || /\s/.test(value)) return 'holds a control character or white space';
  return undefined;
}

/** Why a URL from OST cannot be reported, or undefined: a single-line absolute http(s) URL, bounded. */
export function urlProblem(value: string): string | undefined {
  if (value.length > MAX_URL_CHARS) return `is longer than ${MAX_URL_CHARS} characters`;
  if (hasControlCharacters(value) || /\s/.test(value)) return 'is not a single-line URL';
  let url: URL;
  try { url = new URL(value); } catch { return 'is not a URL'; }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `is not an http(s) URL`;
  return undefined;
}

/** No answer in time after the request went out. */
export const ANSWER_TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

export function describeCause(err: unknown): string {
  if (err instanceof Error) {
    const code = errorCode(err);
    return code ? `${code}: ${err.message || err.name}` : `${err.name}: ${err.message}`;
  }
  return String(err);
}

export async function readLimited(body: AsyncIterable<Buffer> & { destroy(): unknown }, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of body) {
    n += chunk.length;
    if (n > limit) {
      body.destroy();
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function parseJson(text: string): OstResponseBody | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' ? (v as OstResponseBody) : undefined;
  } catch {
    return undefined;
  }
}
