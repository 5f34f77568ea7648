// `status --report out.csv`: one row per record, written as the records are read (the file grows, memory does not).
// RFC 4180 quoting; a cell a spreadsheet would run as a formula (= + - @ first) is prefixed with '.
import type { OutcomeRecord } from '../../lib/workflow/outcome-records';

export const CSV_HEADER = [
  'status', 'key', 'bytes', 'contentType', 'container', 'durationSeconds', 'url', 'sid', 'durationMs', 'finishedAt',
  'error', 'ostCode', 'skipRule', 'record',
];

export function csvCell(v: unknown, max = 2000): string {
  if (v === null || v === undefined) return '';
  let s = String(v).slice(0, max);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(r: OutcomeRecord, location: string): string {
  return [
    r.status, r.key, r.bytes, r.contentType, r.media?.container, r.media?.durationSeconds, r.url, r.sid, r.durationMs, r.finishedAt,
    r.error ? `${r.error.error}: ${r.error.message}` : undefined, r.error?.ostCode, r.skip ? `${r.skip.rule}: ${r.skip.reason}` : undefined, location,
  ].map((v) => csvCell(v)).join(',');
}
