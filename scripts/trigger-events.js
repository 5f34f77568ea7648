// The trigger's events (serverless `${file(...)}` JS resolver): the intake queue's event source mapping only
// (batches of 10, partial batch failures, at most triggerMaxConcurrency invocations: the trigger is short, more only
// contends for the one semaphore item). Every bucket reaches the trigger through the intake: a created bucket's
// notification and an existing bucket's EventBridge rule both send to the queue (scripts/s3-notification.js).
'use strict';

module.exports = async ({ resolveVariable }) => {
  const raw = await resolveVariable("param:triggerMaxConcurrency, '2'");
  const maximumConcurrency = Number(raw);
  if (!Number.isInteger(maximumConcurrency) || maximumConcurrency < 2 || maximumConcurrency > 1000) {
    throw new Error(`param triggerMaxConcurrency must be a whole number from 2 to 1000, got "${raw}"`);
  }
  return [{ sqs: { arn: { 'Fn::GetAtt': ['IntakeQueue', 'Arn'] }, batchSize: 10, functionResponseType: 'ReportBatchItemFailures', maximumConcurrency } }];
};
