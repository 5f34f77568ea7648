// An S3 object version as a ByteSource: every open() is a ranged GetObject pinned to the version seen by Prepare
// (VersionId when the bucket is versioned, IfMatch on the ETag otherwise), streamed straight into the OST request.
// If the object changed or vanished (412, 404), the upload must not complete with mixed bytes: SourceChangedError
// (fatal). Transient read failures (5xx, throttling, resets, short bodies) are SourceReadError (retried).
import { Transform, Readable, type TransformCallback } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SourceChangedError, SourceReadError } from './ost/errors';
import type { ByteSource } from './ost/source';
import type { ExecutionInput, SourceObject } from './records';

interface AwsLikeError { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown }

const CHANGED_NAMES = new Set(['PreconditionFailed', 'NoSuchKey', 'NoSuchVersion', 'NotFound', 'InvalidRange']);
const TRANSIENT_NAMES = new Set([
  'SlowDown', 'InternalError', 'ServiceUnavailable', 'RequestTimeout', 'RequestTimeoutException', 'TimeoutError',
  'ThrottlingException', 'Throttling', 'RequestLimitExceeded', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED',
  'EAI_AGAIN', 'NetworkingError',
]);

/** Maps an S3 SDK error to SourceChangedError / SourceReadError; anything else (e.g. AccessDenied) is returned as is. */
export function mapS3Error(err: unknown, where: string): unknown {
  const e = (err ?? {}) as AwsLikeError;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? '';
  const code = e.code ?? '';
  const text = `${where}: ${name || 'Error'}${status ? ` (HTTP ${status})` : ''}${e.message ? `: ${e.message}` : ''}`;
  // The SDK sometimes reports a 412 as "UnknownError" (HEAD has no body): trust the status code.
  if (status === 412 || status === 404 || status === 416 || CHANGED_NAMES.has(name)) {
    return new SourceChangedError(`source object changed or is gone (${text})`, { status, cause: err });
  }
  if (name === 'AbortError') return err;
  if ((status !== undefined && (status >= 500 || status === 429 || status === 408)) || TRANSIENT_NAMES.has(name) || TRANSIENT_NAMES.has(code) || (status === undefined && err instanceof Error && !(e.$metadata))) {
    return new SourceReadError(`reading the source failed (${text})`, { status, cause: err });
  }
  return err;
}

/** HeadObject pinned like the reads: the size, ETag and version of exactly the object the event announced. */
export async function headSource(s3: S3Client, ref: ExecutionInput): Promise<SourceObject> {
  const pin = ref.versionId ? { VersionId: ref.versionId } : ref.etag ? { IfMatch: quoteEtag(ref.etag) } : {};
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key, ...pin }));
    return {
      bucket: ref.bucket,
      key: ref.key,
      versionId: head.VersionId ?? ref.versionId ?? null,
      etag: head.ETag ? unquoteEtag(head.ETag) : ref.etag ?? null,
      size: Number(head.ContentLength ?? 0),
    };
  } catch (err) {
    throw mapS3Error(err, `HeadObject s3://${ref.bucket}/${ref.key}`);
  }
}

export function unquoteEtag(etag: string): string {
  return etag.replace(/^"(.*)"$/, '$1');
}
export function quoteEtag(etag: string): string {
  return etag.startsWith('"') ? etag : `"${etag}"`;
}

/** Counts bytes and fails the stream with SourceReadError when the body is shorter or longer than asked for. */
class ExactLength extends Transform {
  #seen = 0;
  constructor(private readonly expected: number, private readonly where: string) { super(); }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.expected) return cb(new SourceReadError(`${this.where}: body longer than ${this.expected} bytes`));
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    if (this.#seen !== this.expected) return cb(new SourceReadError(`${this.where}: body ended after ${this.#seen} of ${this.expected} bytes`));
    cb();
  }
}

export class S3RangeSource implements ByteSource {
  readonly size: number;
  readonly name: string;

  constructor(private readonly s3: S3Client, readonly object: SourceObject) {
    this.size = object.size;
    this.name = object.key.split('/').pop() || 'file';
  }

  async open(start: number, end: number, signal?: AbortSignal): Promise<Readable> {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > this.size) {
      throw new RangeError(`invalid range [${start}, ${end}) of a ${this.size}-byte object`);
    }
    // An empty range cannot be expressed as a Range header (and suffix ranges are not used): nothing to read.
    if (end === start) return Readable.from([]);
    const { bucket, key, versionId, etag } = this.object;
    const where = `GetObject s3://${bucket}/${key} bytes ${start}-${end - 1}`;
    let body: Readable;
    try {
      const res = await this.s3.send(new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        Range: `bytes=${start}-${end - 1}`,
        ...(versionId ? { VersionId: versionId } : etag ? { IfMatch: quoteEtag(etag) } : {}),
      }), { abortSignal: signal });
      body = res.Body as Readable;
      if (!body || typeof (body as Readable).pipe !== 'function') throw new SourceReadError(`${where}: no body stream`);
      // A versioned read cannot drift; an unversioned one is pinned by IfMatch, but double-check the ETag.
      if (!versionId && etag && res.ETag && unquoteEtag(res.ETag) !== unquoteEtag(etag)) {
        body.destroy();
        throw new SourceChangedError(`${where}: ETag changed from ${etag} to ${res.ETag}`);
      }
    } catch (err) {
      throw mapS3Error(err, where);
    }
    const counted = new ExactLength(end - start, where);
    body.on('error', (err) => counted.destroy(mapS3Error(err, where) as Error));
    counted.on('close', () => { if (!body.destroyed) body.destroy(); });
    return body.pipe(counted);
  }
}
