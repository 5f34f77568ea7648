// What the client accepts from an answer: the body read up to a bound, parsed as JSON, and the ids and URLs in it
// checked before anyone uses or prints them.
import { hasControlCharacters } from '../core/text';

export interface OstResponseBody { code?: unknown; message?: unknown; sid?: unknown; data?: unknown }

export const MAX_RESPONSE_BYTES = 256 * 1024;

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
