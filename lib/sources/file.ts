// A ByteSource over a local file. Every open() is a fresh read of the range, so a retried slice re-reads its bytes
// from disk. The file's identity (device, inode, size, mtime, ctime) is taken when it is measured and checked
// before and after every read, on the descriptor that is read: a file rewritten in place, even with the same size
// (a recorder still writing, a sync tool), replaced, truncated or grown raises SourceChangedError — never a
// success with a mix of old and new bytes. A file whose size is not stable (a /proc pseudo-file whose stat says 0
// bytes but that has content) is refused.
import { createReadStream, promises as fs, type BigIntStats } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { SourceChangedError } from '../ost/errors';
import type { ByteSource } from '../ost/source';
import { escapeControlCharacters, quote } from '../core/text';

/** What must not change while a file is forwarded. */
export interface FileIdentity {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export function identityOf(st: BigIntStats): FileIdentity {
  return { dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs };
}

/** The first difference between two identities, or undefined. */
function difference(was: FileIdentity, now: FileIdentity): string | undefined {
  if (was.dev !== now.dev || was.ino !== now.ino) return 'was replaced by another file';
  if (was.size !== now.size) return `changed size from ${was.size} to ${now.size} bytes`;
  if (was.mtimeNs !== now.mtimeNs || was.ctimeNs !== now.ctimeNs) return 'was modified';
  return undefined;
}

export class FileSource implements ByteSource {
  readonly size: number;

  constructor(
    readonly path: string,
    size: number,
    readonly name: string = basename(path),
    /** The identity when size was measured; checked before and after every read when set. */
    readonly identity?: FileIdentity,
  ) {
    this.size = size;
  }

  /** Measures the file (rejects with the fs error, e.g. ENOENT, when it cannot be read). */
  static async fromPath(path: string, name?: string): Promise<FileSource> {
    // stat before open: opening a FIFO would block until a writer comes
    const before = await fs.stat(path, { bigint: true });
    if (!before.isFile()) throw Object.assign(new Error(`not a regular file: ${escapeControlCharacters(path)}`), { code: 'EISDIR', path });
    const handle = await fs.open(path, 'r');
    try {
      const st = await handle.stat({ bigint: true });
      const problem = difference(identityOf(before), identityOf(st));
      if (problem) throw new SourceChangedError(`${quote(path)} ${problem} while it was measured`);
      if (st.size === 0n) {
        // A pseudo-file (/proc, /sys) reports 0 bytes and has content: its size cannot be trusted.
        const { bytesRead } = await handle.read(Buffer.alloc(1), 0, 1, 0);
        if (bytesRead > 0) throw new SourceChangedError(`${quote(path)} reports a size of 0 bytes but has content (a pseudo-file?): its size is not stable, refusing to send it`);
      }
      if (st.size > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`${path} is too large`);
      return new FileSource(path, Number(st.size), name ?? basename(path), identityOf(st));
    } finally {
      await handle.close();
    }
  }

  async open(start: number, end: number, signal?: AbortSignal): Promise<Readable> {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > this.size) {
      throw new RangeError(`invalid range [${start}, ${end}) of ${this.path} (${this.size} bytes)`);
    }
    signal?.throwIfAborted();
    if (!this.identity) {
      // createReadStream's `end` is inclusive, and end: -1 does not mean "nothing": an empty range is its own case.
      return end === start ? Readable.from([]) : createReadStream(this.path, { start, end: end - 1, signal });
    }
    const identity = this.identity;
    const handle = await fs.open(this.path, 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new SourceChangedError(`${quote(this.name)} vanished since it was measured`);
      throw err;
    });
    const check = async (when: string) => {
      const problem = difference(identity, identityOf(await handle.stat({ bigint: true })));
      if (problem) throw new SourceChangedError(`${quote(this.name)} ${problem} ${when}; not sending mixed bytes`);
    };
    try {
      await check('since it was measured');
    } catch (err) {
      await handle.close();
      throw err;
    }
    const expected = end - start;
    const name = this.name;
    // The bytes are read from the descriptor that was checked; after the last byte, the descriptor is checked again
    // before the stream ends, so a change during the read fails the body before it is complete.
    async function* read(): AsyncGenerator<Buffer> {
      let got = 0;
      try {
        if (expected > 0) {
          for await (const chunk of handle.createReadStream({ start, end: end - 1, autoClose: false, signal }) as AsyncIterable<Buffer>) {
            got += chunk.length;
            yield chunk;
          }
        }
        if (got !== expected) throw new SourceChangedError(`${quote(name)} ended after ${got} of ${expected} bytes: it is shorter than its size`);
        await check('while it was read');
      } finally {
        await handle.close().catch(() => undefined);
      }
    }
    return Readable.from(read(), { objectMode: false });
  }
}
