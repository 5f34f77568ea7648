// Reading a small object whole, and never more than a bound of it: what an object store hands back under a prefix
// others can write to may be of any size. Shaped after a GetObject answer; nothing here knows AWS.

/**
 * The body of a GetObject answer, or undefined when it is larger than `max` bytes (by its length, or by what
 * arrives: the rest is not read). For every small object read from the records bucket: records, attempt markers,
 * batch progress.
 */
export async function boundedBody(res: { Body?: unknown; ContentLength?: number }, max: number): Promise<Buffer | undefined> {
  const body = res.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
  if (!body) return Buffer.alloc(0);
  if ((res.ContentLength ?? 0) > max) { body.destroy?.(); return undefined; }
  const chunks: Buffer[] = [];
  let read = 0;
  for await (const chunk of body) {
    read += chunk.length;
    if (read > max) { body.destroy?.(); return undefined; }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
