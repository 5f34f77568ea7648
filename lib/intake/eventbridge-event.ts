// S3's EventBridge notifications ("Object Created", source aws.s3), as a rule delivers them to the intake queue:
// the message body is the EventBridge event itself. An existing or shared bucket announces its objects this way
// (its EventBridge setting has no overlap rule with other consumers' notifications). The event becomes the S3
// notification record of the same object version, so it is filtered, admitted and named exactly like one: a file
// announced both ways is one execution. The detail's key is the key itself (S3 notifications URL-encode theirs).
export const EVENTBRIDGE_SOURCE = 'aws.s3';
export const OBJECT_CREATED = 'Object Created';

/** True for an EventBridge event of S3 (whatever its detail type). */
export function isS3EventBridgeEvent(body: unknown): body is { 'detail-type': unknown; detail?: unknown } {
  const b = body as { source?: unknown; 'detail-type'?: unknown } | null;
  return !!b && typeof b === 'object' && b.source === EVENTBRIDGE_SOURCE && typeof b['detail-type'] === 'string';
}

/** The S3 key encoding of notifications: '+' for a space, '/' kept, percent-escapes for the rest (decodeS3Key undoes it). */
export function encodeS3Key(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

/**
 * The S3 notification record of an "Object Created" event; throws with the reason when it is another detail type
 * or lacks the bucket or key (the version fields are checked by parseEventRecord, like a notification's).
 */
export function recordOfEventBridge(event: { 'detail-type': unknown; detail?: unknown }): Record<string, unknown> {
  if (event['detail-type'] !== OBJECT_CREATED) throw new Error(`EventBridge event of S3 is ${JSON.stringify(String(event['detail-type']).slice(0, 100))}, not ${OBJECT_CREATED}`);
  const d = (event.detail ?? {}) as { bucket?: { name?: unknown }; object?: Record<string, unknown>; reason?: unknown };
  const o = d.object ?? {};
  if (typeof o.key !== 'string' || o.key === '') throw new Error('EventBridge event has no detail.object.key');
  const object: Record<string, unknown> = { key: encodeS3Key(o.key) };
  if (o.size !== undefined) object.size = o.size;
  if (o.etag !== undefined) object.eTag = o.etag;
  if (o['version-id'] !== undefined) object.versionId = o['version-id'];
  if (o.sequencer !== undefined) object.sequencer = o.sequencer;
  return {
    eventSource: 'aws:s3',
    eventName: `ObjectCreated:${typeof d.reason === 'string' && /^[A-Za-z]{1,40}$/.test(d.reason) ? d.reason : 'Put'}`,
    s3: { bucket: { name: d.bucket?.name }, object },
  };
}
