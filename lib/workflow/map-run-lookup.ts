// Cancel's lookup of a Distributed Map's failed child: the Map itself reports only
// States.ExceedToleratedFailureThreshold, and the restart decision needs the child's own error.
import { DescribeExecutionCommand, ListExecutionsCommand, ListMapRunsCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { StepErrorOutput } from './state';

/** How resolveMapRunError waits for ListMapRuns / ListExecutions, which AWS documents as eventually consistent. */
export interface MapRunLookupOptions {
  /** Lookups in all (the first included); default 5. */
  attempts?: number;
  /** Delay before the second lookup, doubled for each further one; default 500 ms (0.5 + 1 + 2 + 4 s at most). */
  firstDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * On AWS a Distributed Map whose child failed reports States.ExceedToleratedFailureThreshold; the child's own
 * error (the Lambda errorType and the error JSON) is on the failed child execution. Returns it, or undefined when
 * no failed child shows up. ListMapRuns and ListExecutions are eventually consistent: a child that just failed may
 * not be listed yet (and with it the 10005 that would restart the upload), so an empty answer is asked again with
 * a doubling delay before giving up.
 */
export async function resolveMapRunError(client: Pick<SFNClient, 'send'>, executionArn: string, options: MapRunLookupOptions = {}): Promise<StepErrorOutput | undefined> {
  const attempts = Math.max(1, options.attempts ?? 5);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let delay = options.firstDelayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    const found = await lookUpMapRunError(client, executionArn);
    if (found || attempt >= attempts) return found;
    await sleep(delay);
    delay *= 2;
  }
}

async function lookUpMapRunError(client: Pick<SFNClient, 'send'>, executionArn: string): Promise<StepErrorOutput | undefined> {
  const runs = await client.send(new ListMapRunsCommand({ executionArn, maxResults: 10 }));
  const newest = [...(runs.mapRuns ?? [])].sort((a, b) => (b.startDate?.getTime() ?? 0) - (a.startDate?.getTime() ?? 0))[0];
  if (!newest?.mapRunArn) return undefined;
  for (const statusFilter of ['FAILED', 'TIMED_OUT'] as const) {
    const list = await client.send(new ListExecutionsCommand({ mapRunArn: newest.mapRunArn, statusFilter, maxResults: 1 }));
    const child = list.executions?.[0]?.executionArn;
    if (!child) continue;
    const d = await client.send(new DescribeExecutionCommand({ executionArn: child }));
    if (d.error) return { Error: d.error, Cause: d.cause ?? '' };
    if (statusFilter === 'TIMED_OUT') return { Error: 'States.Timeout', Cause: `batch execution ${child} timed out` };
  }
  return undefined;
}
