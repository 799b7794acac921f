// Kubernetes RBAC authorization, evaluated in the tool: the same decision the API server's RBAC
// authorizer (k8s.io/kubernetes plugin/pkg/auth/authorizer/rbac) makes, on roles and bindings given as
// plain JSON. The rbac area uses it to show who can do what and by which path (binding → role →
// rule), and to check before any write that a plan does not lock the running identity out.
//
// How a request is decided (pkg/registry/rbac/validation/rule.go, VisitRulesFor):
//   1. every ClusterRoleBinding with a subject that covers the user, through its ClusterRole;
//   2. when the request has a namespace, every RoleBinding in that namespace with such a subject,
//      through its Role (in that namespace) or ClusterRole: a RoleBinding grants only there;
//   3. allowed as soon as one rule allows the request (evaluate-match.ts), otherwise not (RBAC has no
//      deny). A binding whose role does not exist grants nothing.
// The API server also allows every member of system:masters before RBAC is asked (a separate
// authorizer): `superuserGroups`, by default ['system:masters']. The Node authorizer (users
// system:node:* in group system:nodes) and webhook authorizers are not modelled.
// Aggregated ClusterRoles are evaluated by their stored rules, as the API server does; see
// evaluate-aggregate.ts for what the controller will store after a change.
//
// Pure: no I/O, and no input is ever modified; indexes are immutable values.
import { aggregateClusterRoles, type AggregationRule } from './evaluate-aggregate.js';
import {
  isResourceRequest,
  ruleAllows,
  subjectAppliesTo,
  subjectServiceAccountNamespace,
  type PolicyRule,
  type RequestAttributes,
  type Subject,
  type UserInfo,
} from './evaluate-match.js';

export * from './evaluate-match.js';
export * from './evaluate-aggregate.js';

export type RoleKind = 'ClusterRole' | 'Role';
export type BindingKind = 'ClusterRoleBinding' | 'RoleBinding';
export type RbacKind = RoleKind | BindingKind;

/** A Role, ClusterRole, RoleBinding or ClusterRoleBinding as the API server returns it (extra fields are kept, never read). */
export interface RbacObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; labels?: Readonly<Record<string, string>> | null; [k: string]: unknown };
  rules?: readonly PolicyRule[] | null;
  aggregationRule?: AggregationRule | null;
  roleRef?: { apiGroup?: string; kind: string; name: string } | null;
  subjects?: readonly Subject[] | null;
  [k: string]: unknown;
}

export interface RbacObjects {
  clusterRoles?: readonly RbacObject[];
  roles?: readonly RbacObject[];
  clusterRoleBindings?: readonly RbacObject[];
  roleBindings?: readonly RbacObject[];
}

/** Names an object of one of the four RBAC kinds (apiVersion, if present, is ignored). */
export interface RbacRef {
  kind: RbacKind;
  name: string;
  namespace?: string;
}

/** An immutable index of RBAC objects. Build it with buildIndex, change it with withChanges. */
export interface RbacIndex {
  /** By name. */
  readonly clusterRoles: ReadonlyMap<string, RbacObject>;
  /** By `namespace/name`. */
  readonly roles: ReadonlyMap<string, RbacObject>;
  /** Sorted by name. */
  readonly clusterRoleBindings: readonly RbacObject[];
  /** By namespace, each sorted by name. */
  readonly roleBindings: ReadonlyMap<string, readonly RbacObject[]>;
}

/** One way a grant reaches someone: binding → (the subject that matched) → role → rule. */
export interface GrantPath {
  binding: { kind: BindingKind; namespace?: string; name: string };
  /** The binding's first subject that covers the user (the one the API server reports). */
  subject: Subject;
  subjectIndex: number;
  role: { kind: RoleKind; namespace?: string; name: string };
  ruleIndex: number;
  rule: PolicyRule;
  /** Where the rule applies: the RoleBinding's namespace, or undefined for cluster-wide (ClusterRoleBinding). */
  namespace?: string;
}

export interface Decision {
  allowed: boolean;
  /** The first path that allows it (ClusterRoleBindings first, then RoleBindings, each by name). */
  via?: GrantPath;
  /** Set when allowed as a member of a superuser group, before RBAC. */
  superuserGroup?: string;
}

export interface AuthorizeOptions {
  /** Groups allowed everything before RBAC is asked; default ['system:masters'] like the API server. [] for RBAC alone. */
  superuserGroups?: readonly string[];
}

export const DEFAULT_SUPERUSER_GROUPS: readonly string[] = ['system:masters'];

/** Code-unit order, like Go's string comparison (never locale-dependent). */
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byName = (a: RbacObject, b: RbacObject) => cmp(a.metadata.name, b.metadata.name);
const nsKey = (namespace: string, name: string) => `${namespace}/${name}`;
const nsOf = (o: RbacObject) => o.metadata.namespace ?? '';

function freezeIndex(
  clusterRoles: Map<string, RbacObject>,
  roles: Map<string, RbacObject>,
  crbs: Map<string, RbacObject>,
  rbs: Map<string, RbacObject>,
): RbacIndex {
  const roleBindings = new Map<string, RbacObject[]>();
  for (const rb of rbs.values()) {
    const list = roleBindings.get(nsOf(rb)) ?? [];
    list.push(rb);
    roleBindings.set(nsOf(rb), list);
  }
  for (const list of roleBindings.values()) list.sort(byName);
  return Object.freeze({
    clusterRoles,
    roles,
    clusterRoleBindings: Object.freeze([...crbs.values()].sort(byName)),
    roleBindings,
  });
}

/** An index of the given objects (kept by reference, never modified). A later duplicate replaces an earlier one. */
export function buildIndex(objects: RbacObjects): RbacIndex {
  const clusterRoles = new Map<string, RbacObject>();
  const roles = new Map<string, RbacObject>();
  const crbs = new Map<string, RbacObject>();
  const rbs = new Map<string, RbacObject>();
  for (const o of objects.clusterRoles ?? []) clusterRoles.set(o.metadata.name, o);
  for (const o of objects.roles ?? []) roles.set(nsKey(nsOf(o), o.metadata.name), o);
  for (const o of objects.clusterRoleBindings ?? []) crbs.set(o.metadata.name, o);
  for (const o of objects.roleBindings ?? []) rbs.set(nsKey(nsOf(o), o.metadata.name), o);
  return freezeIndex(clusterRoles, roles, crbs, rbs);
}

/** The objects of an index, each kind sorted by namespace and name. */
export function objectsOf(index: RbacIndex): Required<RbacObjects> {
  const sorted = (xs: Iterable<RbacObject>) => [...xs].sort((a, b) => cmp(nsOf(a), nsOf(b)) || byName(a, b));
  return {
    clusterRoles: sorted(index.clusterRoles.values()),
    roles: sorted(index.roles.values()),
    clusterRoleBindings: [...index.clusterRoleBindings],
    roleBindings: sorted([...index.roleBindings.values()].flat()),
  };
}

/** The rules a binding's roleRef resolves to (GetRoleReferenceRules), or undefined when the role is missing. */
export function roleRulesOf(
  index: RbacIndex,
  roleRef: RbacObject['roleRef'],
  bindingNamespace: string,
): { role: GrantPath['role']; rules: readonly PolicyRule[] } | undefined {
  if (!roleRef) return undefined;
  if (roleRef.kind === 'ClusterRole') {
    const cr = index.clusterRoles.get(roleRef.name);
    return cr ? { role: { kind: 'ClusterRole', name: roleRef.name }, rules: cr.rules ?? [] } : undefined;
  }
  if (roleRef.kind === 'Role' && bindingNamespace) {
    const r = index.roles.get(nsKey(bindingNamespace, roleRef.name));
    return r ? { role: { kind: 'Role', namespace: bindingNamespace, name: roleRef.name }, rules: r.rules ?? [] } : undefined;
  }
  return undefined;
}

interface BindingVisit {
  binding: RbacObject;
  kind: BindingKind;
  /** "" for ClusterRoleBindings. */
  namespace: string;
}

/** The bindings VisitRulesFor walks for a request in `namespace` ("" = cluster-wide only), in order. */
function* bindingsFor(index: RbacIndex, namespace: string | undefined): Generator<BindingVisit> {
  for (const b of index.clusterRoleBindings) yield { binding: b, kind: 'ClusterRoleBinding', namespace: '' };
  const namespaces = namespace === undefined ? [...index.roleBindings.keys()].sort() : namespace ? [namespace] : [];
  for (const ns of namespaces) {
    for (const b of index.roleBindings.get(ns) ?? []) yield { binding: b, kind: 'RoleBinding', namespace: ns };
  }
}

function* pathsOf(index: RbacIndex, v: BindingVisit, subject: Subject, subjectIndex: number): Generator<GrantPath> {
  const resolved = roleRulesOf(index, v.binding.roleRef, v.namespace);
  if (!resolved) return;
  const binding = { kind: v.kind, ...(v.namespace ? { namespace: v.namespace } : {}), name: v.binding.metadata.name };
  for (let i = 0; i < resolved.rules.length; i++) {
    yield {
      binding,
      subject,
      subjectIndex,
      role: resolved.role,
      ruleIndex: i,
      rule: resolved.rules[i],
      ...(v.namespace ? { namespace: v.namespace } : {}),
    };
  }
}

/**
 * Every path that reaches the user: through ClusterRoleBindings, and through RoleBindings of
 * `options.namespace` only, or of every namespace when none is given. A bare subject (a Group, a
 * ServiceAccount, a User) gives the paths of bindings that name it directly; to include a
 * ServiceAccount's implicit groups, pass serviceAccountUser(ns, name).
 */
export function grantsOf(index: RbacIndex, who: UserInfo | Subject, options: { namespace?: string } = {}): GrantPath[] {
  const user = 'username' in who ? who : subjectAsUser(who);
  const out: GrantPath[] = [];
  for (const v of bindingsFor(index, options.namespace)) {
    const subjects = v.binding.subjects ?? [];
    const i = subjects.findIndex((s) => subjectAppliesTo(user, s, v.namespace));
    if (i >= 0) out.push(...pathsOf(index, v, subjects[i], i));
  }
  return out;
}

function subjectAsUser(s: Subject): UserInfo {
  switch (s.kind) {
    case 'User':
      return { username: s.name, groups: [] };
    case 'Group':
      // No username can equal this one (names cannot contain a NUL), so only Group subjects match.
      return { username: '\u0000', groups: [s.name] };
    case 'ServiceAccount':
      if (!s.namespace) throw new Error(`a ServiceAccount subject needs a namespace: ${s.name}`);
      return { username: `system:serviceaccount:${s.namespace}:${s.name}`, groups: [] };
    default:
      throw new Error(`unknown subject kind ${JSON.stringify(s.kind)}`);
  }
}

/** The namespace RBAC looks in: a non-resource request has none (a SubjectAccessReview cannot give it one). */
const requestNamespace = (attrs: RequestAttributes): string => (isResourceRequest(attrs) ? (attrs.namespace ?? '') : '');

/** Whether `user` may do `attrs`: the API server's decision (superuser groups, then RBAC). */
export function authorize(index: RbacIndex, user: UserInfo, attrs: RequestAttributes, options: AuthorizeOptions = {}): Decision {
  const superuserGroups = options.superuserGroups ?? DEFAULT_SUPERUSER_GROUPS;
  const superuserGroup = user.groups.find((g) => superuserGroups.includes(g));
  if (superuserGroup !== undefined) return { allowed: true, superuserGroup };
  for (const v of bindingsFor(index, requestNamespace(attrs))) {
    const subjects = v.binding.subjects ?? [];
    const i = subjects.findIndex((s) => subjectAppliesTo(user, s, v.namespace));
    if (i < 0) continue;
    for (const path of pathsOf(index, v, subjects[i], i)) {
      if (ruleAllows(attrs, path.rule)) return { allowed: true, via: path };
    }
  }
  return { allowed: false };
}

export interface WhoCanEntry {
  /** As bound; a ServiceAccount always with its namespace (defaulted from the RoleBinding). */
  subject: Subject;
  /** Every path that allows it to this subject (none for a superuser group). */
  paths: GrantPath[];
  /** A superuser group: allowed everything, before RBAC. */
  superuser?: boolean;
}

/**
 * Every subject that may do `attrs`: those named by a binding whose role allows it (ClusterRoleBindings,
 * and RoleBindings of the request's namespace), and the superuser groups. Subjects that match nobody
 * (unknown kinds, a ServiceAccount without a namespace in a ClusterRoleBinding) are left out. A user
 * is allowed exactly when it is covered by one of these subjects (its name, one of its groups, or its
 * ServiceAccount). Sorted by kind, namespace, name.
 */
export function whoCan(index: RbacIndex, attrs: RequestAttributes, options: AuthorizeOptions = {}): WhoCanEntry[] {
  const entries = new Map<string, WhoCanEntry>();
  for (const g of options.superuserGroups ?? DEFAULT_SUPERUSER_GROUPS) {
    entries.set(`Group\0\0${g}`, { subject: { kind: 'Group', name: g }, paths: [], superuser: true });
  }
  for (const v of bindingsFor(index, requestNamespace(attrs))) {
    const resolved = roleRulesOf(index, v.binding.roleRef, v.namespace);
    if (!resolved) continue;
    const allowing = resolved.rules.map((r, i) => [r, i] as const).filter(([r]) => ruleAllows(attrs, r));
    if (allowing.length === 0) continue;
    (v.binding.subjects ?? []).forEach((s, subjectIndex) => {
      let subject: Subject;
      if (s.kind === 'User' || s.kind === 'Group') subject = { kind: s.kind, name: s.name };
      else if (s.kind === 'ServiceAccount') {
        const ns = subjectServiceAccountNamespace(s, v.namespace);
        if (ns === undefined) return;
        subject = { kind: s.kind, name: s.name, namespace: ns };
      } else return;
      const key = `${subject.kind}\0${subject.namespace ?? ''}\0${subject.name}`;
      const entry = entries.get(key) ?? { subject, paths: [] };
      entries.set(key, entry);
      if (entry.superuser) return;
      for (const [rule, ruleIndex] of allowing) {
        entry.paths.push({
          binding: { kind: v.kind, ...(v.namespace ? { namespace: v.namespace } : {}), name: v.binding.metadata.name },
          subject: s,
          subjectIndex,
          role: resolved.role,
          ruleIndex,
          rule,
          ...(v.namespace ? { namespace: v.namespace } : {}),
        });
      }
    });
  }
  const k = (e: WhoCanEntry) => [e.subject.kind, e.subject.namespace ?? '', e.subject.name];
  return [...entries.values()].sort((a, b) => {
    const [x, y] = [k(a), k(b)];
    return cmp(x[0], y[0]) || cmp(x[1], y[1]) || cmp(x[2], y[2]);
  });
}

export interface RbacChanges {
  /** Objects deleted by the plan. */
  remove?: readonly RbacRef[];
  /** Objects created by the plan (`kind` required). */
  add?: readonly RbacObject[];
  /** Objects updated by the plan: the whole new object (`kind` required). */
  replace?: readonly RbacObject[];
}

export class RbacChangeError extends Error {}

const RBAC_KINDS: readonly RbacKind[] = ['ClusterRole', 'Role', 'ClusterRoleBinding', 'RoleBinding'];

function refLabel(r: { kind?: string; name: string; namespace?: string }): string {
  return `${r.kind}/${r.name}${r.namespace ? ` in ${r.namespace}` : ''}`;
}

/**
 * A new index with a plan applied: removals first, then replacements, then additions. As the API
 * server would refuse them, removing or replacing an object that does not exist and adding one that
 * does throw RbacChangeError (a plan that disagrees with the cluster is not guarded silently).
 * Unless `aggregate: false`, ClusterRoles with an aggregationRule then get the rules the aggregation
 * controller will give them (evaluate-aggregate.ts). The input index is not changed.
 */
export function withChanges(index: RbacIndex, changes: RbacChanges, options: { aggregate?: boolean } = {}): RbacIndex {
  const maps: Record<RbacKind, Map<string, RbacObject>> = {
    ClusterRole: new Map(index.clusterRoles),
    Role: new Map(index.roles),
    ClusterRoleBinding: new Map(index.clusterRoleBindings.map((b) => [b.metadata.name, b])),
    RoleBinding: new Map([...index.roleBindings.values()].flat().map((b) => [nsKey(nsOf(b), b.metadata.name), b])),
  };
  const locate = (r: { kind?: string; name: string; namespace?: string }) => {
    if (!RBAC_KINDS.includes(r.kind as RbacKind)) throw new RbacChangeError(`not an RBAC kind: ${refLabel(r)}`);
    const kind = r.kind as RbacKind;
    const namespaced = kind === 'Role' || kind === 'RoleBinding';
    if (namespaced && !r.namespace) throw new RbacChangeError(`${refLabel(r)} needs a namespace`);
    return { map: maps[kind], key: namespaced ? nsKey(r.namespace!, r.name) : r.name };
  };
  const objRef = (o: RbacObject) => ({ kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace });
  for (const r of changes.remove ?? []) {
    const { map, key } = locate(r);
    if (!map.delete(key)) throw new RbacChangeError(`cannot remove ${refLabel(r)}: it does not exist`);
  }
  for (const o of changes.replace ?? []) {
    const { map, key } = locate(objRef(o));
    if (!map.has(key)) throw new RbacChangeError(`cannot replace ${refLabel(objRef(o))}: it does not exist`);
    map.set(key, o);
  }
  for (const o of changes.add ?? []) {
    const { map, key } = locate(objRef(o));
    if (map.has(key)) throw new RbacChangeError(`cannot add ${refLabel(objRef(o))}: it already exists`);
    map.set(key, o);
  }
  let clusterRoles = maps.ClusterRole;
  if (options.aggregate !== false) {
    clusterRoles = new Map(aggregateClusterRoles([...clusterRoles.values()]).map((cr) => [cr.metadata.name, cr]));
  }
  return freezeIndex(clusterRoles, maps.Role, maps.ClusterRoleBinding, maps.RoleBinding);
}
