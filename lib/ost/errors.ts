// Errors of the OST client. Every class carries a stable `code` (string) and its `name` is what a Lambda
// reports as errorType, so the state machine's Retry/Catch match these names (see RETRYABLE_ERROR_NAMES).
// Messages never contain credentials: only the OST code/message/sid, the call and the request id.
// Every text an error carries is bounded (MAX_MESSAGE_CHARS, MAX_FIELD_CHARS): errors travel in state payloads,
// records and events, whose size is limited (a 256 KiB state), and an OST message can be any length.
import { declaredName, errorNames, handlingOf, type DeclaredError, type ErrorHandling } from '../core/error-handling';
import { bounded, quote, quoteIfNeeded } from '../core/text';

/** Longest message an error keeps (a longer one keeps its head). */
export const MAX_MESSAGE_CHARS = 1_000;
/** Longest sid, upload_id, endpoint or request id an error keeps. */
export const MAX_FIELD_CHARS = 256;

export type OstCall = 'upload' | 'init' | 'slice' | 'complete' | 'cancel';

export const OST_PATHS: Record<OstCall, string> = {
  upload: '/file/upload',
  init: '/file/mpupload/init',
  slice: '/file/mpupload/upload',
  complete: '/file/mpupload/complete',
  cancel: '/file/mpupload/cancel',
};

export interface OstErrorDetails {
  /** OST `code` from the response body, when there was one. */
  ostCode?: number;
  /** HTTP status, when a response arrived. */
  status?: number;
  sid?: string;
  call?: OstCall;
  /** Base endpoint, e.g. https://upload-ost-api.xfyun.cn */
  endpoint?: string;
  requestId?: string;
  uploadId?: string;
  sliceId?: number;
  cause?: unknown;
}

export class OstError extends Error {
  /** Stable machine-readable code, e.g. OST_SERVER_ERROR. */
  readonly code: string = 'OST_ERROR';
  readonly ostCode?: number;
  readonly status?: number;
  readonly sid?: string;
  readonly call?: OstCall;
  readonly endpoint?: string;
  readonly requestId?: string;
  readonly uploadId?: string;
  readonly sliceId?: number;

  constructor(message: string, details: OstErrorDetails = {}) {
    super(bounded(String(message), MAX_MESSAGE_CHARS), details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = declaredName(new.target, 'OstError');
    this.ostCode = details.ostCode;
    this.status = details.status;
    this.sid = field(details.sid);
    this.call = details.call;
    this.endpoint = field(details.endpoint);
    this.requestId = field(details.requestId);
    this.uploadId = field(details.uploadId);
    this.sliceId = details.sliceId;
  }

  /** One line for users and logs: code, message, sid, where. Server-provided texts are quoted when not plain. */
  describe(): string {
    const parts = [`${this.name}`];
    if (this.ostCode !== undefined) parts.push(`code=${this.ostCode}`);
    if (this.status !== undefined) parts.push(`http=${this.status}`);
    // a message full of escaped characters is cut further, so that the whole line stays parseable and bounded
    const message = quote(this.message);
    parts.push(`message=${message.length <= 2 * MAX_MESSAGE_CHARS ? message : quote(bounded(this.message, MAX_MESSAGE_CHARS / 4))}`);
    parts.push(`sid=${this.sid ? quoteIfNeeded(this.sid) : '-'}`);
    if (this.call) parts.push(`call=${this.call}`);
    if (this.sliceId !== undefined) parts.push(`slice=${this.sliceId}`);
    if (this.requestId) parts.push(`request_id=${quoteIfNeeded(this.requestId)}`);
    return parts.join(' ');
  }

  /** Plain JSON for records, events and state payloads. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      ostCode: this.ostCode,
      status: this.status,
      message: this.message,
      sid: this.sid,
      call: this.call,
      endpoint: this.endpoint,
      requestId: this.requestId,
      uploadId: this.uploadId,
      sliceId: this.sliceId,
    };
  }
}

function field(v: string | undefined): string | undefined {
  return v === undefined ? undefined : bounded(String(v), MAX_FIELD_CHARS);
}

/** 10001: the request is invalid. A bug or bad input; never retried. */
export class OstInvalidRequestError extends OstError {
  static readonly errorName = 'OstInvalidRequestError';
  static readonly handling: ErrorHandling = 'fatal';
  override readonly code = 'OST_INVALID_REQUEST';
}
/** 10002–10004, 10006, 10007: a fault inside the service; retried with backoff. */
export class OstServerError extends OstError {
  static readonly errorName = 'OstServerError';
  static readonly handling: ErrorHandling = 'retry';
  override readonly code = 'OST_SERVER_ERROR';
}
/** 10005: the upload_id expired or is unknown; the caller must start again from init. */
export class OstUploadExpiredError extends OstError {
  static readonly errorName = 'OstUploadExpiredError';
  static readonly handling: ErrorHandling = 'restart';
  override readonly code = 'OST_UPLOAD_EXPIRED';
}
/** HTTP 401: signature, key, secret or clock rejected. Not retried. */
export class OstAuthError extends OstError {
  static readonly errorName = 'OstAuthError';
  static readonly handling: ErrorHandling = 'fatal';
  override readonly code = 'OST_AUTH';
}
/** 11200/11201: licence or daily quota exhausted. Not retried. */
export class OstQuotaError extends OstError {
  static readonly errorName = 'OstQuotaError';
  static readonly handling: ErrorHandling = 'fatal';
  override readonly code = 'OST_QUOTA';
}
/** 11202/11203 or HTTP 429: throttled; retried with a longer backoff. */
export class OstThrottledError extends OstError {
  static readonly errorName = 'OstThrottledError';
  static readonly handling: ErrorHandling = 'retry';
  override readonly code = 'OST_THROTTLED';
}
/** HTTP 5xx without a usable OST body; retried. */
export class OstHttpError extends OstError {
  static readonly errorName = 'OstHttpError';
  static readonly handling: ErrorHandling = 'retry';
  override readonly code = 'OST_HTTP_ERROR';
}
/** Any other unexpected response (unknown code, non-JSON body, other 4xx). Not retried. */
export class OstProtocolError extends OstError {
  static readonly errorName = 'OstProtocolError';
  static readonly handling: ErrorHandling = 'fatal';
  override readonly code = 'OST_PROTOCOL';
}
/**
 * complete answered 10005 after an earlier complete attempt for the same upload_id whose answer was lost (timeout,
 * reset, 5xx): that attempt may have completed the upload, whose URL is then unknown. Fatal and never a restart
 * (a restart would forward the file a second time).
 */
export class OstCompleteUncertainError extends OstError {
  static readonly errorName = 'OstCompleteUncertainError';
  static readonly handling: ErrorHandling = 'fatal';
  override readonly code = 'OST_COMPLETE_UNCERTAIN';
}
/**
 * A simple upload whose whole body was sent but whose answer was lost (timeout, reset), or an UploadWhole step
 * that runs again after an earlier run ended without an answer: the file may be at OST already, and the simple
 * upload has no idempotency key. Fatal: sending it again could forward the file twice.
 */
export class OstUploadUncertainError extends OstError {
  static readonly errorName = 'OstUploadUncertainError';
  static readonly handling: ErrorHandling = 'fatal';
  override readonly code = 'OST_UPLOAD_UNCERTAIN';
}
/**
 * The TLS handshake with the endpoint failed (wrong version number: an http server on an https URL; a self-signed
 * or expired certificate; a name mismatch). A setup problem, not a passing fault: not retried.
 */
export class OstTlsError extends OstError {
  static readonly errorName = 'OstTlsError';
  static readonly handling: ErrorHandling = 'fatal';
  override readonly code = 'OST_TLS';
}
/** Connection reset, refused, timeout: no answer was read. Retried. */
export class TransportError extends OstError {
  static readonly errorName = 'TransportError';
  static readonly handling: ErrorHandling = 'retry';
  override readonly code = 'OST_TRANSPORT';
}

/** Maps an HTTP status and an OST body (if any) to the error class. Returns undefined for success. */
export function errorFromResponse(
  status: number,
  body: { code?: unknown; message?: unknown; sid?: unknown } | undefined,
  details: OstErrorDetails,
): OstError | undefined {
  const ostCode = typeof body?.code === 'number' ? body.code : undefined;
  const message = typeof body?.message === 'string' ? body.message : `HTTP ${status}`;
  const sid = typeof body?.sid === 'string' ? body.sid : details.sid;
  const d: OstErrorDetails = { ...details, ostCode, status, sid };
  if (status === 401 || status === 403) return new OstAuthError(message, d);
  if (status === 429) return new OstThrottledError(message, d);
  if (ostCode === undefined) {
    if (status >= 500) return new OstHttpError(message, d);
    if (status >= 200 && status < 300) return new OstProtocolError(`unreadable response body (HTTP ${status})`, d);
    return new OstProtocolError(message, d);
  }
  switch (ostCode) {
    case 0:
      return status >= 200 && status < 300 ? undefined : new OstHttpError(message, d);
    case 10001:
      return new OstInvalidRequestError(message, d);
    case 10002: case 10003: case 10004: case 10006: case 10007:
      return new OstServerError(message, d);
    case 10005:
      return new OstUploadExpiredError(message, d);
    case 11200: case 11201:
      return new OstQuotaError(message, d);
    case 11202: case 11203:
      return new OstThrottledError(message, d);
    default:
      return status >= 500 ? new OstHttpError(message, d) : new OstProtocolError(message, d);
  }
}

/** The byte source failed while reading (e.g. a ranged GET reset). Transient: the slice is re-read. */
export class SourceReadError extends OstError {
  static readonly errorName = 'SourceReadError';
  static readonly handling: ErrorHandling = 'retry';
  override readonly code = 'SOURCE_READ';
}
/** The source object changed or vanished mid-transfer (S3 412/404). Fatal: never complete with mixed bytes. */
export class SourceChangedError extends OstError {
  static readonly errorName = 'SourceChangedError';
  static readonly handling: ErrorHandling = 'fatal';
  override readonly code = 'SOURCE_CHANGED';
}

/** Every OST and byte-source error class, each declaring its handling (lib/core/error-handling.ts). */
export const OST_ERRORS: readonly DeclaredError[] = [
  OstInvalidRequestError, OstServerError, OstUploadExpiredError, OstAuthError, OstQuotaError, OstThrottledError,
  OstHttpError, OstProtocolError, OstCompleteUncertainError, OstUploadUncertainError, OstTlsError, TransportError,
  SourceReadError, SourceChangedError,
];

/** Names the state machine may list in Retry/Catch, from the declarations. Tests check the definition uses only known names. */
export const RETRYABLE_ERROR_NAMES = errorNames(OST_ERRORS, 'retry');
export const FATAL_ERROR_NAMES = errorNames(OST_ERRORS, 'fatal');
export const RESTART_ERROR_NAMES = errorNames(OST_ERRORS, 'restart');

/**
 * Outage-class errors: the gateway answered without OST's JSON (5xx, an HTML page) or not at all (refused, reset,
 * timeout). They say nothing about the file (unlike 10001, a refusal in OST's own words), so a file meeting them
 * waits within the outage budget, and the fleet counts them to pause admission (docs/admission.md, outages).
 */
export const OUTAGE_ERRORS: readonly DeclaredError[] = [OstHttpError, TransportError];
export const OUTAGE_ERROR_NAMES: readonly string[] = OUTAGE_ERRORS.map((c) => c.errorName);

/** True for an outage-class error, or an error (or a Catch's Error name) carrying one of their names. */
export function isOutage(e: unknown): boolean {
  const name = typeof e === 'string' ? e : e instanceof Error ? e.name : undefined;
  return name !== undefined && OUTAGE_ERROR_NAMES.includes(name);
}

/** The one place that decides what the OST client retries: the class's declared handling. */
export function isRetryable(e: unknown): boolean {
  return e instanceof OstError && handlingOf(e) === 'retry';
}
