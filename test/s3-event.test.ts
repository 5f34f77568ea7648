// S3 event parsing, key decoding, execution names and filters (pure functions of lib/intake/s3-event.ts).
import { decodeS3Key, executionName, MalformedEventRecordError, parseEventRecord, skipReason } from '../lib/intake/s3-event';
import { s3Record } from './support/s3-records';

const NAME_RE = /^[A-Za-z0-9_-]{1,80}$/;


describe('decodeS3Key', () => {
  it.each([
    ['my+file.wav', 'my file.wav'],
    ['a%2Bb.wav', 'a+b.wav'],
    ['100%25.txt', '100%.txt'],
    ['%E4%B8%AD%E6%96%87/%E5%BD%95%E9%9F%B3+1.mp3', '中文/录音 1.mp3'],
    ['plain/key.txt', 'plain/key.txt'],
    ['sp%20ace', 'sp ace'],
  ])('%s → %s', (raw, key) => {
    expect(decodeS3Key(raw)).toBe(key);
  });

  it('rejects broken percent-encoding as malformed', () => {
    expect(() => decodeS3Key('bad%E4.wav')).toThrow(MalformedEventRecordError);
  });
});

describe('executionName', () => {
  it('is deterministic, at most 80 characters of [A-Za-z0-9-_], and ends with 40 hex', () => {
    const a = executionName({ bucket: 'b', key: 'dir/中文 录音 (1).wav', versionId: 'v1' });
    expect(a).toMatch(NAME_RE);
    expect(a).toMatch(/-[0-9a-f]{40}$/);
    expect(a).toBe(executionName({ bucket: 'b', key: 'dir/中文 录音 (1).wav', versionId: 'v1' }));
    expect(a.startsWith('dir-')).toBe(true);
  });

  it('keeps the readable tail of a long key', () => {
    const n = executionName({ bucket: 'b', key: `${'deep/'.repeat(40)}meeting-2026-11-24.wav`, versionId: 'v' });
    expect(n).toMatch(NAME_RE);
    expect(n.length).toBeLessThanOrEqual(80);
    expect(n).toContain('meeting-2026-11-24-wav');
  });

  it('differs per version: versionId, else ETag + sequencer', () => {
    const base = { bucket: 'b', key: 'k' };
    const names = new Set([
      executionName({ ...base, versionId: 'v1' }),
      executionName({ ...base, versionId: 'v2' }),
      executionName({ ...base, etag: 'e1', sequencer: 's1' }),
      executionName({ ...base, etag: 'e1', sequencer: 's2' }),
      executionName({ ...base, etag: 'e2', sequencer: 's1' }),
      executionName({ bucket: 'c', key: 'k', versionId: 'v1' }),
    ]);
    expect(names.size).toBe(6);
  });

  it('is a bare hash when the key has nothing readable', () => {
    expect(executionName({ bucket: 'b', key: '录音', versionId: 'v' })).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe('parseEventRecord', () => {
  it('reads bucket, decoded key, size, version, ETag and sequencer', () => {
    const r = parseEventRecord(s3Record('a+b%2B.wav', { size: 5, versionId: 'v9', eTag: '"abc"' }), 0);
    expect(r.input).toEqual({ bucket: 'inbox', key: 'a b+.wav', size: 5, versionId: 'v9', etag: 'abc', sequencer: '0055AED6DCD90281E5' });
  });

  it.each([
    ['not an object', 'x', /not an object/],
    ['another service', { ...s3Record('k'), eventSource: 'aws:sqs' }, /eventSource/],
    ['a delete', s3Record('k', { eventName: 'ObjectRemoved:Delete' }), /ObjectCreated/],
    ['no bucket', { ...s3Record('k'), s3: { object: { key: 'k' } } }, /bucket/],
    ['no key', { ...s3Record('k'), s3: { bucket: { name: 'b' }, object: {} } }, /key/],
    ['a bad size', s3Record('k', { size: -1 }), /size/],
    ['no version', { ...s3Record('k'), s3: { bucket: { name: 'b' }, object: { key: 'k', size: 1 } } }, /versionId, eTag or sequencer/],
  ])('rejects %s with a reason', (_label, record, reason) => {
    expect(() => parseEventRecord(record, 0)).toThrow(reason);
  });
});

describe('skipReason', () => {
  const s = { resultsPrefix: 'ost-forwarder/', keyPrefixes: [] as string[], keySuffixes: [] as string[] };
  it('skips folder markers and the results prefix, forwards the rest', () => {
    expect(skipReason({ bucket: 'b', key: 'dir/', size: 0 }, s)).toBe('folder marker');
    expect(skipReason({ bucket: 'b', key: 'dir/', size: 3 }, s)).toBeUndefined();
    expect(skipReason({ bucket: 'b', key: 'ost-forwarder/forwarded/a.json', size: 3 }, s)).toMatch(/results prefix/);
    expect(skipReason({ bucket: 'b', key: 'audio/a.wav', size: 3 }, s)).toBeUndefined();
  });

  it('applies comma-separated prefix and suffix filters', () => {
    const f = { ...s, keyPrefixes: ['in/', 'audio/'], keySuffixes: ['.wav', '.mp3'] };
    expect(skipReason({ bucket: 'b', key: 'in/a.wav' }, f)).toBeUndefined();
    expect(skipReason({ bucket: 'b', key: 'audio/a.mp3' }, f)).toBeUndefined();
    expect(skipReason({ bucket: 'b', key: 'other/a.wav' }, f)).toMatch(/does not start with/);
    expect(skipReason({ bucket: 'b', key: 'in/a.txt' }, f)).toMatch(/does not end with/);
  });
});
