// The plain limit: the same byte ranges moved by plain ranged GETs from the same s3rver, piped straight into
// plain POSTs to the same emulator process, at the same concurrency. No workflow, no AWS SDK, no retries: one undici
// Pool per server and a hand-written multipart wrapper around the streamed bytes.
//
// Why the emulator and not a separate sink: the emulator does real work per byte (busboy parsing, a write to a
// temporary file), and a limit that skipped that work would measure the emulator rather than the forwarder. The
// emulator refuses an unsigned request before reading its body, so the plain POSTs are real slices of a
// real upload: one init, each slice signed over its headers (an HMAC of four short lines; the digest is the empty
// string's, as the vendor demo sends), and a cancel at the end instead of a complete, whose server-side assembly (a
// copy of the whole object on the emulator) is reported separately.
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import { OST_PATHS } from '../lib/ost/errors';
import { EMPTY_DIGEST, httpDate, signRequest } from '../lib/ost/signing';

export interface PlainOptions {
  s3Endpoint: string;
  bucket: string;
  key: string;
  size: number;
  sliceSize: number;
  concurrency: number;
  ostEndpoint: string;
  /** The emulator's credentials: the plain POSTs are signed (headers only). */
  appId: string;
  apiKey: string;
  apiSecret: string;
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
  const host = new URL(o.ostEndpoint).host;
  const signed = (path: string, contentType: string, length: number) => {
    const date = httpDate();
    const { authorization } = signRequest({ host, path, date, digest: EMPTY_DIGEST, apiKey: o.apiKey, apiSecret: o.apiSecret });
    return { host, date, digest: EMPTY_DIGEST, authorization, 'content-type': contentType, 'content-length': String(length) };
  };
  const json = async (path: string, body: Record<string, string>) => {
    const text = JSON.stringify({ request_id: randomBytes(16).toString('hex'), app_id: o.appId, ...body });
    const res = await ost.request({ method: 'POST', path, headers: signed(path, 'application/json', Buffer.byteLength(text)), body: text });
    const answer = (await res.body.json()) as { code?: number; data?: { upload_id?: string } };
    if (answer.code !== 0) throw new Error(`plain ${path} answered code ${answer.code}`);
    return answer;
  };
  const uploadId = (await json(OST_PATHS.init, {})).data?.upload_id ?? '';
  const fieldsFor = (sliceId: number) => Buffer.from(
    [['request_id', randomBytes(16).toString('hex')], ['app_id', o.appId], ['upload_id', uploadId], ['slice_id', String(sliceId)]]
      .map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join(''),
  );
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
      const fields = fieldsFor(i + 1);
      const post = await ost.request({
        method: 'POST',
        path: OST_PATHS.slice,
        headers: signed(OST_PATHS.slice, `multipart/form-data; boundary=${boundary}`, fields.length + head.length + end - start + tail.length),
        body: (async function* () { yield fields; yield head; yield* body; yield tail; })() as never,
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
    await json(OST_PATHS.cancel, { upload_id: uploadId });
  } finally {
    await Promise.all([s3.close(), ost.close()]);
  }
  return { bytes, slices, ms, statuses };
}
