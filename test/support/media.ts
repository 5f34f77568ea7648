// Small audio files made in the test: a PCM WAV (its header says how long it is, whatever follows it) and a
// constant-bit-rate MP3 (MPEG-1 Layer III frames of silence).

/** A PCM WAV whose header announces `seconds`; `dataBytes` of samples follow (default: all of them). */
export function wavFile(seconds: number, o: { rate?: number; channels?: number; bits?: number; dataBytes?: number } = {}): Buffer {
  const rate = o.rate ?? 16000;
  const channels = o.channels ?? 1;
  const bits = o.bits ?? 16;
  const announced = Math.round(seconds * rate) * channels * (bits / 8);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(Math.min(0xffffffff, 36 + announced), 4);
  h.write('WAVE', 8);
  h.write('fmt ', 12);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * channels * (bits / 8), 28);
  h.writeUInt16LE(channels * (bits / 8), 32);
  h.writeUInt16LE(bits, 34);
  h.write('data', 36);
  h.writeUInt32LE(announced, 40);
  return Buffer.concat([h, Buffer.alloc(o.dataBytes ?? announced)]);
}

/** `frames` MPEG-1 Layer III frames at 128 kbit/s, 44.1 kHz, stereo (417 bytes each, 26.1 ms each). */
export function mp3File(frames: number): Buffer {
  const frame = Buffer.alloc(417);
  Buffer.from([0xff, 0xfb, 0x90, 0x64]).copy(frame);
  return Buffer.concat(Array.from({ length: frames }, () => frame));
}
