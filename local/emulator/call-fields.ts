// The service's field checks and effects once a call's body is read: common fields, duplicate request_ids, then
// init/complete/cancel (JSON) or upload/slice (multipart) against the store.
import type { WriteStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { clip } from './bounds';
import { MAX_SLICE_BYTES, invalid, ok, type OstResult, type UploadStore } from './store';
import type { CallLogEntry, EmulatorCredentials, OstCall } from './types';

/** How many distinct request_ids are remembered to flag duplicates (oldest forgotten first). */
const REMEMBERED_REQUEST_IDS = 100_000;

/** What the live service answers for slice_id 0 (seen by a public client). */
export const SLICE_ID_EMPTY = 'sliceId must not be empty';

/** A file part being written to disk. */
export interface DataPart { tmp: string; filename: string; size: number; stream: WriteStream; done: Promise<void> }

export class CallFields {
  /** sha256 of each request_id seen, for duplicate flags; bounded. */
  private readonly requestIds = new Set<string>();

  constructor(
    private readonly store: UploadStore,
    private readonly settings: { credentials: EmulatorCredentials; maxSlices: number },
  ) {}

  /** Flags a request_id seen before; remembers a bounded number of them. */
  private seenRequestId(requestId: string): boolean {
    const key = createHash('sha256').update(requestId).digest('base64');
    if (this.requestIds.has(key)) return true;
    this.requestIds.add(key);
    if (this.requestIds.size > REMEMBERED_REQUEST_IDS) this.requestIds.delete(this.requestIds.values().next().value!);
    return false;
  }

  /** app_id, request_id and cloud_id, common to every call. */
  private commonFields(body: Record<string, unknown>, entry: CallLogEntry): OstResult | undefined {
    const { app_id: appId, request_id: requestId, cloud_id: cloudId } = body;
    if (typeof requestId === 'string' && requestId !== '') {
      entry.requestId = clip(requestId);
      if (this.seenRequestId(requestId)) entry.duplicateRequestId = true;
    }
    if (typeof appId !== 'string' || appId === '') return invalid('app_id is required');
    if (appId !== this.settings.credentials.appId) return invalid('app_id does not match the credentials');
    if (typeof requestId !== 'string' || requestId === '') return invalid('request_id is required');
    if (cloudId !== undefined && typeof cloudId !== 'string' && typeof cloudId !== 'number') return invalid('cloud_id must be a string');
    return undefined;
  }

  async jsonCall(call: OstCall, b: Record<string, unknown>, entry: CallLogEntry): Promise<OstResult> {
    const bad = this.commonFields(b, entry);
    if (bad) return bad;
    if (call === 'init') {
      entry.uploadId = this.store.createUpload();
      return ok({ upload_id: entry.uploadId });
    }
    if (typeof b.upload_id !== 'string' || b.upload_id === '') return invalid('upload_id is required');
    if (call === 'complete') return this.store.complete(b.upload_id);
    return this.store.cancel(b.upload_id);
  }

  async multipartCall(
    call: OstCall, fields: Record<string, string>, data: DataPart | undefined, dataAsField: boolean, entry: CallLogEntry,
  ): Promise<OstResult> {
    const bad = this.commonFields(fields, entry);
    if (bad) return bad;
    let sliceId = 0;
    if (call === 'slice') {
      if (!fields.upload_id) return invalid('upload_id is required');
      const raw = fields.slice_id;
      // The live service reads slice_id 0 as missing, and says so in these words (docs/ost-api.md); the code is ours.
      if (raw === undefined || raw === '' || /^0+$/.test(raw)) return { code: 10001, message: SLICE_ID_EMPTY };
      if (!/^\d+$/.test(raw)) return invalid(`slice_id must be an integer, got ${JSON.stringify(clip(raw, 40))}`);
      sliceId = Number(raw);
      if (sliceId > this.settings.maxSlices) return invalid(`slice_id must be between 1 and ${this.settings.maxSlices}, got ${sliceId}`);
    }
    if (!data) return invalid(dataAsField ? 'data must be a file part (with a filename)' : 'data is required');
    if (call === 'upload') return this.store.storeFile(data.tmp, data.filename, data.size);
    if (data.size === 0) return invalid('data is empty');
    if (data.size > MAX_SLICE_BYTES) return invalid(`a slice may hold at most ${MAX_SLICE_BYTES} bytes`);
    return this.store.storeSlice(fields.upload_id!, sliceId, data.tmp, data.size, data.filename);
  }
}
