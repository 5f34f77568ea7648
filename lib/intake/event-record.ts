// S3-shaped ObjectCreated records for objects that no event announced (backfill): the same shape the trigger
// parses (lib/intake/s3-event.ts parseEventRecord), with the key URL-encoded the way S3 writes it into notifications.
import type { S3EventRecord } from 'aws-lambda';
import { unquoteEtag } from '../core/object-version';

/**
 * Encodes a key as S3 does in event notifications: form-style URL encoding (space → '+', '+' → '%2B', UTF-8
 * bytes as %XX), '/' left as is. decodeS3Key (lib/intake/s3-event.ts) is its inverse.
 */
export function encodeS3EventKey(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment)
        .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
        .replace(/%20/g, '+'),
    )
    .join('/');
}

export interface ExistingObject {
  bucket: string;
  /** Decoded, as stored. */
  key: string;
  size: number;
  etag: string;
  versionId?: string;
  /** Only to tell one backfill round from the next (see lib/intake/backfill.ts); absent on a first submission. */
  sequencer?: string;
  lastModified?: Date;
}

/** One ObjectCreated record for an existing object; `principal` names who produced it (shows in logs). */
export function existingObjectRecord(o: ExistingObject, region: string, principal = 'ost-forward-backfill'): S3EventRecord {
  const object: S3EventRecord['s3']['object'] = { key: encodeS3EventKey(o.key), size: o.size, eTag: unquoteEtag(o.etag), sequencer: o.sequencer ?? '' };
  if (!o.sequencer) delete (object as { sequencer?: string }).sequencer;
  if (o.versionId) object.versionId = o.versionId;
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: region,
    eventTime: (o.lastModified ?? new Date()).toISOString(),
    eventName: 'ObjectCreated:Put',
    userIdentity: { principalId: principal },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': principal, 'x-amz-id-2': principal },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: principal,
      bucket: { name: o.bucket, ownerIdentity: { principalId: principal }, arn: `arn:aws:s3:::${o.bucket}` },
      object,
    },
  };
}
