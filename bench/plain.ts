// The plain limit: the same byte ranges moved by plain ranged GETs from the same s3rver, piped straight into
// plain POSTs to the same emulator process, at the same concurrency. No workflow, no AWS SDK, no signing, no
// retries: one undici Pool per server and a hand-written multipart wrapper around the streamed bytes.
//
// Why the emulator and not a separate sink: the emulator does real work per byte (busboy parsing, a sha256 of the
// body for its digest check, a write to a temporary file), and a limit that skipped that work would measure the
// emulator rather than the forwarder. The plain POSTs go to the slice path unsigned: the emulator streams, hashes
// and stores the whole body exactly as for a signed slice, and only then answers 401 and deletes the file, so the
// same disk writes happen. What the plain run does not do is init/complete: the complete's server-side assembly
// (a copy of the whole object on the emulator) is reported separately.
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import { OST_PATHS } from '../lib/ost/errors';

export interface PlainOptions {
  s3Endpoint: string;
  bucket: string;
  key: string;
  size: number;
  sliceSize: number;
  concurrency: number;
  ostEndpoint: string;
}

export interface PlainResult { bytes: number; slices: number; ms: number; statuses: Record<number, number> }

export async function plainTransfer(o: PlainOptions): Promise<PlainResult> {
  const s3 = new Pool(o.s3Endpoint, { connections: o.concurrency });
  const ost = new Pool(o.ostEndpoint, { connections: o.concurrency });
  const slices = Math.ceil(o.size / o.sliceSize);
  const boundary = `----plain${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="data"; filename="slice"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const statuses: Record<number, number> = {};
  let next = 0;
  let bytes = 0;
  const started = performance.now();
  const worker = async () => {
    for (let i = next++; i < slices; i = next++) {
      const start = i * o.sliceSize;
      const end = Math.min(o.size, start + o.sliceSize);
      const get = await s3.request({ method: 'GET', path: `/${o.bucket}/${encodeURIComponent(o.key)}`, headers: { range: `bytes=${start}-${end - 1}` } });
      if (get.statusCode !== 206) throw new Error(`plain GET answered ${get.statusCode}`);
      const body = get.body;
      const post = await ost.request({
        method: 'POST',
        path: OST_PATHS.slice,
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + end - start + tail.length) },
        body: (async function* () { yield head; yield* body; yield tail; })() as never,
      });
      statuses[post.statusCode] = (statuses[post.statusCode] ?? 0) + 1;
      await post.body.dump();
      bytes += end - start;
    }
  };
  let ms: number;
  try {
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    ms = performance.now() - started; // closing the pools is not part of moving the bytes
  } finally {
    await Promise.all([s3.close(), ost.close()]);
  }
  return { bytes, slices, ms, statuses };
}
