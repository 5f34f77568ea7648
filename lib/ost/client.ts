// The OST client: the five calls of the upload API over one keep-alive undici Pool, each call signed, retried
// per retry.ts, and mapped to the error classes of errors.ts. Payloads stream from a ByteSource and are re-opened
// for every attempt; nothing is buffered but the small JSON bodies and responses.
import { randomUUID } from 'node:crypto';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import pLimit from 'p-limit';
import { Pool } from 'undici';
import { ConfigError } from '../core/errors';
import {
  errorFromResponse,
  OST_PATHS,
  OstError,
  OstErrorDetails,
  OstCall,
  OstCompleteUncertainError,
  OstUploadUncertainError,
  OstHttpError,
  OstProtocolError,
  OstTlsError,
  OstUploadExpiredError,
  SourceReadError,
  TransportError,
} from './errors';
import { multipartBody, multipartEnvelope, MultipartEnvelope } from './multipart';
import { retryPolicy, RetryPolicy, withRetry } from './retry';
import { redactValues } from './redaction';
import { bodyDigest, digestHeader, EMPTY_DIGEST, httpDate, signRequest } from './signing';
import { bounded, quote } from '../core/text';
import { ANSWER_TIMEOUT_CODES, describeCause, errorCode, TLS_CODES, TRANSPORT_CODES } from './transport-errors';
import { MAX_RESPONSE_BYTES, MAX_SID_CHARS, parseJson, readLimited, tokenProblem, urlProblem, type OstResponseBody } from './answers';
import type { ByteSource } from './source';

import { DEFAULT_ENDPOINT, isLoopbackAddress, LoopbackResolutionError, loopbackOnlyLookup, parseEndpoint, type ResolveAll } from './endpoint';

// The endpoint rules live in endpoint.ts (no undici: lib/config/settings.ts reads them in every handler).
export { DEFAULT_ENDPOINT, isLoopbackAddress, isLoopbackHost, LoopbackResolutionError, loopbackOnlyLookup, parseEndpoint, type ResolveAll } from './endpoint';

import { credentialValue, DEFAULT_TIMEOUTS, type ByteRange, type CallOptions, type MultipartDigest, type OstClientOptions, type PayloadCallOptions } from './options';
import type { Log } from '../core/log';

export { credentialValue, type ByteRange, type CallOptions, type MultipartDigest, type OstClientOptions, type OstTimeouts, type PayloadCallOptions } from './options';

interface Prepared {
  contentType: string;
  contentLength: number;
  digest: string;
  body: string | AsyncIterable<Buffer | Uint8Array>;
}

/** Passes the chunks through and calls `done` once the last one was taken (the body was written out). */
async function* whenDone<T>(chunks: AsyncIterable<T>, done: () => void): AsyncGenerator<T> {
  yield* chunks;
  done();
}

export class OstClient {
  readonly endpoint: string;
  readonly multipartDigest: MultipartDigest;
  readonly #url: URL;
  readonly #basePath: string;
  readonly #appId: string;
  readonly #apiKey: string;
  readonly #apiSecret: string;
  readonly #cloudId?: string;
  readonly #retry: Required<RetryPolicy>;
  readonly #pool: Pool;
  // One slot per connection, taken before a payload's source is opened: a request queued inside the pool would
  // hold its source open unread (an S3 GET idling until its own timeout).
  readonly #payloadSlots: ReturnType<typeof pLimit>;
  readonly #log?: Log;
  readonly #now: () => Date;

  constructor(options: OstClientOptions) {
    this.#url = parseEndpoint(options.endpoint);
    this.endpoint = this.#url.origin + this.#url.pathname.replace(/\/+$/, '');
    this.#basePath = this.#url.pathname.replace(/\/+$/, '');
    for (const [name, value] of [['OST_APP_ID', options.appId], ['OST_API_KEY', options.apiKey], ['OST_API_SECRET', options.apiSecret]] as const) {
      if (typeof value !== 'string' || value.trim() === '') throw new ConfigError(name, 'is required');
      credentialValue(name, value);
    }
    if (options.cloudId !== undefined) credentialValue('OST_CLOUD_ID', options.cloudId);
    this.#appId = options.appId;
    this.#apiKey = options.apiKey;
    this.#apiSecret = options.apiSecret;
    this.#cloudId = options.cloudId;
    this.multipartDigest = options.multipartDigest ?? 'empty';
    if (this.multipartDigest !== 'empty' && this.multipartDigest !== 'body') {
      throw new ConfigError('multipartDigest', `must be 'empty' or 'body', got ${JSON.stringify(this.multipartDigest)}`);
    }
    this.#retry = retryPolicy(options.retry);
    this.#log = options.log;
    this.#now = options.now ?? (() => new Date());
    const t = { ...DEFAULT_TIMEOUTS, ...Object.fromEntries(Object.entries(options.timeouts ?? {}).filter(([, v]) => v !== undefined)) };
    const connections = options.connections ?? 8;
    this.#payloadSlots = pLimit(connections);
    this.#pool = new Pool(this.#url.origin, {
      connections,
      headersTimeout: t.headersMs,
      bodyTimeout: t.bodyMs,
      connect: {
        // plain http is allowed only to loopback: a name must resolve to loopback addresses alone, when connecting
        ...(this.#url.protocol === 'http:' && !isLoopbackAddress(this.#url.hostname) ? { lookup: loopbackOnlyLookup(options.resolveAll) } : {}),
        timeout: t.connectMs,
        autoSelectFamily: true,
        autoSelectFamilyAttemptTimeout: t.happyEyeballsAttemptMs,
      },
    });
  }

  /**
   * Simple upload of the whole source: POST /file/upload. The call has no idempotency key, so a request whose
   * whole body was written and whose answer then timed out is OstUploadUncertainError (fatal), never re-sent: the
   * service may have stored it, and a second send would forward the file twice.
   */
  async upload(source: ByteSource, opts: PayloadCallOptions = {}): Promise<{ url: string; sid: string }> {
    const fields = this.#cloudId !== undefined ? [['cloud_id', this.#cloudId] as const] : [];
    const res = await this.#payloadCall('upload', source, { start: 0, end: source.size }, fields, {}, opts, { uncertainAfterBody: true });
    return { url: this.#stringData(res, 'url', 'upload', {}), sid: res.sid };
  }

  /** Starts a multipart upload: POST /file/mpupload/init. */
  async init(opts: CallOptions = {}): Promise<{ uploadId: string; sid: string }> {
    const body: Record<string, string> = {};
    if (this.#cloudId !== undefined) body.cloud_id = this.#cloudId;
    const res = await this.#jsonCall('init', body, {}, opts);
    return { uploadId: this.#stringData(res, 'upload_id', 'init', {}), sid: res.sid };
  }

  /** Uploads slice `sliceId` (1-based) holding bytes [range.start, range.end) of the source. */
  async uploadSlice(uploadId: string, sliceId: number, source: ByteSource, range: ByteRange, opts: PayloadCallOptions = {}): Promise<{ sid: string }> {
    if (!Number.isInteger(sliceId) || sliceId < 1) throw new RangeError(`slice id must be a positive integer, got ${sliceId}`);
    const fields = [['upload_id', uploadId], ['slice_id', String(sliceId)]] as const;
    const res = await this.#payloadCall('slice', source, range, fields, { uploadId, sliceId }, opts);
    return { sid: res.sid };
  }

  /**
   * Assembles the slices: POST /file/mpupload/complete. `previousAttempt` says an earlier complete of this upload
   * (another invocation) may have reached OST. A 10005 after an attempt whose answer was lost (timeout, reset, 5xx)
   * is OstCompleteUncertainError, not OstUploadExpiredError: the upload may be complete, and starting again would
   * forward the file twice.
   */
  async complete(uploadId: string, opts: CallOptions & { previousAttempt?: boolean } = {}): Promise<{ url: string; sid: string }> {
    let uncertain = opts.previousAttempt === true;
    const onRetry = (err: unknown, failures: number, delayMs: number) => {
      if (err instanceof TransportError || err instanceof OstHttpError) uncertain = true;
      opts.onRetry?.(err, failures, delayMs);
    };
    try {
      const res = await this.#jsonCall('complete', { upload_id: uploadId }, { uploadId }, { ...opts, onRetry });
      return { url: this.#stringData(res, 'url', 'complete', { uploadId }), sid: res.sid };
    } catch (err) {
      if (err instanceof OstUploadExpiredError && uncertain) {
        throw new OstCompleteUncertainError(
          `upload_id unknown (${err.ostCode}: ${err.message}) after an earlier complete attempt whose answer was lost: the upload may have completed; not starting again`,
          { ostCode: err.ostCode, status: err.status, sid: err.sid, call: 'complete', endpoint: err.endpoint, requestId: err.requestId, uploadId, cause: err },
        );
      }
      throw err;
    }
  }

  /** Abandons a multipart upload: POST /file/mpupload/cancel. */
  async cancel(uploadId: string, opts: CallOptions = {}): Promise<{ sid: string }> {
    const res = await this.#jsonCall('cancel', { upload_id: uploadId }, { uploadId }, opts);
    return { sid: res.sid };
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }

  // --- internals -------------------------------------------------------------------------------------------

  #stringData(res: { data: unknown; sid: string }, key: string, call: OstCall, details: OstErrorDetails): string {
    const value = res.data && typeof res.data === 'object' ? (res.data as Record<string, unknown>)[key] : undefined;
    const fail = (problem: string) =>
      new OstProtocolError(`response data.${key} ${problem}`, { ...details, call, sid: res.sid, endpoint: this.endpoint });
    if (typeof value !== 'string' || value === '') throw fail(value === undefined ? 'is missing' : 'is not a non-empty string');
    const problem = key === 'url' ? urlProblem(value) : tokenProblem(value);
    if (problem) throw fail(`${problem}: ${quote(bounded(value, 120))}`);
    return value;
  }

  #jsonCall(call: OstCall, fields: Record<string, string>, details: OstErrorDetails, opts: CallOptions) {
    return withRetry(this.#retry, async () => {
      const requestId = newRequestId();
      const body = JSON.stringify({ request_id: requestId, app_id: this.#appId, ...fields });
      const prepared: Prepared = {
        contentType: 'application/json',
        contentLength: Buffer.byteLength(body),
        digest: bodyDigest(body),
        body,
      };
      return this.#send(call, requestId, prepared, details, opts.signal);
    }, this.#retryHooks(call, details, opts));
  }

  #payloadCall(
    call: 'upload' | 'slice',
    source: ByteSource,
    range: ByteRange,
    fields: ReadonlyArray<readonly [string, string]>,
    details: OstErrorDetails,
    opts: PayloadCallOptions,
    { uncertainAfterBody = false } = {},
  ) {
    if (!Number.isSafeInteger(range.start) || !Number.isSafeInteger(range.end) || range.start < 0 || range.end < range.start || range.end > source.size) {
      throw new RangeError(`invalid byte range [${range.start}, ${range.end}) of a ${source.size}-byte source`);
    }
    return withRetry(this.#retry, () => this.#payloadSlots(async () => {
      opts.signal?.throwIfAborted();
      const requestId = newRequestId();
      const envelope = multipartEnvelope(
        [['request_id', requestId], ['app_id', this.#appId], ...fields],
        { field: 'data', filename: source.name, size: range.end - range.start },
      );
      const digest = this.multipartDigest === 'body'
        ? await this.#hashBody(envelope, source, range, opts.signal, { ...details, call, requestId })
        : EMPTY_DIGEST;
      const payload = await this.#openSource(source, range, opts.signal, { ...details, call, requestId });
      opts.onBytes?.(0);
      let bodyWritten = false;
      const prepared: Prepared = {
        contentType: envelope.contentType,
        contentLength: envelope.contentLength,
        digest,
        body: whenDone(multipartBody(envelope, payload, opts.onBytes), () => { bodyWritten = true; }),
      };
      try {
        return await this.#send(call, requestId, prepared, details, opts.signal);
      } catch (err) {
        // A timeout after the whole body was written: the service had the file and may have stored it. (A reset
        // is taken as the request not having been taken, and re-sent: resets come from connections dropped
        // mid-transfer far more often than after a complete request.)
        if (uncertainAfterBody && bodyWritten && err instanceof TransportError && ANSWER_TIMEOUT_CODES.has(errorCode(err.cause) ?? '')) {
          throw new OstUploadUncertainError(
            `the whole body was sent but no answer came (${err.message}): the file may be at OST already; not sending it again`,
            { ...details, call, requestId, endpoint: this.endpoint, cause: err },
          );
        }
        throw err;
      } finally {
        payload.destroy();
      }
    }), this.#retryHooks(call, details, opts));
  }

  async #openSource(source: ByteSource, range: ByteRange, signal: AbortSignal | undefined, details: OstErrorDetails) {
    try {
      const stream = await source.open(range.start, range.end, signal);
      // The body iterator reports stream errors; this listener only keeps an error raised before the iterator
      // starts (e.g. the source honouring an abort while the request is refused) from becoming uncaught.
      stream.on('error', () => {});
      return stream;
    } catch (err) {
      if (err instanceof OstError || signal?.aborted) throw err;
      throw new SourceReadError(`opening the source failed: ${describeCause(err)}`, { ...details, endpoint: this.endpoint, cause: err });
    }
  }

  /** First pass of the `body` digest policy: hash the exact body that the second pass will send. */
  async #hashBody(envelope: MultipartEnvelope, source: ByteSource, range: ByteRange, signal: AbortSignal | undefined, details: OstErrorDetails): Promise<string> {
    const payload = await this.#openSource(source, range, signal, details);
    const hash = createHash('sha256');
    try {
      for await (const chunk of multipartBody(envelope, payload)) hash.update(chunk);
    } catch (err) {
      if (err instanceof OstError) throw withDetails(err, { ...details, endpoint: this.endpoint });
      throw err;
    } finally {
      payload.destroy();
    }
    return digestHeader(hash.digest());
  }

  #retryHooks(call: OstCall, details: OstErrorDetails, opts: CallOptions) {
    return {
      signal: opts.signal,
      onRetry: (err: unknown, failures: number, delayMs: number) => {
        this.#log?.warn('ost call failed, retrying', {
          call, uploadId: details.uploadId, sliceId: details.sliceId, attempt: failures, delayMs,
          error: err instanceof OstError ? err.describe() : describeCause(err),
        });
        opts.onRetry?.(err, failures, delayMs);
      },
    };
  }

  async #send(call: OstCall, requestId: string, prepared: Prepared, extra: OstErrorDetails, signal?: AbortSignal) {
    const path = this.#basePath + OST_PATHS[call];
    const host = this.#url.host;
    const date = httpDate(this.#now());
    const { authorization } = signRequest({ host, path, date, digest: prepared.digest, apiKey: this.#apiKey, apiSecret: this.#apiSecret });
    const details: OstErrorDetails = { ...extra, call, requestId, endpoint: this.endpoint };
    const started = Date.now();
    let status: number;
    let parsed: OstResponseBody | undefined;
    try {
      const res = await this.#pool.request({
        path,
        method: 'POST',
        headers: {
          host,
          date,
          digest: prepared.digest,
          authorization,
          'content-type': prepared.contentType,
          'content-length': String(prepared.contentLength),
          accept: 'application/json',
        },
        // undici accepts async iterables as bodies (documented), though its typings list only Readable.
        body: prepared.body as string | Readable,
        signal,
      });
      status = res.statusCode;
      parsed = parseJson(await readLimited(res.body, MAX_RESPONSE_BYTES));
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      if (err instanceof OstError) throw withDetails(err, details);
      if (err instanceof LoopbackResolutionError) throw new ConfigError('OST_ENDPOINT', err.message.replace(/^OST_ENDPOINT: /, ''));
      const code = errorCode(err);
      if (code && TLS_CODES.test(code)) {
        throw new OstTlsError(`TLS with ${this.#url.host} failed: ${describeCause(err)}`, { ...details, cause: err });
      }
      if (code && TRANSPORT_CODES.has(code)) {
        throw new TransportError(`${call} to ${this.#url.host} failed: ${describeCause(err)}`, { ...details, cause: err });
      }
      throw err;
    }
    // An answer may echo the request (a gateway quoting the authorization header): no secret leaves the client.
    if (parsed) {
      const secrets = [this.#apiSecret, this.#apiKey, authorization];
      for (const k of ['message', 'sid'] as const) {
        if (typeof parsed[k] === 'string') parsed[k] = redactValues(parsed[k] as string, secrets);
      }
    }
    const sid = typeof parsed?.sid === 'string' ? bounded(parsed.sid, MAX_SID_CHARS) : undefined;
    const error = errorFromResponse(status, parsed, details);
    this.#log?.debug('ost call', {
      call, requestId, uploadId: extra.uploadId, sliceId: extra.sliceId, status, ostCode: parsed?.code, sid,
      ms: Date.now() - started,
    });
    if (error) throw error;
    return { sid: sid ?? '', data: parsed?.data };
  }
}

/** A unique request id per request (the vendor demo's minute timestamp is not unique). */
export function newRequestId(): string {
  return randomUUID().replace(/-/g, '');
}

/** Fills in call context on an error raised below the client (e.g. SourceReadError from the body stream). */
function withDetails(err: OstError, details: OstErrorDetails): OstError {
  const target = err as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(details)) {
    if (k !== 'cause' && v !== undefined && target[k] === undefined) {
      target[k] = v;
    }
  }
  return err;
}
