// Which low-level errors (Node's and undici's codes) are a transport failure or a TLS failure, for the client and
// the endpoint probe alike, and how such an error is described in one line.

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

/** TLS handshake and certificate failures (OpenSSL's ERR_SSL_*, Node's certificate codes). */
export const TLS_CODES = /^(ERR_SSL_|ERR_TLS_|EPROTO$|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_|CERT_|HOSTNAME_MISMATCH$)/;

/** No answer in time after the request went out. */
export const ANSWER_TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

export function describeCause(err: unknown): string {
  if (err instanceof Error) {
    const code = errorCode(err);
    return code ? `${code}: ${err.message || err.name}` : `${err.name}: ${err.message}`;
  }
  return String(err);
}
