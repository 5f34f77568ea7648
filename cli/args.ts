// Argument helpers shared by the commands.
import { checkUrl } from '../lib/config/table';

/** A bad command line: the command prints the message and its usage, and exits 2. */
export class UsageError extends Error {
  readonly code = 'USAGE';
  override readonly name = 'UsageError';
}

/** A whole-number flag value (undefined when the flag is absent). */
export function integer(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`${flag} must be a whole number, got ${JSON.stringify(value)}`);
  const n = Number(value.trim());
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag} must be at least ${min}, got ${value}`);
  return n;
}

/** Node decodes the command line as UTF-8: a name of other bytes arrives with U+FFFD and cannot be opened. */
export function notUtf8(f: string): string {
  return `file name ${JSON.stringify(f)} is not valid UTF-8 (Node reads the command line as UTF-8 and cannot open it): rename the file`;
}

/** A URL flag (--queue-url, --to-url): the checks of an endpoint setting (no user or password), as a usage error. */
export function urlFlag(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    checkUrl(flag, value.trim());
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return value.trim();
}
