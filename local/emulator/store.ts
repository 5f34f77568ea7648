// Uploads, slices and served files, kept on disk: <dir>/uploads/<upload_id>/<slice_id>, <dir>/files/<file id>,
// <dir>/tmp/ for bodies still arriving. State lives in memory; nothing is ever held whole in memory.
import { createReadStream, mkdirSync, renameSync } from 'node:fs';
import { open, rename, rm, unlink } from 'node:fs/promises';
import { randomBytes, randomInt } from 'node:crypto';
import { join } from 'node:path';
import { clip } from './bounds';
import type { UploadInfo, UploadState } from './types';

export const MAX_SLICE_BYTES = 5 * 1024 * 1024 * 1024;

export interface OstResult {
  code: number;
  message: string;
  data?: Record<string, unknown>;
}

export const MESSAGES: Record<number, string> = {
  0: 'success',
  10001: 'request parameters invalid',
  10002: 'storage operation failed',
  10003: 'database operation failed',
  10004: 'cache operation failed',
  10005: 'upload info expired or never uploaded',
  10006: 'io operation failed',
  10007: 'push task failed',
  11200: 'licence check failed',
  11201: 'daily limit exceeded',
  11202: 'concurrency limit exceeded',
  11203: 'flow control limit exceeded',
  // Seen on the sibling ost-api (docs/ost-api.md), for fault injection: HTTP 500 and HTTP 400 there.
  10401: 'no data found',
  20304: 'audio is silent or does not match its parameters',
};

export const ok = (data?: Record<string, unknown>): OstResult => (data ? { code: 0, message: 'success', data } : { code: 0, message: 'success' });
export const invalid = (why: string): OstResult => ({ code: 10001, message: `${MESSAGES[10001]}: ${why}` });
export const gone = (uploadId: string): OstResult => ({ code: 10005, message: `${MESSAGES[10005]}: ${clip(uploadId)}` });

interface UploadRecord {
  uploadId: string;
  state: UploadState;
  /** True while complete assembles the slices: the upload is no longer open to other calls. */
  assembling: boolean;
  slices: Map<number, { size: number; filename: string }>;
  sliceUploads: number;
  completes: number;
  completeCalls: number;
  bytes: number;
  url?: string;
  createdAt: number;
  lastActivityAt: number;
}

export interface ServedFile { path: string; name: string; size: number }

export interface StoreSettings {
  uploadTtlMs: number;
  minSliceSize: number;
  maxSlices: number;
}

/** A served file's name: the basename of what the client sent, without control characters. */
export function safeName(filename: string | undefined, fallback: string): string {
  const base = (filename ?? '').split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return clean === '' || clean === '.' || clean === '..' ? fallback : clean;
}

function pad(n: number, width: number): string { return String(n).padStart(width, '0'); }

export class UploadStore {
  private readonly uploads = new Map<string, UploadRecord>();
  private readonly files = new Map<string, ServedFile>();
  private readonly background = new Set<Promise<unknown>>();
  private uploadCounter = 0;
  private tmpCounter = 0;
  private closed = false;

  constructor(
    readonly dir: string,
    private readonly settings: StoreSettings,
    private readonly fileUrl: (id: string, name: string) => string,
  ) {
    for (const d of ['uploads', 'files', 'tmp']) mkdirSync(join(dir, d), { recursive: true });
  }

  tmpPath(): string {
    this.tmpCounter += 1;
    return join(this.dir, 'tmp', `${process.pid}-${this.tmpCounter}-${randomBytes(4).toString('hex')}`);
  }

  /** Like the service's ids: up_ + yyMMddHHmmss + milliseconds + 9 digits. */
  private newUploadId(): string {
    const d = new Date();
    const stamp = pad(d.getUTCFullYear() % 100, 2) + pad(d.getUTCMonth() + 1, 2) + pad(d.getUTCDate(), 2) +
      pad(d.getUTCHours(), 2) + pad(d.getUTCMinutes(), 2) + pad(d.getUTCSeconds(), 2) + pad(d.getUTCMilliseconds(), 3);
    this.uploadCounter += 1;
    return `up_${stamp}${pad(this.uploadCounter % 1_000_000, 6)}${pad(randomInt(1000), 3)}`;
  }

  createUpload(): string {
    let uploadId = this.newUploadId();
    while (this.uploads.has(uploadId)) uploadId = this.newUploadId();
    const now = Date.now();
    this.uploads.set(uploadId, {
      uploadId, state: 'open', assembling: false, slices: new Map(), sliceUploads: 0, completes: 0, completeCalls: 0,
      bytes: 0, createdAt: now, lastActivityAt: now,
    });
    mkdirSync(this.uploadDir(uploadId), { recursive: true });
    return uploadId;
  }

  private uploadDir(uploadId: string): string { return join(this.dir, 'uploads', uploadId); }

  /** Forgets the slices and deletes their files; the returned promise settles once they are gone. */
  private discard(rec: UploadRecord): Promise<void> {
    rec.slices.clear();
    return this.track(rm(this.uploadDir(rec.uploadId), { recursive: true, force: true }));
  }

  private track(p: Promise<unknown>): Promise<void> {
    const q: Promise<void> = p.then(() => undefined, () => undefined).finally(() => this.background.delete(q));
    this.background.add(q);
    return q;
  }

  /** Marks idle open uploads expired and frees their slices. */
  sweep(now = Date.now()): void {
    for (const rec of this.uploads.values()) this.expireIfIdle(rec, now);
  }

  private expireIfIdle(rec: UploadRecord, now: number): void {
    if (rec.state === 'open' && !rec.assembling && now - rec.lastActivityAt > this.settings.uploadTtlMs) {
      rec.state = 'expired';
      rec.bytes = 0;
      void this.discard(rec);
    }
  }

  /** The upload, if it is open (not unknown, completed, cancelled, expired or being completed). */
  private openUpload(uploadId: string): UploadRecord | undefined {
    const rec = this.uploads.get(uploadId);
    if (!rec) return undefined;
    this.expireIfIdle(rec, Date.now());
    return rec.state === 'open' && !rec.assembling ? rec : undefined;
  }

  /** Moves a fully received slice into place; a slice id received again replaces the earlier bytes. */
  storeSlice(uploadId: string, sliceId: number, tmp: string, size: number, filename: string): OstResult {
    const rec = this.openUpload(uploadId);
    if (!rec) return gone(uploadId);
    // Synchronous on purpose: the state check, the rename and the bookkeeping happen in one turn of the event
    // loop, so a concurrent complete or cancel sees either all of it or none of it.
    renameSync(tmp, join(this.uploadDir(uploadId), String(sliceId)));
    const previous = rec.slices.get(sliceId);
    rec.bytes += size - (previous?.size ?? 0);
    rec.slices.set(sliceId, { size, filename });
    rec.sliceUploads += 1;
    rec.lastActivityAt = Date.now();
    return ok();
  }

  async complete(uploadId: string): Promise<OstResult> {
    const known = this.uploads.get(uploadId);
    if (known) known.completeCalls += 1;
    const rec = this.openUpload(uploadId);
    if (!rec) return gone(uploadId);
    rec.lastActivityAt = Date.now();
    const ids = [...rec.slices.keys()].sort((a, b) => a - b);
    if (ids.length === 0) return invalid('no slices were uploaded');
    const missing: number[] = [];
    for (let i = 0, want = 1; want <= ids[ids.length - 1]!; want++) {
      if (ids[i] === want) i++;
      else if (missing.push(want) >= 5) break;
    }
    if (missing.length > 0) return invalid(`slice ids must run 1..N without gaps; missing ${missing.join(', ')}`);
    for (const id of ids.slice(0, -1)) {
      const size = rec.slices.get(id)!.size;
      if (size < this.settings.minSliceSize) {
        return invalid(`slice ${id} has ${size} bytes; every slice but the last needs at least ${this.settings.minSliceSize}`);
      }
    }
    rec.assembling = true;
    const fileId = randomBytes(12).toString('hex');
    const name = safeName(rec.slices.get(1)!.filename, uploadId);
    const target = join(this.dir, 'files', fileId);
    try {
      await this.assemble(rec, ids, `${target}.part`);
      await rename(`${target}.part`, target);
    } catch (err) {
      rec.assembling = false;
      await unlink(`${target}.part`).catch(() => undefined);
      return { code: 10006, message: `${MESSAGES[10006]}: ${err instanceof Error ? err.message : String(err)}` };
    }
    rec.assembling = false;
    rec.state = 'completed';
    rec.completes += 1;
    rec.lastActivityAt = Date.now();
    const url = this.fileUrl(fileId, name);
    rec.url = url;
    this.files.set(fileId, { path: target, name, size: rec.bytes });
    await this.discard(rec);
    return ok({ url });
  }

  private async assemble(rec: UploadRecord, ids: number[], target: string): Promise<void> {
    const out = await open(target, 'w');
    try {
      for (const id of ids) {
        const input = createReadStream(join(this.uploadDir(rec.uploadId), String(id)), { highWaterMark: 1024 * 1024 });
        try {
          for await (const chunk of input) {
            if (this.closed) throw new Error('emulator closed');
            await out.write(chunk as Buffer);
          }
        } finally {
          input.destroy();
        }
      }
    } finally {
      await out.close();
    }
  }

  async cancel(uploadId: string): Promise<OstResult> {
    const rec = this.openUpload(uploadId);
    if (!rec) return gone(uploadId);
    rec.state = 'cancelled';
    rec.bytes = 0;
    rec.lastActivityAt = Date.now();
    await this.discard(rec);
    return ok();
  }

  /** Simple upload: the received body becomes a served file. */
  async storeFile(tmp: string, filename: string, size: number): Promise<OstResult> {
    const fileId = randomBytes(12).toString('hex');
    const name = safeName(filename, 'file');
    const target = join(this.dir, 'files', fileId);
    await rename(tmp, target);
    this.files.set(fileId, { path: target, name, size });
    return ok({ url: this.fileUrl(fileId, name) });
  }

  file(id: string): ServedFile | undefined { return this.files.get(id); }

  list(): UploadInfo[] {
    this.sweep();
    return [...this.uploads.values()].map((r) => {
      const info: UploadInfo = {
        uploadId: r.uploadId, state: r.state, sliceIds: [...r.slices.keys()].sort((a, b) => a - b),
        sliceUploads: r.sliceUploads, bytes: r.bytes, completes: r.completes, completeCalls: r.completeCalls,
        createdAt: r.createdAt, lastActivityAt: r.lastActivityAt,
      };
      if (r.url) info.url = r.url;
      return info;
    });
  }

  /** Makes running assemblies stop at their next chunk. */
  markClosed(): void { this.closed = true; }

  /** Waits for pending deletions. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.background.size > 0) await Promise.all([...this.background]);
  }
}
