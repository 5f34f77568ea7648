// The one logger shape lib/ takes: a message and one object of fields. Powertools' Logger fits it (hence the rest
// parameter), and so does a command line's progress output. Fields never carry a secret.

export interface Log {
  debug(message: string, ...fields: Array<Record<string, unknown>>): void;
  info(message: string, ...fields: Array<Record<string, unknown>>): void;
  warn(message: string, ...fields: Array<Record<string, unknown>>): void;
  error(message: string, ...fields: Array<Record<string, unknown>>): void;
}

/** Says nothing: the default wherever a log is optional. */
export const silentLog: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
