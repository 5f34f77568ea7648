// Which slices of a batch OST has acknowledged, kept in S3 so that a batch cut short by its Lambda timeout does
// not start over: one small JSON object per batch, `<resultsPrefix>attempts/slices/<uploadId>/<firstSliceId>`,
// under the records bucket's attempts/ prefix (expired by its lifecycle rule). Writes are coalesced: at most one
// PutObject in flight, the next carrying every id acknowledged meanwhile.
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Log } from '../core/log';
import { recordsBucket, type Settings } from '../config/settings';
import { boundedBody } from '../core/bounded-read';

/** The largest batch progress read: the ids of at most 10,000 slices, as JSON. */
const MAX_PROGRESS_BYTES = 128 * 1024;

export class BatchProgress {
  readonly #acked: Set<number>;
  #writing: Promise<void> | undefined;
  #dirty = false;

  private constructor(private readonly s3: S3Client, private readonly bucket: string, readonly key: string, acked: Iterable<number>, private readonly log?: Log) {
    this.#acked = new Set(acked);
  }

  /** The progress of batch `firstSliceId` of `uploadId`; none recorded (or unreadable) = nothing acknowledged. */
  static async load(s3: S3Client, s: Pick<Settings, 'resultsBucket' | 'resultsPrefix'>, sourceBucket: string, uploadId: string, firstSliceId: number, log?: Log): Promise<BatchProgress> {
    const bucket = recordsBucket(s, sourceBucket);
    const key = `${s.resultsPrefix}attempts/slices/${uploadId}/${firstSliceId}`;
    let acked: number[] = [];
    try {
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      // at most 10,000 slice ids: a larger object under the prefix is not ours, and is not read whole
      const bytes = await boundedBody(res, MAX_PROGRESS_BYTES);
      if (!bytes) throw new Error(`larger than ${MAX_PROGRESS_BYTES} bytes: not a batch progress`);
      const body = JSON.parse(bytes.toString('utf8')) as { acked?: unknown };
      if (Array.isArray(body.acked)) acked = body.acked.filter((id): id is number => Number.isSafeInteger(id) && (id as number) >= 1);
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      // 404, or 403 without s3:ListBucket: no progress yet. Anything else costs only a resend of acked slices.
      if (!(e.$metadata?.httpStatusCode === 404 || e.$metadata?.httpStatusCode === 403 || e.name === 'NoSuchKey')) {
        log?.warn('could not read the batch progress; sending the whole batch', { key, error: `${e.name}: ${(err as Error).message}`.slice(0, 300) });
      }
    }
    return new BatchProgress(s3, bucket, key, acked, log);
  }

  has(sliceId: number): boolean {
    return this.#acked.has(sliceId);
  }

  /** Records an acknowledged slice; the write happens in the background (flush() waits for it). */
  add(sliceId: number): void {
    this.#acked.add(sliceId);
    this.#dirty = true;
    this.#writing ??= this.#drain();
  }

  /** Waits until every acknowledged slice is written (best effort: a failed write only costs a resend). */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#dirty) {
        this.#dirty = false;
        const acked = [...this.#acked].sort((a, b) => a - b);
        try {
          await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key, Body: JSON.stringify({ acked }), ContentType: 'application/json' }));
        } catch (err) {
          this.log?.warn('could not record the batch progress (a retry resends those slices)', { key: this.key, error: `${(err as Error).name}: ${(err as Error).message}`.slice(0, 300) });
        }
      }
    } finally {
      this.#writing = undefined;
    }
  }
}
