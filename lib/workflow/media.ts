// What a file is, as far as its first bytes tell: the container, codec, duration, sample rate, channels and bit
// depth of an audio file, parsed by music-metadata from a bounded head of the object (lib/sources/media-probe.ts
// reads it). A file the parser does not recognise, or whose head is cut short, has no facts: undefined, never an
// error. Every field is bounded (short strings, finite numbers), so the facts fit any record, state or event.
import type { Readable } from 'node:stream';
import { parseStream } from 'music-metadata';

export interface MediaFacts {
  /** The container as music-metadata names it: `WAVE`, `MPEG`, `FLAC`, `Ogg`, … */
  container: string;
  /** e.g. `PCM`, `MPEG 1 Layer 3`. */
  codec?: string;
  /** Seconds: from the header (a WAV's data chunk), or estimated from the size and a constant bit rate. */
  durationSeconds?: number;
  /** True when the duration is the object's size over a constant bit rate (an MP3 without a frame count). */
  durationEstimated?: boolean;
  sampleRate?: number;
  channels?: number;
  bitsPerSample?: number;
  /** Bits per second. */
  bitrate?: number;
}

/** Bytes of an object's head read to describe it: room for the headers and a few frames, whatever the object's size. */
export const MEDIA_PROBE_BYTES = 128 * 1024;

const MAX_TEXT = 64;

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v.replace(/[^\x20-\x7e]/g, '?').slice(0, MAX_TEXT) : undefined;
}

function num(v: unknown, max: number): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= max ? v : undefined;
}

/**
 * The facts of a file from a byte stream of its head; `objectSize` is the whole object's (an MP3's duration is
 * estimated from it). The stream must be a byte stream (not object mode). Undefined when nothing is recognised.
 */
export async function describeMedia(head: Readable, objectSize: number): Promise<MediaFacts | undefined> {
  let format;
  try {
    // No size is given to the parser: a WAV's duration comes from its header, not from how much of it was read.
    ({ format } = await parseStream(head, {}, { duration: false, skipCovers: true, skipPostHeaders: true }));
  } catch {
    return undefined;
  } finally {
    head.destroy();
  }
  const container = text(format.container);
  const sampleRate = num(format.sampleRate, 10_000_000);
  // A header cut before its format chunk names the container and nothing else: no facts worth forwarding.
  if (!container || !format.hasAudio || sampleRate === undefined) return undefined;
  const facts: MediaFacts = { container };
  const codec = text(format.codec);
  if (codec) facts.codec = codec;
  let duration = num(format.duration, 1e9);
  const bitrate = num(format.bitrate, 1e9);
  if (duration === undefined && bitrate !== undefined && format.codecProfile === 'CBR' && objectSize > 0) {
    duration = (objectSize * 8) / bitrate;
    facts.durationEstimated = true;
  }
  if (duration !== undefined) facts.durationSeconds = Math.round(duration * 1000) / 1000;
  facts.sampleRate = sampleRate;
  const channels = num(format.numberOfChannels, 1024);
  if (channels !== undefined) facts.channels = channels;
  const bits = num(format.bitsPerSample, 256);
  if (bits !== undefined) facts.bitsPerSample = bits;
  if (bitrate !== undefined) facts.bitrate = Math.round(bitrate);
  return facts;
}
