// What Prepare tells of an object besides its size: its content type (as S3 stores it) and, for audio, the media
// facts of its head (lib/workflow/media.ts). One GetObject of at most MEDIA_PROBE_BYTES from the start, pinned like
// every other read (VersionId when immutable, If-Match on the planned ETag) and checked the same way: a changed
// object is SourceChangedError, a transient failure SourceReadError. The head is bounded; the object is never read whole.
import { PassThrough, type Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SourceChangedError, SourceReadError } from '../ost/errors';
import { describeMedia, MEDIA_PROBE_BYTES, type MediaFacts } from '../workflow/media';
import type { SourceObject } from '../workflow/state';
import { immutableVersionId, quoteEtag } from '../core/object-version';
import { mapS3Error, provenanceProblem } from './s3';

export interface ObjectDescription {
  /** The object's Content-Type, as S3 answers it (bounded); null when it has none. */
  contentType: string | null;
  /** Audio facts; absent when the head is not a format the parser knows. */
  media?: MediaFacts;
}

const MAX_CONTENT_TYPE = 200;

/** Up to `limit` bytes of a body, then the body is let go. */
async function readHead(body: Readable, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of body) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    parts.push(b.subarray(0, limit - n));
    n += Math.min(b.length, limit - n);
    if (n >= limit) break;
  }
  body.destroy();
  return Buffer.concat(parts, n);
}

export async function describeObject(s3: S3Client, object: SourceObject, probeBytes = MEDIA_PROBE_BYTES): Promise<ObjectDescription> {
  // An empty object has no byte range to ask for, and nothing to describe.
  if (object.size === 0) return { contentType: null };
  const end = Math.min(object.size, probeBytes);
  const versionId = immutableVersionId(object.versionId);
  const where = `GetObject s3://${object.bucket}/${object.key} bytes 0-${end - 1}`;
  let head: Buffer;
  let contentType: string | null;
  try {
    const res = await s3.send(new GetObjectCommand({
      Bucket: object.bucket,
      Key: object.key,
      Range: `bytes=0-${end - 1}`,
      ...(versionId ? { VersionId: versionId } : {}),
      ...(object.etag ? { IfMatch: quoteEtag(object.etag) } : {}),
    }));
    const body = res.Body as Readable | undefined;
    if (!body || typeof body[Symbol.asyncIterator] !== 'function') throw new SourceReadError(`${where}: no body stream`);
    const problem = provenanceProblem(res, { etag: object.etag, versionId, size: object.size, start: 0, end });
    if (problem) {
      body.destroy();
      throw new SourceChangedError(`${where}: ${problem}`);
    }
    contentType = typeof res.ContentType === 'string' && res.ContentType !== '' ? res.ContentType.replace(/[^\x20-\x7e]/g, '?').slice(0, MAX_CONTENT_TYPE) : null;
    head = await readHead(body, end);
  } catch (err) {
    throw mapS3Error(err, where);
  }
  if (head.length === 0) return { contentType };
  const stream = new PassThrough();
  stream.end(head);
  const media = await describeMedia(stream, object.size);
  return media ? { contentType, media } : { contentType };
}
