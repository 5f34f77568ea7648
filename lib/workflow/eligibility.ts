// Optional eligibility rules of a named consumer (CONSUMER, stage param `consumer`; default none): a file the
// consumer would refuse is not uploaded, it ends with a `skipped` record and event naming the rule. The rules
// live in this one table, each with the limit's source. A fact the head did not tell (no media facts) is not
// held against a file, except the format: a consumer that takes only some formats takes only what it can see is one.
import type { Consumer } from '../config/table';
import type { MediaFacts } from './media';

export type { Consumer };

export interface EligibilityInput { key: string; size: number; contentType?: string | null; media?: MediaFacts }

export interface Rule {
  id: string;
  /** The limit in words, as records and docs show it. */
  limit: string;
  /** Where the limit comes from. */
  source: string;
  /** Why the file breaks the rule, or undefined when it keeps it. */
  check(file: EligibilityInput): string | undefined;
}

/** Why a file was not forwarded: the consumer and the rule it broke. Bounded texts. */
export interface SkipInfo { consumer: Consumer; rule: string; reason: string }

const SPEED_TRANSCRIPTION_DOC = 'iFlytek speed transcription (pro_create) API: audio requirements';
const MAX_SPEED_TRANSCRIPTION_BYTES = 500 * 1024 * 1024;
const MAX_SPEED_TRANSCRIPTION_SECONDS = 5 * 3600;

function isRawPcm(file: EligibilityInput): boolean {
  return /\.pcm$/i.test(file.key);
}

export const RULES: Readonly<Record<Exclude<Consumer, 'none'>, readonly Rule[]>> = {
  'speed-transcription': [
    {
      id: 'max-size',
      limit: 'at most 500 MB (500 MiB)',
      source: SPEED_TRANSCRIPTION_DOC,
      check: (f) => (f.size > MAX_SPEED_TRANSCRIPTION_BYTES ? `${f.size} bytes, over the ${MAX_SPEED_TRANSCRIPTION_BYTES}-byte limit` : undefined),
    },
    {
      id: 'format',
      limit: 'wav (PCM), mp3 or raw pcm',
      source: SPEED_TRANSCRIPTION_DOC,
      check: (f) => {
        if (isRawPcm(f)) return undefined;
        const c = f.media?.container;
        if (c === 'WAVE' && (f.media?.codec ?? 'PCM') === 'PCM') return undefined;
        if (c === 'MPEG' && /Layer 3/.test(f.media?.codec ?? '')) return undefined;
        return f.media ? `${f.media.container}${f.media.codec ? ` ${f.media.codec}` : ''} is not wav (PCM), mp3 or pcm` : 'not recognised as wav, mp3 or pcm';
      },
    },
    {
      id: 'max-duration',
      limit: 'at most 5 hours',
      source: SPEED_TRANSCRIPTION_DOC,
      check: (f) => {
        const d = f.media?.durationSeconds;
        return d !== undefined && d > MAX_SPEED_TRANSCRIPTION_SECONDS ? `${d} s long, over the ${MAX_SPEED_TRANSCRIPTION_SECONDS}-second limit` : undefined;
      },
    },
  ],
};

/** The first rule of `consumer` the file breaks, or undefined (always undefined for `none`). */
export function eligibility(consumer: Consumer, file: EligibilityInput): SkipInfo | undefined {
  if (consumer === 'none') return undefined;
  for (const rule of RULES[consumer]) {
    const reason = rule.check(file);
    if (reason) return { consumer, rule: rule.id, reason: reason.slice(0, 300) };
  }
  return undefined;
}
