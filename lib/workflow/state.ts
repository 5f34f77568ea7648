// The shapes the state machine passes between its steps: the execution input, Prepare's output (the workflow
// state for the rest of the run), a Map item, Cancel's and Report's inputs. Types only.
import type { UploadPlan } from '../ost/plan';
import type { SkipInfo } from './eligibility';
import type { MediaFacts } from './media';

/** Execution input, as the trigger starts it (and as the Restart state rebuilds it). */
export interface ExecutionInput {
  bucket: string;
  key: string;
  versionId?: string | null;
  etag?: string | null;
  size?: number;
  sequencer?: string;
  /** Restarts from init so far (after OstUploadExpiredError; absent on the first run). */
  restarts?: number;
}

/** The object as HeadObject saw it; every field present (null when S3 has none) so JSONPath never misses. */
export interface SourceObject {
  bucket: string;
  key: string;
  versionId: string | null;
  etag: string | null;
  size: number;
}

/** [firstSliceId, count]: one Upload slices invocation. */
export type BatchDescriptor = [number, number];

/** The `$$.Execution` context object (the local runner provides Id and Name as AWS does). */
export interface ExecutionContext {
  Id?: string;
  Name?: string;
  StartTime?: string;
  Input?: unknown;
}

/** Prepare's input: the state (execution input or Restart's output) and the context object. */
export interface PrepareInput {
  input: ExecutionInput;
  execution?: ExecutionContext;
}

/** Prepare's output = the workflow state for the rest of the run. */
export interface PreparedState {
  object: SourceObject;
  plan: UploadPlan;
  /** Multipart only. */
  uploadId?: string;
  initSid?: string;
  batches: BatchDescriptor[];
  slicesPerBatch: number;
  restarts: number;
  maxRestarts: number;
  mapMaxConcurrency: number;
  executionName: string;
  startedAt: string;
  /** The object's Content-Type (null: none) and, for audio, its media facts (lib/sources/media-probe.ts). */
  contentType?: string | null;
  media?: MediaFacts;
  /** The consumer's rules refuse the file: nothing was initialised, ChooseMode goes to ReportSkipped. */
  skip?: SkipInfo;
}

/** One Map item (ItemSelector). */
export interface BatchInput {
  object: SourceObject;
  plan: Extract<UploadPlan, { mode: 'multipart' }>;
  uploadId: string;
  batch: BatchDescriptor;
  executionName?: string;
}

export interface UploadResult { url: string; sid: string }

/** What a Catch with ResultPath puts in the state. */
export interface StepErrorOutput { Error: string; Cause?: string }

export interface CancelInput {
  uploadId?: string;
  /** After a failed Prepare: the state Prepare had (execution input or Restart output), to find its init marker. */
  input?: ExecutionInput;
  object?: SourceObject;
  error?: StepErrorOutput;
  execution?: ExecutionContext;
}

export interface CancelResult {
  /** True when OST acknowledged the cancel. */
  cancelled: boolean;
  sid?: string;
  /** Why the cancel did not happen or failed (best effort: never thrown). */
  reason?: string;
  /** The original error, resolved to the failing child's error when a Distributed Map run failed. */
  error: StepErrorOutput;
  /** The upload cancelled (or not): the state's uploadId, or after a failed Prepare the one in its init marker. */
  uploadId?: string;
}

export type WorkflowState = Partial<PreparedState> & Partial<ExecutionInput> & {
  upload?: UploadResult;
  error?: StepErrorOutput;
  cancel?: CancelResult;
  cancelFailure?: StepErrorOutput;
};

export interface ReportInput {
  outcome: 'forwarded' | 'failed' | 'skipped';
  state: WorkflowState;
  execution?: ExecutionContext;
}
