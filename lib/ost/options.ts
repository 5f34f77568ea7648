// The OST client's options and call options: what a caller (the functions, through lib/config/ost-options.ts, and the
// command line) hands the client. Plain data: the client reads no environment.
import { ConfigError } from '../core/errors';
import type { Log } from '../core/log';
import type { ResolveAll } from './endpoint';
import type { RetryPolicy } from './retry';
import { hasControlCharacters } from '../core/text';

/**
 * What the `digest` header of a streamed multipart call (upload, slice) covers.
 * - `empty` (default): the digest of the empty string, as the vendor's Python demo sends. The gateway signs the
 *   digest header, and the payload is read once.
 * - `body`: the digest of the real body. The payload is read twice from the source: a first pass to hash it,
 *   a second to send it (the source is re-opened, never buffered).
 * JSON calls (init, complete, cancel) always digest their real body.
 */
export type MultipartDigest = 'empty' | 'body';

export interface OstTimeouts {
  /** TCP + TLS connect. Default 10 s. */
  connectMs?: number;
  /** From the end of the request body (or the last backpressured write) to the response headers. Default 60 s. */
  headersMs?: number;
  /** Idle time between response body chunks. Default 60 s. */
  bodyMs?: number;
  /**
   * Happy-eyeballs per-address attempt. Node's default of 250 ms is shorter than one round trip from many AWS
   * regions to the service in China, which makes every address "time out" in turn; 1 s leaves room for a slow
   * handshake while still falling back from a dead IPv6 route quickly.
   */
  happyEyeballsAttemptMs?: number;
}

export const DEFAULT_TIMEOUTS: Required<OstTimeouts> = { connectMs: 10_000, headersMs: 60_000, bodyMs: 60_000, happyEyeballsAttemptMs: 1_000 };

export interface OstClientOptions {
  /** Base URL. https is required except for loopback hosts. */
  endpoint: string;
  appId: string;
  apiKey: string;
  apiSecret: string;
  /** Sent as cloud_id on upload and init when set ("0" = public cloud). */
  cloudId?: string;
  multipartDigest?: MultipartDigest;
  retry?: Partial<RetryPolicy>;
  timeouts?: OstTimeouts;
  /** Keep-alive connections to the endpoint. Default 8. */
  connections?: number;
  log?: Log;
  /** Clock for the date header (tests). */
  now?: () => Date;
  /** Name resolution of an http loopback name (tests). Default dns.lookup. */
  resolveAll?: ResolveAll;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Called before each retry of this call. */
  onRetry?: (error: unknown, failures: number, delayMs: number) => void;
}

export interface PayloadCallOptions extends CallOptions {
  /** Payload bytes read for sending by the current attempt (restarts from 0 on a retry). */
  onBytes?: (attemptBytes: number) => void;
}

export interface ByteRange { start: number; end: number }

/** A credential or id goes into a header or a form field: a control character (a stray newline) is refused. */
export function credentialValue(name: string, value: string): string {
  if (hasControlCharacters(value)) throw new ConfigError(name, 'contains a control character (a line break or similar); check how it was stored');
  return value;
}
