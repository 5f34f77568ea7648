// A deployed stack's outputs (serverless.yml Outputs), read with CloudFormation DescribeStacks: where the CLI finds
// the intake queue (backfill) and what `check --stage` verifies.
import { DescribeStacksCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';

/** The outputs serverless.yml declares, in its order (a test keeps this list equal to the template's). */
export const STACK_OUTPUTS = [
  'StateMachineArn', 'SourceBucket', 'RecordsBucket', 'ResultsPrefix', 'IntakeQueueUrl', 'IntakeDeadLetterQueueUrl',
  'SlotTableName', 'TriggerDeadLetterQueueUrl', 'AlarmTopicArn', 'DashboardUrl',
] as const;
export type StackOutput = (typeof STACK_OUTPUTS)[number];

/** The stack of a stage, as serverless names it. */
export function stackNameOf(stage: string): string {
  return `ost-forwarder-${stage}`;
}

/** The outputs of `stackName` (key → value), or undefined when there is no such stack. */
export async function stackOutputs(cfn: Pick<CloudFormationClient, 'send'>, stackName: string): Promise<Record<string, string> | undefined> {
  let res;
  try {
    res = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  } catch (err) {
    // DescribeStacks answers ValidationError for a stack that does not exist
    if ((err as { name?: string }).name === 'ValidationError') return undefined;
    throw err;
  }
  const stack = res.Stacks?.[0];
  if (!stack) return undefined;
  const out: Record<string, string> = {};
  for (const o of stack.Outputs ?? []) if (o.OutputKey && o.OutputValue !== undefined) out[o.OutputKey] = o.OutputValue;
  return out;
}
