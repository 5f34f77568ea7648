// Reading request bodies: streaming one through a meter into a sink, the small bodies of the controls, JSON parsing.
import type { IncomingMessage } from 'node:http';
import type { Transform, Writable } from 'node:stream';

/** Most bytes of a JSON call's body that are kept. */
export const JSON_BODY_LIMIT = 1024 * 1024;

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
