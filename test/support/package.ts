// `serverless package` once per content: the CloudFormation template (and serverless-state.json) of a given set of
// params, cached under node_modules/.cache/ost-forwarder/package-<hash> where the hash covers every input of the
// package (serverless.yml, the definition, the handlers and lib, package.json/lock, the params). Test files that
// need the same template share one packaging run (~30 s), even from parallel jest workers (a lock directory: one
// `serverless package` at a time, since they share the project's build directories).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..', '..');
const CACHE = join(ROOT, 'node_modules', '.cache', 'ost-forwarder');
/** Present in the packaging environment: must never reach the template. */
export const PACKAGING_SECRET = 'pkg-test-secret-9f3b1c';
export const PACKAGING_API_KEY = 'pkg-test-apikey-77aa01';

export interface Packaged { template: any; text: string; state: string; dir: string }

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : [join(dir, d.name)]));
}

function inputsHash(params: string[], region: string, stage: string): string {
  const h = createHash('sha256').update(JSON.stringify({ params, region, stage }));
  const inputs = ['serverless.yml', 'statemachine/definition.yml', 'package.json', 'package-lock.json', 'tsconfig.json']
    .map((f) => join(ROOT, f)).filter(existsSync)
    .concat(...['functions', 'lib', 'scripts'].map((d) => files(join(ROOT, d))).map((l) => l.sort()));
  for (const f of inputs) h.update(f.slice(ROOT.length)).update(readFileSync(f));
  return h.digest('hex').slice(0, 24);
}

/** `serverless package --stage <stage>` (default test) with these params, in `region` (default us-east-1). */
export async function packaged(params: string[], { region = 'us-east-1', stage = 'test' }: { region?: string; stage?: string } = {}): Promise<Packaged> {
  const dir = join(CACHE, `package-${inputsHash(params, region, stage)}`);
  const done = join(dir, 'done');
  // one packaging at a time, whatever the params: serverless-esbuild builds in the project's .esbuild/
  const lock = join(CACHE, 'package.lock');
  mkdirSync(CACHE, { recursive: true });
  for (;;) {
    if (existsSync(done)) break;
    try {
      mkdirSync(lock);
    } catch {
      // another worker is packaging the same thing; a lock older than 5 minutes is stale
      if (Date.now() - statSync(lock).mtimeMs > 300_000) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    try {
      rmSync(dir, { recursive: true, force: true });
      await promisify(execFile)(join(ROOT, 'node_modules/.bin/serverless'), ['package', '--stage', stage, '--region', region, '--package', dir, ...params.flatMap((p) => ['--param', p])], {
        cwd: ROOT,
        timeout: 180_000,
        maxBuffer: 16 * 1024 * 1024,
        env: {
          PATH: process.env.PATH, HOME: process.env.HOME, npm_config_cache: process.env.npm_config_cache,
          AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_REGION: region,
          OST_API_KEY: PACKAGING_API_KEY, OST_API_SECRET: PACKAGING_SECRET,
          SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off',
        },
      });
      writeFileSync(done, new Date().toISOString());
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  const text = readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8');
  return { template: JSON.parse(text), text, state: readFileSync(join(dir, 'serverless-state.json'), 'utf8'), dir };
}

/** `serverless package` expected to fail (a param the template refuses): its output, without caching. */
export async function packagingError(params: string[]): Promise<string> {
  const dir = join(CACHE, `failing-${process.pid}-${Date.now()}`);
  try {
    await promisify(execFile)(join(ROOT, 'node_modules/.bin/serverless'), ['package', '--stage', 'test', '--region', 'us-east-1', '--package', dir, ...params.flatMap((p) => ['--param', p])], {
      cwd: ROOT,
      timeout: 120_000,
      env: {
        PATH: process.env.PATH, HOME: process.env.HOME, npm_config_cache: process.env.npm_config_cache,
        AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_REGION: 'us-east-1', SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off',
      },
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  throw new Error(`serverless package succeeded with ${params.join(' ')}`);
}

/** The param sets the template tests share (one packaging each, whichever test file asks first). */
export const CREATED_PARAMS = ['ostAppId=app123'];
export const EXISTING_PARAMS = ['ostAppId=app123', 'existingBucket=true', 'bucketName=team-audio', 'resultsBucket=team-records', 'resultsPrefix=fwd/', 'eventBusName=audio-bus', 'keyPrefixFilter=incoming/', 'keySuffixFilter=.wav'];
/** cn-north-1: SSE-KMS, records in the source bucket (so with its key) kept apart by the notification's prefix. */
export const CHINA_REGION = 'cn-north-1';
export const CHINA_PARAMS = [
  'ostAppId=app123', 'bucketName=audio-cn', 'resultsBucket=audio-cn', 'keyPrefixFilter=inbox/', 'alarmEmail=ops@example.com',
  'sourceKmsKeyArn=arn:aws-cn:kms:cn-north-1:111122223333:key/src-key', 'resultsKmsKeyArn=arn:aws-cn:kms:cn-north-1:111122223333:key/src-key',
];

/** A packaging variant the docs offer: its params, region and stage. */
export interface Variant { name: string; params: string[]; region: string; stage: string }
/** Every variant docs/deploy.md offers, each packaged once (test/deploy-checks.test.ts checks them as AWS would). */
export const VARIANTS: Variant[] = [
  { name: 'created buckets, us-east-1', params: CREATED_PARAMS, region: 'us-east-1', stage: 'test' },
  { name: 'existing bucket with filters', params: EXISTING_PARAMS, region: 'us-east-1', stage: 'test' },
  { name: 'cn-north-1, SSE-KMS, records in the source bucket', params: CHINA_PARAMS, region: CHINA_REGION, stage: 'test' },
  {
    name: 'SSE-KMS on both created buckets', region: 'us-east-1', stage: 'test',
    params: ['ostAppId=app123', 'sourceKmsKeyArn=arn:aws:kms:us-east-1:111122223333:key/src-key', 'resultsKmsKeyArn=arn:aws:kms:us-east-1:111122223333:key/rec-key'],
  },
  {
    // the longest default bucket name: ost-forwarder-<13>-records-<account>-cn-northwest-1 is S3's 63 characters
    name: 'cn-northwest-1, SSE-KMS, a 13-character stage', region: 'cn-northwest-1', stage: 'preproduction',
    params: ['ostAppId=app123', 'sourceKmsKeyArn=arn:aws-cn:kms:cn-northwest-1:111122223333:key/src-key', 'resultsKmsKeyArn=arn:aws-cn:kms:cn-northwest-1:111122223333:key/rec-key'],
  },
  {
    name: 'records in a shared SSE-KMS bucket', region: 'us-east-1', stage: 'test',
    params: ['ostAppId=app123', 'existingBucket=true', 'bucketName=shared-audio', 'resultsBucket=shared-audio', 'keyPrefixFilter=inbox/',
      'sourceKmsKeyArn=arn:aws:kms:us-east-1:111122223333:key/shared-key', 'resultsKmsKeyArn=arn:aws:kms:us-east-1:111122223333:key/shared-key'],
  },
];
