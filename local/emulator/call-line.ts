// The one-line form of a call log entry, for the CLI's stderr.
import { toJson } from './response';
import type { CallLogEntry } from './types';

/** One line for the CLI's stderr: what happened to a call. No credentials appear in a call log entry. */
export function formatCall(e: CallLogEntry): string {
  const parts = [`#${e.seq}`, e.call];
  if (e.uploadId) parts.push(`upload_id=${e.uploadId}`);
  if (e.sliceId !== undefined) parts.push(`slice=${e.sliceId}`);
  if (e.requestId) parts.push(`request_id=${e.requestId}`);
  if (e.outcome === 'answered') {
    parts.push(`-> ${e.httpStatus}`);
    if (e.code !== undefined) parts.push(`code=${e.code}`);
    if (e.code !== 0 && e.message) parts.push(`message=${JSON.stringify(e.message)}`);
    if (e.sid) parts.push(`sid=${e.sid}`);
  } else {
    parts.push(`-> ${e.outcome}`);
  }
  parts.push(`bytes=${e.bytes}`);
  if (e.dataBytes !== undefined) parts.push(`data=${e.dataBytes}`);
  if (e.endedAt !== undefined) parts.push(`${e.endedAt - e.startedAt}ms`);
  if (e.duplicateRequestId) parts.push('duplicate-request-id');
  if (e.throttled) parts.push(`throttled=${e.throttled}`);
  if (e.fault) parts.push(`fault=${toJson(e.fault)}`);
  return parts.join(' ');
}
