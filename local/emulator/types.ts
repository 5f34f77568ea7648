// Public types of the OST emulator. The emulator is the ground every other test stands on, so these shapes are
// what tests assert on: keep them plain (JSON-serialisable, except `times: Infinity`).
import type { OstCall } from '../../lib/ost/errors';

export type { OstCall };

export interface EmulatorCredentials {
  appId: string;
  apiKey: string;
  apiSecret: string;
}

export interface EmulatorOptions {
  /** TCP port; 0 (the default) picks an ephemeral one. */
  port?: number;
  /** Interface to bind; 127.0.0.1 by default. */
  host?: string;
  /** Where slices and served files live. Default: a fresh temporary directory, removed by close(). */
  dir?: string;
  /** Credentials the emulator accepts. Each defaults to a random value per instance. */
  appId?: string;
  apiKey?: string;
  apiSecret?: string;
  /** An upload with no activity for this long expires (later calls with it get 10005). Default 1 h. */
  uploadTtlMs?: number;
  /** Largest accepted difference between the `date` header and the emulator's clock. Default 300 s. */
  maxSkewSeconds?: number;
  /** Smallest size of a slice that is not the last one. Default 5 MiB, the service's limit; lower it only
   *  for a benchmark's tiny-slice mode (the emulator then says so through `log` and in `banner`). */
  minSliceSize?: number;
  /** Most slices per upload (slice_id range 1..maxSlices). Default 10,000. */
  maxSlices?: number;
  /**
   * Strict digest checks, for client authors: the digest header must be `SHA-256=<base64>` of the body (or of the
   * empty string, on multipart calls only). Default false: like the live service, the HMAC covers the digest header
   * as sent and nothing else is asked of it (the vendor's demo sends `SHA256=SHA-256=<empty digest>` everywhere).
   */
  strict?: boolean;
  /** Gateway flow control: a call beyond this many in flight gets code 11202 (HTTP 200, no effect). Default: none. */
  maxConcurrency?: number;
  /** Gateway flow control: a call beyond this many per sliding second gets code 11203 (HTTP 200, no effect). Default: none. */
  maxQps?: number;
  /** Token the /__emulator/ HTTP controls require in the `x-emulator-token` header. Default: random per start. */
  controlToken?: string;
  /** Most call log entries kept (older ones are dropped and counted in stats()). Default 10,000. */
  maxCallLog?: number;
  /** Called with notices (tiny-slice mode) and with one line per finished OST call (no secrets). */
  log?: (line: string) => void;
  /** Called with every OST call once it has ended (answered, reset, hung or aborted). */
  onCall?: (entry: CallLogEntry) => void;
}

/**
 * A fault to inject. Rules are kept in order; each OST call takes the first live rule that matches its call (and
 * slice id, for `call: 'slice'` rules naming one), and a rule is used `times` times (default 1).
 * A rule matched by a call decides that call's fate before anything else (it acts like a failing network or
 * gateway in front of the service): signature and field checks and flow control are skipped for it, except for a
 * rule with only `delayMs`, whose call is checked and served as usual and then waits.
 */
export interface FaultRule {
  call: OstCall;
  /** Only for `call: 'slice'`: match this slice id only. */
  sliceId?: number;
  /** How many matching calls this rule applies to; default 1; Infinity allowed. */
  times?: number;
  /** Answer with this OST code (HTTP 200 unless `status` is given). The call does not take effect. */
  code?: number;
  /** Answer with this HTTP status (an OST-style body for 5xx unless `code` is given). No effect. */
  status?: number;
  /** With `status`: answer an HTML page, as a proxy or load balancer in front of the service would. No effect. */
  html?: boolean;
  /** Destroy the connection (TCP reset) before reading the body, or after about half of it. No effect. */
  reset?: 'before-body' | 'mid-body';
  /** Wait this long before answering. Without code/status the call DOES take effect first: a client that
   *  times out meanwhile sees what a lost response looks like. */
  delayMs?: number;
  /** Read the body and never answer (until close). The call does not take effect. */
  hang?: boolean;
}

export type CallOutcome = 'pending' | 'answered' | 'reset' | 'hang' | 'aborted';

export interface CallLogEntry {
  /** 1, 2, 3… in order of arrival. */
  seq: number;
  call: OstCall;
  path: string;
  requestId?: string;
  uploadId?: string;
  sliceId?: number;
  /** HTTP status answered; undefined when no answer was sent (reset, hang, client gone). */
  httpStatus?: number;
  /** OST `code` answered, when the answer had one. */
  code?: number;
  /** The answer's `message`. */
  message?: string;
  sid?: string;
  /** Request body bytes received (the whole envelope). */
  bytes: number;
  /** Size of the `data` part of a multipart call, when one was read in full. */
  dataBytes?: number;
  /** True when an earlier call already used the same request_id. */
  duplicateRequestId?: boolean;
  /** Set when the gateway's flow control refused the call (11202 concurrency, 11203 rate). */
  throttled?: 'concurrency' | 'rate';
  /** The fault rule applied to this call, if any. */
  fault?: FaultRule;
  outcome: CallOutcome;
  /** Epoch milliseconds. */
  startedAt: number;
  endedAt?: number;
}

/** Counters since start; also served as GET /__emulator/stats. */
export interface EmulatorStats {
  /** OST calls received (every one, including those no longer kept in the call log). */
  calls: number;
  /** Entries in the call log now. */
  callsKept: number;
  /** Entries dropped from the call log to keep it bounded. */
  callsDropped: number;
  /** Admitted calls in flight now. */
  inFlight: number;
  /** Most admitted calls in flight at once since start. */
  peakConcurrency: number;
  /** Calls admitted by the gateway. */
  admitted: number;
  /** Calls refused by flow control: 11202 (concurrency) and 11203 (rate). */
  throttled: { concurrency: number; rate: number };
  limits: { maxConcurrency?: number; maxQps?: number };
  strict: boolean;
}

export type UploadState = 'open' | 'completed' | 'cancelled' | 'expired';

export interface UploadInfo {
  uploadId: string;
  state: UploadState;
  /** Slice ids currently stored, ascending (empty once completed, cancelled or expired). */
  sliceIds: number[];
  /** Accepted slice calls, re-uploads of the same slice id included. */
  sliceUploads: number;
  /** Bytes of the slices currently stored (or assembled, once completed). */
  bytes: number;
  /** Successful completes (0 or 1). */
  completes: number;
  /** Complete calls naming this upload that reached the service (not faulted, signature good), whatever their answer. */
  completeCalls: number;
  /** Served URL once completed. */
  url?: string;
  createdAt: number;
  lastActivityAt: number;
}

export interface OstEmulator {
  /** http://127.0.0.1:PORT (no trailing slash). */
  readonly endpoint: string;
  readonly port: number;
  readonly credentials: Readonly<EmulatorCredentials>;
  /** Directory holding slices and served files. */
  readonly dir: string;
  /** Human-readable startup text: endpoint, limits, tiny-slice notice. No secrets. */
  readonly banner: string;
  readonly settings: Readonly<{
    uploadTtlMs: number; maxSkewSeconds: number; minSliceSize: number; maxSlices: number; strict: boolean;
    maxConcurrency?: number; maxQps?: number; maxCallLog: number;
  }>;
  /** Value for the `x-emulator-token` header of the HTTP controls. Not an OST credential. */
  readonly controlToken: string;
  /** OST calls in order of arrival (the last `maxCallLog`); entries are updated in place until they end. Each
   *  client-chosen text in an entry is cut to 200 characters. */
  readonly calls: CallLogEntry[];
  /** Counters: calls, peak concurrency, throttled calls (also GET /__emulator/stats). */
  stats(): EmulatorStats;
  /** Restarts peakConcurrency (at the calls in flight now), admitted and throttled counts (also DELETE /__emulator/stats). */
  resetStats(): void;
  inject(rule: FaultRule): void;
  clearFaults(): void;
  /** Rules still live (with their remaining `times`). */
  faults(): FaultRule[];
  uploads(): UploadInfo[];
  /** Uploads that were inited but neither completed nor cancelled (open or expired). */
  orphans(): UploadInfo[];
  /** Stops the server, ends hanging requests and open sockets, removes the directory if the emulator made it. */
  close(): Promise<void>;
}
