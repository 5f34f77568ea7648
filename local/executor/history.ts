// What AWS would write into an execution's history, estimated from the local engine's event log.
import type { StateMachine as StateMachineType } from 'aws-local-stepfunctions';
import type { PreparedDefinition } from './definition';

type EventLog = ReturnType<StateMachineType['run']>['eventLogs'] extends AsyncGenerator<infer T> ? T : never;

/** AWS Step Functions' limit on events in one execution history. */
export const HISTORY_EVENT_LIMIT = 25_000;

export interface HistoryEstimate {
  /** Events this execution's history would hold. */
  events: number;
  /** Events per state type. */
  byStateType: Record<string, number>;
  /** Distributed Map children: separate executions on AWS, each with its own history. */
  childExecutions: number;
  childEvents: number;
  /** The largest child history. */
  maxChildEvents: number;
}

/**
 * Counts the history events AWS would write. Standard workflows: ExecutionStarted/Succeeded|Failed; a Lambda
 * Task writes Entered, Scheduled, Started, Succeeded|Failed, Exited (5), each retry another Scheduled, Started,
 * Failed|Succeeded (3); Pass/Choice/Wait/Succeed write Entered and Exited (2), Fail only Entered; an inline Map
 * writes Entered, Started, Succeeded, Exited plus 2 per iteration and the iteration's states; a Distributed Map
 * writes Entered, MapRunStarted, MapRunSucceeded|Failed, Exited in the parent, and each child is an execution of
 * its own with its own history (counted on the child's record).
 */
export class HistoryCounter {
  private events = 0;
  private byType: Record<string, number> = {};
  private distributed: Set<string>;
  private synthetic: Set<string>;
  constructor(prepared: PreparedDefinition) {
    this.distributed = new Set(prepared.distributedMaps);
    this.synthetic = new Set(Object.keys(prepared.childTasks));
  }
  private bump(n: number, type: string) {
    this.events += n;
    this.byType[type] = (this.byType[type] ?? 0) + n;
  }
  add(ev: EventLog): void {
    switch (ev.type) {
      case 'ExecutionStarted': case 'ExecutionSucceeded': case 'ExecutionFailed': case 'ExecutionAborted': case 'ExecutionTimeout':
        this.bump(1, 'Execution');
        return;
      case 'MapIterationStarted': case 'MapIterationSucceeded': case 'MapIterationFailed':
        if (!this.distributed.has(ev.parentState.name)) this.bump(1, 'Map');
        return;
      case 'StateEntered': case 'StateExited': case 'StateRetried': case 'StateCaught': {
        if (this.synthetic.has(ev.state.name)) return; // stands for a child execution: not in this history
        const t = ev.state.type;
        let n: number;
        if (ev.type === 'StateEntered') n = t === 'Task' ? 4 : t === 'Map' ? 2 : 1; // Map: Entered + (MapRun|MapState)Started
        else if (ev.type === 'StateExited') n = t === 'Map' ? 2 : 1; // Map: (MapRun|MapState)Succeeded + Exited
        else if (ev.type === 'StateRetried') n = 3; // another Scheduled, Started, Succeeded|Failed
        else n = 1; // caught: the state's Exited
        this.bump(n, t);
        return;
      }
      default:
        return;
    }
  }
  estimate(): HistoryEstimate {
    return { events: this.events, byStateType: { ...this.byType }, childExecutions: 0, childEvents: 0, maxChildEvents: 0 };
  }
}
