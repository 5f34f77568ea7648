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

function inputsHash(params: string[], region: string): string {
  const h = createHash('sha256').update(JSON.stringify({ params, region }));
  const inputs = ['serverless.yml', 'statemachine/definition.yml', 'package.json', 'package-lock.json', 'tsconfig.json']
    .map((f) => join(ROOT, f)).filter(existsSync)
    .concat(...['functions', 'lib', 'scripts'].map((d) => files(join(ROOT, d))).map((l) => l.sort()));
  for (const f of inputs) h.update(f.slice(ROOT.length)).update(readFileSync(f));
  return h.digest('hex').slice(0, 24);
}

/** `serverless package --stage test` with these params, in `region` (default us-east-1). */
export async function packaged(params: string[], { region = 'us-east-1' }: { region?: string } = {}): Promise<Packaged> {
  const dir = join(CACHE, `package-${inputsHash(params, region)}`);
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
      await promisify(execFile)(join(ROOT, 'node_modules/.bin/serverless'), ['package', '--stage', 'test', '--region', region, '--package', dir, ...params.flatMap((p) => ['--param', p])], {
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
/** cn-north-1: SSE-KMS on both buckets, records in the source bucket kept apart by the notification's prefix. */
export const CHINA_REGION = 'cn-north-1';
export const CHINA_PARAMS = [
  'ostAppId=app123', 'bucketName=audio-cn', 'resultsBucket=audio-cn', 'keyPrefixFilter=inbox/', 'alarmEmail=ops@example.com',
  'sourceKmsKeyArn=arn:aws-cn:kms:cn-north-1:111122223333:key/src-key', 'resultsKmsKeyArn=arn:aws-cn:kms:cn-north-1:111122223333:key/rec-key',
];
