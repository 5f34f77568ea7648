// Bad input through the real trigger and the whole pipeline: every bad record gets a clear logged reason and never
// stops the good records of the same event; odd but legal keys and sizes are forwarded byte-exact.
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { recordLocation, type ResultRecord } from '../lib/records';
import { bytesFor, startHarness, type Harness, MiB } from './support/faults';
import { objectCreatedRecord, s3Event, encodeEventKey } from '../local/s3';
import type { TriggerSummary } from '../functions/trigger';

let h: Harness;
beforeAll(async () => { h = await startHarness({ env: { KEY_SUFFIX_FILTER: '', SIMPLE_THRESHOLD: String(6 * MiB) } }); });
afterAll(() => h?.close());

async function put(key: string, body: Buffer): Promise<void> {
  await h.stack.s3.client.send(new PutObjectCommand({ Bucket: h.stack.bucket, Key: key, Body: body, ContentLength: body.length }));
}
const good = (key: string, size = 3) => objectCreatedRecord({ bucket: h.stack.bucket, key, size, eTag: 'e1' });
const logged = (text: string) => h.capture.lines().some((l) => l.includes(text));

describe('malformed events: a reason each, the good record still starts', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['missing s3 block', { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put' }, /s3\.bucket\.name is missing/],
    ['missing key', { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { size: 1, eTag: 'x' } } }, /s3\.object\.key is missing/],
    ['key of the wrong type', { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 42, eTag: 'x' } } }, /s3\.object\.key is missing/],
    ['size of the wrong type', { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'k', size: '12', eTag: 'x' } } }, /size is not a non-negative integer/],
    ['negative size', { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'k', size: -1, eTag: 'x' } } }, /size is not a non-negative integer/],
    ['no version, etag or sequencer', { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'k', size: 1 } } }, /no versionId, eTag or sequencer/],
    ['bad URL encoding', { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'a%ZZ', eTag: 'x' } } }, /not valid URL encoding/],
    ['a removal event', { eventSource: 'aws:s3', eventName: 'ObjectRemoved:Delete', s3: { bucket: { name: 'b' }, object: { key: 'k', eTag: 'x' } } }, /not ObjectCreated/],
    ['another service', { eventSource: 'aws:sqs', eventName: 'ObjectCreated:Put' }, /aws:sqs/],
    ['a string', 'not a record', /not an object/],
    ['null', null, /not an object/],
  ];
  it.each(cases)('%s', async (_n, bad, reason) => {
    const key = `bad-input/good next to ${_n}.bin`;
    await put(key, Buffer.from('abc'));
    // the embedded S3 delivered its own event; this one carries the bad record first
    const d = await h.stack.deliver({ Records: [bad, good(key)] }).done;
    const r = d.result as TriggerSummary;
    expect(d.deadLettered).toBe(false);
    expect(r.malformed).toEqual([{ reason: expect.stringMatching(reason) }]);
    expect(r.started + r.duplicates).toBe(1);
    expect(logged('"message":"malformed record"')).toBe(true);
    const exec = await h.stack.waitForExecution(key);
    expect(exec?.status).toBe('SUCCEEDED');
  });

  it.each([
    ['not JSON (a string payload)', 'this is not an event'],
    ['no Records', { hello: 'world' }],
    ['Records not an array', { Records: { 0: 'x' } }],
  ])('a whole event that is %s: reported, not retried, nothing started', async (_n, event) => {
    const before = h.stack.executor.executions.size;
    const d = await h.stack.deliver(event).done;
    expect(d).toMatchObject({ deadLettered: false, attempts: 1, result: { started: 0, malformed: [{ reason: 'event has no Records array' }] } });
    expect(h.stack.executor.executions.size).toBe(before);
  });

  it('the S3 test event is skipped', async () => {
    const d = await h.stack.deliver({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: h.stack.bucket }).done;
    expect(d.result).toMatchObject({ started: 0, skipped: [{ reason: 'S3 test event' }] });
  });
});

describe('keys and sizes', () => {
  const odd = [
    'bad-input/line\r\nbreak.bin',
    'bad-input/quote "double" \'single\'.bin',
    'bad-input/100% sure %41 %2B.bin',
    'bad-input/a+b plus+.bin',
    'bad-input/emoji 🎙️ 录音.wav',
    // 1,024 bytes, the S3 maximum (in 200-byte folders: the embedded S3 stores keys as file paths)
    `bad-input/${Array.from({ length: 5 }, (_, i) => `${i}`.repeat(199)).join('/')}/${'k'.repeat(10)}.bin`,
  ];
  it.each(odd.map((k) => [JSON.stringify(k).slice(0, 60), k]))('forwards %s byte-exact', async (_n, key) => {
    expect(Buffer.byteLength(key)).toBeLessThanOrEqual(1024);
    const body = bytesFor(2048, key);
    await put(key, body);
    const exec = await h.stack.waitForExecution(key);
    expect(exec?.status).toBe('SUCCEEDED');
    // read the record where Report wrote it: a listing would hand back a CR/LF key XML-normalised
    const loc = recordLocation({ resultsPrefix: 'ost-forwarder/' } as never, { status: 'forwarded', key, executionName: exec!.name, bucket: h.stack.bucket } as ResultRecord);
    const got = await h.stack.s3.client.send(new GetObjectCommand({ Bucket: h.stack.bucket, Key: loc.key }));
    const record = JSON.parse(await got.Body!.transformToString()) as ResultRecord;
    expect(Buffer.byteLength(loc.key)).toBeLessThanOrEqual(1024);
    expect(record).toMatchObject({ status: 'forwarded', key, bytes: 2048 });
    const served = Buffer.from(await (await fetch(record!.url!)).arrayBuffer());
    expect(served.equals(body)).toBe(true);
  });

  it('forwards a 0-byte object as an (empty) simple upload', async () => {
    const key = 'bad-input/empty.bin';
    await put(key, Buffer.alloc(0));
    const exec = await h.stack.waitForExecution(key);
    expect(exec?.status).toBe('SUCCEEDED');
    const [record] = await h.stack.recordsFor(key);
    expect(record).toMatchObject({ status: 'forwarded', bytes: 0, mode: 'simple' });
  });

  it('skips folder markers and the results prefix with a logged reason', async () => {
    const d = await h.stack.deliver(s3Event([
      objectCreatedRecord({ bucket: h.stack.bucket, key: 'bad-input/folder/', size: 0, eTag: 'd41d8cd98f00b204e9800998ecf8427e' }),
      objectCreatedRecord({ bucket: h.stack.bucket, key: 'ost-forwarder/forwarded/x/y.json', size: 10, eTag: 'e' }),
    ])).done;
    expect(d.result).toMatchObject({ started: 0, skipped: [{ reason: 'folder marker', key: 'bad-input/folder/' }, { reason: expect.stringMatching(/results prefix/) }] });
    expect(logged('"reason":"folder marker"')).toBe(true);
  });

  it('an object past 10,000 x 5 GiB (size faked at HEAD) fails with PlanError before any init', async () => {
    const key = 'bad-input/too big.bin';
    h.s3.inject({ method: 'HEAD', key, headers: { 'content-length': String(10_000 * 5 * 1024 * MiB + 1) } });
    const inits = h.stack.emulator!.calls.filter((c) => c.call === 'init').length;
    await put(key, Buffer.from('x'));
    const exec = await h.stack.waitForExecution(key);
    expect(exec).toMatchObject({ status: 'FAILED', error: 'PlanError' });
    const [record] = await h.stack.recordsFor(key);
    expect(record).toMatchObject({ status: 'failed', error: { error: 'PlanError', message: expect.stringMatching(/exceeds the OST limit/) } });
    expect(h.stack.emulator!.calls.filter((c) => c.call === 'init').length).toBe(inits);
  });

  it('encodes keys in records the way S3 does (sanity of the event path)', () => {
    expect(encodeEventKey('a b+c')).toBe('a+b%2Bc');
  });
});

describe('filters', () => {
  let f: Harness;
  beforeAll(async () => { f = await startHarness({ env: { KEY_PREFIX_FILTER: 'in/', KEY_SUFFIX_FILTER: '.wav,.mp3' } }); });
  afterAll(() => f?.close());
  it('forwards only keys matching both filters, and says why for the others', async () => {
    const rec = (key: string) => objectCreatedRecord({ bucket: f.stack.bucket, key, size: 3, eTag: 'e' });
    await f.stack.s3.client.send(new PutObjectCommand({ Bucket: f.stack.bucket, Key: 'in/a.wav', Body: 'abc' }));
    const d = await f.stack.deliver(s3Event([rec('out/a.wav'), rec('in/a.txt'), rec('in/a.wav')])).done;
    expect(d.result).toMatchObject({
      skipped: [{ reason: 'key does not start with in/', key: 'out/a.wav' }, { reason: 'key does not end with .wav or .mp3', key: 'in/a.txt' }],
    });
    expect((d.result as TriggerSummary).started + (d.result as TriggerSummary).duplicates).toBe(1);
    expect((await f.stack.waitForExecution('in/a.wav'))?.status).toBe('SUCCEEDED');
  });
});
