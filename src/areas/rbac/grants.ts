// The one evaluator of the grant checks (checks.ts): every binding, through the role it names, against
// every check, each finding with its path (binding → role → rule) and the subjects it reaches. Pure.
import type { Finding, Severity } from '../types.js';
import { severityRank } from '../types.js';
import { GRANT_CHECKS, severityFor, type GrantCheck } from './checks.js';
import { roleRulesOf, type BindingKind, type PolicyRule, type RbacIndex, type RbacObject, type Subject } from './evaluate.js';
import { boundSubject, classifySubject, subjectKey, subjectLabel, systemManaged, type SubjectClass } from './subjects.js';

export const RBAC_API_VERSION = 'rbac.authorization.k8s.io/v1';

/** `ClusterRoleBinding/name` or `RoleBinding/namespace/name`: the key of a binding in answers and facts. */
export const bindingKey = (kind: string, name: string, namespace?: string): string => (namespace ? `${kind}/${namespace}/${name}` : `${kind}/${name}`);
export const keyOf = (o: RbacObject): string => bindingKey(o.kind ?? '', o.metadata.name, o.metadata.namespace);

const list = (xs: readonly string[] | null | undefined) => `[${(xs ?? []).join(',')}]`;

/** One rule as a path step: `rule 0: verbs [*] on [*] in apiGroups [*]`. */
export function ruleText(rule: PolicyRule, index: number): string {
  if (rule.nonResourceURLs?.length) return `rule ${index}: verbs ${list(rule.verbs)} on URLs ${list(rule.nonResourceURLs)}`;
  const names = rule.resourceNames?.length ? ` named ${list(rule.resourceNames)}` : '';
  return `rule ${index}: verbs ${list(rule.verbs)} on ${list(rule.resources)}${names} in apiGroups ${list(rule.apiGroups)}`;
}

/** What a binding is, once resolved: its subjects (classified), its role and whether the system manages either. */
export interface BindingSummary {
  key: string;
  kind: BindingKind;
  name: string;
  namespace?: string;
  roleRef: { kind: string; name: string };
  subjects: Array<Subject & { class: SubjectClass }>;
  /** Why the system manages the binding (never offered for change by default). */
  managed?: string;
  /** A note on the role: aggregated, managed by the system, missing. */
  roleNote?: string;
  /** The grant findings on this binding. */
  findingIds: string[];
  rules: string[];
  severity?: Severity;
}

export function roleStep(index: RbacIndex, b: RbacObject): { text: string; note?: string } {
  const ref = b.roleRef;
  if (!ref) return { text: 'no role', note: 'no roleRef' };
  const ns = ref.kind === 'Role' ? b.metadata.namespace : undefined;
  const role = ref.kind === 'ClusterRole' ? index.clusterRoles.get(ref.name) : index.roles.get(`${ns}/${ref.name}`);
  const text = `${ref.kind}/${ns ? `${ns}/` : ''}${ref.name}`;
  if (!role) return { text: `${text} (missing: grants nothing)`, note: 'the role does not exist' };
  const managed = systemManaged(role);
  return { text: managed ? `${text} (${managed})` : text, note: managed };
}

interface Scoped {
  binding: RbacObject;
  kind: BindingKind;
  namespace?: string;
}

function* allBindings(index: RbacIndex, inScope: (ns: string) => boolean): Generator<Scoped> {
  for (const b of index.clusterRoleBindings) yield { binding: b, kind: 'ClusterRoleBinding' };
  for (const [ns, bs] of [...index.roleBindings.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    // kube-system's RoleBindings always count: what they grant there is the cluster.
    if (!inScope(ns) && ns !== 'kube-system') continue;
    for (const b of bs) yield { binding: b, kind: 'RoleBinding', namespace: ns };
  }
}

function reaches(check: GrantCheck, s: Scoped): boolean {
  if (check.where === 'cluster') return s.kind === 'ClusterRoleBinding';
  if (check.where === 'kube-system') return s.kind === 'ClusterRoleBinding' || s.namespace === 'kube-system';
  return true;
}

/**
 * Every grant finding, and a summary of each binding that has one. Bindings are walked in the
 * evaluator's order (ClusterRoleBindings, then RoleBindings by namespace, each by name); RoleBindings
 * only of namespaces in scope, and kube-system's.
 */
export function evaluateGrants(
  index: RbacIndex,
  inScope: (ns: string) => boolean = () => true,
  checks: GrantCheck[] = GRANT_CHECKS,
): { findings: Finding[]; bindings: BindingSummary[] } {
  const findings: Finding[] = [];
  const bindings: BindingSummary[] = [];
  // Which rule of a role grants each check, once per role (thousands of bindings share a few roles).
  const grantsByRole = new Map<readonly PolicyRule[], number[]>();
  const ruleFor = (rules: readonly PolicyRule[], i: number) => {
    let found = grantsByRole.get(rules);
    if (!found) {
      found = checks.map((c) => rules.findIndex(c.grants));
      grantsByRole.set(rules, found);
    }
    return found[i];
  };
  for (const s of allBindings(index, inScope)) {
    const b = s.binding;
    const resolved = roleRulesOf(index, b.roleRef, s.namespace ?? '');
    if (!resolved || !b.roleRef) continue;
    const subjects = (b.subjects ?? []).map((x) => {
      const bound = boundSubject(x, s.namespace);
      return { ...bound, class: classifySubject(bound) };
    });
    const key = bindingKey(s.kind, b.metadata.name, s.namespace);
    const managed = systemManaged(b);
    const role = roleStep(index, b);
    const summary: BindingSummary = {
      key,
      kind: s.kind,
      name: b.metadata.name,
      ...(s.namespace ? { namespace: s.namespace } : {}),
      roleRef: { kind: b.roleRef.kind, name: b.roleRef.name },
      subjects,
      ...(managed ? { managed } : {}),
      ...(role.note ? { roleNote: role.note } : {}),
      findingIds: [],
      rules: [],
    };
    const covered = new Set<string>();
    for (const [checkIndex, check] of checks.entries()) {
      if (!reaches(check, s)) continue;
      const who = subjects.filter((x) => check.subjects.includes(x.class) && (check.admin || !covered.has(subjectKey(x))));
      if (who.length === 0) continue;
      const ruleIndex = ruleFor(resolved.rules, checkIndex);
      if (ruleIndex < 0) continue;
      if (check.admin) for (const w of who) covered.add(subjectKey(w));
      const severity = severityFor(
        check,
        who.map((w) => w.class),
      );
      const where = s.kind === 'ClusterRoleBinding' ? 'cluster-wide' : `in namespace ${s.namespace}`;
      const id = `rbac/${check.id}/${s.kind}/${s.namespace ?? ''}/${b.metadata.name}`;
      findings.push({
        id,
        area: 'rbac',
        rule: check.id,
        severity,
        ref: { apiVersion: RBAC_API_VERSION, kind: s.kind, ...(s.namespace ? { namespace: s.namespace } : {}), name: b.metadata.name },
        message: `grants ${check.what} ${where} to ${who.map(subjectLabel).join(', ')} via ${role.text.replace(/ \(.*\)$/, '')}`,
        fixable: !managed,
        ...(managed
          ? {
              manual: `the binding is managed by the system (${managed}): not offered for change unless rbac.includeSystem is answered yes; the API server may restore bootstrap bindings when it restarts`,
            }
          : {}),
        path: [key, role.text, ruleText(resolved.rules[ruleIndex], ruleIndex)],
      });
      summary.findingIds.push(id);
      summary.rules.push(check.id);
      if (!summary.severity || severityRank(severity) > severityRank(summary.severity)) summary.severity = severity;
    }
    if (summary.findingIds.length) bindings.push(summary);
  }
  return { findings, bindings };
}
