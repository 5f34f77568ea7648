// How a setting's text becomes a value: each parser names the variable in the ConfigError it throws, so a bad
// deployment says which variable to fix. The table of settings (lib/config/table.ts) picks one per variable.
import { ConfigError } from '../core/errors';
import { hasControlCharacters, quote } from '../core/text';

export type Env = Record<string, string | undefined>;

/** A setting's value without surrounding white space; a control character inside it is refused naming it. */
export function text(env: Env, name: string): string | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  const t = v.trim();
  if (hasControlCharacters(t)) throw new ConfigError(name, `contains a control character: ${quote(t.slice(0, 100))}`);
  return t === '' ? undefined : t;
}

export function integer(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = text(env, name);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v)) throw new ConfigError(name, `must be a whole number, got ${JSON.stringify(v)}`);
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${v}`);
  return n;
}

/** A whole number with no default: undefined when unset (the consumer's own default applies). */
export function optionalInteger(env: Env, name: string, min: number, max: number): number | undefined {
  return text(env, name) === undefined ? undefined : integer(env, name, 0, min, max);
}

export function positive(env: Env, name: string, fallback: number): number {
  const v = text(env, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || !Number.isFinite(n) || n <= 0) throw new ConfigError(name, `must be a positive number, got ${JSON.stringify(v)}`);
  return n;
}

export function boolean(env: Env, name: string, fallback: boolean): boolean {
  const v = text(env, name)?.toLowerCase();
  if (v === undefined) return fallback;
  if (['1', 'true', 'yes'].includes(v)) return true;
  if (['0', 'false', 'no'].includes(v)) return false;
  throw new ConfigError(name, `must be true or false, got ${JSON.stringify(v)}`);
}

export function list(env: Env, name: string): string[] {
  return (text(env, name) ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** One of a few words; `shown` bounds how much of a wrong value is quoted back. */
export function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T, shown = 1000): T {
  const v = text(env, name) ?? fallback;
  if (!(values as readonly string[]).includes(v)) {
    throw new ConfigError(name, `must be ${values.map((x) => `'${x}'`).join(' or ')}, got ${JSON.stringify(v.slice(0, shown))}`);
  }
  return v as T;
}
