// The custom resource of an existing source bucket (serverless.yml SourceBucketEventBridge, inline code): turns the
// bucket's EventBridge setting on and keeps every other notification configuration (topics, queues, functions) as
// it was; a Delete leaves it on (other consumers may read it). Replies to CloudFormation's response URL.
'use strict';
const { S3Client, GetBucketNotificationConfigurationCommand: Get, PutBucketNotificationConfigurationCommand: Put } = require('@aws-sdk/client-s3');

/** The configuration with EventBridge on, every other part unchanged. */
function withEventBridge(c) {
  const out = {};
  for (const k of ['TopicConfigurations', 'QueueConfigurations', 'LambdaFunctionConfigurations']) if (c[k] && c[k].length) out[k] = c[k];
  out.EventBridgeConfiguration = {};
  return out;
}

async function enable(s3, Bucket) {
  const c = await s3.send(new Get({ Bucket }));
  if (c.EventBridgeConfiguration) return 'already on';
  await s3.send(new Put({ Bucket, NotificationConfiguration: withEventBridge(c), SkipDestinationValidation: true }));
  return 'turned on';
}

function respond(e, Status, Reason) {
  const body = JSON.stringify({ Status, Reason: String(Reason).slice(0, 500), PhysicalResourceId: `eventbridge-${e.ResourceProperties.BucketName}`, StackId: e.StackId, RequestId: e.RequestId, LogicalResourceId: e.LogicalResourceId, Data: {} });
  const u = new URL(e.ResponseURL);
  return new Promise((ok, fail) => {
    const r = require(u.protocol === 'https:' ? 'node:https' : 'node:http').request(u, { method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) } }, (res) => { res.resume(); res.on('end', ok); });
    r.on('error', fail);
    r.end(body);
  });
}

exports.withEventBridge = withEventBridge;
async function run(e, s3) {
  let status = 'SUCCESS';
  let reason = 'left on (other consumers may read it)';
  try {
    if (e.RequestType !== 'Delete') reason = await enable(s3, e.ResourceProperties.BucketName);
  } catch (err) {
    status = 'FAILED';
    reason = `${err.name}: ${err.message}`;
  }
  await respond(e, status, reason);
  return { status, reason };
}

exports.run = run;
exports.handler = (e) => run(e, new S3Client({}));
