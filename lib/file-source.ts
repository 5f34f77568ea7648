// A ByteSource over a local file. Every open() is a fresh read stream of the range, so a retried slice re-reads
// its bytes from disk; a file that changed size or mtime since it was measured raises SourceChangedError rather
// than sending mixed bytes.
import { createReadStream, promises as fs } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { SourceChangedError } from './ost/errors';
import type { ByteSource } from './ost/source';

export class FileSource implements ByteSource {
  constructor(
    readonly path: string,
    readonly size: number,
    readonly name: string = basename(path),
    /** mtime when size was measured; checked on every open when set. */
    readonly mtimeMs?: number,
  ) {}

  /** Measures the file (rejects with the fs error, e.g. ENOENT, when it cannot be read). */
  static async fromPath(path: string, name?: string): Promise<FileSource> {
    const st = await fs.stat(path);
    if (!st.isFile()) throw Object.assign(new Error(`not a regular file: ${path}`), { code: 'EISDIR' });
    return new FileSource(path, st.size, name ?? basename(path), st.mtimeMs);
  }

  async open(start: number, end: number, signal?: AbortSignal): Promise<Readable> {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > this.size) {
      throw new RangeError(`invalid range [${start}, ${end}) of ${this.path} (${this.size} bytes)`);
    }
    signal?.throwIfAborted();
    if (this.mtimeMs !== undefined) {
      const st = await fs.stat(this.path).catch(() => undefined);
      if (!st || st.size !== this.size || st.mtimeMs !== this.mtimeMs) {
        throw new SourceChangedError(`${this.name} changed or vanished since it was measured`);
      }
    }
    // createReadStream's `end` is inclusive, and end: -1 does not mean "nothing": an empty range is its own case.
    if (end === start) return Readable.from([]);
    return createReadStream(this.path, { start, end: end - 1, signal });
  }
}
