// Attempt markers: small objects under `<resultsPrefix>attempts/` that let a step which runs again (a state machine
// retry after a crash or timeout, whose first run's answer was lost) know what that first run did. Three uses:
//   init/<execution>/<restarts>    Prepare records the upload it initialised; a re-run continues it, Cancel cancels it
//   upload/<execution>/<restarts>  Upload whole notes a simple upload it starts; a re-run must not send it twice
//   complete/<uploadId>            Complete notes it asked OST to assemble; a 10005 after that may be its own success
// The first two are keyed by execution: a direct invocation (no execution name) has no earlier run to find, and
// forExecution() then answers undefined. serverless.yml expires the markers after markerDays.
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { AwsTransientError, describeAwsError, isTransientAwsError } from '../core/aws-errors';
import type { Log } from '../core/log';
import { recordsBucket, type Settings } from '../config/settings';
import { boundedBody } from '../core/bounded-read';

/** The execution name a state carries when no execution context reached Prepare (a direct invocation). */
export const UNKNOWN_EXECUTION = 'unknown';

type MarkerSettings = Pick<Settings, 'resultsBucket' | 'resultsPrefix'>;

/** Where markers go and how to report trouble with them. `bucket` is the source bucket (used without RESULTS_BUCKET). */
export interface MarkerStore {
  s3: S3Client;
  settings: MarkerSettings;
  bucket: string;
  log?: Log;
}

export interface InitMarker {
  /** The upload an earlier run initialised, or undefined (see readInitMarker). */
  read(): Promise<{ uploadId: string } | undefined>;
  /** Records the upload just initialised; throws when it cannot (see writeInitMarker). */
  write(uploadId: string): Promise<void>;
}

export interface UploadMarker {
  /** Notes the upload is starting; true when an earlier run already had (see markAttempt). */
  begin(): Promise<boolean>;
  /** The upload failed for sure: a retry may send again. */
  clear(): Promise<void>;
}

export interface CompleteMarker {
  /** Notes the complete call; true when an earlier run already made it (see markAttempt). */
  claim(): Promise<boolean>;
}

/** True when the name identifies an execution (markers can be keyed by it). */
export function isKnownExecution(name: string | undefined): name is string {
  return !!name && name !== UNKNOWN_EXECUTION;
}

/** The markers of one run from init (an execution after `restarts` restarts); undefined without an execution name (nothing to continue or detect). */
export function forExecution(store: MarkerStore, executionName: string | undefined, restarts: number): { init: InitMarker; upload: UploadMarker } | undefined {
  if (!isKnownExecution(executionName)) return undefined;
  const { s3, settings, bucket, log } = store;
  const init = `init/${executionName}/${restarts}`;
  const upload = `upload/${executionName}/${restarts}`;
  return {
    init: {
      read: () => readInitMarker(s3, settings, bucket, init, log),
      write: (uploadId) => writeInitMarker(s3, settings, bucket, init, uploadId, log),
    },
    upload: {
      begin: () => markAttempt(s3, settings, bucket, upload, log),
      clear: () => clearAttempt(s3, settings, bucket, upload, log),
    },
  };
}

/** The marker of one multipart upload's Complete (keyed by upload: it needs no execution name). */
export function forUpload(store: MarkerStore, uploadId: string): CompleteMarker {
  const { s3, settings, bucket, log } = store;
  return { claim: () => markAttempt(s3, settings, bucket, `complete/${uploadId}`, log) };
}

/**
 * Notes that a step is about to do something it must know about if it runs again (complete: a retried Complete
 * that gets 10005 may be looking at its own earlier success). A conditional PutObject (If-None-Match: *) of a
 * small marker under `<resultsPrefix>attempts/`; returns true when the marker was already there. When the marker
 * cannot be written the answer is unknown, and true is the safe one (the caller then never starts again).
 */
export async function markAttempt(s3: S3Client, s: MarkerSettings, bucket: string, name: string, log?: Log): Promise<boolean> {
  const key = `${s.resultsPrefix}attempts/${name}`;
  try {
    const body = JSON.stringify({ attempt: name, at: new Date().toISOString() });
    await s3.send(new PutObjectCommand({ Bucket: recordsBucket(s, bucket), Key: key, Body: body, ContentType: 'application/json', IfNoneMatch: '*' }));
    return false;
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.$metadata?.httpStatusCode === 412 || e.name === 'PreconditionFailed') return true;
    // Nothing was started yet: a transient failure is retried (the step again), not taken as an earlier attempt.
    if (isTransientAwsError(err)) throw new AwsTransientError(describeAwsError(err, `PutObject s3://${recordsBucket(s, bucket)}/${key} (attempt marker)`), { cause: err });
    log?.warn('could not write the attempt marker; treating this as a repeated attempt', { marker: key, error: `${e.name}: ${(err as Error).message}` });
    return true;
  }
}

/**
 * Reads the multipart upload an earlier run of Prepare initialised for this execution and restart (its answer may
 * have been lost with that run). Undefined when there is none (or it is unreadable for a lasting reason: logged);
 * AwsTransientError when reading it failed transiently: initialising another upload then could orphan the first.
 */
/** The largest init marker read (it holds an upload id of at most 256 characters). */
const MAX_MARKER_BYTES = 4096;

async function readInitMarker(s3: S3Client, s: MarkerSettings, bucket: string, name: string, log?: Log): Promise<{ uploadId: string } | undefined> {
  const key = `${s.resultsPrefix}attempts/${name}`;
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: recordsBucket(s, bucket), Key: key }));
    // a marker is a few hundred bytes: a larger object under the prefix is not ours, and is not read whole
    const bytes = await boundedBody(res, MAX_MARKER_BYTES);
    if (!bytes) throw new Error(`larger than ${MAX_MARKER_BYTES} bytes: not a marker`);
    const marker = JSON.parse(bytes.toString('utf8')) as { uploadId?: unknown };
    return typeof marker.uploadId === 'string' && marker.uploadId ? { uploadId: marker.uploadId } : undefined;
  } catch (err) {
    const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    // A missing key is a 404 (the deployed roles that read markers have s3:ListBucket); a 403 is taken as "no marker"
    // too (a role that cannot read the marker cannot write it either, and writing it is checked).
    if (e.$metadata?.httpStatusCode === 404 || e.$metadata?.httpStatusCode === 403 || e.name === 'NoSuchKey') return undefined;
    // A transient failure leaves it unknown whether an earlier run initialised an upload: a fresh init could orphan
    // it, so the step fails and is retried. Anything else (a marker that is not ours) is logged and taken as none.
    const where = `GetObject s3://${recordsBucket(s, bucket)}/${key} (init marker)`;
    if (isTransientAwsError(err)) throw new AwsTransientError(describeAwsError(err, where), { cause: err });
    log?.warn('could not read the init marker; taking it as absent', { marker: key, error: `${e.name}: ${e.message}` });
    return undefined;
  }
}

/**
 * Records the upload_id right after init, so a re-run of Prepare continues it instead of leaving it orphaned, and a
 * Prepare that gives up is followed by a cancel of it. Throws when the marker cannot be written.
 */
async function writeInitMarker(s3: S3Client, s: MarkerSettings, bucket: string, name: string, uploadId: string, log?: Log): Promise<void> {
  const key = `${s.resultsPrefix}attempts/${name}`;
  try {
    await s3.send(new PutObjectCommand({ Bucket: recordsBucket(s, bucket), Key: key, Body: JSON.stringify({ uploadId, at: new Date().toISOString() }), ContentType: 'application/json' }));
  } catch (err) {
    // Thrown: the caller cancels the upload it cannot record (a re-run would initialise another, orphaning it).
    log?.warn('could not write the init marker', { marker: key, error: `${(err as Error).name}: ${(err as Error).message}` });
    if (isTransientAwsError(err)) throw new AwsTransientError(describeAwsError(err, `PutObject s3://${recordsBucket(s, bucket)}/${key} (init marker)`), { cause: err });
    throw err;
  }
}

/** Removes an attempt marker (the attempt failed for sure); a marker that cannot be removed is logged and kept. */
async function clearAttempt(s3: S3Client, s: MarkerSettings, bucket: string, name: string, log?: Log): Promise<void> {
  const key = `${s.resultsPrefix}attempts/${name}`;
  try {
    await s3.send(new DeleteObjectCommand({ Bucket: recordsBucket(s, bucket), Key: key }));
  } catch (err) {
    log?.warn('could not remove the attempt marker; a retry of this step will fail as uncertain', { marker: key, error: `${(err as Error).name}: ${(err as Error).message}` });
  }
}
