import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { FileSource } from '../lib/sources/file';
import { SourceChangedError } from '../lib/ost/errors';
import { sampleFile, sha256Buffer, sha256Stream, tempDir } from './support/files';

let dir: ReturnType<typeof tempDir>;
beforeAll(() => { dir = tempDir(); });
afterAll(() => dir.cleanup());

async function read(src: FileSource, start: number, end: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await src.open(start, end)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('FileSource', () => {
  it('measures a file and reads exact ranges [start, end)', async () => {
    const path = (await sampleFile(300_000, { dir: dir.dir, name: 'a.bin' })).path;
    const whole = await fs.readFile(path);
    const src = await FileSource.fromPath(path);
    expect(src.size).toBe(300_000);
    expect(src.name).toBe('a.bin');
    expect((await read(src, 0, 300_000)).equals(whole)).toBe(true);
    expect((await read(src, 1, 2)).equals(whole.subarray(1, 2))).toBe(true);
    expect((await read(src, 65_536, 200_001)).equals(whole.subarray(65_536, 200_001))).toBe(true);
    expect((await read(src, 299_999, 300_000)).equals(whole.subarray(299_999))).toBe(true);
    expect(await sha256Stream(await src.open(0, 300_000))).toBe(sha256Buffer(whole));
  });

  it('returns an empty stream for an empty range, including at 0 and at the end', async () => {
    const path = (await sampleFile(10, { dir: dir.dir, name: 'b.bin' })).path;
    const src = await FileSource.fromPath(path);
    expect((await read(src, 0, 0)).length).toBe(0);
    expect((await read(src, 10, 10)).length).toBe(0);
    expect((await read(src, 5, 5)).length).toBe(0);
    const empty = await FileSource.fromPath((await sampleFile(0, { dir: dir.dir, name: 'empty.bin' })).path);
    expect(empty.size).toBe(0);
    expect((await read(empty, 0, 0)).length).toBe(0);
  });

  it('rejects ranges outside the file', async () => {
    const src = await FileSource.fromPath((await sampleFile(10, { dir: dir.dir, name: 'c.bin' })).path);
    await expect(src.open(0, 11)).rejects.toThrow(RangeError);
    await expect(src.open(5, 4)).rejects.toThrow(RangeError);
    await expect(src.open(-1, 4)).rejects.toThrow(RangeError);
  });

  it('raises SourceChangedError when the file changed since it was measured', async () => {
    const path = (await sampleFile(10, { dir: dir.dir, name: 'd.bin' })).path;
    const src = await FileSource.fromPath(path);
    await fs.appendFile(path, 'more');
    await expect(src.open(0, 10)).rejects.toBeInstanceOf(SourceChangedError);
    await fs.unlink(path);
    await expect(src.open(0, 10)).rejects.toBeInstanceOf(SourceChangedError);
  });

  it('fails with the fs error for a missing file or a directory', async () => {
    await expect(FileSource.fromPath(join(dir.dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(FileSource.fromPath(dir.dir)).rejects.toMatchObject({ code: 'EISDIR' });
  });
});

describe('FileSource: a change over the whole read', () => {
  const rewriteInPlace = async (path: string, byte: number) => {
    const h = await fs.open(path, 'r+');
    const st = await h.stat();
    await h.write(Buffer.alloc(st.size, byte), 0, st.size, 0);
    await h.close();
  };

  it('a file rewritten in place with the same size while a range is read fails with SourceChangedError, not mixed bytes', async () => {
    const path = (await sampleFile(1_000_000, { dir: dir.dir, name: 'rewrite.bin' })).path;
    const src = await FileSource.fromPath(path);
    const stream = await src.open(0, src.size);
    const got: Buffer[] = [];
    const reading = (async () => {
      for await (const c of stream) {
        if (got.length === 0) await rewriteInPlace(path, 0x41);
        got.push(c as Buffer);
      }
    })();
    await expect(reading).rejects.toBeInstanceOf(SourceChangedError);
    // and the next slice (a later open) refuses too
    await expect(src.open(0, 10)).rejects.toBeInstanceOf(SourceChangedError);
  });

  it('a same-size rewrite between measuring and reading (mtime restored) is caught by ctime', async () => {
    const path = (await sampleFile(1000, { dir: dir.dir, name: 'touch.bin' })).path;
    const src = await FileSource.fromPath(path);
    const st = await fs.stat(path);
    await new Promise((r) => setTimeout(r, 20));
    await rewriteInPlace(path, 0x42);
    await fs.utimes(path, st.atime, st.mtime);
    await expect(src.open(0, 1000)).rejects.toThrow(/was modified/);
  });

  it('a file replaced by another of the same size fails with SourceChangedError', async () => {
    const path = (await sampleFile(1000, { dir: dir.dir, name: 'replaced.bin' })).path;
    const src = await FileSource.fromPath(path);
    const other = (await sampleFile(1000, { dir: dir.dir, name: 'other.bin' })).path;
    await fs.rename(other, path);
    await expect(src.open(0, 1000)).rejects.toThrow(/replaced/);
  });

  it('refuses a pseudo-file whose stat size is 0 but that has content (/proc)', async () => {
    if (!(await fs.stat('/proc/self/status').catch(() => undefined))) return;
    await expect(FileSource.fromPath('/proc/self/status')).rejects.toThrow(/size is not stable/);
    await expect(FileSource.fromPath('/proc/self/status')).rejects.toBeInstanceOf(SourceChangedError);
  });

  it('does not block on a FIFO: refused as not a regular file', async () => {
    const { execFileSync } = await import('node:child_process');
    const fifo = join(dir.dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    await expect(FileSource.fromPath(fifo)).rejects.toMatchObject({ code: 'EISDIR' });
  });
});
