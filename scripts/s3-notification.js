// The S3 notification of serverless.yml, computed from the params (serverless `${file(...)}` JS resolver):
// keyPrefixFilter / keySuffixFilter (comma-separated lists, as the trigger reads them) become
// - for the bucket the stack creates (`queueConfigurations`: the intake queue), S3 filter rules, one notification
//   configuration per prefix × suffix (S3 takes one prefix and one suffix per configuration; an unset filter is
//   left out: S3 rejects an empty rule);
// - for an existing bucket (`eventPattern`), the pattern of the EventBridge rule that sends its "Object Created"
//   events to the intake queue: the bucket's name, and the key matching one prefix × suffix (prefix, suffix, or a
//   wildcard `<prefix>*<suffix>` for both). The bucket's EventBridge setting has no overlap rule with the
//   notifications other consumers configured, so a shared bucket keeps theirs.
// Packaging fails with one line when the values overlap (S3 would refuse them as ambiguous), when an object the
// project writes could invoke the trigger, or when records would go to the source bucket encrypted with a key the
// roles are not given.
'use strict';

const list = (v) => [...new Set(v.split(',').map((x) => x.trim()).filter((x) => x !== ''))];

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
    sourceKey: await get('sourceKmsKeyArn', ''),
    resultsKey: await get('resultsKmsKeyArn', ''),
    prefixes: list(await get('keyPrefixFilter', '')),
    suffixes: list(await get('keySuffixFilter', '')),
  };
}

function check(p) {
  if (p.existing && (p.bucket === '' || p.bucket.includes('${'))) {
    throw new Error('param bucketName: existingBucket=true needs the name of the existing bucket (--param "bucketName=...")');
  }
  // S3 refuses two configurations for one event whose prefixes overlap and whose suffixes overlap; within the
  // prefix × suffix product that happens as soon as two prefixes (or two suffixes) overlap.
  const clash = (xs, startsOrEnds) => xs.flatMap((a, i) => xs.slice(i + 1).filter((b) => a[startsOrEnds](b) || b[startsOrEnds](a)).map((b) => `"${a}" and "${b}"`));
  for (const [name, found] of [['keyPrefixFilter', clash(p.prefixes, 'startsWith')], ['keySuffixFilter', clash(p.suffixes, 'endsWith')]]) {
    if (found.length) throw new Error(`param ${name}: ${found[0]} overlap, which S3 refuses in one notification configuration`);
  }
  // Records and attempt markers are written under resultsPrefix of the results bucket. When that is the source
  // bucket, every notification prefix must exclude them, or every record invokes the trigger.
  if (p.resultsBucket === p.bucket && (p.prefixes.length === 0 || p.prefixes.some((x) => p.resultsPrefix.startsWith(x) || x.startsWith(p.resultsPrefix)))) {
    throw new Error(
      `param resultsBucket: records go to the source bucket under "${p.resultsPrefix}", which the notification ` +
      `(keyPrefixFilter "${p.prefixes.join(',')}") would send to the trigger; use a separate resultsBucket or a keyPrefixFilter such as inbox/`,
    );
  }
  // Records in the source bucket are encrypted with its key: the writers are granted resultsKmsKeyArn only.
  if (p.resultsBucket === p.bucket && p.resultsKey !== p.sourceKey) {
    throw new Error(
      `param resultsKmsKeyArn: records go to the source bucket, encrypted with its key (sourceKmsKeyArn "${p.sourceKey}"); ` +
      `set resultsKmsKeyArn to the same key ("${p.resultsKey}" now)`,
    );
  }
}

/** One rule set per prefix × suffix; [[]] (one unfiltered configuration) when neither is set. */
function ruleSets(p) {
  const prefixes = p.prefixes.length ? p.prefixes : [undefined];
  const suffixes = p.suffixes.length ? p.suffixes : [undefined];
  return prefixes.flatMap((prefix) => suffixes.map((suffix) => [...(prefix ? [{ prefix }] : []), ...(suffix ? [{ suffix }] : [])]));
}

/** An EventBridge wildcard pattern matching the text literally around the one `*` (`*` and `\` escaped). */
const literal = (v) => v.replace(/[\\*]/g, (c) => `\\${c}`);

/** One key matcher per prefix × suffix. */
function keyMatchers(p) {
  return ruleSets(p).filter((r) => r.length).map((r) => {
    const { prefix, suffix } = Object.assign({}, ...r);
    if (prefix !== undefined && suffix !== undefined) return { wildcard: `${literal(prefix)}*${literal(suffix)}` };
    return prefix !== undefined ? { prefix } : { suffix };
  });
}

module.exports = async ({ resolveVariable }) => {
  const p = await params(resolveVariable);
  check(p);
  const sets = ruleSets(p);
  const keys = keyMatchers(p);
  const filter = (r) => (r.length ? { Filter: { S3Key: { Rules: r.map((x) => { const [k, v] = Object.entries(x)[0]; return { Name: k, Value: v }; }) } } } : {});
  return {
    // The created bucket notifies the intake queue (admission control, docs/admission.md).
    queueConfigurations: sets.map((r) => ({ Event: 's3:ObjectCreated:*', Queue: { 'Fn::GetAtt': ['IntakeQueue', 'Arn'] }, ...filter(r) })),
    eventPattern: {
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: { bucket: { name: [p.bucket] }, ...(keys.length ? { object: { key: keys } } : {}) },
    },
  };
};
