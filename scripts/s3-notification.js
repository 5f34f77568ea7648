// The S3 notification of serverless.yml, computed from the params (serverless `${file(...)}` JS resolver):
// keyPrefixFilter / keySuffixFilter become S3 filter rules (only the ones that are set: S3 rejects an empty rule),
// for the bucket the stack creates (`lambdaConfigurations`) and for an existing bucket (`events`, the framework's
// custom resource). Packaging fails with one line when an object the project writes could invoke the trigger.
'use strict';

async function params(resolveVariable) {
  const get = async (name, fallback) => {
    const v = await resolveVariable(`param:${name}, '${fallback}'`);
    return typeof v === 'string' ? v : String(v ?? fallback);
  };
  const existing = (await get('existingBucket', 'false')).trim().toLowerCase();
  if (existing !== 'true' && existing !== 'false') throw new Error(`param existingBucket must be true or false, got "${existing}"`);
  return {
    existing: existing === 'true',
    bucket: await get('bucketName', ''),
    resultsBucket: await get('resultsBucket', ''),
    resultsPrefix: await get('resultsPrefix', ''),
    prefix: (await get('keyPrefixFilter', '')).trim(),
    suffix: (await get('keySuffixFilter', '')).trim(),
  };
}

function check(p) {
  if (p.existing && (p.bucket === '' || p.bucket.includes('${'))) {
    throw new Error('param bucketName: existingBucket=true needs the name of the existing bucket (--param "bucketName=...")');
  }
  for (const [name, v] of [['keyPrefixFilter', p.prefix], ['keySuffixFilter', p.suffix]]) {
    if (v.includes(',')) throw new Error(`param ${name}: S3 takes one ${name === 'keyPrefixFilter' ? 'prefix' : 'suffix'} per notification, got "${v}"`);
  }
  // Records and attempt markers are written under resultsPrefix of the results bucket. When that is the source
  // bucket, the notification's prefix filter must exclude them, or every record invokes the trigger.
  if (p.resultsBucket === p.bucket && (p.prefix === '' || p.resultsPrefix.startsWith(p.prefix))) {
    throw new Error(
      `param resultsBucket: records go to the source bucket under "${p.resultsPrefix}", which the notification ` +
      `(keyPrefixFilter "${p.prefix}") would send to the trigger; use a separate resultsBucket or a keyPrefixFilter such as inbox/`,
    );
  }
}

function rules(p) {
  return [...(p.prefix ? [{ prefix: p.prefix }] : []), ...(p.suffix ? [{ suffix: p.suffix }] : [])];
}

module.exports = async ({ resolveVariable }) => {
  const p = await params(resolveVariable);
  check(p);
  const r = rules(p);
  const filter = r.length ? { Filter: { S3Key: { Rules: r.map((x) => { const [k, v] = Object.entries(x)[0]; return { Name: k, Value: v }; }) } } } : {};
  return {
    lambdaConfigurations: [{ Event: 's3:ObjectCreated:*', Function: { 'Fn::GetAtt': ['TriggerLambdaFunction', 'Arn'] }, ...filter }],
    events: p.existing ? [{ s3: { bucket: p.bucket, event: 's3:ObjectCreated:*', existing: true, ...(r.length ? { rules: r } : {}) } }] : [],
  };
};
