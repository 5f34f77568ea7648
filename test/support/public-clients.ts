// Public clients of the OST upload service, reproduced on the wire from their published source (docs/ost-api.md,
// "Public clients on the wire"): how each signs, dates, digests and encodes its bodies. Each client here is a
// plain node:http caller; nothing of lib/ost is used, so the emulator is tested against what others send.
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';

export interface Credentials { appId: string; apiKey: string; apiSecret: string }
export interface Answer { status: number; contentType: string; body: { code?: number; message?: string; sid?: string; data?: Record<string, string> } }
type FieldValue = string | number | [filename: string, data: Buffer];

const sha256b64 = (b: Buffer | string): string => createHash('sha256').update(b).digest('base64');
export const EMPTY_SHA256 = sha256b64('');

/** OkHttp's MultipartBody (setType FORM, addFormDataPart): a Content-Length in every part, a UUID boundary. */
export function okHttpMultipart(fields: Array<[string, FieldValue]>, boundary = randomUUID()): { body: Buffer; contentType: string } {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    parts.push(Buffer.from(`--${boundary}\r\n`));
    if (Array.isArray(value)) {
      const [filename, data] = value;
      parts.push(Buffer.from(`Content-Disposition: form-data; name="${name}"; filename="${filename}"\r\n` +
        `Content-Type: application/octet-stream\r\nContent-Length: ${data.length}\r\n\r\n`), data);
    } else {
      const text = Buffer.from(String(value));
      parts.push(Buffer.from(`Content-Disposition: form-data; name="${name}"\r\nContent-Length: ${text.length}\r\n\r\n`), text);
    }
    parts.push(Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** Go's mime/multipart Writer (CreateFormField, CreateFormFile): a 60-hex-digit boundary, CRLF before each delimiter. */
export function goMultipart(fields: Array<[string, FieldValue]>, boundary = randomBytes(30).toString('hex')): { body: Buffer; contentType: string } {
  const parts: Buffer[] = [];
  for (const [i, [name, value]] of fields.entries()) {
    parts.push(Buffer.from(`${i === 0 ? '' : '\r\n'}--${boundary}\r\n`));
    if (Array.isArray(value)) {
      const [filename, data] = value;
      parts.push(Buffer.from(`Content-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`), data);
    } else {
      parts.push(Buffer.from(`Content-Disposition: form-data; name="${name}"\r\n\r\n${String(value)}`));
    }
  }
  parts.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** urllib3's encode_multipart_formdata, fields in the order given (a Python dict keeps insertion order). */
export function urllib3Multipart(fields: Array<[string, FieldValue]>, boundary = randomBytes(16).toString('hex')): { body: Buffer; contentType: string } {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    parts.push(Buffer.from(`--${boundary}\r\n`));
    if (Array.isArray(value)) {
      const [filename, data] = value;
      const type = filename.endsWith('.wav') ? 'audio/x-wav' : 'application/octet-stream';
      parts.push(Buffer.from(`Content-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`), data);
    } else {
      parts.push(Buffer.from(`Content-Disposition: form-data; name="${name}"\r\n\r\n${String(value)}`));
    }
    parts.push(Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** Go's time.Now().UTC().Format(time.RFC1123): like toUTCString, but the zone is written `UTC`. */
export function goRfc1123(d = new Date()): string {
  return d.toUTCString().replace(/GMT$/, 'UTC');
}

/** fastjson's JSON.toJSONString of a request bean: compact, keys sorted, null fields left out. */
export function fastJson(obj: Record<string, string | undefined>): Buffer {
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return Buffer.from(`{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(obj[k])}`).join(',')}}`);
}

/** json.dumps(obj) with its default separators. */
export function pythonJson(obj: Record<string, string>): Buffer {
  return Buffer.from(`{${Object.entries(obj).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ')}}`);
}

/** How one client builds what it signs and sends. */
export interface WireStyle {
  name: string;
  /** The date header's value. */
  date(): string;
  /** The digest header's value for this body. */
  digest(body: Buffer): string;
  /** The host this client signs, and sends as its Host header (undefined: node:http's, host:port). */
  signedHost(url: URL): string;
  authorization(apiKey: string, signature: string): string;
  extraHeaders: Record<string, string>;
}

const HEADERS_LIST = 'headers="host date request-line digest"';

/** The vendor's Java demo (OkHttp; FileCaller and Authentication): `hmac ` scheme, the empty body's digest on every call, host with its port. */
export const javaDemo: WireStyle = {
  name: 'vendor Java demo (OkHttp)',
  date: () => new Date().toUTCString(), // SimpleDateFormat("EEE, dd MMM yyyy HH:mm:ss z"), zone GMT
  digest: () => `SHA-256=${EMPTY_SHA256}`,
  signedHost: (url) => url.host, // url.getHost() + ":" + url.getPort() when the URL has a port
  authorization: (k, s) => `hmac api_key="${k}", algorithm="hmac-sha256", ${HEADERS_LIST}, signature="${s}"`,
  extraHeaders: { 'User-Agent': 'okhttp/4.9.3', 'Accept-Encoding': 'gzip', Connection: 'Keep-Alive' },
};

/** The vendor's Go demo for the sibling ost-api (fasthttp): `hmac ` scheme, a UTC-zoned date, the body's real digest. */
export const goDemo: WireStyle = {
  name: 'vendor Go demo (fasthttp)',
  date: () => goRfc1123(),
  digest: (body) => `SHA-256=${sha256b64(body)}`,
  signedHost: (url) => url.host, // u.Host
  authorization: (k, s) => `hmac api_key="${k}", algorithm="hmac-sha256", ${HEADERS_LIST}, signature="${s}"`,
  extraHeaders: { 'User-Agent': 'fasthttp' },
};

/** A Python demo writing its parameters with no space after the first comma; the body's real digest. */
export const pythonNoSpace: WireStyle = {
  name: 'Python demo, no space after the first comma',
  date: () => new Date().toUTCString(),
  digest: (body) => `SHA-256=${sha256b64(body)}`,
  signedHost: (url) => url.host,
  authorization: (k, s) => `api_key="${k}",algorithm="hmac-sha256", ${HEADERS_LIST}, signature="${s}"`,
  extraHeaders: { 'User-Agent': 'python-requests/2.31.0', Accept: '*/*' },
};

/** The speed-transcription demo (transcribe.py): `SHA-256=` prefixed twice to the empty digest, the host name without its port. */
export const speedTranscriptionDemo: WireStyle = {
  name: 'speed-transcription demo (iFly-Skills)',
  date: () => new Date().toUTCString(), // format_date_time(mktime(now.timetuple()))
  digest: () => `SHA-256=SHA-256=${EMPTY_SHA256}`,
  signedHost: (url) => url.hostname, // urlparse(url).hostname, also sent as the host header
  authorization: (k, s) => `api_key="${k}", algorithm="hmac-sha256", ${HEADERS_LIST}, signature="${s}"`,
  extraHeaders: { 'User-Agent': 'python-requests/2.31.0', Accept: '*/*' },
};

/** POSTs `body` to `endpoint + path` signed in `style`; resolves with the status and the parsed answer. */
export function signedPost(style: WireStyle, endpoint: string, creds: Credentials, path: string, body: Buffer, contentType: string): Promise<Answer> {
  const url = new URL(`${endpoint}${path}`);
  const host = style.signedHost(url);
  const date = style.date();
  const digest = style.digest(body);
  const toSign = `host: ${host}\ndate: ${date}\nPOST ${path} HTTP/1.1\ndigest: ${digest}`;
  const signature = createHmac('sha256', creds.apiSecret).update(toSign).digest('base64');
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: 'POST',
      headers: {
        ...style.extraHeaders, Host: host, 'Content-Type': contentType, Date: date, Digest: digest,
        Authorization: style.authorization(creds.apiKey, signature), 'Content-Length': String(body.length),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''),
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['body'],
      }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
