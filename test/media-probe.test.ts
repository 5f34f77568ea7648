// The head read: one GetObject of at most MEDIA_PROBE_BYTES, pinned like the slice reads, whatever the object's size;
// an object changed under it is SourceChangedError; the parser never sees more than the head.
import { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { describeObject } from '../lib/sources/media-probe';
import { MEDIA_PROBE_BYTES } from '../lib/workflow/media';
import { wavFile } from './support/media';

function fakeS3(body: Buffer, answer: Record<string, unknown> = {}) {
  const sent: GetObjectCommand[] = [];
  let served = 0;
  const s3 = {
    send: async (cmd: GetObjectCommand) => {
      sent.push(cmd);
      const m = /^bytes=(\d+)-(\d+)$/.exec(cmd.input.Range ?? '')!;
      const [start, end] = [Number(m[1]), Number(m[2])];
      const slice = body.subarray(start, end + 1);
      // served in 16 KiB chunks, counted as the consumer pulls them
      const chunks = function* () { for (let i = 0; i < slice.length; i += 16384) { served += Math.min(16384, slice.length - i); yield slice.subarray(i, i + 16384); } };
      return { Body: Readable.from(chunks()), ETag: '"e1"', ContentType: 'audio/wav', ContentRange: `bytes ${start}-${end}/${body.length}`, ...answer };
    },
  };
  return { s3: s3 as unknown as S3Client, sent, served: () => served };
}

describe('the media probe', () => {
  it('asks for the first MEDIA_PROBE_BYTES only, with If-Match and the version, of a 10-minute WAV', async () => {
    const body = wavFile(600); // 19 MB
    const f = fakeS3(body);
    const d = await describeObject(f.s3, { bucket: 'b', key: 'k.wav', versionId: 'v1', etag: 'e1', size: body.length });
    expect(f.sent).toHaveLength(1);
    expect(f.sent[0]!.input).toMatchObject({ Bucket: 'b', Key: 'k.wav', Range: `bytes=0-${MEDIA_PROBE_BYTES - 1}`, IfMatch: '"e1"', VersionId: 'v1' });
    expect(f.served()).toBeLessThanOrEqual(MEDIA_PROBE_BYTES);
    expect(d).toEqual({ contentType: 'audio/wav', media: expect.objectContaining({ container: 'WAVE', durationSeconds: 600 }) });
  });

  it('fails with SourceChangedError when the answer is another object (another ETag)', async () => {
    const body = wavFile(1);
    const f = fakeS3(body, { ETag: '"other"' });
    await expect(describeObject(f.s3, { bucket: 'b', key: 'k.wav', versionId: null, etag: 'e1', size: body.length })).rejects.toMatchObject({ name: 'SourceChangedError' });
  });

  it('describes bytes it cannot parse as nothing, and keeps a hostile content type printable and bounded', async () => {
    const body = Buffer.from('\x00\x01 not audio at all');
    const f = fakeS3(body, { ContentType: `text/\x1b[31m${'x'.repeat(500)}` });
    const d = await describeObject(f.s3, { bucket: 'b', key: 'k', versionId: null, etag: 'e1', size: body.length });
    expect(d.media).toBeUndefined();
    expect(d.contentType).toMatch(/^text\/\?\[31mx+$/);
    expect(d.contentType!.length).toBeLessThanOrEqual(200);
  });
});
