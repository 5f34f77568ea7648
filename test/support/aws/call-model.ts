// The call model: for every function, each AWS SDK call site its bundle holds (test/support/aws/bundle-calls.ts)
// with the IAM requests it makes and on which resources, or why it is bundled but never reached; plus the requests
// AWS services make with a role on its behalf (Lambda's logs, the SQS event source mapping, the on-failure
// destination, the state machine's Lambda tasks, Distributed Map, logging and tracing). Resources are concrete
// ARNs of one packaging as deployed (test/support/aws/resolve.ts), so the IAM simulation judges the real policies.
import type { Resolved } from './resolve';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Call {
  action: string;
  resource: string;
  context?: Record<string, string>;
  /** For a request that is not an SDK call of its own (e.g. ListBucket so that a missing key answers 404). */
  why?: string;
}

/** What a packaging tells the model beyond its template: the key of a bucket the stack does not create. */
export interface Declared {
  sourceKmsKeyArn?: string;
  resultsKmsKeyArn?: string;
}

/** One packaged function's world: its environment, the buckets and keys it works with, sample names. */
export interface World {
  r: Resolved;
  env: Record<string, string>;
  functionName: string;
  sourceBucket: string;
  sourceKey: string;
  recordsBucket: string;
  prefix: string;
  stateMachineArn: string;
  kmsKeyOf(bucket: string): string | undefined;
}

type Site = ((w: World) => Call[]) | { unreached: string };

const EXECUTION = 'exec-0001';
const UPLOAD_ID = 'upload-0001';
const MAP_RUN = 'UploadBatches:6f1c2d3e-0000-4000-8000-000000000001';

const s3Arn = (w: World, bucket: string, key?: string) => `arn:${w.r.target.partition}:s3:::${bucket}${key === undefined ? '' : `/${key}`}`;
const via = (w: World, service: string) => ({ 'kms:ViaService': `${service}.${w.r.target.region}.${w.r.target.urlSuffix}`, 'kms:CallerAccount': w.r.target.account });
const arn = (w: World, service: string, rest: string) => `arn:${w.r.target.partition}:${service}:${w.r.target.region}:${w.r.target.account}:${rest}`;

const ABSENT = 'a missing key answers 404, not 403 (and no AccessDenied in CloudTrail): HeadObject/GetObject of a key that may not exist';

/** GetObject (or HeadObject: `head`) of one key, pinned to a version or not; KMS Decrypt when the bucket's key is SSE-KMS. */
function read(w: World, bucket: string, key: string, o: { versioned?: boolean; mayBeAbsent?: boolean; head?: boolean } = {}): Call[] {
  const calls: Call[] = [{ action: 's3:GetObject', resource: s3Arn(w, bucket, key) }];
  if (o.versioned) calls.push({ action: 's3:GetObjectVersion', resource: s3Arn(w, bucket, key) });
  if (o.mayBeAbsent) calls.push({ action: 's3:ListBucket', resource: s3Arn(w, bucket), why: ABSENT });
  const kms = w.kmsKeyOf(bucket);
  if (kms && !o.head) calls.push({ action: 'kms:Decrypt', resource: kms, context: via(w, 's3') });
  return calls;
}

/** PutObject of a small object (one request, no multipart): KMS GenerateDataKey when the bucket's key is SSE-KMS. */
function write(w: World, bucket: string, key: string): Call[] {
  const kms = w.kmsKeyOf(bucket);
  return [{ action: 's3:PutObject', resource: s3Arn(w, bucket, key) }, ...(kms ? [{ action: 'kms:GenerateDataKey', resource: kms, context: via(w, 's3') }] : [])];
}

const marker = (w: World, name: string) => `${w.prefix}attempts/${name}`;
const sourceRead = (w: World) => read(w, w.sourceBucket, w.sourceKey, { versioned: true, mayBeAbsent: true });

/** GetParameter of both OST secrets (SecureString, decrypted through SSM with the parameter's key). */
const ostSecrets = (w: World): Call[] => [
  ...[w.env.OST_API_KEY_PARAM!, w.env.OST_API_SECRET_PARAM!].map((name) => ({ action: 'ssm:GetParameter', resource: arn(w, 'ssm', `parameter${name}`) })),
  { action: 'kms:Decrypt', resource: arn(w, 'kms', 'key/0d5e1c2b-0000-4000-8000-00000000a55d'), context: via(w, 'ssm') },
];

const SDK_CREDENTIALS = 'the credential chain\'s role and web-identity providers; Lambda gives the role\'s credentials in the environment, which the chain reads first';
const POWERTOOLS_SSM = {
  'SSMClient.GetParameter @ node_modules/@aws-lambda-powertools/parameters': ostSecrets,
  'SSMClient.GetParameters @ node_modules/@aws-lambda-powertools/parameters': { unreached: 'SSMProvider.getParametersByName; lib/runtime/secrets.ts calls get() only' },
  'SSMClient.PutParameter @ node_modules/@aws-lambda-powertools/parameters': { unreached: 'SSMProvider.set; never called' },
};
const COMMON = {
  'STSClient.AssumeRole @ node_modules/@aws-sdk/nested-clients': { unreached: SDK_CREDENTIALS },
  'STSClient.AssumeRoleWithWebIdentity @ node_modules/@aws-sdk/nested-clients': { unreached: SDK_CREDENTIALS },
};
const SEMAPHORE = (w: World) => arn(w, 'dynamodb', `table/${w.env.SLOT_TABLE}`);
const queueArn = (w: World, url: string) => arn(w, 'sqs', url.split('/').pop()!);
/** The OST breaker's one item beside the slots (lib/admission/health.ts): its key only. */
const healthItem = (w: World, action: string): Call => ({ action, resource: SEMAPHORE(w), context: { 'dynamodb:LeadingKeys': 'ost-health' } });
/** An OST-calling step counts its outage-class failures into the breaker; the gate's read is the trigger's. */
const HEALTH_COUNT = {
  'DynamoDBClient.UpdateItem @ lib/admission/health.ts': (w: World) => [healthItem(w, 'dynamodb:UpdateItem')],
  'DynamoDBClient.GetItem @ lib/admission/health.ts': { unreached: 'OstHealth.state, read by the trigger\'s admission gate; a step only counts failures' },
};

/** Every function's call sites, by `<Client>.<Operation> @ <source>`. */
export const FUNCTION_CALLS: Record<string, Record<string, Site>> = {
  trigger: {
    ...COMMON,
    'SFNClient.StartExecution @ lib/intake/adapters.ts': (w) => [{ action: 'states:StartExecution', resource: w.stateMachineArn }],
    // a message that must wait is re-sent with a delay (lib/intake/batch.ts) or its visibility extended; one it
    // cannot read goes to the intake's dead-letter queue with the reason
    'SQSClient.SendMessage @ lib/intake/adapters.ts': (w) => [
      { action: 'sqs:SendMessage', resource: queueArn(w, w.env.INTAKE_QUEUE_URL!) },
      { action: 'sqs:SendMessage', resource: queueArn(w, w.env.INTAKE_DLQ_URL!) },
    ],
    // a direct invocation is queued into the intake
    'SQSClient.SendMessage @ functions/trigger.ts': (w) => [{ action: 'sqs:SendMessage', resource: queueArn(w, w.env.INTAKE_QUEUE_URL!) }],
    'SQSClient.ChangeMessageVisibility @ lib/intake/adapters.ts': (w) => [{ action: 'sqs:ChangeMessageVisibility', resource: queueArn(w, w.env.INTAKE_QUEUE_URL!) }],
    // acquire: UpdateItem; a full semaphore or a first use reads the item (GetItem) and creates it (PutItem)
    'DynamoDBClient.UpdateItem @ lib/admission/semaphore.ts': (w) => [{ action: 'dynamodb:UpdateItem', resource: SEMAPHORE(w) }],
    'DynamoDBClient.GetItem @ lib/admission/semaphore.ts': (w) => [{ action: 'dynamodb:GetItem', resource: SEMAPHORE(w) }],
    'DynamoDBClient.PutItem @ lib/admission/semaphore.ts': (w) => [{ action: 'dynamodb:PutItem', resource: SEMAPHORE(w) }],
    // the breaker: the gate reads its item, one trigger at a time takes the probe lease, and the probe calls OST
    'DynamoDBClient.GetItem @ lib/admission/health.ts': (w) => [{ action: 'dynamodb:GetItem', resource: SEMAPHORE(w) }],
    'DynamoDBClient.UpdateItem @ lib/admission/health.ts': (w) => [{ action: 'dynamodb:UpdateItem', resource: SEMAPHORE(w) }],
    ...POWERTOOLS_SSM,
  },
  prepare: {
    ...COMMON, ...POWERTOOLS_SSM, ...HEALTH_COUNT,
    'S3Client.HeadObject @ lib/sources/s3.ts': (w) => read(w, w.sourceBucket, w.sourceKey, { versioned: true, mayBeAbsent: true, head: true }),
    // one ranged GET of the object's head for its media facts, pinned like the other reads
    'S3Client.GetObject @ lib/sources/media-probe.ts': (w) => read(w, w.sourceBucket, w.sourceKey, { versioned: true, mayBeAbsent: true }),
    'S3Client.GetObject @ lib/workflow/attempt-markers.ts': (w) => read(w, w.recordsBucket, marker(w, `init/${EXECUTION}/0`), { mayBeAbsent: true }),
    'S3Client.PutObject @ lib/workflow/attempt-markers.ts': (w) => write(w, w.recordsBucket, marker(w, `init/${EXECUTION}/0`)),
    'S3Client.DeleteObject @ lib/workflow/attempt-markers.ts': { unreached: 'the upload marker\'s clear (forExecution builds both markers); Prepare uses the init marker only' },
  },
  uploadWhole: {
    ...COMMON, ...POWERTOOLS_SSM, ...HEALTH_COUNT,
    'S3Client.GetObject @ lib/sources/s3.ts': sourceRead,
    'S3Client.GetObject @ lib/workflow/attempt-markers.ts': { unreached: 'the init marker\'s read (forExecution builds both markers); Upload whole uses the upload marker only' },
    // begin: a conditional PutObject (If-None-Match: *); clear: DeleteObject
    'S3Client.PutObject @ lib/workflow/attempt-markers.ts': (w) => write(w, w.recordsBucket, marker(w, `upload/${EXECUTION}/0`)),
    'S3Client.DeleteObject @ lib/workflow/attempt-markers.ts': (w) => [{ action: 's3:DeleteObject', resource: s3Arn(w, w.recordsBucket, marker(w, `upload/${EXECUTION}/0`)) }],
  },
  uploadSlices: {
    ...COMMON, ...POWERTOOLS_SSM, ...HEALTH_COUNT,
    'S3Client.GetObject @ lib/sources/s3.ts': sourceRead,
    'S3Client.GetObject @ lib/workflow/batch-progress.ts': (w) => read(w, w.recordsBucket, marker(w, `slices/${UPLOAD_ID}/1`), { mayBeAbsent: true }),
    'S3Client.PutObject @ lib/workflow/batch-progress.ts': (w) => write(w, w.recordsBucket, marker(w, `slices/${UPLOAD_ID}/1`)),
  },
  complete: {
    ...COMMON, ...POWERTOOLS_SSM, ...HEALTH_COUNT,
    'S3Client.PutObject @ lib/workflow/attempt-markers.ts': (w) => write(w, w.recordsBucket, marker(w, `complete/${UPLOAD_ID}`)),
  },
  cancel: {
    ...COMMON, ...POWERTOOLS_SSM, ...HEALTH_COUNT,
    'S3Client.GetObject @ lib/workflow/attempt-markers.ts': (w) => read(w, w.recordsBucket, marker(w, `init/${EXECUTION}/0`), { mayBeAbsent: true }),
    'S3Client.PutObject @ lib/workflow/attempt-markers.ts': { unreached: 'the init marker\'s write and the upload marker (forExecution builds both); Cancel reads the init marker only' },
    'S3Client.DeleteObject @ lib/workflow/attempt-markers.ts': { unreached: 'the upload marker\'s clear; Cancel reads the init marker only' },
    // the failed batch of a Distributed Map run: the parent's map runs, their failed children, one child's error
    'SFNClient.ListMapRuns @ lib/workflow/map-run-lookup.ts': (w) => [{ action: 'states:ListMapRuns', resource: w.stateMachineArn.replace(':stateMachine:', ':execution:') + `:${EXECUTION}` }],
    'SFNClient.ListExecutions @ lib/workflow/map-run-lookup.ts': (w) => [{ action: 'states:ListExecutions', resource: w.stateMachineArn.replace(':stateMachine:', ':mapRun:') + `/${MAP_RUN}` }],
    'SFNClient.DescribeExecution @ lib/workflow/map-run-lookup.ts': (w) => [{ action: 'states:DescribeExecution', resource: w.stateMachineArn.replace(':stateMachine:', ':execution:') + `/${MAP_RUN.split(':')[0]}:child-0001` }],
  },
  report: {
    ...COMMON,
    'S3Client.PutObject @ lib/workflow/outcome-records.ts': (w) => [
      ...write(w, w.recordsBucket, `${w.prefix}forwarded/${w.sourceKey}/${EXECUTION}.json`),
      ...write(w, w.recordsBucket, `${w.prefix}failed/${w.sourceKey}/${EXECUTION}.json`),
      // a file a consumer's rules refused (ReportSkipped)
      ...write(w, w.recordsBucket, `${w.prefix}skipped/${w.sourceKey}/${EXECUTION}.json`),
    ],
    'EventBridgeClient.PutEvents @ lib/workflow/outcome-events.ts': (w) => [{ action: 'events:PutEvents', resource: arn(w, 'events', `event-bus/${w.env.EVENT_BUS_NAME}`) }],
    // a file failed past the outage budget goes back to the intake for its next round (lib/intake/readmission.ts)
    'SQSClient.SendMessage @ lib/intake/adapters.ts': (w) => [{ action: 'sqs:SendMessage', resource: queueArn(w, w.env.INTAKE_QUEUE_URL!) }],
    'SQSClient.ChangeMessageVisibility @ lib/intake/adapters.ts': { unreached: 'the intake queue\'s visibility backoff (the trigger); Report only re-sends' },
  },
  release: {
    ...COMMON, ...POWERTOOLS_SSM, ...HEALTH_COUNT,
    // an execution that ended without its record (aborted, timed out): the upload its init marker names is cancelled
    // (OST, through the secrets), then its failure record is written unless a FAILED one wrote it, and published
    'S3Client.GetObject @ lib/workflow/attempt-markers.ts': (w) => read(w, w.recordsBucket, marker(w, `init/${EXECUTION}/0`), { mayBeAbsent: true }),
    'S3Client.PutObject @ lib/workflow/attempt-markers.ts': { unreached: 'the init marker\'s write and the upload marker (forExecution builds both); release reads the init marker only' },
    'S3Client.DeleteObject @ lib/workflow/attempt-markers.ts': { unreached: 'the upload marker\'s clear; release reads the init marker only' },
    'S3Client.HeadObject @ functions/release.ts': (w) => read(w, w.recordsBucket, `${w.prefix}failed/${w.sourceKey}/${EXECUTION}.json`, { mayBeAbsent: true, head: true }),
    'S3Client.PutObject @ lib/workflow/outcome-records.ts': (w) => write(w, w.recordsBucket, `${w.prefix}failed/${w.sourceKey}/${EXECUTION}.json`),
    'EventBridgeClient.PutEvents @ lib/workflow/outcome-events.ts': (w) => [{ action: 'events:PutEvents', resource: arn(w, 'events', `event-bus/${w.env.EVENT_BUS_NAME}`) }],
    'DynamoDBClient.UpdateItem @ lib/admission/semaphore.ts': (w) => [{ action: 'dynamodb:UpdateItem', resource: SEMAPHORE(w) }],
    'DynamoDBClient.GetItem @ lib/admission/semaphore.ts': { unreached: 'SlotSemaphore.read, reached from acquire/state (the trigger, the CLI); release() is one UpdateItem' },
    'DynamoDBClient.PutItem @ lib/admission/semaphore.ts': { unreached: 'SlotSemaphore.create, reached from acquire (the trigger); release() is one UpdateItem' },
  },
};

/** The calls of one function's sites (the reached ones), each tagged with its site. */
export function functionCalls(fn: string, w: World): Array<Call & { site: string }> {
  return Object.entries(FUNCTION_CALLS[fn] ?? {}).flatMap(([site, s]) => (typeof s === 'function' ? s(w).map((c) => ({ ...c, site })) : []));
}

/** What Lambda does with a function's role: its logs, the event source mappings it polls, its on-failure destination. */
export function lambdaServiceCalls(r: Resolved, functionId: string): Call[] {
  const name = (r.resources[functionId]!.Properties.FunctionName as string | undefined) ?? r.ref(functionId);
  const group = arn({ r } as World, 'logs', `log-group:/aws/lambda/${name}`);
  const stream = `${group}:log-stream:2026/01/01/[$LATEST]0123456789abcdef`;
  const calls: Call[] = [
    { action: 'logs:CreateLogStream', resource: stream, why: 'Lambda writes the function\'s logs with its role' },
    { action: 'logs:PutLogEvents', resource: stream, why: 'Lambda writes the function\'s logs with its role' },
  ];
  const created = Object.values(r.resources).some((x) => x.Type === 'AWS::Logs::LogGroup' && x.Properties.LogGroupName === `/aws/lambda/${name}`);
  if (!created) calls.push({ action: 'logs:CreateLogGroup', resource: `${group}:*`, why: 'the stack creates no log group for the function: Lambda creates it with the role' });
  const fnArn = r.getAtt(functionId, 'Arn');
  const mine = (f: Json) => f === fnArn || f === name;
  for (const x of Object.values(r.resources)) {
    if (x.Type === 'AWS::Lambda::EventSourceMapping' && mine(x.Properties.FunctionName) && String(x.Properties.EventSourceArn).includes(':sqs:')) {
      for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']) {
        calls.push({ action, resource: x.Properties.EventSourceArn, why: 'the SQS event source mapping polls with the function\'s role' });
      }
    }
    if (x.Type === 'AWS::Lambda::EventInvokeConfig' && mine(x.Properties.FunctionName)) {
      const dest = x.Properties.DestinationConfig?.OnFailure?.Destination as string | undefined;
      if (dest?.includes(':sqs:')) calls.push({ action: 'sqs:SendMessage', resource: dest, why: 'the on-failure destination is sent to with the function\'s role' });
    }
  }
  return calls;
}

/** What Step Functions does with the state machine's role: the definition's Lambda tasks, Distributed Map, logs, traces. */
export function stateMachineCalls(r: Resolved, stateMachineId: string): Call[] {
  const sm = r.resources[stateMachineId]!.Properties;
  const definition = JSON.parse(sm.DefinitionString);
  const smArn = r.getAtt(stateMachineId, 'Arn');
  const child = `${smArn.replace(':stateMachine:', ':execution:')}/${MAP_RUN.split(':')[0]}:child-0001`;
  const calls: Call[] = [];
  const visit = (states: Record<string, Json>) => {
    for (const s of Object.values(states)) {
      if (s.Type === 'Task' && String(s.Resource).includes(':lambda:')) calls.push({ action: 'lambda:InvokeFunction', resource: s.Resource, why: 'a Task state' });
      if (s.Type === 'Map') {
        const processor = s.ItemProcessor ?? s.Iterator;
        if (processor?.ProcessorConfig?.Mode === 'DISTRIBUTED') {
          calls.push(
            { action: 'states:StartExecution', resource: smArn, why: 'Distributed Map starts its child executions on this state machine' },
            { action: 'states:DescribeExecution', resource: child, why: 'Distributed Map follows its child executions' },
            { action: 'states:StopExecution', resource: child, why: 'Distributed Map stops its children when the run fails or is aborted' },
            { action: 'states:RedriveExecution', resource: child, why: 'a redriven execution redrives the Map Run\'s failed children' },
          );
        }
        visit(processor.States);
      }
    }
  };
  visit(definition.States);
  if (sm.LoggingConfiguration?.Destinations?.length) {
    for (const action of ['CreateLogDelivery', 'GetLogDelivery', 'UpdateLogDelivery', 'DeleteLogDelivery', 'ListLogDeliveries', 'PutResourcePolicy', 'DescribeResourcePolicies', 'DescribeLogGroups']) {
      calls.push({ action: `logs:${action}`, resource: '*', why: 'Step Functions delivers the execution log to CloudWatch Logs (vended logs; these actions take no resource)' });
    }
  }
  if (sm.TracingConfiguration?.Enabled) {
    for (const action of ['PutTraceSegments', 'PutTelemetryRecords', 'GetSamplingRules', 'GetSamplingTargets']) {
      calls.push({ action: `xray:${action}`, resource: '*', why: 'X-Ray tracing (these actions take no resource)' });
    }
  }
  return calls;
}

/** The world of one packaged function. */
export function worldOf(r: Resolved, functionId: string, declared: Declared): World {
  const fn = r.resources[functionId]!.Properties;
  const env = fn.Environment?.Variables ?? {};
  const first = (list: string | undefined) => (list ?? '').split(',').map((x) => x.trim()).filter(Boolean)[0] ?? '';
  const source = String(r.outputs.SourceBucket);
  const keys = new Map<string, string | undefined>();
  for (const id of ['SourceBucket', 'RecordsBucket']) {
    const b = r.resources[id];
    if (!b) continue;
    const rule = b.Properties.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault;
    keys.set(b.Properties.BucketName, rule?.SSEAlgorithm === 'aws:kms' ? rule.KMSMasterKeyID : undefined);
  }
  return {
    r, env, functionName: fn.FunctionName,
    sourceBucket: source,
    sourceKey: `${first(env.KEY_PREFIX_FILTER)}talks/a${first(env.KEY_SUFFIX_FILTER) || '.wav'}`,
    recordsBucket: env.RESULTS_BUCKET!,
    prefix: env.RESULTS_PREFIX ?? '',
    stateMachineArn: r.getAtt('OstForwarderStateMachine', 'Arn'),
    kmsKeyOf: (bucket) => {
      if (keys.has(bucket)) return keys.get(bucket);
      // a bucket the stack does not create: the key the deployer declared for it
      if (bucket === source) return declared.sourceKmsKeyArn || undefined;
      return declared.resultsKmsKeyArn || undefined;
    },
  };
}
