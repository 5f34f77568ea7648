// The middleware run in front of s3rver's router in the embedded S3 (local/aws/s3.ts): ListObjectsV2 answered here,
// the s3rver 3.7 gaps (s3rverFixes), and versioning with reads from immutable version files (versionedObjects).
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, rename } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { parseVersioningStatus, requestVersion, versioningXml, type VersionIndex, type S3rverFsStore, type StoredVersion } from './s3-versions';
import { unquoteEtag } from '../../lib/core/object-version';

// s3rver ships no types; this is the part of it used here.
export interface S3rverStore {
  getMetadata(bucket: string, key: string): Promise<Record<string, string | number>>;
  getBucket(bucket: string): Promise<unknown>;
  listObjects(bucket: string, options: { prefix?: string; delimiter?: string; startAfter?: string; maxKeys?: number }): Promise<{
    objects: Array<{ key: string; lastModifiedDate: Date; metadata: Record<string, string>; size: number }>;
    commonPrefixes: string[];
    isTruncated: boolean;
  }>;
  getResourcePath(bucket: string, key: string, resource: string): string;
}
export interface KoaContext {
  req: IncomingMessage;
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | string[] | undefined>;
  status: number;
  body: unknown;
  set(name: string, value: string): void;
  type: string;
  length: number;
}
export type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

const SUBRESOURCES = ['acl', 'tagging', 'uploads', 'uploadId', 'legal-hold', 'retention', 'select', 'torrent', 'website', 'cors', 'versioning', 'location'];

function xmlError(ctx: KoaContext, status: number, code: string, message: string, extra: Record<string, string> = {}): void {
  ctx.status = status;
  ctx.type = 'application/xml';
  const fields = Object.entries(extra).map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`).join('');
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message>${fields}</Error>`;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}

/** Parses one `bytes=` range against a size, as S3 does: [start, end] inclusive, undefined if unsatisfiable. */
export function resolveRange(header: string, size: number): { start: number; end: number } | 'ignore' | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'ignore'; // S3 ignores a malformed or multi-range header
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return undefined;
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return 'ignore';
  if (start >= size) return undefined;
  return { start, end };
}

const TOKEN_TAG = 'ost-forwarder-local:';

/**
 * ListObjectsV2, answered here: s3rver makes its continuation tokens with DES, which OpenSSL 3 (Node 17+) refuses,
 * so any listing of more than one page failed with InternalError. The token here is the last key, base64url.
 */
async function listObjectsV2(ctx: KoaContext, store: S3rverStore, bucket: string): Promise<void> {
  const q = (name: string) => { const v = ctx.query[name]; return Array.isArray(v) ? v[0] : v; };
  const maxKeysText = q('max-keys');
  if (maxKeysText !== undefined && !/^\d+$/.test(maxKeysText)) return xmlError(ctx, 400, 'InvalidArgument', 'Provided max-keys not an integer or within integer range', { ArgumentName: 'max-keys', ArgumentValue: maxKeysText });
  const maxKeys = Math.min(1000, maxKeysText === undefined ? 1000 : Number(maxKeysText));
  const prefix = q('prefix') ?? '';
  const delimiter = q('delimiter') ?? '';
  const token = q('continuation-token');
  let startAfter = q('start-after') ?? '';
  if (token !== undefined) {
    const decoded = Buffer.from(token, 'base64url').toString('utf8');
    if (!decoded.startsWith(TOKEN_TAG)) return xmlError(ctx, 400, 'InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
    startAfter = decoded.slice(TOKEN_TAG.length);
  }
  if (!(await store.getBucket(bucket))) return xmlError(ctx, 404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
  const result = maxKeys === 0 ? { objects: [], commonPrefixes: [], isTruncated: false } : await store.listObjects(bucket, { prefix, delimiter, startAfter, maxKeys });
  const last = [result.objects[result.objects.length - 1]?.key ?? '', ...result.commonPrefixes].sort().pop() ?? '';
  const el = (name: string, v: string | number | undefined) => (v === undefined ? '' : `<${name}>${escapeXml(String(v))}</${name}>`);
  const contents = result.objects.map((o) => `<Contents>${el('Key', o.key)}${el('LastModified', o.lastModifiedDate.toISOString())}${el('ETag', o.metadata.etag)}${el('Size', o.size)}${el('StorageClass', o.metadata['x-amz-storage-class'] ?? 'STANDARD')}</Contents>`).join('');
  const prefixes = result.commonPrefixes.map((p) => `<CommonPrefixes>${el('Prefix', p)}</CommonPrefixes>`).join('');
  ctx.status = 200;
  ctx.type = 'application/xml';
  ctx.body = '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    + el('Name', bucket) + `<Prefix>${escapeXml(prefix)}</Prefix>` + (token === undefined && startAfter ? el('StartAfter', startAfter) : '')
    + el('ContinuationToken', token)
    + (result.isTruncated ? el('NextContinuationToken', Buffer.from(TOKEN_TAG + last, 'utf8').toString('base64url')) : '')
    + el('KeyCount', result.objects.length + result.commonPrefixes.length) + el('MaxKeys', maxKeysText ?? 1000)
    + (delimiter ? el('Delimiter', delimiter) : '') + `<IsTruncated>${result.isTruncated}</IsTruncated>` + contents + prefixes
    + '</ListBucketResult>';
}

/**
 * Bucket versioning and object reads from the version index (local/aws/s3-versions.ts): PUT/GET ?versioning, the
 * x-amz-version-id of writes and reads, GET/HEAD ?versionId=, DELETE ?versionId=, and GET/HEAD of every indexed
 * object (If-Match, If-None-Match, Range) from its immutable file. Everything else goes on to s3rver.
 */
export function versionedObjects(index: VersionIndex, store: S3rverFsStore): KoaMiddleware {
  return async (ctx, next) => {
    const bucketOnly = /^\/([^/]+)\/?$/.exec(ctx.path);
    if (bucketOnly && 'versioning' in ctx.query) {
      const bucket = decodeURIComponent(bucketOnly[1]!);
      if (ctx.method === 'GET') {
        ctx.status = 200;
        ctx.type = 'application/xml';
        ctx.body = versioningXml(index.status(bucket));
        return;
      }
      if (ctx.method === 'PUT') {
        const chunks: Buffer[] = [];
        for await (const c of ctx.req) chunks.push(c as Buffer);
        const status = parseVersioningStatus(Buffer.concat(chunks).toString('utf8'));
        if (!status) return xmlError(ctx, 400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
        index.setStatus(bucket, status);
        ctx.status = 200;
        ctx.body = '';
        return;
      }
    }
    const m = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
    if (!m || SUBRESOURCES.some((r) => r !== 'uploadId' && r in ctx.query)) return next();
    const bucket = decodeURIComponent(m[1]!);
    const key = decodeURIComponent(m[2]!);
    const versionId = typeof ctx.query.versionId === 'string' ? ctx.query.versionId : undefined;
    if (ctx.method === 'PUT' || ctx.method === 'POST') {
      const holder: { version?: StoredVersion } = {};
      await requestVersion.run(holder, next);
      if (holder.version && index.versioned(bucket)) ctx.set('x-amz-version-id', holder.version.versionId);
      return;
    }
    if (ctx.method === 'DELETE' && versionId !== undefined && !('uploadId' in ctx.query)) {
      const before = index.current(bucket, key);
      const after = index.remove(bucket, key, versionId);
      if (after !== before) {
        // The current version went: s3rver's file follows the index (the previous version, or nothing).
        const objectPath = store.getResourcePath(bucket, key, 'object');
        if (after) {
          const tmp = `${objectPath}.${randomUUID()}.tmp`;
          await link(after.path, tmp);
          await rename(tmp, objectPath);
          await store.putMetadata(bucket, key, after.metadata, unquoteEtag(after.etag));
        } else {
          await store.deleteObject(bucket, key);
        }
      }
      ctx.status = 204;
      ctx.set('x-amz-version-id', versionId);
      ctx.body = null;
      return;
    }
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || 'uploadId' in ctx.query) return next();
    if (versionId === undefined && !index.knows(bucket, key)) return next(); // written before the index existed
    const version = versionId !== undefined ? index.find(bucket, key, versionId) : index.current(bucket, key);
    if (!version) {
      if (versionId !== undefined) return xmlError(ctx, 404, 'NoSuchVersion', 'The specified version does not exist.', { Key: key, VersionId: versionId });
      return xmlError(ctx, 404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
    }
    serveVersion(ctx, version, index.versioned(bucket));
  };
}

function serveVersion(ctx: KoaContext, v: StoredVersion, versioned: boolean): void {
  const ifMatch = header(ctx, 'if-match');
  const bare = unquoteEtag(v.etag);
  if (ifMatch !== undefined && ifMatch !== '*' && !ifMatch.split(',').some((t) => unquoteEtag(t.trim()) === bare)) {
    return xmlError(ctx, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
  }
  const ifNoneMatch = header(ctx, 'if-none-match');
  const notModified = ifNoneMatch !== undefined && (ifNoneMatch === '*' || ifNoneMatch.split(',').some((t) => unquoteEtag(t.trim()) === bare));
  const range = header(ctx, 'range');
  const r = notModified || range === undefined ? 'ignore' : resolveRange(range, v.size);
  if (r === undefined) {
    return xmlError(ctx, 416, 'InvalidRange', 'The requested range is not satisfiable', { RangeRequested: range!, ActualObjectSize: String(v.size) });
  }
  const span = r === 'ignore' ? { start: 0, end: v.size - 1 } : r;
  const length = span.end - span.start + 1;
  // koa: the body first (a null body resets the status and drops the entity headers), then the headers.
  ctx.body = notModified || ctx.method === 'HEAD' || length <= 0 ? null : createReadStream(v.path, span);
  for (const [k, val] of Object.entries(v.metadata)) ctx.set(k, val);
  ctx.set('ETag', v.etag);
  ctx.set('Last-Modified', v.lastModified.toUTCString());
  ctx.set('Accept-Ranges', 'bytes');
  if (versioned) ctx.set('x-amz-version-id', v.versionId);
  if (notModified) { ctx.status = 304; return; }
  if (r !== 'ignore') ctx.set('Content-Range', `bytes ${r.start}-${r.end}/${v.size}`);
  ctx.status = r === 'ignore' ? 200 : 206;
  ctx.length = Math.max(0, length);
}

/**
 * s3rver 3.7 gaps fixed in front of it: ListObjectsV2 beyond one page (listObjectsV2 above); keys over 1,024 bytes are accepted (S3: KeyTooLongError); If-Match and
 * PUT If-None-Match: * are ignored (S3 answers 412), ranges ending at byte 0 and
 * suffix ranges ("bytes=-N") return the wrong bytes, and AbortMultipartUpload answers 405.
 */
export function s3rverFixes(store: S3rverStore): KoaMiddleware {
  return async (ctx, next) => {
    const list = /^\/([^/]+)\/?$/.exec(ctx.path);
    if (list && ctx.method === 'GET' && ctx.query['list-type'] === '2' && !SUBRESOURCES.some((r) => r in ctx.query)) {
      return listObjectsV2(ctx, store, decodeURIComponent(list[1]!));
    }
    const m = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
    if (!m || SUBRESOURCES.some((r) => r !== 'uploadId' && r in ctx.query)) return next();
    const bucket = decodeURIComponent(m[1]!);
    const key = decodeURIComponent(m[2]!);
    // s3rver stores a key as a file path: a '.' or '..' segment would resolve outside the bucket's directory
    if (key.split('/').some((seg) => seg === '.' || seg === '..')) {
      return xmlError(ctx, 400, 'InvalidArgument', "the embedded S3 stores keys as file paths: a key must not have a '.' or '..' segment", {});
    }
    if (ctx.method === 'DELETE' && 'uploadId' in ctx.query) {
      ctx.status = 204;
      ctx.body = null;
      return;
    }
    if ((ctx.method === 'PUT' || ctx.method === 'POST') && Buffer.byteLength(key) > 1024 && !('uploadId' in ctx.query)) {
      return xmlError(ctx, 400, 'KeyTooLongError', 'Your key is too long', { MaxSizeAllowed: '1024', Size: String(Buffer.byteLength(key)) });
    }
    if (ctx.method === 'PUT' && header(ctx, 'if-none-match') === '*' && !('uploadId' in ctx.query)) {
      // (the version index's answer first: a key being overwritten is never "missing" in between)
      // conditional write (S3 since 2024): refuse to overwrite an existing object
      const exists = await store.getMetadata(bucket, key).then(() => true, () => false);
      if (exists) return xmlError(ctx, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-None-Match' });
      return next();
    }
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || 'uploadId' in ctx.query) return next();
    const ifMatch = header(ctx, 'if-match');
    const range = header(ctx, 'range');
    if (ifMatch === undefined && range === undefined) return next();
    let meta: Record<string, string | number>;
    try {
      meta = await store.getMetadata(bucket, key);
    } catch {
      return next(); // missing object: s3rver answers NoSuchKey
    }
    const etag = String(meta.etag);
    if (ifMatch !== undefined && ifMatch !== '*' && !ifMatch.split(',').some((t) => unquoteEtag(t.trim()) === unquoteEtag(etag))) {
      return xmlError(ctx, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
    }
    if (range === undefined) return next();
    const size = Number(meta['content-length']);
    const r = resolveRange(range, size);
    if (r === 'ignore') return next();
    if (r === undefined) {
      return xmlError(ctx, 416, 'InvalidRange', 'The requested range is not satisfiable', { RangeRequested: range, ActualObjectSize: String(size) });
    }
    for (const [k, v] of Object.entries(meta)) {
      if (k === 'content-length') continue;
      ctx.set(k.replace(/(^|-)([a-z])/g, (_s, d: string, c: string) => d + c.toUpperCase()), String(v));
    }
    ctx.set('Accept-Ranges', 'bytes');
    ctx.set('Content-Range', `bytes ${r.start}-${r.end}/${size}`);
    ctx.status = 206;
    ctx.length = r.end - r.start + 1;
    ctx.body = ctx.method === 'HEAD' ? null : createReadStream(store.getResourcePath(bucket, key, 'object'), r);
    if (ctx.method === 'HEAD') ctx.length = r.end - r.start + 1;
  };
}

function header(ctx: KoaContext, name: string): string | undefined {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}
