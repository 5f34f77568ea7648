// A re-openable byte source: the OST client reads each slice (and re-reads it on retry) through `open`.
// Implementations: FileSource (lib/sources/file.ts) and S3RangeSource (lib/sources/s3.ts).
import type { Readable } from 'node:stream';

export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /** File name sent in Content-Disposition (made safe by the multipart encoder). */
  readonly name: string;
  /** Opens a fresh stream of bytes [start, end). Called again for every retry. */
  open(start: number, end: number, signal?: AbortSignal): Promise<Readable>;
}
