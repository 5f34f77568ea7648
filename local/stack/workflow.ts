// The stack's Step Functions, EventBridge and SSM: the local executor running statemachine/definition.yml with the
// step handlers, behind the loopback AWS endpoint (which also records events and answers the OST key parameters).
import { startAwsServer, type AwsServer } from '../aws/endpoint';
import type { fleetLimits } from '../aws/limits';
import { LocalExecutor, loadProjectDefinition, serverlessResolver, type LambdaHandler } from '../executor';
import type { Started } from './pieces';

export interface StackWorkflow extends Started {
  project: ReturnType<typeof loadProjectDefinition>;
  executor: LocalExecutor;
  aws: AwsServer;
}

export interface WorkflowOptions {
  /** Project root holding statemachine/definition.yml and serverless.yml. */
  root: string;
  handlers: Record<string, LambdaHandler>;
  /** The environment serverless.yml's variables resolve from. */
  env: Record<string, string | undefined>;
  retryIntervalScale?: number;
  /** The state machine's name (`ost-forwarder-<stage>`, as the template names it). */
  stateMachineName?: string;
  executionTimeoutSeconds?: number;
  limits?: Pick<ReturnType<typeof fleetLimits>, 'lambda' | 'mapRuns'>;
  /** SSM parameters by name. */
  parameters: Record<string, string>;
}

export async function startWorkflow(o: WorkflowOptions): Promise<StackWorkflow> {
  const project = loadProjectDefinition(o.root);
  const executor = new LocalExecutor({
    definition: project.definition,
    handlers: o.handlers,
    resolve: serverlessResolver({}, project.serverless, o.env),
    functionTimeouts: project.functionTimeouts,
    functionMemory: project.functionMemory,
    retryIntervalScale: o.retryIntervalScale,
    stateMachineName: o.stateMachineName,
    executionTimeoutSeconds: o.executionTimeoutSeconds,
    ...(o.limits ? { limits: { lambda: o.limits.lambda, mapRuns: o.limits.mapRuns } } : {}),
  });
  executor.setMaxListeners(0); // one 'started' listener per file waiting for its execution
  const aws = await startAwsServer({ stepFunctions: executor, parameters: o.parameters });
  return { project, executor, aws, close: () => aws.close() };
}
