// The lock-out guard: before any write, evaluate RBAC in the tool with the composed plan applied
// (withChanges: removals, replacements, additions, aggregation recomputed) and ask, for the running
// identity's user and groups, whether it keeps its access to RBAC objects and to cluster-admin power.
// Also refuse outright to remove the last binding that gives cluster-admin to someone who is not a
// system component. Pure, apart from guardRbac's reading of the context.
import type { Identity } from '../../cluster/client.js';
import type { Change } from '../../engine/change.js';
import type { GuardContext, GuardVerdict, Inspection } from '../types.js';
import {
  authorize,
  DEFAULT_SUPERUSER_GROUPS,
  grantsOf,
  RbacChangeError,
  roleRulesOf,
  ruleAllows,
  withChanges,
  type GrantPath,
  type RbacChanges,
  type RbacIndex,
  type RbacKind,
  type RbacObject,
  type RequestAttributes,
  type UserInfo,
} from './evaluate.js';
import { bindingKey, ruleText } from './grants.js';
import { indexOf, type RbacFacts } from './inspect.js';
import { boundSubject, classifySubject, SUPERUSER_GROUP, subjectLabel } from './subjects.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const RBAC_KINDS: RbacKind[] = ['ClusterRole', 'Role', 'ClusterRoleBinding', 'RoleBinding'];
export const LOCKOUT_FLAG = '--allow-lockout';

/** cluster-admin power: every verb on every resource of every group, cluster-wide. */
export const ADMIN_POWER: RequestAttributes = { verb: '*', apiGroup: '*', resource: '*' };

export interface AccessCheck {
  label: string;
  attrs: RequestAttributes;
}

/** What "access to RBAC objects" means: reading and writing roles and bindings, and binding or escalating roles. */
export function accessChecks(namespace = ''): AccessCheck[] {
  const out: AccessCheck[] = namespace ? [] : [{ label: 'cluster-admin power (* on *)', attrs: ADMIN_POWER }];
  const resources = namespace ? ['roles', 'rolebindings'] : ['clusterroles', 'clusterrolebindings', 'roles', 'rolebindings'];
  for (const resource of resources) {
    const verbs = ['get', 'list', 'create', 'update', 'delete', ...(resource.endsWith('roles') ? ['bind', 'escalate'] : [])];
    for (const verb of verbs) {
      out.push({
        label: `${verb} ${resource}${namespace ? ` in ${namespace}` : ' (all namespaces)'}`,
        attrs: { verb, apiGroup: RBAC_GROUP, resource, ...(namespace ? { namespace } : {}) },
      });
    }
  }
  return out;
}

/** The RBAC part of a composed plan, for withChanges. */
export function rbacChangesOf(changes: Change[]): RbacChanges {
  const remove: RbacChanges['remove'] & object = [];
  const add: RbacObject[] = [];
  const replace: RbacObject[] = [];
  for (const c of changes) {
    if (c.kind !== 'object' || !c.ref.apiVersion.startsWith(`${RBAC_GROUP}/`) || !RBAC_KINDS.includes(c.ref.kind as RbacKind)) continue;
    if (c.action === 'delete')
      (remove as Array<{ kind: RbacKind; name: string; namespace?: string }>).push({
        kind: c.ref.kind as RbacKind,
        name: c.ref.name,
        namespace: c.ref.namespace,
      });
    else if (c.action === 'create') add.push(c.after as unknown as RbacObject);
    else replace.push(c.after as unknown as RbacObject);
  }
  return { remove, add, replace };
}

const pathText = (p: GrantPath) =>
  `${bindingKey(p.binding.kind, p.binding.name, p.binding.namespace)} → ${p.role.kind}/${p.role.namespace ? `${p.role.namespace}/` : ''}${p.role.name} → ${ruleText(p.rule, p.ruleIndex)}`;

export interface LostAccess {
  label: string;
  /** The path that allowed it before the plan. */
  via?: GrantPath;
}

/** What `user` may do before the plan and not after; `superuserGroups` [] for RBAC alone. */
export function lostAccess(before: RbacIndex, after: RbacIndex, user: UserInfo, superuserGroups: readonly string[] = DEFAULT_SUPERUSER_GROUPS): LostAccess[] {
  // Namespaces where a RoleBinding grants the user something: its RBAC access there counts too.
  const namespaces = [...new Set(grantsOf(before, user).flatMap((p) => (p.namespace ? [p.namespace] : [])))].sort();
  const lost: LostAccess[] = [];
  for (const c of [...accessChecks(), ...namespaces.flatMap((ns) => accessChecks(ns))]) {
    const was = authorize(before, user, c.attrs, { superuserGroups });
    if (!was.allowed) continue;
    if (authorize(after, user, c.attrs, { superuserGroups }).allowed) continue;
    lost.push({ label: c.label, ...(was.via ? { via: was.via } : {}) });
  }
  return lost;
}

/** ClusterRoleBindings that give cluster-admin power to someone who is not a system component (nor everyone, nor a default service account). */
export function adminBindings(index: RbacIndex): Array<{ key: string; subjects: string[] }> {
  const out: Array<{ key: string; subjects: string[] }> = [];
  for (const b of index.clusterRoleBindings) {
    const resolved = roleRulesOf(index, b.roleRef, '');
    if (!resolved || !resolved.rules.some((r) => ruleAllows(ADMIN_POWER, r))) continue;
    const someone = (b.subjects ?? []).map((s) => boundSubject(s, undefined)).filter((s) => classifySubject(s) === 'ordinary');
    if (someone.length) out.push({ key: bindingKey('ClusterRoleBinding', b.metadata.name), subjects: someone.map(subjectLabel) });
  }
  return out;
}

function summarise(lost: LostAccess[]): string {
  const admin = lost.some((l) => l.label.startsWith('cluster-admin'));
  const labels = lost.map((l) => l.label).filter((l) => !l.startsWith('cluster-admin'));
  const rbac = labels.length ? `${labels.length} RBAC permission(s) (${labels.slice(0, 3).join(', ')}${labels.length > 3 ? ', …' : ''})` : '';
  return [admin ? 'cluster-admin power' : '', rbac].filter(Boolean).join(' and ');
}

/** The guard's verdicts on a plan, from the RBAC objects as inspected. */
export function lockoutVerdicts(before: RbacIndex, changes: RbacChanges, identity: Identity): GuardVerdict[] {
  if (!changes.remove?.length && !changes.add?.length && !changes.replace?.length) return [];
  let after: RbacIndex;
  try {
    after = withChanges(before, changes);
  } catch (e) {
    if (!(e instanceof RbacChangeError)) throw e;
    return [
      { area: 'rbac', level: 'refuse', message: `the plan does not fit the roles and bindings read at inspection (${e.message}): inspect again`, details: [] },
    ];
  }
  const user: UserInfo = { username: identity.username, groups: identity.groups };
  const masters = identity.groups.includes(SUPERUSER_GROUP);
  const mastersNote = masters
    ? [
        `you (${identity.username}) are in ${SUPERUSER_GROUP}: the API server allows you everything before RBAC is asked, so removing RBAC bindings does not lock you out`,
      ]
    : [];
  const out: GuardVerdict[] = [];

  const adminsBefore = adminBindings(before);
  const adminsAfter = adminBindings(after);
  if (adminsBefore.length > 0 && adminsAfter.length === 0) {
    out.push({
      area: 'rbac',
      level: 'refuse',
      message: `the plan removes the last binding that gives cluster-admin to someone who is not a system component (${adminsBefore
        .map((a) => `${a.key}: ${a.subjects.join(', ')}`)
        .join('; ')}): keep one (answer keep for it), or create another first`,
      details: [...adminsBefore.map((a) => `${a.key}: ${a.subjects.join(', ')}`), ...mastersNote],
    });
  }

  const lost = lostAccess(before, after, user);
  if (lost.length > 0) {
    out.push({
      area: 'rbac',
      level: 'confirm',
      message: `the plan removes your own access (${identity.username}): ${summarise(lost)}; after it you may not be able to change or roll back RBAC`,
      details: lost.map((l) => `you lose ${l.label}${l.via ? `, granted by ${pathText(l.via)}` : ''}`),
      flag: LOCKOUT_FLAG,
    });
  }
  return out;
}

/** Area.guard: the composed plan (every area's RBAC changes) against the objects the rbac area inspected. */
export async function guardRbac(ctx: GuardContext): Promise<GuardVerdict[]> {
  const facts = (ctx.inspection as Inspection<RbacFacts>).facts;
  return lockoutVerdicts(indexOf(facts.objects), rbacChangesOf(ctx.changes), ctx.identity);
}

/** The RBAC grants the identity loses under the plan, RBAC alone (what system:masters makes moot). */
export function lostThroughRbac(before: RbacIndex, changes: RbacChanges, identity: Identity): LostAccess[] {
  try {
    return lostAccess(before, withChanges(before, changes), { username: identity.username, groups: identity.groups }, []);
  } catch (e) {
    if (e instanceof RbacChangeError) return [];
    throw e;
  }
}

export { pathText };
