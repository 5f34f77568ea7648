// Bounds on client-chosen text: whatever reaches the call log, a log line or an answer is cut to a fixed size.

/** Longest text kept from a client-chosen value (request_id, upload_id, a message quoting a field). */
export const MAX_LOGGED_CHARS = 200;
/** A client-chosen string cut to MAX_LOGGED_CHARS, saying how long it was. */
export function clip(value: string, max = MAX_LOGGED_CHARS): string {
  if (value.length <= max) return value;
  // Copied through a Buffer: a plain slice may keep the whole original string alive behind it (a V8 sliced string).
  return `${Buffer.from(value.slice(0, max), 'utf8').toString('utf8')}…(${value.length} chars)`;
}
