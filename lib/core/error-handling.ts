// How each error class declares, once, what happens when it is thrown: 'retry' (a passing fault: the client or
// the state machine tries again), 'restart' (the upload starts again from init), 'fatal' (fails the file). The
// class also carries its name as a string (`errorName`), not from the class itself: the Lambda bundles are
// minified, which renames classes, and the state machine's Retry/Catch match the name a Lambda reports.
// isRetryable and the state machine's name lists derive from these declarations (lib/ost/errors.ts,
// lib/core/aws-errors.ts, lib/admission/errors.ts).

export type ErrorHandling = 'retry' | 'restart' | 'fatal';

/** The static side of a declared error class. */
export interface DeclaredError {
  readonly errorName: string;
  readonly handling: ErrorHandling;
}

/** The names of the classes declared with `handling`, in the order given. */
export function errorNames(classes: readonly DeclaredError[], handling: ErrorHandling): string[] {
  return classes.filter((c) => c.handling === handling).map((c) => c.errorName);
}

/** The handling an error's class declares; undefined for an error no class here declares. */
export function handlingOf(err: unknown): ErrorHandling | undefined {
  if (!(err instanceof Error)) return undefined;
  const declared = err.constructor as Partial<DeclaredError>;
  return typeof declared.errorName === 'string' ? declared.handling : undefined;
}

/** The declared name of an error's class (for the constructor's `this.name`). */
export function declaredName(target: Function, fallback: string): string {
  const name = (target as Partial<DeclaredError>).errorName;
  return typeof name === 'string' ? name : fallback;
}
