// The tests' file helpers: sizes, temporary directories, sample files and sha256 of files, streams and served URLs.
// Sample files are generated (never committed), deterministic for a seed, streamed to disk without holding their
// bytes, and distinct in every slice (AES-CTR keystream).
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, promises as fs, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export { MiB, GiB } from '../../lib/ost/plan';
export const KiB = 1024;

/** A fresh temporary directory; `cleanup()` removes it. */
export function tempDir(prefix = 'ost-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A readable of `size` pseudo-random bytes, the same for the same seed. */
export function sampleStream(size: number, seed = 'ost-forwarder'): Readable {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(256 * KiB);
  let left = size;
  return new Readable({
    read() {
      if (left === 0) { this.push(null); return; }
      const n = Math.min(left, zeros.length);
      left -= n;
      this.push(cipher.update(n === zeros.length ? zeros : zeros.subarray(0, n)));
    },
  });
}

export interface SampleFile {
  path: string;
  size: number;
  sha256: string;
}

/** Writes a sample file of `size` bytes (into a fresh temporary directory unless `dir` is given). */
export async function sampleFile(size: number, options: { dir?: string; name?: string; seed?: string } = {}): Promise<SampleFile> {
  const dir = options.dir ?? tempDir().dir;
  const path = join(dir, options.name ?? `sample-${size}.bin`);
  const hash = createHash('sha256');
  const hashed = new Transform({ transform(chunk: Buffer, _enc, done) { hash.update(chunk); done(null, chunk); } });
  await pipeline(sampleStream(size, options.seed ?? `${size}`), hashed, createWriteStream(path));
  return { path, size, sha256: hash.digest('hex') };
}

export async function sha256Stream(stream: AsyncIterable<Buffer | Uint8Array | string>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest('hex');
}

export function sha256File(path: string): Promise<string> {
  return sha256Stream(createReadStream(path));
}

export function sha256Buffer(buf: Buffer | Uint8Array | string): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** sha256 and length of what a URL serves (GET over loopback), with the HTTP status. */
export async function sha256Url(url: string): Promise<{ sha256: string; bytes: number; status: number }> {
  const res = await fetch(url);
  const hash = createHash('sha256');
  let bytes = 0;
  if (res.body) {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) { hash.update(chunk); bytes += chunk.length; }
  }
  return { sha256: hash.digest('hex'), bytes, status: res.status };
}

export async function fileSize(path: string): Promise<number> {
  return (await fs.stat(path)).size;
}
