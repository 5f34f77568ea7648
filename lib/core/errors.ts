// Errors of the shared (non-OST) logic. OST and byte-source errors live in lib/ost/errors.ts.

import type { ErrorHandling } from './error-handling';

/** A setting is missing or invalid. The message names the setting (environment variable or flag). */
export class ConfigError extends Error {
  static readonly errorName = 'ConfigError';
  /** A bad deployment: no retry helps. */
  static readonly handling: ErrorHandling = 'fatal';
  readonly code = 'CONFIG_INVALID';
  constructor(readonly setting: string, problem: string) {
    super(`${setting}: ${problem}`);
    this.name = ConfigError.errorName;
  }
}
