// The intake's boundaries bound to AWS: Step Functions starts executions, SQS hides or re-sends waiting messages.
// lib/intake/batch.ts decides; this file only translates.
import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { ExecutionInput } from '../workflow/state';
import { MAX_DELAY_SECONDS, MAX_VISIBILITY_SECONDS, REASON_ATTRIBUTE, type ExecutionStarter, type IntakeQueue } from './batch';

export function sfnStarter(sfn: Pick<SFNClient, 'send'>, stateMachineArn: string): ExecutionStarter {
  return {
    async start(name: string, input: ExecutionInput) {
      try {
        await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
        return 'started';
      } catch (err) {
        if ((err as { name?: string }).name === 'ExecutionAlreadyExists') return 'duplicate';
        throw err;
      }
    },
  };
}

/** The intake queue, and its dead-letter queue (`dlqUrl`) for what the trigger cannot read. */
export function sqsIntakeQueue(sqs: Pick<SQSClient, 'send'>, queueUrl: string, dlqUrl?: string): IntakeQueue {
  return {
    ...(dlqUrl ? {
      async deadLetter(body: string, reason: string) {
        await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: body, MessageAttributes: { [REASON_ATTRIBUTE]: { DataType: 'String', StringValue: reason } } }));
      },
    } : {}),
    async changeVisibility(receiptHandle, seconds) {
      const VisibilityTimeout = Math.max(0, Math.min(MAX_VISIBILITY_SECONDS, Math.round(seconds)));
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout }));
    },
    async requeue(message, delaySeconds) {
      await sqs.send(new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: message.body,
        DelaySeconds: Math.max(0, Math.min(MAX_DELAY_SECONDS, Math.round(delaySeconds))),
        MessageAttributes: Object.fromEntries(Object.entries(message.attributes).map(([k, v]) => [k, { DataType: 'Number', StringValue: v }])),
      }));
    },
  };
}

/** The queue URL of an SQS ARN (arn:aws:sqs:<region>:<account>:<name>) on AWS's public endpoint. */
export function queueUrlFromArn(arn: string): string {
  const m = /^arn:aws[a-z-]*:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]{1,80})$/.exec(arn);
  if (!m) throw new RangeError(`not an SQS queue ARN: ${JSON.stringify(arn.slice(0, 200))}`);
  const [, region, account, name] = m;
  const domain = region!.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${name}`;
}
