// `ost-forward check [--stage S] [--endpoint URL]`: what to run before the first forward and after rotating keys.
// One line per check (ok, FAIL or skip), exit 1 on any failure:
//   endpoint     reachable, TLS (protocol, certificate expiry): one unsigned GET (lib/ost/probe.ts)
//   clock        the local clock against the endpoint's Date header (the gateway refuses requests dated > 300 s off)
//   ssm …        with --stage: the api_key and api_secret parameters readable (decrypted) and non-empty
//   stack        with --stage: the stack ost-forwarder-<stage> and every output serverless.yml declares
//   credentials  a signed init, then cancel of that upload: costs nothing, leaves nothing open
// Credentials come from OST_APP_ID, OST_API_KEY, OST_API_SECRET; with --stage and no OST_API_KEY/OST_API_SECRET,
// from the stage's SSM parameters. Nothing printed carries a secret.
import { parseArgs } from 'node:util';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError } from '../../lib/core/errors';
import { OstClient } from '../../lib/ost/client';
import { OstAuthError, OstError, OstInvalidRequestError, OstQuotaError } from '../../lib/ost/errors';
import { probeEndpoint, type ProbeResult } from '../../lib/ost/probe';
import { ostClientOptionsFromEnv } from '../../lib/config/ost-options';
import { secretValue } from '../../lib/runtime/secrets';
import type { Env } from '../../lib/config/parsers';
import { readSetting } from '../../lib/config/table';
import { STACK_OUTPUTS, stackNameOf, stackOutputs } from '../../lib/config/stack-outputs';
import { EXIT, oneLine, reportFailure } from '../exit';
import { UsageError } from '../args';

const USAGE = 'usage: ost-forward check [--stage STAGE] [--endpoint URL]';

/** The gateway's limit on the date header (docs/ost-api.md). */
export const MAX_SKEW_SECONDS = 300;

export { STACK_OUTPUTS };

export interface CheckLine { check: string; status: 'ok' | 'FAIL' | 'skip'; detail: string }

export interface CheckOptions {
  env: Env;
  stage?: string;
  /** The local clock (tests skew it). */
  now?: () => number;
  ssm?: Pick<SSMClient, 'send'>;
  cfn?: Pick<CloudFormationClient, 'send'>;
  timeoutMs?: number;
}

const message = (err: unknown): string => (err instanceof OstError ? err.describe() : err instanceof Error ? err.message : String(err));

function endpointDetail(url: string, p: ProbeResult): string {
  const tls = p.tls ? `${p.tls.protocol}${p.tls.validTo ? `, certificate valid until ${p.tls.validTo}` : ''}` : 'plain http (loopback)';
  return `${url} answered HTTP ${p.status} in ${p.ms} ms; ${tls}`;
}

function clockLine(p: ProbeResult, now: number): CheckLine {
  const server = p.date ? Date.parse(p.date) : NaN;
  if (!Number.isFinite(server)) return { check: 'clock', status: 'skip', detail: 'the endpoint sent no readable Date header' };
  // The header has whole seconds and was written while the request was answered: its middle is the best guess.
  const skew = Math.round((now - (server + 500)) / 1000);
  const said = skew === 0 ? 'in step with' : `${Math.abs(skew)} s ${skew > 0 ? 'ahead of' : 'behind'}`;
  if (Math.abs(skew) > MAX_SKEW_SECONDS) {
    const detail = `this machine's clock is ${said} the endpoint's Date (${p.date}); the gateway refuses requests dated `
      + `more than ${MAX_SKEW_SECONDS} s off: set the clock (NTP)`;
    return { check: 'clock', status: 'FAIL', detail };
  }
  return { check: 'clock', status: 'ok', detail: `${said} the endpoint's Date (the gateway allows ${MAX_SKEW_SECONDS} s)` };
}

/** The two SSM parameters of a stage: readable, decrypted, non-empty. Returns the values read. */
async function ssmLines(o: CheckOptions, stage: string, out: CheckLine[]): Promise<{ apiKey?: string; apiSecret?: string }> {
  const ssm = o.ssm ?? new SSMClient({ maxAttempts: 3 });
  const names = {
    apiKey: ['OST_API_KEY_PARAM', o.env.OST_API_KEY_PARAM?.trim() || `/ost-forwarder/${stage}/api-key`],
    apiSecret: ['OST_API_SECRET_PARAM', o.env.OST_API_SECRET_PARAM?.trim() || `/ost-forwarder/${stage}/api-secret`],
  } as const;
  const values: { apiKey?: string; apiSecret?: string } = {};
  for (const [field, [setting, name]] of Object.entries(names) as Array<['apiKey' | 'apiSecret', readonly [string, string]]>) {
    const check = `ssm ${field === 'apiKey' ? 'api-key' : 'api-secret'}`;
    try {
      const res = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
      values[field] = secretValue(res.Parameter?.Value, setting, name);
      out.push({ check, status: 'ok', detail: `${name} is readable and not empty (${res.Parameter?.Type ?? 'type unknown'})` });
    } catch (err) {
      const kind = (err as { name?: string }).name;
      const why = kind === 'ParameterNotFound' ? `${name} does not exist (aws ssm put-parameter --type SecureString --name ${name} …)`
        : err instanceof ConfigError ? err.message : `${name} could not be read: ${kind ?? 'Error'}: ${message(err)}`;
      out.push({ check, status: 'FAIL', detail: why });
    }
  }
  return values;
}

async function stackLine(o: CheckOptions, stage: string): Promise<CheckLine> {
  const name = stackNameOf(stage);
  try {
    const outputs = await stackOutputs(o.cfn ?? new CloudFormationClient({ maxAttempts: 3 }), name);
    const region = o.env.AWS_REGION ?? 'the default region';
    if (!outputs) return { check: 'stack', status: 'FAIL', detail: `stack ${name} was not found in ${region} (deployed with another --stage or --region?)` };
    const missing = STACK_OUTPUTS.filter((k) => !outputs[k]);
    const lacking = `stack ${name} lacks the outputs ${missing.join(', ')} (deployed from an older version? deploy again)`;
    if (missing.length) return { check: 'stack', status: 'FAIL', detail: lacking };
    return { check: 'stack', status: 'ok', detail: `${name}: all ${STACK_OUTPUTS.length} outputs present` };
  } catch (err) {
    return { check: 'stack', status: 'FAIL', detail: `DescribeStacks ${name} failed: ${(err as Error).name}: ${message(err)}` };
  }
}

/** Why a signed init was refused, in the user's terms. */
function credentialsFailure(err: unknown, fromSsm: boolean): string {
  const keys = fromSsm ? 'the api-key or api-secret SSM parameter' : 'OST_API_KEY or OST_API_SECRET';
  if (err instanceof OstAuthError) {
    if (/date/i.test(err.message)) return `the gateway refused the request's date: this machine's clock is off (see clock) — ${err.describe()}`;
    return `the gateway refused the signature: ${keys} is wrong, or they belong to another app — ${err.describe()}`;
  }
  if (err instanceof OstInvalidRequestError) return `OST refused init: is OST_APP_ID the app these keys belong to? — ${err.describe()}`;
  if (err instanceof OstQuotaError) return `the app's OST licence or daily limit refused it — ${err.describe()}`;
  return message(err);
}

async function credentialsLine(o: CheckOptions, env: Env, fromSsm: boolean, now: () => number): Promise<CheckLine> {
  let client: OstClient;
  try {
    client = new OstClient({ ...ostClientOptionsFromEnv(env), retry: { attempts: 1 }, now: () => new Date(now()) });
  } catch (err) {
    return { check: 'credentials', status: 'FAIL', detail: message(err) };
  }
  try {
    const { uploadId, sid } = await client.init();
    try {
      await client.cancel(uploadId);
    } catch (err) {
      const detail = `init was accepted (sid ${sid}) but cancel of ${uploadId} failed (the upload expires on its own): ${message(err)}`;
      return { check: 'credentials', status: 'FAIL', detail };
    }
    const detail = `app_id ${env.OST_APP_ID!.trim()}: a signed init and its cancel were accepted (sid ${sid})`;
    return { check: 'credentials', status: 'ok', detail };
  } catch (err) {
    return { check: 'credentials', status: 'FAIL', detail: credentialsFailure(err, fromSsm) };
  } finally {
    await client.close();
  }
}

/** Runs every check in order, calling `emit` with each line as it is decided. */
export async function runChecks(o: CheckOptions, emit: (line: CheckLine) => void = () => undefined): Promise<CheckLine[]> {
  const out: CheckLine[] = [];
  const push = (l: CheckLine): void => { out.push(l); emit(l); };
  const now = o.now ?? Date.now;
  let probe: ProbeResult | undefined;
  let endpoint: string | undefined;
  try {
    endpoint = readSetting<string>(o.env, 'OST_ENDPOINT');
    probe = await probeEndpoint(endpoint, { timeoutMs: o.timeoutMs });
    push({ check: 'endpoint', status: 'ok', detail: endpointDetail(endpoint, probe) });
  } catch (err) {
    push({ check: 'endpoint', status: 'FAIL', detail: message(err) });
  }
  push(probe ? clockLine(probe, now()) : { check: 'clock', status: 'skip', detail: 'no answer from the endpoint' });

  const env = { ...o.env };
  let fromSsm = false;
  if (o.stage !== undefined) {
    const lines: CheckLine[] = [];
    const secrets = await ssmLines(o, o.stage, lines);
    lines.forEach(push);
    push(await stackLine(o, o.stage));
    if (!env.OST_API_KEY?.trim() && !env.OST_API_SECRET?.trim() && secrets.apiKey && secrets.apiSecret) {
      env.OST_API_KEY = secrets.apiKey;
      env.OST_API_SECRET = secrets.apiSecret;
      fromSsm = true;
    }
  }
  push(probe ? await credentialsLine(o, env, fromSsm, now) : { check: 'credentials', status: 'skip', detail: 'no answer from the endpoint' });
  return out;
}

function parse(argv: string[]): { help: boolean; stage?: string; endpoint?: string } {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { stage: { type: 'string' }, endpoint: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (positionals.length) throw new UsageError(`check takes no arguments, got ${JSON.stringify(positionals[0]!.slice(0, 100))}`);
  if (values.stage !== undefined && !/^[A-Za-z0-9-]{1,64}$/.test(values.stage)) {
    throw new UsageError(`--stage: letters, digits and '-', got ${JSON.stringify(values.stage.slice(0, 100))}`);
  }
  return { help: values.help ?? false, stage: values.stage, endpoint: values.endpoint };
}

export async function run(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (err) {
    return reportFailure('check', err, USAGE);
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  const env = { ...process.env };
  if (args.endpoint !== undefined) env.OST_ENDPOINT = args.endpoint;
  const lines = await runChecks({ env, stage: args.stage }, (l) => {
    process.stdout.write(`${oneLine(`${l.status.padEnd(4)} ${l.check.padEnd(14)} ${l.detail}`)}\n`);
  });
  return lines.some((l) => l.status === 'FAIL') ? EXIT.failure : EXIT.ok;
}
