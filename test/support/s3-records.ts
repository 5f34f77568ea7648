// AWS-shaped S3 event records for tests (eventVersion 2.1; the key is passed as S3 would send it).

export function s3Record(key: string, extra: { size?: number; versionId?: string; eTag?: string; sequencer?: string; bucket?: string; eventName?: string } = {}) {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: '2026-11-24T00:00:00.000Z',
    eventName: extra.eventName ?? 'ObjectCreated:Put',
    s3: {
      s3SchemaVersion: '1.0',
      bucket: { name: extra.bucket ?? 'inbox', arn: `arn:aws:s3:::${extra.bucket ?? 'inbox'}` },
      object: {
        key,
        size: extra.size ?? 10,
        eTag: extra.eTag ?? 'd41d8cd98f00b204e9800998ecf8427e',
        ...(extra.versionId ? { versionId: extra.versionId } : {}),
        sequencer: extra.sequencer ?? '0055AED6DCD90281E5',
      },
    },
  };
}
