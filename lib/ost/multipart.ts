// A streamed multipart/form-data body: text fields plus one file part whose bytes come from a stream of known
// length. The envelope (everything but the payload) is built up front, so the content-length is exact before a
// single payload byte is read, and the payload is never buffered: it flows chunk by chunk from the source.
import { randomBytes } from 'node:crypto';
import { OstError, SourceReadError } from './errors';

export interface MultipartFile {
  /** Form field name of the file part (OST: `data`). */
  field: string;
  /** Original file name; made safe for the header, kept intact in `filename*`. */
  filename: string;
  /** Exact payload size in bytes. */
  size: number;
  contentType?: string;
}

export interface MultipartEnvelope {
  boundary: string;
  /** Content-Type header value, with the boundary. */
  contentType: string;
  /** Exact total body length: head + payload + tail. */
  contentLength: number;
  /** Field parts and the file part's headers. */
  head: Buffer;
  /** CRLF after the payload and the closing boundary. */
  tail: Buffer;
  payloadSize: number;
}

const CRLF = '\r\n';
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// RFC 5987 attr-char: everything else is percent-encoded.
const ATTR_CHAR = /[A-Za-z0-9!#$&+.^_`|~-]/;

export function randomBoundary(): string {
  return `----ostforward${randomBytes(16).toString('hex')}`;
}

/**
 * The file name as it may appear inside a quoted header parameter: CR, LF, `"`, `\`, `/`, control and non-ASCII
 * characters become `_`, so no name can end the quoted string, start a header or a part.
 */
export function safeFilename(name: string): string {
  const safe = Array.from(name, (ch) => (/^[\x20-\x7e]$/.test(ch) && !/["\\/]/.test(ch) ? ch : '_')).join('');
  return safe.trim() === '' ? 'data' : safe;
}

/**
 * The original name for `filename*`: Unicode is kept, but control characters (CR, LF, ...) and path separators
 * still become `_`: a receiver decodes this value, and a decoded line break makes parsers (busboy) drop the part.
 */
export function unicodeFilename(name: string): string {
  const safe = name.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029/\\]/g, '_');
  return safe.trim() === '' ? 'data' : safe;
}

/** RFC 5987 ext-value of a UTF-8 string: `UTF-8''` + percent-encoded bytes. Lone surrogates become U+FFFD. */
export function rfc5987(value: string): string {
  let out = "UTF-8''";
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && ATTR_CHAR.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * Content-Disposition of the file part. `filename*` carries the original (Unicode) name only when the plain
 * `filename` had to change: plain ASCII names are sent exactly as the vendor's demos send them.
 */
export function fileDisposition(field: string, filename: string): string {
  const safe = safeFilename(filename);
  const original = unicodeFilename(filename);
  const ext = safe === original ? '' : `; filename*=${rfc5987(original)}`;
  return `form-data; name="${field}"; filename="${safe}"${ext}`;
}

export function multipartEnvelope(
  fields: ReadonlyArray<readonly [string, string]>,
  file: MultipartFile,
  boundary: string = randomBoundary(),
): MultipartEnvelope {
  if (!Number.isSafeInteger(file.size) || file.size < 0) throw new RangeError(`invalid payload size ${file.size}`);
  for (const [name] of fields) if (!TOKEN.test(name)) throw new RangeError(`invalid form field name ${JSON.stringify(name)}`);
  if (!TOKEN.test(file.field)) throw new RangeError(`invalid form field name ${JSON.stringify(file.field)}`);
  // A field value that contains the delimiter could close its part early. Values are ids we generate or read
  // from settings, and the boundary is random, but a clash must not produce a malformed body.
  for (const [name, value] of fields) {
    if (value.includes(boundary)) return multipartEnvelope(fields, file);
    if (/[\r\n]/.test(value)) throw new RangeError(`form field ${name} must not contain CR or LF`);
  }
  let head = '';
  for (const [name, value] of fields) {
    head += `--${boundary}${CRLF}Content-Disposition: form-data; name="${name}"${CRLF}${CRLF}${value}${CRLF}`;
  }
  head += `--${boundary}${CRLF}Content-Disposition: ${fileDisposition(file.field, file.filename)}${CRLF}`;
  head += `Content-Type: ${file.contentType ?? 'application/octet-stream'}${CRLF}${CRLF}`;
  const headBuf = Buffer.from(head, 'utf8');
  const tailBuf = Buffer.from(`${CRLF}--${boundary}--${CRLF}`, 'utf8');
  return {
    boundary,
    contentType: `multipart/form-data; boundary=${boundary}`,
    contentLength: headBuf.length + file.size + tailBuf.length,
    head: headBuf,
    tail: tailBuf,
    payloadSize: file.size,
  };
}

/**
 * The body as an async iterable of chunks: head, the payload as it arrives, tail. The payload must deliver
 * exactly `payloadSize` bytes; a short or long source, or a failing one, raises SourceReadError (an OstError
 * raised by the source, such as SourceChangedError, passes through unchanged). `onPayload` is told the payload
 * bytes read so far.
 */
export async function* multipartBody(
  envelope: MultipartEnvelope,
  payload: AsyncIterable<Buffer | Uint8Array | string>,
  onPayload?: (bytesRead: number) => void,
): AsyncGenerator<Buffer | Uint8Array> {
  yield envelope.head;
  let read = 0;
  try {
    for await (const raw of payload) {
      const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
      read += chunk.length;
      if (read > envelope.payloadSize) {
        throw new SourceReadError(`source delivered more than the expected ${envelope.payloadSize} bytes`);
      }
      onPayload?.(read);
      yield chunk;
    }
  } catch (err) {
    if (err instanceof OstError) throw err;
    const reason = err instanceof Error ? `${(err as NodeJS.ErrnoException).code ?? err.name}: ${err.message}` : String(err);
    throw new SourceReadError(`reading the source failed: ${reason}`, { cause: err });
  }
  if (read !== envelope.payloadSize) {
    throw new SourceReadError(`source ended after ${read} of ${envelope.payloadSize} bytes`);
  }
  yield envelope.tail;
}
