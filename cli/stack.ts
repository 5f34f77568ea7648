// Where an operator command (backfill, status, redrive) finds the resources of a deployed stack: each comes from
// its flag, else its environment variable, else — with `--stage S [--region R]` — the output of the stack
// ost-forwarder-S (CloudFormation DescribeStacks, serverless.yml Outputs). A resource none of these gives is a
// one-line usage error naming all three; a command never falls back to another bucket or queue.
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ConfigError } from '../lib/core/errors';
import { stackNameOf, stackOutputs, type StackOutput } from '../lib/config/stack-outputs';
import { UsageError } from './args';

/** The stack outputs the commands read (serverless.yml Outputs), by what they hold. */
export const OUTPUTS = {
  intakeQueueUrl: 'IntakeQueueUrl',
  intakeDlqUrl: 'IntakeDeadLetterQueueUrl',
  triggerDlqUrl: 'TriggerDeadLetterQueueUrl',
  recordsBucket: 'RecordsBucket',
  resultsPrefix: 'ResultsPrefix',
} as const satisfies Record<string, StackOutput>;
export type StackResource = keyof typeof OUTPUTS;

const stackName = stackNameOf;

/** `--stage` / `--region` as the commands take them (checked: they reach a request). */
export function checkStackFlags(stage: string | undefined, region: string | undefined): void {
  if (stage !== undefined && !/^[A-Za-z0-9-]{1,64}$/.test(stage)) throw new UsageError(`--stage: letters, digits and '-', got ${JSON.stringify(stage.slice(0, 100))}`);
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(region)) throw new UsageError(`--region: an AWS region such as cn-north-1, got ${JSON.stringify(region.slice(0, 100))}`);
  if (region !== undefined && stage === undefined) throw new UsageError('--region goes with --stage (the region of the stack whose outputs name the resources)');
}

export interface StackLookup {
  /** The resource: `given` (flag, then environment), else the stack's output; a usage error naming them when none has it. */
  resolve(resource: StackResource, given: string | undefined, how: string): Promise<string>;
  /** The region of the stack, when --region was given (the command's other clients use it too). */
  region?: string;
}

/** Looks outputs up once per command; a missing stack is a one-line error naming the stack and the region. */
export function stackLookup(stage: string | undefined, region?: string, client?: Pick<CloudFormationClient, 'send'>): StackLookup {
  let outputs: Promise<Record<string, string>> | undefined;
  const load = async (): Promise<Record<string, string>> => {
    const cfn = client ?? new CloudFormationClient({ maxAttempts: 5, ...(region ? { region } : {}) });
    const name = stackName(stage!);
    try {
      const outputs = await stackOutputs(cfn, name);
      if (!outputs) throw new ConfigError('--stage', `stack ${name} was not found${region ? ` in ${region}` : ''}`);
      return outputs;
    } finally {
      if (!client) (cfn as CloudFormationClient).destroy();
    }
  };
  return {
    region,
    async resolve(resource, given, how) {
      if (given !== undefined && given !== '') return given;
      if (stage === undefined) throw new UsageError(`${how}: not given; or --stage STAGE reads it from the stack's ${OUTPUTS[resource]} output`);
      const v = (await (outputs ??= load()))[OUTPUTS[resource]];
      if (v === undefined || v === '') throw new ConfigError('--stage', `stack ${stackName(stage)} has no ${OUTPUTS[resource]} output; give ${how}`);
      return v;
    },
  };
}
