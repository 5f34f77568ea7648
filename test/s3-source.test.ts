// lib/sources/s3.ts and lib/core/object-version.ts: which version ids pin anything, how an ETag is written, and what
// proves a ranged read is the planned bytes.
import { mockClient } from 'aws-sdk-client-mock';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { checkEventSize, headSource, mapS3Error, provenanceProblem } from '../lib/sources/s3';
import { immutableVersionId, quoteEtag, unquoteEtag } from '../lib/core/object-version';
import { SourceChangedError } from '../lib/ost/errors';

describe('immutableVersionId', () => {
  it.each([['v1', 'v1'], ['null', undefined], ['', undefined], [null, undefined], [undefined, undefined]])('%j → %j', (v, out) => {
    expect(immutableVersionId(v as string | null | undefined)).toBe(out);
  });
});

describe('an ETag', () => {
  it('is compared without the quotes S3 puts around it, and quoted once for If-Match', () => {
    expect(unquoteEtag('"abc-2"')).toBe('abc-2');
    expect(unquoteEtag('abc-2')).toBe('abc-2');
    expect(quoteEtag('abc-2')).toBe('"abc-2"');
    expect(quoteEtag('"abc-2"')).toBe('"abc-2"');
  });
});

describe('provenanceProblem', () => {
  const plan = { etag: 'abc', size: 100, start: 10, end: 20 };
  it('accepts the planned ETag, range and size', () => {
    expect(provenanceProblem({ ETag: '"abc"', ContentRange: 'bytes 10-19/100', VersionId: 'null' }, plan)).toBeUndefined();
  });
  it.each([
    [{ ETag: '"other"', ContentRange: 'bytes 10-19/100' }, /ETag changed/],
    [{ ContentRange: 'bytes 10-19/100' }, /no ETag/],
    [{ ETag: '"abc"', ContentRange: 'bytes 10-19/99' }, /99 bytes/],
    [{ ETag: '"abc"', ContentRange: 'bytes 0-9/100' }, /asked for 10-19/],
    [{ ETag: '"abc"', ContentLength: 100 }, /without a Content-Range/],
  ])('refuses %j', (res, why) => {
    expect(provenanceProblem(res, plan)).toMatch(why);
  });
  it('refuses another immutable version than the pinned one', () => {
    expect(provenanceProblem({ ETag: '"abc"', VersionId: 'v2' }, { ...plan, versionId: 'v1', start: 0, end: 100 })).toMatch(/version changed/);
  });
  it('a SourceChangedError is never downgraded to a retried read error', () => {
    const e = new SourceChangedError('x');
    expect(mapS3Error(e, 'w')).toBe(e);
  });
});

describe('headSource', () => {
  const s3 = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const mock = mockClient(s3);
  beforeEach(() => mock.reset());

  it('pins HEAD with If-Match on the event ETag and never with VersionId=null; keeps "null" out of the plan', async () => {
    mock.on(HeadObjectCommand).resolves({ ContentLength: 5, ETag: '"e1"', VersionId: 'null' });
    const o = await headSource(s3, { bucket: 'b', key: 'k', versionId: 'null', etag: 'e1', size: 5 });
    expect(o).toEqual({ bucket: 'b', key: 'k', versionId: null, etag: 'e1', size: 5 });
    const input = mock.commandCalls(HeadObjectCommand)[0]!.args[0].input;
    expect(input).toEqual({ Bucket: 'b', Key: 'k', IfMatch: '"e1"' });
  });

  it('pins an immutable version id and the ETag together', async () => {
    mock.on(HeadObjectCommand).resolves({ ContentLength: 5, ETag: '"e1"', VersionId: 'v7' });
    await headSource(s3, { bucket: 'b', key: 'k', versionId: 'v7', etag: 'e1' });
    expect(mock.commandCalls(HeadObjectCommand)[0]!.args[0].input).toEqual({ Bucket: 'b', Key: 'k', VersionId: 'v7', IfMatch: '"e1"' });
  });

  it('checkEventSize: the event size must be the HEAD size', () => {
    expect(() => checkEventSize({ bucket: 'b', key: 'k', size: 5 }, { size: 4 })).toThrow(/announced 5 bytes, HeadObject reports 4/);
    expect(() => checkEventSize({ bucket: 'b', key: 'k', size: 5 }, { size: 5 })).not.toThrow();
    expect(() => checkEventSize({ bucket: 'b', key: 'k' }, { size: 4 })).not.toThrow();
  });

  it.each([
    [{ ContentLength: 5, ETag: '"e2"' }, /ETag e1, HeadObject reports e2/],
    [{ ContentLength: 5, ETag: '"e1"', VersionId: 'v8' }, /asked for version v7/],
  ])('refuses a HEAD that disagrees with the event: %j', async (head, why) => {
    mock.on(HeadObjectCommand).resolves(head);
    await expect(headSource(s3, { bucket: 'b', key: 'k', versionId: 'v7', etag: 'e1', size: 5 })).rejects.toMatchObject({ name: 'SourceChangedError', message: expect.stringMatching(why) });
  });
});
