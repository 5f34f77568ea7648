// The consumer rules table: each speed-transcription limit refuses what breaks it and only that; `none` takes all.
import { eligibility, RULES } from '../lib/workflow/eligibility';

const wav = (durationSeconds?: number) => ({ container: 'WAVE', codec: 'PCM', sampleRate: 16000, channels: 1, ...(durationSeconds !== undefined ? { durationSeconds } : {}) });
const mp3 = { container: 'MPEG', codec: 'MPEG 1 Layer 3', sampleRate: 44100, channels: 2, durationSeconds: 60 };

describe('eligibility rules', () => {
  it('none takes every file, even one speed transcription would refuse', () => {
    expect(eligibility('none', { key: 'x.bin', size: 10 * 1024 ** 3 })).toBeUndefined();
  });

  it('speed-transcription takes a WAV (PCM), an MP3 and a raw .pcm key within its limits', () => {
    expect(eligibility('speed-transcription', { key: 'a.wav', size: 1e6, media: wav(3600) })).toBeUndefined();
    expect(eligibility('speed-transcription', { key: 'a.mp3', size: 1e6, media: mp3 })).toBeUndefined();
    expect(eligibility('speed-transcription', { key: 'raw/a.PCM', size: 1e6 })).toBeUndefined();
    // a duration the head did not tell is not held against the file
    expect(eligibility('speed-transcription', { key: 'a.wav', size: 1e6, media: wav() })).toBeUndefined();
  });

  it('refuses over 500 MiB, over 5 hours, and what is not wav/mp3/pcm, naming the rule', () => {
    expect(eligibility('speed-transcription', { key: 'a.wav', size: 500 * 1024 * 1024 + 1, media: wav(60) })).toMatchObject({ rule: 'max-size' });
    expect(eligibility('speed-transcription', { key: 'a.wav', size: 500 * 1024 * 1024, media: wav(5 * 3600) })).toBeUndefined();
    expect(eligibility('speed-transcription', { key: 'a.wav', size: 1e6, media: wav(5 * 3600 + 1) })).toMatchObject({ consumer: 'speed-transcription', rule: 'max-duration', reason: '18001 s long, over the 18000-second limit' });
    expect(eligibility('speed-transcription', { key: 'a.flac', size: 1e6, media: { container: 'FLAC', codec: 'FLAC', sampleRate: 16000 } })).toMatchObject({ rule: 'format', reason: 'FLAC FLAC is not wav (PCM), mp3 or pcm' });
    expect(eligibility('speed-transcription', { key: 'a.wav', size: 1e6, media: { container: 'WAVE', codec: 'ADPCM', sampleRate: 8000 } })).toMatchObject({ rule: 'format' });
    expect(eligibility('speed-transcription', { key: 'notes.txt', size: 10 })).toMatchObject({ rule: 'format', reason: 'not recognised as wav, mp3 or pcm' });
  });

  it('every rule names its limit and its source', () => {
    for (const rules of Object.values(RULES)) for (const r of rules) expect(r.limit && r.source && r.id).toBeTruthy();
  });
});
