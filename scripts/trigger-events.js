// The trigger's events (serverless `${file(...)}` JS resolver): always the intake queue's event source mapping
// (batches of 10, partial batch failures, at most triggerMaxConcurrency invocations: the trigger is short, more only
// contends for the one semaphore item); plus, for an existing bucket, its direct S3 notification (the framework's
// custom resource can only invoke a function), from scripts/s3-notification.js.
'use strict';
const notification = require('./s3-notification.js');

module.exports = async ({ resolveVariable }) => {
  const raw = await resolveVariable("param:triggerMaxConcurrency, '2'");
  const maximumConcurrency = Number(raw);
  if (!Number.isInteger(maximumConcurrency) || maximumConcurrency < 2 || maximumConcurrency > 1000) {
    throw new Error(`param triggerMaxConcurrency must be a whole number from 2 to 1000, got "${raw}"`);
  }
  const { events } = await notification({ resolveVariable });
  return [
    { sqs: { arn: { 'Fn::GetAtt': ['IntakeQueue', 'Arn'] }, batchSize: 10, functionResponseType: 'ReportBatchItemFailures', maximumConcurrency } },
    ...events,
  ];
};
