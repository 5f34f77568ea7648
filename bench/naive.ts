// The official demo's pattern, for comparison: slices strictly one after another, each read fully into memory
// first (here: a ranged GET of the same S3 object into an ArrayBuffer), then sent as FormData with an in-memory
// Blob through undici's fetch. Signed as the demo signs (the digest of the empty string for the multipart calls)
// so the emulator accepts it. Nothing of lib/ost is used but the signing function, which is a few HMACs.
import { randomUUID } from 'node:crypto';
import { fetch, FormData } from 'undici';
import { OST_PATHS } from '../lib/ost/errors';
import { bodyDigest, EMPTY_DIGEST, httpDate, signRequest } from '../lib/ost/signing';

export interface OstTarget { endpoint: string; appId: string; apiKey: string; apiSecret: string }
export interface S3Object { endpoint: string; bucket: string; key: string; size: number }

function headers(ost: OstTarget, path: string, digest: string): Record<string, string> {
  const host = new URL(ost.endpoint).host;
  const date = httpDate();
  const { authorization } = signRequest({ host, path, date, digest, apiKey: ost.apiKey, apiSecret: ost.apiSecret });
  return { date, digest, authorization };
}

async function jsonCall(ost: OstTarget, call: 'init' | 'complete' | 'cancel', fields: Record<string, string>): Promise<Record<string, unknown>> {
  const path = OST_PATHS[call];
  const body = JSON.stringify({ request_id: randomUUID().replace(/-/g, ''), app_id: ost.appId, ...fields });
  const res = await fetch(ost.endpoint + path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers(ost, path, bodyDigest(body)) } });
  const out = (await res.json()) as { code?: number; data?: Record<string, unknown>; message?: string };
  if (out.code !== 0) throw new Error(`naive ${call}: ${res.status} ${JSON.stringify(out)}`);
  return out.data ?? {};
}

export const naiveInit = async (ost: OstTarget) => String((await jsonCall(ost, 'init', {})).upload_id);
export const naiveComplete = async (ost: OstTarget, uploadId: string) => String((await jsonCall(ost, 'complete', { upload_id: uploadId })).url);
export const naiveCancel = async (ost: OstTarget, uploadId: string) => { await jsonCall(ost, 'cancel', { upload_id: uploadId }); };

/** Reads bytes [start, end) of the object fully into memory. */
export async function readRange(s3: S3Object, start: number, end: number): Promise<ArrayBuffer> {
  const res = await fetch(`${s3.endpoint}/${s3.bucket}/${encodeURIComponent(s3.key)}`, { headers: { range: `bytes=${start}-${end - 1}` } });
  if (res.status !== 206) throw new Error(`naive GET answered ${res.status}`);
  return res.arrayBuffer();
}

/** One slice sent the demo's way: FormData with the whole slice as a Blob. */
export async function naiveSlice(ost: OstTarget, uploadId: string, sliceId: number, bytes: ArrayBuffer, name: string): Promise<void> {
  const form = new FormData();
  form.append('request_id', randomUUID().replace(/-/g, ''));
  form.append('app_id', ost.appId);
  form.append('upload_id', uploadId);
  form.append('slice_id', String(sliceId));
  form.append('data', new Blob([bytes]), name);
  const path = OST_PATHS.slice;
  const res = await fetch(ost.endpoint + path, { method: 'POST', body: form, headers: headers(ost, path, EMPTY_DIGEST) });
  const out = (await res.json()) as { code?: number };
  if (out.code !== 0) throw new Error(`naive slice ${sliceId}: ${res.status} ${JSON.stringify(out)}`);
}

/** The demo's whole multipart upload: init, slices one by one (read, then send), complete. */
export async function naiveForward(s3: S3Object, ost: OstTarget, sliceSize: number): Promise<{ ms: number; url: string; slices: number }> {
  const started = performance.now();
  const uploadId = await naiveInit(ost);
  const slices = Math.ceil(s3.size / sliceSize);
  for (let id = 1; id <= slices; id++) {
    const start = (id - 1) * sliceSize;
    const bytes = await readRange(s3, start, Math.min(s3.size, start + sliceSize));
    await naiveSlice(ost, uploadId, id, bytes, s3.key);
  }
  const url = await naiveComplete(ost, uploadId);
  return { ms: performance.now() - started, url, slices };
}
