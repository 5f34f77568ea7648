// Secret values never reach a log, an error, a record or a terminal: every text built from an OST answer (which
// may echo the request's authorization header) passes through here before it leaves the client.

/** Secrets shorter than this are not searched for (they would match ordinary text). */
const MIN_SECRET_LENGTH = 4;

/** Replaces every occurrence of each secret value in `text` with `[redacted]`. */
export function redactValues(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  // longest first, so a secret that contains another is replaced whole
  for (const value of [...secrets].sort((a, b) => (b?.length ?? 0) - (a?.length ?? 0))) {
    if (value && value.length >= MIN_SECRET_LENGTH) out = out.split(value).join('[redacted]');
  }
  return out;
}
