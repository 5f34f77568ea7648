// The template against the CloudFormation registry schemas (@aws-cdk/aws-service-spec, a database of every resource
// type, property, required field, allowed value and attribute): what CloudFormation would refuse at create time,
// found offline. Two passes: references over the raw template (Ref / Fn::GetAtt / Fn::Sub / DependsOn / Condition
// targets, GetAtt attributes, no cycle), then types over each packaging as resolved (test/support/aws/resolve.ts).
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import type { Resolved } from './resolve';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
type Db = ReturnType<typeof loadAwsServiceSpecSync>;

let loaded: Db | undefined;
/** The registry database (about 5 s to load; once per test file). */
export function registry(): Db {
  return (loaded ??= loadAwsServiceSpecSync());
}

function resourceType(type: string): Json | undefined {
  return registry().lookup('resource', 'cloudFormationType', 'equals', type)[0];
}

const PSEUDO = new Set(['AWS::Partition', 'AWS::Region', 'AWS::AccountId', 'AWS::URLSuffix', 'AWS::StackName', 'AWS::StackId', 'AWS::NoValue', 'AWS::NotificationARNs']);

/** Every reference of the raw template that points nowhere, or at an attribute its type does not have. */
export function referenceProblems(template: Json): string[] {
  const ids = new Set(Object.keys(template.Resources));
  const params = new Set(Object.keys(template.Parameters ?? {}));
  const conditions = new Set(Object.keys(template.Conditions ?? {}));
  const problems: string[] = [];
  const attribute = (where: string, id: string, attr: string) => {
    const r = template.Resources[id];
    if (!r) return problems.push(`${where}: GetAtt of unknown resource ${id}`);
    if (r.Type.startsWith('Custom::') || r.Type === 'AWS::CloudFormation::CustomResource') return undefined;
    const spec = resourceType(r.Type);
    if (spec && !(attr in (spec.attributes ?? {}))) problems.push(`${where}: ${id} (${r.Type}) has no attribute ${attr}`);
    return undefined;
  };
  const visit = (where: string, v: Json): void => {
    if (Array.isArray(v)) return v.forEach((x) => visit(where, x));
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      if (k === 'Ref' && typeof x === 'string') {
        if (!ids.has(x) && !params.has(x) && !PSEUDO.has(x)) problems.push(`${where}: Ref to unknown ${x}`);
      } else if (k === 'Fn::GetAtt') {
        const [id, attr] = Array.isArray(x) ? x : String(x).split('.');
        attribute(where, id, attr);
      } else if (k === 'Fn::Sub') {
        const [text, vars] = Array.isArray(x) ? x : [x, {}];
        for (const m of String(text).matchAll(/\$\{([^}!][^}]*)\}/g)) {
          const [id, attr] = m[1]!.split('.');
          if (id! in vars || PSEUDO.has(m[1]!) || params.has(id!)) continue;
          if (!ids.has(id!)) problems.push(`${where}: Fn::Sub of unknown \${${m[1]}}`);
          else if (attr) attribute(where, id!, attr);
        }
        visit(where, vars);
      } else if ((k === 'Fn::If' && Array.isArray(x)) || (k === 'Condition' && typeof x === 'string')) {
        const name = k === 'Fn::If' ? x[0] : x;
        if (!conditions.has(name)) problems.push(`${where}: unknown condition ${name}`);
        visit(where, k === 'Fn::If' ? x.slice(1) : []);
      } else visit(where, x);
    }
  };
  for (const [id, r] of Object.entries(template.Resources as Record<string, Json>)) {
    for (const d of [r.DependsOn ?? []].flat()) if (!ids.has(d)) problems.push(`${id}: DependsOn unknown ${d}`);
    if (r.Condition && !conditions.has(r.Condition)) problems.push(`${id}: unknown condition ${r.Condition}`);
    if (!r.Type.startsWith('Custom::') && !resourceType(r.Type)) problems.push(`${id}: unknown resource type ${r.Type}`);
    visit(id, r.Properties ?? {});
  }
  for (const [name, c] of Object.entries(template.Conditions ?? {})) visit(`condition ${name}`, c);
  for (const [name, o] of Object.entries(template.Outputs ?? {})) visit(`output ${name}`, o);
  return problems;
}

/** Edges over Ref, Fn::GetAtt, Fn::Sub (${X} / ${X.Attr}) and DependsOn, between template resources. */
export function dependencyGraph(t: Json): Map<string, Set<string>> {
  const ids = new Set(Object.keys(t.Resources));
  const graph = new Map<string, Set<string>>();
  const visit = (from: string, v: Json): void => {
    if (Array.isArray(v)) return v.forEach((x) => visit(from, x));
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      if (k === 'Ref' && typeof x === 'string' && ids.has(x)) graph.get(from)!.add(x);
      else if (k === 'Fn::GetAtt') {
        const target = Array.isArray(x) ? x[0] : String(x).split('.')[0];
        if (ids.has(target)) graph.get(from)!.add(target);
      } else if (k === 'Fn::Sub') {
        const [text, vars] = Array.isArray(x) ? x : [x, {}];
        for (const m of String(text).matchAll(/\$\{([^}!]+)\}/g)) {
          const target = m[1]!.split('.')[0]!;
          if (ids.has(target) && !(target in vars)) graph.get(from)!.add(target);
        }
        visit(from, vars);
      } else visit(from, x);
    }
  };
  for (const [id, r] of Object.entries(t.Resources as Record<string, Json>)) {
    graph.set(id, new Set([r.DependsOn ?? []].flat().filter((d: string) => ids.has(d))));
    visit(id, { p: r.Properties, m: r.Metadata });
  }
  return graph;
}

export function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const dfs = (n: string): string[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'visiting') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'visiting');
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      const c = dfs(m);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of graph.keys()) {
    const c = dfs(n);
    if (c) return c;
  }
  return undefined;
}

/** A value against a registry property type; problems are appended with their path. */
function checkType(type: Json, v: Json, path: string, problems: string[]): void {
  const bad = (what: string) => problems.push(`${path}: ${what}, got ${JSON.stringify(v)?.slice(0, 80)}`);
  const allowed = (values: unknown[] | undefined) => {
    if (values && !values.map(String).includes(String(v))) bad(`not one of ${values.join(', ')}`);
  };
  switch (type.type) {
    case 'string': case 'date-time':
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return void bad('not a string');
      return allowed(type.allowedValues);
    case 'integer': case 'number': {
      const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
      if (typeof n !== 'number' || Number.isNaN(n) || (type.type === 'integer' && !Number.isInteger(n))) return void bad(`not ${type.type === 'integer' ? 'an integer' : 'a number'}`);
      return allowed(type.allowedValues);
    }
    case 'boolean':
      if (v !== true && v !== false && v !== 'true' && v !== 'false') bad('not a boolean');
      return;
    case 'json': case 'null': case 'builtIn':
      return;
    case 'tag':
      if (!v || typeof v !== 'object' || typeof v.Key !== 'string' || v.Value === undefined) bad('not a tag');
      return;
    case 'array':
      if (!Array.isArray(v)) return void bad('not a list');
      return v.forEach((x, i) => checkType(type.element, x, `${path}[${i}]`, problems));
    case 'map':
      if (!v || typeof v !== 'object' || Array.isArray(v)) return void bad('not a map');
      return Object.entries(v).forEach(([k, x]) => checkType(type.element, x, `${path}.${k}`, problems));
    case 'union': {
      for (const t of type.types) {
        const p: string[] = [];
        checkType(t, v, path, p);
        if (p.length === 0) return;
      }
      return void bad('matches none of its types');
    }
    case 'ref': {
      const def = registry().get('typeDefinition', type.reference.$ref);
      if (!v || typeof v !== 'object' || Array.isArray(v)) return void bad(`not a ${def.name}`);
      return checkProperties(def.properties, v, path, problems);
    }
    default:
      return;
  }
}

function checkProperties(spec: Record<string, Json>, v: Record<string, Json>, path: string, problems: string[]): void {
  for (const [name, p] of Object.entries(spec)) {
    if (p.required && v[name] === undefined) problems.push(`${path}: required ${name} is missing`);
  }
  for (const [name, x] of Object.entries(v)) {
    const p = spec[name];
    if (!p) problems.push(`${path}: unknown property ${name}`);
    else checkType(p.type, x, `${path}.${name}`, problems);
  }
}

/** Every property of every resource (conditions applied, values resolved) against its registry schema. */
export function schemaProblems(resolved: Resolved): string[] {
  const problems: string[] = [];
  for (const [id, r] of Object.entries(resolved.resources)) {
    if (r.Type.startsWith('Custom::')) {
      if (typeof r.Properties.ServiceToken !== 'string') problems.push(`${id}: a custom resource needs a ServiceToken`);
      continue;
    }
    const spec = resourceType(r.Type);
    if (!spec) problems.push(`${id}: unknown resource type ${r.Type}`);
    else checkProperties(spec.properties, r.Properties, id, problems);
  }
  return problems;
}
