// What the commands print: S3 URLs parsed, keys made safe for a terminal, and bounded.
import { S3Client } from '@aws-sdk/client-s3';
import type { Settings } from '../lib/config/settings';
import { escapeControlCharacters } from '../lib/core/text';
import { UsageError } from './args';

/** `s3://bucket[/prefix]` → bucket and prefix (the prefix as given, '' when absent). */
export function parseS3Url(text: string, what = 'location'): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/s.exec(text);
  if (!m) throw new UsageError(`${what} must be s3://bucket[/prefix], got ${JSON.stringify(text.slice(0, 200))}`);
  // today's rules are [a-z0-9.-]{3,63}; older us-east-1 buckets may hold capitals and '_' (up to 255)
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$/.test(m[1]!)) throw new UsageError(`not a valid bucket name: ${JSON.stringify(m[1]!.slice(0, 100))}`);
  return { bucket: m[1]!, prefix: m[2] ?? '' };
}

/**
 * An ISO date or date-time (`2026-05-01`, `2026-05-01T10:00:00Z`) for --since. A date that is not in the calendar
 * (`2026-02-30`, `2026-04-31`, `24:00`) is a usage error: Date.parse would roll it over into another day.
 */
export function parseSince(value: string | undefined, flag = '--since'): Date | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-](\d{2}):?(\d{2}))?)?$/.exec(value.trim());
  const t = m && inCalendar(m) ? Date.parse(value.trim()) : NaN;
  if (!Number.isFinite(t)) throw new UsageError(`${flag} must be a real ISO date such as 2026-05-01 or 2026-05-01T10:00:00Z, got ${JSON.stringify(value.slice(0, 100))}`);
  return new Date(t);
}

/** Month, day, hour, minute, second and offset within their ranges; the day within its month (leap years too). */
function inCalendar(m: RegExpExecArray): boolean {
  const [year, month, day, hour = 0, minute = 0, second = 0, offsetHours = 0, offsetMinutes = 0] = m.slice(1).map((x) => (x === undefined ? undefined : Number(x))) as number[];
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  return month! >= 1 && month! <= 12 && day! >= 1 && day! <= daysInMonth && hour <= 23 && minute <= 59 && second <= 59 && offsetHours <= 23 && offsetMinutes <= 59;
}

/**
 * A key or message for a terminal: every character a terminal may act on (C0, DEL, C1, line separators, the bidi
 * marks and overrides that reorder what a person sees) written as \uXXXX (lib/core/text.ts, the one quoting of
 * foreign text), and at most `max` characters.
 */
export function safeText(s: string, max = 300): string {
  const escaped = escapeControlCharacters(String(s));
  return escaped.length > max ? `${escaped.slice(0, max - 1)}…` : escaped;
}

/**
 * JSON.stringify, with the characters a terminal may act on that JSON leaves raw (DEL, C1 controls, bidi marks,
 * line separators) written as \uXXXX: the same JSON value, safe to print (C0 controls are escaped by JSON already).
 */
export function safeJson(value: unknown): string {
  return escapeControlCharacters(JSON.stringify(value));
}

/** The S3 client of a command: the SDK's chain for credentials and region; S3_ENDPOINT for local stacks. */
export function commandS3Client(s: Pick<Settings, 's3Endpoint' | 's3ForcePathStyle'>, region?: string): S3Client {
  return new S3Client({
    ...(region ? { region } : {}),
    ...(s.s3Endpoint ? { endpoint: s.s3Endpoint, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
    forcePathStyle: s.s3ForcePathStyle || Boolean(s.s3Endpoint),
    maxAttempts: 5,
  });
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
