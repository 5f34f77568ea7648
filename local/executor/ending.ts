// How a top-level execution that did not succeed ends, as Step Functions reports it: StopExecution → ABORTED (with
// the stop's error and cause), the definition's TimeoutSeconds → TIMED_OUT (States.Timeout), anything else → FAILED
// with the error's name and message.
export interface Ending { status: 'FAILED' | 'ABORTED' | 'TIMED_OUT'; error?: string; cause?: string }

/** `engineError`: the engine's own abort or timeout may be told apart (not after a payload violation). */
export function endOf(e: Error, engineError: boolean, stopped?: { error?: string; cause?: string }): Ending {
  if (engineError && stopped && e.name === 'ExecutionAbortedError') return { status: 'ABORTED', error: stopped.error, cause: stopped.cause };
  if (engineError && e.name === 'ExecutionTimeoutError') return { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'The execution ran past its TimeoutSeconds' };
  return { status: 'FAILED', error: e.name, cause: e.message };
}
