// Inspect: the RBAC objects (one LIST per kind, shared), the grant findings with their paths, default
// service accounts that mount their token, and live probes of whether RBAC is in force.
import type { Identity } from '../../cluster/client.js';
import type { KubeObject } from '../../cluster/types.js';
import type { Finding, InspectContext, Inspection, ReadSpec } from '../types.js';
import { authorize, buildIndex, type RbacIndex, type RbacObject } from './evaluate.js';
import { bindingKey, evaluateGrants, RBAC_API_VERSION, roleStep, ruleText, type BindingSummary } from './grants.js';
import { discoverReadable, probeEnforcement, type Enforcement, type ProbeResult, type Readable } from './probes.js';
import { systemManaged } from './subjects.js';

/** The RBAC kinds are optional: a server that does not serve them is a finding (rbacApiServed), not a crash. */
export const RBAC_READS: ReadSpec[] = [
  { apiVersion: RBAC_API_VERSION, kind: 'ClusterRole', optional: true },
  { apiVersion: RBAC_API_VERSION, kind: 'Role', optional: true },
  { apiVersion: RBAC_API_VERSION, kind: 'ClusterRoleBinding', optional: true },
  { apiVersion: RBAC_API_VERSION, kind: 'RoleBinding', optional: true },
  { apiVersion: 'v1', kind: 'ServiceAccount' },
];

export interface RbacObjectLists {
  clusterRoles: KubeObject[];
  roles: KubeObject[];
  clusterRoleBindings: KubeObject[];
  roleBindings: KubeObject[];
}

export interface DefaultServiceAccount {
  namespace: string;
  object: KubeObject;
  /** Whether the namespace is in the session's scope (its finding is reported). */
  inScope: boolean;
}

export interface RbacFacts {
  /** Who runs kube-harden (SelfSubjectReview): the lock-out guard and the review are about it. */
  identity: Identity;
  objects: RbacObjectLists;
  /** Bindings with grant findings, in evaluation order. */
  bindings: BindingSummary[];
  /** Default service accounts that mount their token (automountServiceAccountToken not false). */
  automount: DefaultServiceAccount[];
  /** Every namespace of the cluster, and those in scope. */
  namespaces: string[];
  inScope: string[];
  enforcement: Enforcement;
  /** Probe findings a binding explains: removing or narrowing that binding fixes them. */
  probeFindings: Record<string, string[]>;
  /** The readable namespaced resources (discovery), for a read-only role without Secrets; undefined: unknown. */
  readable?: Readable[];
}

export const indexOf = (o: RbacObjectLists): RbacIndex => buildIndex(o as unknown as Parameters<typeof buildIndex>[0]);

function probeFinding(p: ProbeResult, index: RbacIndex, probeFindings: Record<string, string[]>): Finding {
  const rule = p.who === 'anonymous' ? 'anonymousAllowed' : 'unknownUserAllowed';
  const slug = p.label.replace(/[^a-z0-9*]+/gi, '-').replace(/\*/g, 'all');
  const id = `rbac/${rule}/User//${p.user.username}/${slug}`;
  const local = authorize(index, p.user, p.attrs, { superuserGroups: [] });
  const base = {
    id,
    area: 'rbac' as const,
    rule,
    severity: 'critical' as const,
    ref: { apiVersion: '', kind: 'User', name: p.user.username },
  };
  const who = p.who === 'anonymous' ? 'system:anonymous (no credentials)' : 'a made-up authenticated user';
  if (!local.allowed || !local.via) {
    return {
      ...base,
      message: `the API server allows ${who} to ${p.label}, and no RBAC binding explains it${p.reason ? ` (${p.reason})` : ''}: another authorizer allows it`,
      fixable: false,
      manual: 'no binding grants it: check the API server\u2019s --authorization-mode (AlwaysAllow, a webhook); the apiserver area audits the flag',
    };
  }
  const v = local.via;
  const key = bindingKey(v.binding.kind, v.binding.name, v.binding.namespace);
  const bindingObj =
    v.binding.kind === 'ClusterRoleBinding'
      ? index.clusterRoleBindings.find((b) => b.metadata.name === v.binding.name)
      : index.roleBindings.get(v.binding.namespace ?? '')?.find((b) => b.metadata.name === v.binding.name);
  const managed = bindingObj ? systemManaged(bindingObj) : undefined;
  if (!managed) (probeFindings[key] ??= []).push(id);
  return {
    ...base,
    message: `the API server allows ${who} to ${p.label}, through ${key} (${v.subject.kind} ${v.subject.name})`,
    fixable: !managed,
    ...(managed ? { manual: `granted by a binding the system manages (${managed})` } : {}),
    path: [key, bindingObj ? roleStep(index, bindingObj).text : `${v.role.kind}/${v.role.name}`, ruleText(v.rule, v.ruleIndex)],
  };
}

export async function inspectRbac(ctx: InspectContext): Promise<Inspection<RbacFacts>> {
  ctx.onProgress?.('reading roles, bindings and service accounts');
  const [clusterRoles, roles, clusterRoleBindings, roleBindings, serviceAccounts] = await Promise.all(RBAC_READS.map((r) => ctx.list(r.kind, r.apiVersion)));
  const objects: RbacObjectLists = { clusterRoles, roles, clusterRoleBindings, roleBindings };
  const index = indexOf(objects);
  ctx.onProgress?.('asking the API server whether RBAC is in force (SubjectAccessReviews)');
  const [enforcement, readable] = await Promise.all([probeEnforcement(ctx.cluster), discoverReadable(ctx.cluster)]);

  const { findings, bindings } = evaluateGrants(index, (ns) => ctx.scope.inScope(ns));
  const probeFindings: Record<string, string[]> = {};
  if (enforcement.served === false) {
    findings.push({
      id: 'rbac/rbacApiServed/APIGroup//rbac.authorization.k8s.io',
      area: 'rbac',
      rule: 'rbacApiServed',
      severity: 'critical',
      ref: { apiVersion: '', kind: 'APIGroup', name: 'rbac.authorization.k8s.io' },
      message: 'the API server does not serve rbac.authorization.k8s.io/v1: roles and bindings are not what authorizes requests',
      fixable: false,
      manual: 'start the API server with --authorization-mode=Node,RBAC (the apiserver area offers the flag change where its manifest is readable)',
    });
  }
  for (const p of enforcement.probes) if (p.allowed) findings.push(probeFinding(p, index as RbacIndex, probeFindings));

  const automount: DefaultServiceAccount[] = [];
  for (const sa of serviceAccounts) {
    if (sa.metadata.name !== 'default' || sa.automountServiceAccountToken === false) continue;
    const ns = sa.metadata.namespace!;
    const inScope = ctx.scope.inScope(ns);
    automount.push({ namespace: ns, object: sa, inScope });
    if (!inScope) continue;
    findings.push({
      id: `rbac/defaultServiceAccountAutomount/ServiceAccount/${ns}/default`,
      area: 'rbac',
      rule: 'defaultServiceAccountAutomount',
      severity: 'low',
      ref: { apiVersion: 'v1', kind: 'ServiceAccount', namespace: ns, name: 'default' },
      message: 'the default service account mounts its API token into every pod that names no service account',
      fixable: true,
    });
  }
  automount.sort((a, b) => (a.namespace < b.namespace ? -1 : 1));

  const notes: string[] = [];
  const asked = enforcement.probes.filter((p) => p.allowed !== undefined);
  if (enforcement.served === undefined && asked.length === 0) {
    notes.push(`RBAC in force: unknown (${enforcement.servedError ?? enforcement.probes[0]?.error ?? 'the API server could not be asked'})`);
  } else {
    const allowed = asked.filter((p) => p.allowed);
    notes.push(
      `RBAC in force: ${enforcement.served === false ? 'rbac.authorization.k8s.io is NOT served' : 'rbac.authorization.k8s.io/v1 served'}; ` +
        (asked.length < enforcement.probes.length ? `${enforcement.probes.length - asked.length} SubjectAccessReview(s) could not be asked; ` : '') +
        (allowed.length
          ? `ALLOWED: ${allowed.map((p) => `${p.user.username}: ${p.label}`).join('; ')}`
          : `a made-up user and system:anonymous are denied secrets, pods/exec and * (${asked.length} SubjectAccessReviews)`),
    );
  }
  const managedShown = bindings.filter((b) => b.managed).length;
  if (managedShown) notes.push(`${managedShown} risky binding(s) managed by the system: shown, not offered for change by default`);
  if (ctx.identity.groups.includes('system:masters'))
    notes.push(`you (${ctx.identity.username}) are in system:masters: the API server allows you everything before RBAC is asked`);

  return {
    area: 'rbac',
    findings,
    facts: {
      identity: { username: ctx.identity.username, groups: [...ctx.identity.groups] },
      objects,
      bindings,
      automount,
      namespaces: ctx.scope.all.map((n) => n.metadata.name).sort(),
      inScope: [...ctx.scope.namespaces],
      enforcement,
      probeFindings,
      ...(readable ? { readable } : {}),
    },
    notes,
  };
}

export type { RbacObject };
