// What the commands print: S3 URLs parsed, keys made safe for a terminal, and bounded.
import { S3Client } from '@aws-sdk/client-s3';
import type { Settings } from '../lib/config/settings';
import { UsageError } from './commands/args';

/** `s3://bucket[/prefix]` → bucket and prefix (the prefix as given, '' when absent). */
export function parseS3Url(text: string, what = 'location'): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/s.exec(text);
  if (!m) throw new UsageError(`${what} must be s3://bucket[/prefix], got ${JSON.stringify(text.slice(0, 200))}`);
  // today's rules are [a-z0-9.-]{3,63}; older us-east-1 buckets may hold capitals and '_' (up to 255)
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$/.test(m[1]!)) throw new UsageError(`not a valid bucket name: ${JSON.stringify(m[1]!.slice(0, 100))}`);
  return { bucket: m[1]!, prefix: m[2] ?? '' };
}

/** An ISO date or date-time (`2026-05-01`, `2026-05-01T10:00:00Z`) for --since. */
export function parseSince(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const t = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim()) ? Date.parse(value.trim()) : NaN;
  if (!Number.isFinite(t)) throw new UsageError(`--since must be an ISO date such as 2026-05-01 or 2026-05-01T10:00:00Z, got ${JSON.stringify(value.slice(0, 100))}`);
  return new Date(t);
}

/**
 * A key or message for a terminal: control characters (C0, DEL, C1, and the bidi overrides that reorder what a
 * person sees) shown as \xNN / \u{NNNN}, and at most `max` characters.
 */
export function safeText(s: string, max = 300): string {
  const escaped = s.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu, (c) => {
    const n = c.codePointAt(0)!;
    return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16)}}`;
  });
  return escaped.length > max ? `${escaped.slice(0, max - 1)}…` : escaped;
}

/**
 * JSON.stringify, with the characters a terminal may act on that JSON leaves raw (DEL, C1 controls, bidi
 * overrides) written as \uXXXX: the same JSON value, safe to print (C0 controls are escaped by JSON already).
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
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
