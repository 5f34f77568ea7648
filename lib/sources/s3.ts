// An S3 object version as a ByteSource: every open() is a ranged GetObject pinned to the object Prepare planned
// (VersionId when it names an immutable version, and If-Match on the planned ETag always), streamed straight into
// the OST request, and its answer checked (ETag, version, Content-Range size) before a byte is used. If the object
// changed or vanished (412, 404, another ETag or size), the upload must not complete with mixed bytes:
// SourceChangedError (fatal). Transient read failures (5xx, throttling, resets, short bodies) are SourceReadError (retried).
import { Transform, Readable, type TransformCallback } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { immutableVersionId, quoteEtag, unquoteEtag } from '../core/object-version';
import { hasTransientAwsName, type AwsLikeError } from '../core/aws-errors';
import { SourceChangedError, SourceReadError } from '../ost/errors';
import type { ByteSource } from '../ost/source';
import type { ExecutionInput, SourceObject } from '../workflow/state';

const CHANGED_NAMES = new Set(['PreconditionFailed', 'NoSuchKey', 'NoSuchVersion', 'NotFound', 'InvalidRange']);

/** Maps an S3 SDK error to SourceChangedError / SourceReadError; anything else (e.g. AccessDenied) is returned as is. */
export function mapS3Error(err: unknown, where: string): unknown {
  // Already classified (e.g. the provenance check's SourceChangedError): never downgraded to a retried read error.
  if (err instanceof SourceChangedError || err instanceof SourceReadError) return err;
  const e = (err ?? {}) as AwsLikeError;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? '';
  const text = `${where}: ${name || 'Error'}${status ? ` (HTTP ${status})` : ''}${e.message ? `: ${e.message}` : ''}`;
  // The SDK sometimes reports a 412 as "UnknownError" (HEAD has no body): trust the status code.
  if (status === 412 || status === 404 || status === 416 || CHANGED_NAMES.has(name)) {
    return new SourceChangedError(`source object changed or is gone (${text})`, { status, cause: err });
  }
  if (name === 'AbortError') return err;
  if ((status !== undefined && (status >= 500 || status === 429 || status === 408)) || hasTransientAwsName(e) || (status === undefined && err instanceof Error && !(e.$metadata))) {
    return new SourceReadError(`reading the source failed (${text})`, { status, cause: err });
  }
  return err;
}

/**
 * HeadObject pinned like the reads (VersionId when it is immutable, and If-Match on the event's ETag whatever the
 * versioning state): the size, ETag and version of exactly the object the event announced. A HEAD that disagrees
 * with the event's ETag or version is SourceChangedError; its size is compared by checkEventSize (the caller plans
 * first, so an impossible size is a PlanError).
 */
export async function headSource(s3: S3Client, ref: ExecutionInput): Promise<SourceObject> {
  const versionId = immutableVersionId(ref.versionId);
  const etag = ref.etag ? unquoteEtag(ref.etag) : undefined;
  const where = `HeadObject s3://${ref.bucket}/${ref.key}`;
  let head;
  try {
    head = await s3.send(new HeadObjectCommand({
      Bucket: ref.bucket,
      Key: ref.key,
      ...(versionId ? { VersionId: versionId } : {}),
      ...(etag ? { IfMatch: quoteEtag(etag) } : {}),
    }));
  } catch (err) {
    throw mapS3Error(err, where);
  }
  const headVersion = immutableVersionId(head.VersionId);
  if (versionId && headVersion && headVersion !== versionId) {
    throw new SourceChangedError(`${where}: asked for version ${versionId}, S3 answered version ${headVersion}`);
  }
  const headEtag = head.ETag ? unquoteEtag(head.ETag) : undefined;
  if (etag && headEtag && headEtag !== etag) {
    throw new SourceChangedError(`${where}: the event announced ETag ${etag}, HeadObject reports ${headEtag}`);
  }
  const size = Number(head.ContentLength);
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new SourceReadError(`${where}: no usable Content-Length (${String(head.ContentLength).slice(0, 40)})`);
  }
  const finalEtag = headEtag ?? etag ?? null;
  if (!finalEtag) throw new SourceReadError(`${where}: no ETag to pin the reads to`);
  return { bucket: ref.bucket, key: ref.key, versionId: headVersion ?? versionId ?? null, etag: finalEtag, size };
}

/**
 * The event's size against HeadObject's: a mismatch is SourceChangedError — planning from HEAD could forward a
 * truncated (or padded) file under the event's name.
 */
export function checkEventSize(ref: Pick<ExecutionInput, 'bucket' | 'key' | 'size'>, object: Pick<SourceObject, 'size'>): void {
  if (typeof ref.size === 'number' && ref.size !== object.size) {
    throw new SourceChangedError(`HeadObject s3://${ref.bucket}/${ref.key}: the event announced ${ref.size} bytes, HeadObject reports ${object.size}`);
  }
}

/**
 * Why a ranged GetObject's answer is not provably the planned bytes of the planned object, or undefined: every
 * read is checked against the planned ETag (whatever the versioning state; a server that ignores If-Match is
 * caught here), the pinned version, and the object size and byte range in Content-Range.
 */
export function provenanceProblem(
  res: { ETag?: string; VersionId?: string; ContentRange?: string; ContentLength?: number },
  plan: { etag: string | null; versionId?: string; size: number; start: number; end: number },
): string | undefined {
  if (plan.etag) {
    if (!res.ETag) return `no ETag in the answer: cannot prove it is the planned object (ETag ${plan.etag})`;
    if (unquoteEtag(res.ETag) !== unquoteEtag(plan.etag)) return `ETag changed from ${plan.etag} to ${unquoteEtag(res.ETag)}`;
  }
  const version = immutableVersionId(res.VersionId);
  if (plan.versionId && version && version !== plan.versionId) return `version changed from ${plan.versionId} to ${version}`;
  if (res.ContentRange !== undefined) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.ContentRange.trim());
    if (!m) return `unreadable Content-Range ${JSON.stringify(res.ContentRange.slice(0, 60))}`;
    if (m[3] !== '*' && Number(m[3]) !== plan.size) return `object is ${m[3]} bytes, the plan was made for ${plan.size}`;
    if (Number(m[1]) !== plan.start || Number(m[2]) !== plan.end - 1) return `answered bytes ${m[1]}-${m[2]}, asked for ${plan.start}-${plan.end - 1}`;
  } else if (res.ContentLength !== undefined && res.ContentLength !== plan.end - plan.start) {
    return `answered ${res.ContentLength} bytes without a Content-Range, asked for ${plan.end - plan.start}`;
  }
  return undefined;
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
    const { bucket, key, etag } = this.object;
    const versionId = immutableVersionId(this.object.versionId);
    const where = `GetObject s3://${bucket}/${key} bytes ${start}-${end - 1}`;
    let body: Readable;
    try {
      const res = await this.s3.send(new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        Range: `bytes=${start}-${end - 1}`,
        // Both pins: a version id alone trusts the caller's id, an ETag alone trusts the key's current object.
        ...(versionId ? { VersionId: versionId } : {}),
        ...(etag ? { IfMatch: quoteEtag(etag) } : {}),
      }), { abortSignal: signal });
      body = res.Body as Readable;
      if (!body || typeof (body as Readable).pipe !== 'function') throw new SourceReadError(`${where}: no body stream`);
      const problem = provenanceProblem(res, { etag, versionId, size: this.size, start, end });
      if (problem) {
        body.destroy();
        throw new SourceChangedError(`${where}: ${problem}`);
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
