// The deployed configuration, for the local stack: each function's environment and the wires (the intake queue,
// its event source mapping, the release rule's statuses, the notification's filter rules) as serverless.yml gives
// them, its variables resolved the way serverless does (params with their defaults, `self:`, `sls:stage`, the
// `${file(scripts/*.js)}` resolvers) and its CloudFormation references (`!Ref`, `!Sub`, `!GetAtt`) bound to the
// local resources. The local stack runs with this; test/parity.test.ts packages the real template, binds it to the
// same resources (resolveIntrinsics) and compares: a difference between what deploys and what is tested fails.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SETTINGS } from '../lib/config/table';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The local resources a template's references name (logical id → value), and the pseudo parameters. */
export interface LocalResources {
  account: string;
  region: string;
  /** Logical id → what `Ref` gives (a queue's URL, a table's name, a function's name). */
  refs: Record<string, string>;
  /** Logical id → its ARN (`Fn::GetAtt [id, Arn]`). */
  arns?: Record<string, string>;
}

export interface Wires {
  /** The intake queue: visibility (s), retention (s), the redrive policy's maxReceiveCount. */
  queue: { visibilityTimeout: number; retentionSeconds: number; maxReceiveCount: number };
  /** The event source mapping: intake queue → trigger. */
  mapping: { batchSize: number; maximumConcurrency: number; functionResponseTypes: string[] };
  /** The final statuses the status-change rule sends to the release function. */
  releaseStatuses: string[];
  /** The created bucket's notification: one rule set per prefix × suffix ([] = one unfiltered configuration). */
  notificationRules: Array<{ prefix?: string; suffix?: string }>;
}

export interface TemplateConfig {
  /** Function key (serverless.yml `functions`) → its environment, resolved. */
  functions: Record<string, Record<string, string>>;
  wires: Wires;
}

const TAGS = ['Sub', 'Ref', 'GetAtt', 'If', 'Equals', 'Not', 'Join', 'Select', 'Split', 'And'].flatMap((t) => {
  const fn = t === 'Ref' ? 'Ref' : `Fn::${t}`;
  return [
    { tag: `!${t}`, resolve: (v: string) => ({ [fn]: t === 'GetAtt' ? v.split('.') : v }) },
    { tag: `!${t}`, collection: 'seq' as const, resolve: (v: { toJSON(): unknown }) => ({ [fn]: v.toJSON() }) },
  ];
});

/** serverless.yml parsed, its CloudFormation tags as the intrinsic functions they stand for. */
export function readServerlessYml(root: string): Json {
  return parse(readFileSync(join(root, 'serverless.yml'), 'utf8'), { customTags: TAGS as never, strict: false, uniqueKeys: false });
}

/** Resolves serverless variables (`${param:…}`, `${self:…}`, `${sls:stage}`, `${file(x.js)}`); `${AWS::…}` is left to CloudFormation. */
export function serverlessVariables(yml: Json, root: string, params: Record<string, string>, stage: string) {
  const lookup = async (expr: string, depth: number): Promise<unknown> => {
    for (const part of expr.split(/,(?![^(]*\))/)) {
      const p = part.trim();
      if (/^'.*'$/.test(p)) return p.slice(1, -1);
      if (p === 'sls:stage' || p === 'opt:stage') return stage;
      if (p.startsWith('param:')) {
        const name = p.slice(6);
        const v = params[name] ?? yml.params?.default?.[name];
        if (v !== undefined) return resolve(v, depth + 1);
        continue;
      }
      if (p.startsWith('self:')) {
        let v: unknown = yml;
        for (const k of p.slice(5).split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
        if (v !== undefined) return resolve(v, depth + 1);
        continue;
      }
      const file = /^file\((.+)\)$/.exec(p);
      if (file) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const mod = require(join(root, file[1]!));
        const resolveVariable = async (q: string) => lookup(q, depth + 1);
        return typeof mod === 'function' ? resolve(await mod({ resolveVariable }), depth + 1) : mod;
      }
    }
    throw new Error(`serverless.yml: cannot resolve \${${expr}}`);
  };
  const resolve = async (v: unknown, depth = 0): Promise<unknown> => {
    if (depth > 20) throw new Error('serverless.yml: variables nest too deep');
    if (Array.isArray(v)) return Promise.all(v.map((x) => resolve(x, depth)));
    if (v && typeof v === 'object') return Object.fromEntries(await Promise.all(Object.entries(v).map(async ([k, x]) => [k, await resolve(x, depth)])));
    if (typeof v !== 'string') return v;
    const whole = /^\$\{((?!AWS::)[^{}]+)\}$/.exec(v);
    if (whole) return lookup(whole[1]!, depth);
    let out = v;
    for (let m = /\$\{((?!AWS::)[^{}]+)\}/.exec(out); m; m = /\$\{((?!AWS::)[^{}]+)\}/.exec(out)) {
      out = out.slice(0, m.index) + String(await lookup(m[1]!, depth)) + out.slice(m.index + m[0].length);
    }
    return out;
  };
  return resolve;
}

/** Binds CloudFormation intrinsics (Ref, Fn::Sub, Fn::GetAtt Arn) to the local resources; throws on one it cannot. */
export function resolveIntrinsics(v: Json, r: LocalResources): Json {
  const pseudo: Record<string, string> = { 'AWS::AccountId': r.account, 'AWS::Region': r.region, 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com' };
  const ref = (id: string) => {
    const x = pseudo[id] ?? r.refs[id];
    if (x === undefined) throw new Error(`no local resource for Ref ${id}`);
    return x;
  };
  if (Array.isArray(v)) return v.map((x) => resolveIntrinsics(x, r));
  if (!v || typeof v !== 'object') return v;
  if ('Ref' in v) return ref(v.Ref);
  if ('Fn::Sub' in v) return String(v['Fn::Sub']).replace(/\$\{([^}]+)\}/g, (_m, id: string) => ref(id));
  if ('Fn::GetAtt' in v) {
    const [id, att] = v['Fn::GetAtt'] as [string, string];
    const x = att === 'Arn' ? r.arns?.[id] : undefined;
    if (x === undefined) throw new Error(`no local resource for GetAtt ${id}.${att}`);
    return x;
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveIntrinsics(x, r)]));
}

/** Each function's environment (its variables resolved; its references bound by `bind`) and the wires. */
export async function templateConfig(root: string, params: Record<string, string>, stage = 'local'): Promise<{ wires: Wires; environments(r: LocalResources): TemplateConfig['functions'] }> {
  const yml = readServerlessYml(root);
  const resolve = serverlessVariables(yml, root, params, stage);
  const provider = (await resolve(yml.provider.environment)) as Record<string, Json>;
  const own: Record<string, Record<string, Json>> = {};
  for (const [key, fn] of Object.entries(yml.functions as Record<string, Json>)) own[key] = (await resolve(fn.environment ?? {})) as Record<string, Json>;
  const queue = (await resolve(yml.resources.Resources.IntakeQueue.Properties)) as Json;
  const [sqs] = ((await resolve(yml.functions.trigger.events)) as Json[]).map((e) => e.sqs).filter(Boolean);
  const rule = yml.resources.Resources.ReleaseRule.Properties.EventPattern;
  const notification = (await resolve(yml.custom.notification)) as Json;
  return {
    wires: {
      queue: { visibilityTimeout: Number(queue.VisibilityTimeout), retentionSeconds: Number(queue.MessageRetentionPeriod), maxReceiveCount: Number(queue.RedrivePolicy.maxReceiveCount) },
      mapping: { batchSize: Number(sqs.batchSize), maximumConcurrency: Number(sqs.maximumConcurrency), functionResponseTypes: [sqs.functionResponseType] },
      releaseStatuses: [...rule.detail.status],
      notificationRules: notificationRules(notification.queueConfigurations),
    },
    environments: (r) => Object.fromEntries(Object.entries(own).map(([key, env]) => [key,
      Object.fromEntries(Object.entries({ ...provider, ...env }).map(([k, v]) => [k, String(resolveIntrinsics(v, r))]))])),
  };
}

/** The filter rules of S3 queue configurations (the template's `QueueConfigurations`), one set per configuration. */
export function notificationRules(configurations: Json[]): Wires['notificationRules'] {
  return configurations.map((c) => Object.fromEntries(((c.Filter?.S3Key?.Rules ?? []) as Array<{ Name: string; Value: string }>).map((x) => [x.Name, x.Value])));
}

/** True when a key passes one of the notification's rule sets (S3's own filtering before it sends). */
export function notified(key: string, rules: Wires['notificationRules']): boolean {
  return rules.some((r) => (r.prefix === undefined || key.startsWith(r.prefix)) && (r.suffix === undefined || key.endsWith(r.suffix)));
}

/**
 * What the local stack sets differently from the packaged template, and why (test/parity.test.ts allows these only):
 * the runtime wrapper's variables (a Lambda container's, never this process's), the OST endpoint (the emulator),
 * the log level (quiet unless asked), and the intake's backoff, scaled with the local queue's time.
 */
export const LOCAL_DIFFERENCES: Record<string, string> = {
  AWS_LAMBDA_EXEC_WRAPPER: 'the Lambda exec wrapper: not this process',
  NODE_OPTIONS: 'the Lambda runtime flag: not this process',
  LAMBDA_MAX_SEMI_SPACE_MB: 'read by the exec wrapper only',
  OST_ENDPOINT: 'the emulator (or OST_ENDPOINT)',
  POWERTOOLS_LOG_LEVEL: 'SILENT unless POWERTOOLS_LOG_LEVEL is set',
  INTAKE_WAIT_BASE_SECONDS: 'the local queue runs at a time scale',
  INTAKE_WAIT_MAX_SECONDS: 'the local queue runs at a time scale',
  OUTAGE_PROBE_BASE_MS: 'the breaker\'s probe pauses scale with the local queue\'s time',
  OUTAGE_PROBE_MAX_MS: 'the breaker\'s probe pauses scale with the local queue\'s time',
};

/** The stage params an `env` option gives (a variable that is a param), and the rest of it. */
export function paramsOfEnv(env: Record<string, string | undefined>): { params: Record<string, string>; rest: Record<string, string | undefined> } {
  const params: Record<string, string> = {};
  const rest: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    const spec = SETTINGS.find((x) => x.variable === k && x.param);
    if (spec && v !== undefined) params[spec.param!] = v;
    else rest[k] = v;
  }
  return { params, rest };
}
