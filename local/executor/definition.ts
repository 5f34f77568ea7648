// The state machine definition as the local executor runs it: statemachine/definition.yml and serverless.yml
// read (CloudFormation short forms tolerated), `${...}` variables resolved as the serverless framework would, each
// Task's function mapped to a local handler key and every DISTRIBUTED Map's processor turned into a child machine.
import { readFileSync } from 'node:fs';
import { parse as parseYaml, type Tags } from 'yaml';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../aws/account';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export interface AslState extends JsonObject {}
export interface AslDefinition { StartAt: string; States: Record<string, JsonObject>; [k: string]: Json }

/** A `${...}` expression in the definition that could not be resolved. */
export class DefinitionVariableError extends Error {
  constructor(readonly expression: string) {
    super(`statemachine definition: cannot resolve \${${expression}} locally; pass it in variables`);
    this.name = 'DefinitionVariableError';
  }
}

// CloudFormation short forms, in case the definition uses them.
const cfnTags: Tags = [
  { tag: '!GetAtt', resolve: (v: string) => ({ 'Fn::GetAtt': v.split('.') }) },
  { tag: '!Ref', resolve: (v: string) => ({ Ref: v }) },
  { tag: '!Sub', resolve: (v: string) => ({ 'Fn::Sub': v }) },
];

/** Parses YAML; CloudFormation tags other than GetAtt/Ref/Sub (e.g. !If in serverless.yml) stay unresolved, quietly. */
export function readYaml(path: string): unknown {
  return parseYaml(readFileSync(path, 'utf8'), { customTags: cfnTags, logLevel: 'error' });
}

export const localFunctionArn = (fnKey: string) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${fnKey}`;

export interface PreparedDefinition {
  /** The definition the engine runs: ARNs substituted, variables resolved, Task timeouts made explicit. */
  definition: AslDefinition;
  /** Task state name → function key (for every Task, at any depth). */
  taskFunctions: Record<string, string>;
  /** Every state name with its type, at any depth (Map processors included). */
  states: Record<string, string>;
  /** Map states whose ItemProcessor runs DISTRIBUTED (children are separate executions on AWS). */
  distributedMaps: string[];
  /** The original processor of each distributed Map (run as child executions); keyed by Map state name. */
  childMachines: Record<string, AslDefinition>;
  /** Synthetic Task state name → its distributed Map state name. */
  childTasks: Record<string, string>;
}

/** Name of the synthetic Task that stands for a distributed Map's child execution. */
export const childTaskName = (mapState: string) => `${mapState} (child execution)`;
const CHILD_TASK_ARN = localFunctionArn('__distributedMapChild');
const UNSUPPORTED_DISTRIBUTED = ['ItemReader', 'ItemBatcher', 'ResultWriter', 'ToleratedFailurePercentage', 'ToleratedFailureCount', 'ToleratedFailurePercentagePath', 'ToleratedFailureCountPath'];

/**
 * Resolves `${...}` variables with `resolve` (a whole-string variable keeps the resolved value's type),
 * replaces `Fn::GetAtt` Lambda ARNs with local ARNs and gives every Task an explicit TimeoutSeconds (AWS's
 * default is 99999999 s; the engine's is 60 s, and Node timers cannot exceed 24.8 days).
 */
export function prepareDefinition(raw: unknown, resolve: (expression: string) => Json): PreparedDefinition {
  const taskFunctions: Record<string, string> = {};
  const states: Record<string, string> = {};
  const distributedMaps: string[] = [];
  const childMachines: Record<string, AslDefinition> = {};
  const childTasks: Record<string, string> = {};
  const substitute = (v: unknown): Json => {
    if (typeof v === 'string') {
      const whole = /^\$\{([^{}]+)\}$/.exec(v);
      if (whole) return resolve(whole[1]!.trim());
      return v.replace(/\$\{([^{}]+)\}/g, (_m, e: string) => String(resolve(e.trim())));
    }
    if (Array.isArray(v)) return v.map(substitute);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const getAtt = o['Fn::GetAtt'];
      if (Array.isArray(getAtt) && Object.keys(o).length === 1) {
        if (getAtt[1] !== 'Arn') throw new Error(`statemachine definition: unsupported Fn::GetAtt ${JSON.stringify(getAtt)}`);
        return localFunctionArn(String(getAtt[0]));
      }
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, substitute(x)]));
    }
    return v as Json;
  };
  const definition = substitute(raw) as unknown as AslDefinition;
  if (!definition || typeof definition !== 'object' || typeof definition.StartAt !== 'string' || !definition.States) {
    throw new Error('statemachine definition: expected StartAt and States at the top level');
  }
  const walk = (machine: { States: Record<string, JsonObject> }) => {
    for (const [name, state] of Object.entries(machine.States)) {
      if (name in states) throw new Error(`statemachine definition: state name ${name} is used twice`);
      states[name] = String(state.Type);
      if (state.Type === 'Task') {
        const m = /^arn:aws:lambda:[^:]+:[^:]+:function:([^:]+)/.exec(String(state.Resource));
        if (m) taskFunctions[name] = m[1]!;
        else if (state.Resource === 'arn:aws:states:::lambda:invoke') {
          const p = state.Parameters as JsonObject | undefined;
          const fn = String(p?.FunctionName ?? p?.['FunctionName.$'] ?? '');
          const fm = /function:([^:]+)/.exec(fn);
          if (fm) taskFunctions[name] = fm[1]!;
        }
        if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) state.TimeoutSeconds = 2_000_000;
      }
      if (state.Type === 'Map') {
        const processor = (state.ItemProcessor ?? state.Iterator) as (AslDefinition & { ProcessorConfig?: JsonObject }) | undefined;
        if (processor) {
          walk(processor);
          if (processor.ProcessorConfig?.Mode === 'DISTRIBUTED') {
            // The local engine would silently ignore these (or throw, for ItemReader): refuse instead.
            const unsupported = UNSUPPORTED_DISTRIBUTED.filter((f) => state[f] !== undefined && !(f.startsWith('Tolerated') && Number(state[f]) === 0));
            if (unsupported.length) throw new Error(`statemachine definition: Map ${name} uses ${unsupported.join(', ')}, which the local runner cannot run`);
            distributedMaps.push(name);
            const { ProcessorConfig: _pc, ...machine } = processor;
            childMachines[name] = machine as AslDefinition;
            const task = childTaskName(name);
            childTasks[task] = name;
            state.ItemProcessor = { StartAt: task, States: { [task]: { Type: 'Task', Resource: CHILD_TASK_ARN, TimeoutSeconds: 2_000_000, End: true } } };
            delete state.Iterator;
            delete state.Label;
          }
        }
      }
      if (state.Type === 'Parallel') for (const b of state.Branches as unknown as { States: Record<string, JsonObject> }[]) walk(b);
    }
  };
  walk(definition);
  return { definition, taskFunctions, states, distributedMaps, childMachines, childTasks };
}

/**
 * A resolver for serverless variables: explicit `variables` first (keyed by the whole expression or its last
 * path segment), then `self:` paths into serverless.yml (recursively), `env:` with defaults, `sls:stage`,
 * `aws:region`, `aws:accountId`, `opt:stage`.
 */
export function serverlessResolver(variables: Record<string, Json>, serverless?: unknown, env: NodeJS.ProcessEnv = process.env): (expression: string) => Json {
  const resolve = (expression: string, depth = 0): Json => {
    if (depth > 10) throw new DefinitionVariableError(expression);
    // `${a, b}`: the first that resolves, a literal default otherwise
    const parts = splitTopLevel(expression);
    for (const part of parts) {
      const p = part.trim();
      const v = resolveOne(p, depth);
      if (v !== undefined) return v;
    }
    throw new DefinitionVariableError(expression);
  };
  const resolveOne = (p: string, depth: number): Json | undefined => {
    if (p in variables) return variables[p]!;
    const last = p.split(/[.:]/).pop() ?? p;
    if (last in variables) return variables[last]!;
    if (/^(['"]).*\1$/.test(p)) return p.slice(1, -1);
    if (/^-?\d+(\.\d+)?$/.test(p)) return Number(p);
    if (p === 'true' || p === 'false') return p === 'true';
    if (p === 'sls:stage' || p === 'opt:stage' || p === 'self:provider.stage') return 'local';
    if (p === 'aws:region' || p === 'opt:region' || p === 'self:provider.region') return LOCAL_REGION;
    if (p === 'aws:accountId') return LOCAL_ACCOUNT;
    if (p.startsWith('env:')) return env[p.slice(4)] ?? undefined;
    if (p.startsWith('self:') && serverless) {
      let v: unknown = serverless;
      for (const k of p.slice(5).split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
      if (v === undefined) return undefined;
      if (typeof v === 'string') {
        const whole = /^\$\{(.+)\}$/.exec(v);
        if (whole) return resolve(whole[1]!, depth + 1);
        return v.replace(/\$\{([^{}]+)\}/g, (_m, e: string) => String(resolve(e, depth + 1)));
      }
      return v as Json;
    }
    return undefined;
  };
  return (e) => resolve(e);
}

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0, cur = '', quote = '';
  for (const c of s) {
    if (quote) { if (c === quote) quote = ''; cur += c; continue; }
    if (c === '"' || c === "'") { quote = c; cur += c; continue; }
    if (c === '{') depth++;
    if (c === '}') depth--;
    if (c === ',' && depth === 0) { out.push(cur); cur = ''; continue; }
    cur += c;
  }
  out.push(cur);
  return out;
}

// ---------------------------------------------------------------------------------------------------------

/** The error a Task fails with when its handler throws: what Lambda reports to Step Functions. */

/** Reads statemachine/definition.yml and the function timeouts from serverless.yml (if present). */
export function loadProjectDefinition(root: string): { definition: unknown; serverless?: unknown; functionTimeouts: Record<string, number>; functionMemory: Record<string, number> } {
  const definition = readYaml(`${root}/statemachine/definition.yml`);
  let serverless: unknown;
  try { serverless = readYaml(`${root}/serverless.yml`); } catch { serverless = undefined; }
  const functionTimeouts: Record<string, number> = {};
  const functionMemory: Record<string, number> = {};
  const sls = serverless as { provider?: { timeout?: unknown; memorySize?: unknown }; functions?: Record<string, { timeout?: unknown; memorySize?: unknown }> } | undefined;
  for (const [key, fn] of Object.entries(sls?.functions ?? {})) {
    const t = Number(fn?.timeout ?? sls?.provider?.timeout);
    if (Number.isFinite(t) && t > 0) functionTimeouts[key] = t;
    const m = Number(fn?.memorySize ?? sls?.provider?.memorySize);
    if (Number.isFinite(m) && m > 0) functionMemory[key] = m;
  }
  return { definition, serverless, functionTimeouts, functionMemory };
}
