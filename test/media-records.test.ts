// Through the local stack: records and events say what a file is (Content-Type from S3, audio facts from one
// bounded read of its head), a file the parser cannot read is forwarded without them, and under the
// speed-transcription rules a file outside the consumer's limits ends with a skipped record and event, not an upload.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startLocalStack, type LocalStack } from '../local/stack';
import type { OutcomeRecord } from '../lib/workflow/outcome-records';
import { mp3File, wavFile } from './support/media';

async function put(stack: LocalStack, key: string, body: Buffer, contentType?: string) {
  const since = Date.now();
  await stack.s3.client.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: body, ...(contentType ? { ContentType: contentType } : {}) }));
  const execution = await stack.waitForExecution(key, since - 1);
  const records = await stack.recordsFor(key);
  const events = stack.eventsFor(key);
  expect(records).toHaveLength(1);
  expect(events.length).toBeGreaterThanOrEqual(1);
  return { execution, record: records[0]!, event: events[events.length - 1]!, detail: events[events.length - 1]!.detail as OutcomeRecord };
}

describe('records and events describe the file', () => {
  let stack: LocalStack;
  beforeAll(async () => { stack = await startLocalStack(); });
  afterAll(() => stack?.close());

  it('a WAV: container, codec, duration, sample rate, channels and bit depth, in the record and the event', async () => {
    const { record, event, detail } = await put(stack, 'media/speech.wav', wavFile(3, { rate: 16000, channels: 1 }), 'audio/wav');
    expect(record.status).toBe('forwarded');
    expect(record.contentType).toBe('audio/wav');
    expect(record.media).toEqual({ container: 'WAVE', codec: 'PCM', durationSeconds: 3, sampleRate: 16000, channels: 1, bitsPerSample: 16, bitrate: 256000 });
    expect(event.detailType).toBe('OST File Forwarded');
    expect(detail.media).toEqual(record.media);
    expect(detail.contentType).toBe('audio/wav');
  });

  it('an MP3: MPEG Layer 3, its sample rate and channels, the duration estimated from the size at its constant bit rate', async () => {
    const body = mp3File(1000); // 1000 frames of 26.12 ms
    const { record, detail } = await put(stack, 'media/talk.mp3', body, 'audio/mpeg');
    expect(record.status).toBe('forwarded');
    expect(record.contentType).toBe('audio/mpeg');
    expect(record.media).toMatchObject({ container: 'MPEG', codec: 'MPEG 1 Layer 3', sampleRate: 44100, channels: 2, bitrate: 128000, durationEstimated: true });
    expect(record.media!.durationSeconds).toBeCloseTo((body.length * 8) / 128000, 2);
    expect(detail.media).toEqual(record.media);
  });

  it('a file that is not audio: forwarded with its content type and no media facts', async () => {
    const { record, detail } = await put(stack, 'media/notes.json', Buffer.from(JSON.stringify({ hello: 'world' }).repeat(100)), 'application/json');
    expect(record.status).toBe('forwarded');
    expect(record.contentType).toBe('application/json');
    expect(record).not.toHaveProperty('media');
    expect(detail).not.toHaveProperty('media');
  });

  it('a WAV cut inside its header: forwarded byte-exact, without media facts', async () => {
    const { record, detail } = await put(stack, 'media/cut.wav', wavFile(3).subarray(0, 30), 'audio/wav');
    expect(record).toMatchObject({ status: 'forwarded', bytes: 30, contentType: 'audio/wav' });
    expect(record).not.toHaveProperty('media');
    expect(detail).not.toHaveProperty('media');
  });
});

describe('the speed-transcription rules', () => {
  let stack: LocalStack;
  beforeAll(async () => { stack = await startLocalStack({ env: { CONSUMER: 'speed-transcription' } }); });
  afterAll(() => stack?.close());

  it('refuses a WAV whose header says 6 hours: a skipped record and event name the rule, nothing reaches OST', async () => {
    const initsBefore = stack.emulator!.calls.length;
    const { record, event, detail, execution } = await put(stack, 'long/six-hours.wav', wavFile(6 * 3600, { dataBytes: 4000 }), 'audio/wav');
    expect(execution!.status).toBe('SUCCEEDED');
    expect(record).toMatchObject({
      status: 'skipped', url: null, slices: 0, mode: null,
      media: { container: 'WAVE', durationSeconds: 21600 },
      skip: { consumer: 'speed-transcription', rule: 'max-duration', reason: expect.stringContaining('21600 s') },
    });
    expect(event.detailType).toBe('OST File Skipped');
    expect(detail.skip).toEqual(record.skip);
    expect(stack.emulator!.calls.slice(initsBefore)).toEqual([]);
  });

  it('forwards a 2-minute 16 kHz mono WAV, and skips a file that is not wav, mp3 or pcm', async () => {
    const ok = await put(stack, 'long/short.wav', wavFile(120), 'audio/wav');
    expect(ok.record.status).toBe('forwarded');
    const text = await put(stack, 'long/notes.txt', Buffer.from('not audio'), 'text/plain');
    expect(text.record).toMatchObject({ status: 'skipped', skip: { rule: 'format' } });
  });
});
