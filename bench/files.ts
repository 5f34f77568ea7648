// Generated inputs under bench/tmp/ (gitignored): random bytes, so nothing on the way can compress or dedupe.
import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes `size` random bytes to `path` and returns their sha256 (hex). */
export async function randomFile(path: string, size: number): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  const fh = await open(path, 'w');
  const hash = createHash('sha256');
  const block = Buffer.allocUnsafe(8 * 1024 * 1024);
  try {
    for (let written = 0; written < size;) {
      const n = Math.min(block.length, size - written);
      const chunk = block.subarray(0, n);
      randomFillSync(chunk);
      hash.update(chunk);
      await fh.write(chunk, 0, n);
      written += n;
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function removeTree(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}
