// The local commands' output lines: one per file (human or JSON) and the JSON summary.
import { quote, quoteIfNeeded } from '../../lib/core/text';
import type { ForwardResult } from '../../local/stack';

/** The JSON line of one file. `slices` is 1 for a simple upload, as `put --json` says. */
export function resultLine(r: ForwardResult): string {
  return JSON.stringify({
    key: r.key,
    status: r.status,
    url: r.url ?? null,
    bytes: r.bytes,
    slices: r.slices,
    error: r.error ? { code: r.error.code, message: r.error.message } : null,
  });
}

/** One line per file; the key (any bytes), the URL and the message (from OST) quoted when they are not plain. */
export function humanLine(r: ForwardResult): string {
  if (r.status === 'forwarded') return `forwarded ${quoteIfNeeded(r.key)} → ${r.url ? quoteIfNeeded(r.url) : '(no URL)'} (${r.bytes} bytes, ${r.slices} slice${r.slices === 1 ? '' : 's'})`;
  return `failed    ${quoteIfNeeded(r.key)}: ${r.error?.code ?? 'UNKNOWN'}: ${quote(r.error?.message ?? '')}`;
}

/** The --json summary line: exactly these keys, a pinned interface. */
export function summaryLine(results: ForwardResult[], peaks: { peakFilesInFlight: number; peakMapRuns: number }, seconds: number): string {
  const forwarded = results.filter((r) => r.status === 'forwarded').length;
  return JSON.stringify({ summary: { files: results.length, forwarded, failed: results.length - forwarded, peakFilesInFlight: peaks.peakFilesInFlight, peakMapRuns: peaks.peakMapRuns, seconds: Math.round(seconds * 1000) / 1000 } });
}
