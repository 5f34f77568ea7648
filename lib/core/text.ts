// Texts that come from outside (an OST answer, a file name, an SSM value) before they reach a terminal, a log, a
// record or a state payload: bounded in size, and quoted so that no control character, escape sequence or line
// break gets through.

/** C0 and C1 control characters, DEL, the line/paragraph separators and the bidi marks and overrides. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');

/** True when `text` holds a character that could break a line or drive a terminal. */
export function hasControlCharacters(text: string): boolean {
  return UNSAFE.test(text);
}

/** At most `max` characters: a longer text keeps its head and says how much was cut. */
export function bounded(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = `…[${text.length - max} more characters]`;
  return text.slice(0, Math.max(0, max - note.length)) + note;
}

/** `text` with every unsafe character written as a \uXXXX escape (for a line that mixes our words and theirs). */
export function escapeControlCharacters(text: string): string {
  return text.replace(UNSAFE_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A double-quoted, escaped, single-line form of `text` (JSON string syntax, C1 and bidi characters escaped too). */
export function quote(text: string): string {
  return JSON.stringify(text).replace(UNSAFE_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `text` as is when it is a plain token (letters, digits, `._:/@+=-`), else quoted. */
export function quoteIfNeeded(text: string): string {
  return /^[\w.:/@+=-]+$/.test(text) ? text : quote(text);
}

/**
 * `text` (a URL, or what was meant as one) with anything between `scheme://` and the last `@` hidden: the user
 * and password an endpoint may carry never reach an error, a log or a terminal, even when the URL does not parse.
 */
export function withoutUserInfo(text: string): string {
  return text.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[\s\S]*@/, '$1[hidden]@');
}
