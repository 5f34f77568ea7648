// The error format that crosses the state machine: a handler error reaches a Catch as {Error: errorType, Cause:
// Lambda error JSON}, and the only structured part AWS keeps is errorType (the class name) and errorMessage. So
// handlers throw errors whose message is OstError.describe() (`Name code=.. http=.. message="..." sid=.. call=..
// slice=..`), and parseStepError() reads it back. Nothing here ever holds a credential.
import { OstError } from '../ost/errors';
import { bounded } from '../core/text';
import type { StepErrorOutput } from './state';

export interface FailureInfo {
  /** The error name (Lambda errorType / Catch Error), e.g. OstServerError, States.Timeout. */
  error: string;
  message: string;
  ostCode?: number;
  httpStatus?: number;
  sid?: string;
  call?: string;
  sliceId?: number;
  requestId?: string;
}

/**
 * Longest error message that crosses the state machine. The Catch copies it into the state (escaped once more in
 * the Cause JSON), so an unbounded one (an OST message of any length) could exceed the 256 KiB state limit and
 * kill the execution before Report writes its record. OstError bounds its own texts below this.
 */
export const MAX_STEP_MESSAGE_CHARS = 4_096;

/** The message a handler throws: describe() for OST errors (parseable), the plain message otherwise; bounded. */
export function stepErrorMessage(err: unknown): string {
  if (err instanceof OstError) return bounded(err.describe().slice(err.name.length).trimStart(), MAX_STEP_MESSAGE_CHARS);
  if (err instanceof Error) return bounded(String(err.message), MAX_STEP_MESSAGE_CHARS);
  return bounded(String(err), MAX_STEP_MESSAGE_CHARS);
}

/** Reads `key=value` pairs where a value is a JSON string or runs to the next space. */
function describePairs(text: string): Record<string, string> | undefined {
  const pairs: Record<string, string> = {};
  let i = 0;
  let found = false;
  while (i < text.length) {
    while (text[i] === ' ') i++;
    const m = /^([a-z_]+)=/.exec(text.slice(i));
    if (!m) return found ? pairs : undefined;
    i += m[0].length;
    let value: string;
    if (text[i] === '"') {
      const q = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(i));
      if (!q) return undefined;
      try { value = JSON.parse(q[0]) as string; } catch { return undefined; }
      i += q[0].length;
    } else {
      const end = text.indexOf(' ', i);
      value = text.slice(i, end === -1 ? text.length : end);
      i = end === -1 ? text.length : end;
    }
    pairs[m[1]!] = value;
    found = true;
  }
  return found ? pairs : undefined;
}

/**
 * Parses a Catch output. Cause is the Lambda error JSON `{"errorType","errorMessage","trace"}` on AWS (and in
 * the local runner); a plain string is accepted too. An errorMessage in describe() form yields code/sid/etc.
 */
export function parseStepError(raw: StepErrorOutput | undefined): FailureInfo {
  if (!raw || typeof raw !== 'object') return { error: 'Unknown', message: 'no error information' };
  const name = typeof raw.Error === 'string' && raw.Error ? bounded(raw.Error, 256) : 'Unknown';
  // A Cause from elsewhere (States.*, a runtime crash, an older handler) may be any size: the record stays bounded.
  let message = typeof raw.Cause === 'string' ? bounded(raw.Cause, 4 * MAX_STEP_MESSAGE_CHARS) : '';
  try {
    const cause = JSON.parse(message) as { errorMessage?: unknown; errorType?: unknown };
    if (cause && typeof cause === 'object' && typeof cause.errorMessage === 'string') message = cause.errorMessage;
  } catch { /* not JSON: States.* causes are plain text */ }
  // Tolerate a message that still starts with the name (describe() unsliced).
  const body = message.startsWith(name + ' ') ? message.slice(name.length + 1) : message;
  const pairs = body.includes('message="') ? describePairs(body) : undefined;
  if (!pairs || pairs.message === undefined) return { error: name, message: bounded(message, MAX_STEP_MESSAGE_CHARS) };
  const info: FailureInfo = { error: name, message: bounded(pairs.message, MAX_STEP_MESSAGE_CHARS) };
  const int = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);
  if (int(pairs.code) !== undefined) info.ostCode = int(pairs.code);
  if (int(pairs.http) !== undefined) info.httpStatus = int(pairs.http);
  if (pairs.sid && pairs.sid !== '-') info.sid = bounded(pairs.sid, 256);
  if (pairs.call) info.call = bounded(pairs.call, 32);
  if (int(pairs.slice) !== undefined) info.sliceId = int(pairs.slice);
  if (pairs.request_id) info.requestId = bounded(pairs.request_id, 256);
  return info;
}
