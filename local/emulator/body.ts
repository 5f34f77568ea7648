// Reading request bodies: streaming one through a meter into a sink, a JSON body kept up to a limit, a file part
// written to disk, the small bodies of the controls, JSON parsing.
import type { IncomingMessage } from 'node:http';
import { createWriteStream } from 'node:fs';
import { Writable, type Transform } from 'node:stream';
import type { DataPart } from './call-fields';

/** Most bytes of a JSON call's body that are kept. */
export const JSON_BODY_LIMIT = 1024 * 1024;

/** The sink of a JSON call: keeps the body up to JSON_BODY_LIMIT, and says whether it was longer. */
export class JsonBody extends Writable {
  raw: Buffer | undefined;
  tooLarge = false;
  private readonly chunks: Buffer[] = [];
  private size = 0;

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.size += chunk.length;
    if (this.size <= JSON_BODY_LIMIT) this.chunks.push(chunk);
    else this.tooLarge = true;
    cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.raw = Buffer.concat(this.chunks);
    cb();
  }
}

/** Writes a multipart file part to `tmp`; `done` settles when it is on disk (its rejection is already handled). */
export function writeDataPart(stream: NodeJS.ReadableStream, filename: string, tmp: string): DataPart {
  const out = createWriteStream(tmp, { highWaterMark: 1024 * 1024 });
  const part: DataPart = { tmp, filename, size: 0, stream: out, done: Promise.resolve() };
  part.done = new Promise<void>((resolve, reject) => {
    out.on('finish', () => { part.size = out.bytesWritten; resolve(); });
    out.on('error', reject);
    stream.on('error', reject);
    stream.pipe(out);
  });
  part.done.catch(() => undefined);
  return part;
}

/** The JSON body as an object, or why it is not one. */
export function parseJson(raw: Buffer | undefined, tooLarge: boolean): Record<string, unknown> | string {
  if (tooLarge) return 'body too large';
  let body: unknown;
  try {
    body = JSON.parse((raw ?? Buffer.alloc(0)).toString('utf8'));
  } catch {
    return 'body must be JSON';
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'body must be a JSON object';
  return body as Record<string, unknown>;
}

/**
 * Streams the request through `meter` into `sink`. Resolves 'ok' when the sink finished, 'aborted' when the
 * connection ended first, or the sink's error once the rest of the body was drained (so an answer can be sent).
 */
export function consume(req: IncomingMessage, meter: Transform, sink: Writable): Promise<'ok' | 'aborted' | Error> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (v: 'ok' | 'aborted' | Error): void => { if (!settled) { settled = true; resolve(v); } };
    req.on('close', () => { if (!req.complete) done('aborted'); });
    req.on('error', () => done('aborted'));
    sink.on('finish', () => done('ok'));
    const failed = (err: Error): void => {
      req.unpipe(meter);
      meter.unpipe(sink);
      if (req.complete) return done(err);
      req.on('end', () => done(err));
      req.resume();
    };
    sink.on('error', failed);
    meter.on('error', failed);
    req.pipe(meter).pipe(sink);
  });
}

export async function readSmall(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  return size <= limit ? Buffer.concat(chunks) : undefined;
}
