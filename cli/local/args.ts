// The local commands' arguments (`local`, `local --existing`, `demo`): files, handler settings, and the key prefix
// the files are put under, checked before anything starts.
import { parseArgs } from 'node:util';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { MAX_S3_KEY_BYTES } from '../../lib/workflow/outcome-records';
import { escapeControlCharacters, quote } from '../../lib/core/text';
import { integer, notUtf8, UsageError } from '../args';

export interface LocalArgs {
  files: string[];
  sliceSize?: number;
  threshold?: number;
  concurrency?: number;
  keyPrefix: string;
  json: boolean;
  /** --existing: put with no event, then forward through backfill (cli/local/existing.ts). */
  existing?: boolean;
}

export function parseLocalArgs(argv: string[], { requireFiles = true } = {}): LocalArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      'slice-size': { type: 'string' },
      threshold: { type: 'string' },
      concurrency: { type: 'string' },
      'key-prefix': { type: 'string' },
      json: { type: 'boolean', default: false },
      existing: { type: 'boolean', default: false },
    },
  });
  if (requireFiles && positionals.length === 0) throw new UsageError('missing <file...>');
  const keyPrefix = values['key-prefix'] ?? '';
  checkKeyPrefix(keyPrefix);
  const keys = new Set<string>();
  for (const f of positionals) {
    const key = keyPrefix + basename(f);
    checkKey(key);
    if (keys.has(key)) throw new UsageError(`two files would both be put as ${quote(key)}`);
    keys.add(key);
  }
  return {
    files: positionals,
    sliceSize: integer('--slice-size', values['slice-size'], 1),
    threshold: integer('--threshold', values.threshold, 0),
    concurrency: integer('--concurrency', values.concurrency, 1),
    keyPrefix,
    json: values.json ?? false,
    existing: values.existing ?? false,
  };
}

/** Longest key segment: the embedded S3 stores a key as a file path, and a file name has at most 255 bytes. */
export const MAX_KEY_SEGMENT_BYTES = 255;

/**
 * A key prefix the stack can use as is: no leading '/', no '.' or '..' segment (S3 keeps them literally, a path
 * store resolves them, and an object would land outside its bucket), no empty segment ('in//'), and no segment
 * longer than MAX_KEY_SEGMENT_BYTES.
 */
export function checkKeyPrefix(prefix: string): void {
  if (prefix === '') return;
  if (prefix.startsWith('/')) throw new UsageError('--key-prefix must not start with /');
  const segments = prefix.split('/');
  // the last piece is joined to the file name (checked with it in checkKey)
  for (const seg of segments.slice(0, -1)) checkSegment(seg, '--key-prefix', prefix);
}

/** A whole key `<prefix><basename>`: the prefix's rules, and S3's limit of 1,024 bytes. */
export function checkKey(key: string): void {
  for (const seg of key.split('/')) checkSegment(seg, 'key', key);
  if (Buffer.byteLength(key) > MAX_S3_KEY_BYTES) throw new UsageError(`key ${quote(key.slice(0, 80) + '…')} is longer than ${MAX_S3_KEY_BYTES} bytes (the S3 limit)`);
}

function checkSegment(seg: string, what: string, whole: string): void {
  if (seg === '') throw new UsageError(`${what} ${quote(whole)} has an empty segment ('//')`);
  if (seg === '.' || seg === '..') throw new UsageError(`${what} ${quote(whole)} must not have a '.' or '..' segment`);
  if (Buffer.byteLength(seg) > MAX_KEY_SEGMENT_BYTES) throw new UsageError(`${what} has a segment longer than ${MAX_KEY_SEGMENT_BYTES} bytes: ${quote(seg.slice(0, 40) + '…')}`);
}

export async function checkFiles(files: string[]): Promise<void> {
  for (const f of files) {
    const s = await stat(f).catch(() => undefined);
    if (!s) throw new UsageError(f.includes('\uFFFD') ? notUtf8(f) : `file not found: ${escapeControlCharacters(f)}`);
    if (!s.isFile()) throw new UsageError(`not a regular file: ${escapeControlCharacters(f)}`);
  }
}
