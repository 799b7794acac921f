// The rbac area's plan, pure: bindings removed or narrowed (a new binding to the chosen role is
// created first, the old one deleted last), a read-only ClusterRole built from the answers with its
// RoleBindings, and automountServiceAccountToken: false on default service accounts.
import type { KubeObject } from '../../cluster/types.js';
import type { CreateEdit, DeleteEdit, Edit, MutateEdit } from '../../engine/compose.js';
import { jsonEqual } from '../../engine/normalise.js';
import type { Answers, Inspection } from '../types.js';
import type { PolicyRule, Subject } from './evaluate.js';
import { bindingKey, keyOf, RBAC_API_VERSION, type BindingSummary } from './grants.js';
import type { RbacFacts } from './inspect.js';
import type { Readable } from './probes.js';
import { bindingChoices, Q, READ_ONLY_ROLE, readOnlyNeeded, readOnlySubjects, type BindingChoice } from './questions.js';
import { subjectLabel } from './subjects.js';

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'kube-harden' };
export const REPLACES_ANNOTATION = 'kube-harden.io/replaces';
const RBAC_GROUP = 'rbac.authorization.k8s.io';
const READ_VERBS = ['get', 'list', 'watch'];

/** Namespaced resources every cluster serves, for when discovery could not be asked. */
export const BUILTIN_READABLE: Readable[] = [
  {
    apiGroup: '',
    resources: [
      'configmaps',
      'endpoints',
      'events',
      'limitranges',
      'persistentvolumeclaims',
      'pods',
      'podtemplates',
      'replicationcontrollers',
      'resourcequotas',
      'serviceaccounts',
      'services',
    ],
  },
  { apiGroup: 'apps', resources: ['controllerrevisions', 'daemonsets', 'deployments', 'replicasets', 'statefulsets'] },
  { apiGroup: 'autoscaling', resources: ['horizontalpodautoscalers'] },
  { apiGroup: 'batch', resources: ['cronjobs', 'jobs'] },
  { apiGroup: 'coordination.k8s.io', resources: ['leases'] },
  { apiGroup: 'discovery.k8s.io', resources: ['endpointslices'] },
  { apiGroup: 'events.k8s.io', resources: ['events'] },
  { apiGroup: 'networking.k8s.io', resources: ['ingresses', 'networkpolicies'] },
  { apiGroup: 'policy', resources: ['poddisruptionbudgets'] },
  { apiGroup: 'rbac.authorization.k8s.io', resources: ['rolebindings', 'roles'] },
];

/**
 * The read-only role's rules: get, list and watch on every readable namespaced resource, named one by
 * one (never `*`: on Kubernetes before 1.35 `get` on pods/exec, pods/attach and pods/portforward opens
 * a websocket shell), plus pods/log; Secrets only when asked.
 */
export function readOnlyRules(readable: Readable[] | undefined, secrets: boolean): PolicyRule[] {
  const rules: PolicyRule[] = [];
  for (const g of readable ?? BUILTIN_READABLE) {
    let resources = g.resources.filter((r) => !r.includes('/') && !(g.apiGroup === '' && r === 'secrets'));
    if (g.apiGroup === '') resources = [...resources, ...(secrets ? ['secrets'] : []), 'pods/log'];
    if (resources.length) rules.push({ apiGroups: [g.apiGroup], resources: [...new Set(resources)].sort(), verbs: READ_VERBS });
  }
  return rules;
}

export function readOnlyRole(readable: Readable[] | undefined, secrets: boolean): KubeObject {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: 'ClusterRole',
    metadata: {
      name: READ_ONLY_ROLE,
      labels: { ...MANAGED_BY },
      annotations: {
        'kube-harden.io/description': `get, list and watch on namespaced resources${secrets ? ', Secrets included' : ', Secrets excluded'}; no writes, no exec`,
      },
    },
    rules: readOnlyRules(readable, secrets),
  };
}

const ROLE_OF: Record<Exclude<BindingChoice, 'keep' | 'remove'>, string> = { view: 'view', edit: 'edit', 'read-only': READ_ONLY_ROLE };

function bindingObject(kind: string, name: string, namespace: string | undefined, role: string, subjects: Subject[], replaces?: string): KubeObject {
  return {
    apiVersion: RBAC_API_VERSION,
    kind,
    metadata: {
      name,
      ...(namespace ? { namespace } : {}),
      labels: { ...MANAGED_BY },
      ...(replaces ? { annotations: { [REPLACES_ANNOTATION]: replaces } } : {}),
    },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: role },
    subjects: structuredClone(subjects),
  };
}

const who = (b: BindingSummary) => b.subjects.map(subjectLabel).join(', ');

export function planRbac(ins: Inspection<RbacFacts>, answers: Answers): Edit[] {
  const f = ins.facts;
  const edits: Edit[] = [];
  const all = [...f.objects.clusterRoleBindings, ...f.objects.roleBindings];
  const byKey = new Map(all.map((o) => [keyOf(o), o]));
  const taken = new Set(byKey.keys());
  const freeName = (kind: string, base: string, namespace?: string) => {
    const stem = base.slice(0, 240);
    for (let i = 1; ; i++) {
      const name = i === 1 ? stem : `${stem}-${i}`;
      const k = bindingKey(kind, name, namespace);
      if (!taken.has(k)) {
        taken.add(k);
        return name;
      }
    }
  };
  const summaries = new Map(f.bindings.map((b) => [b.key, b]));
  const offeredKeys = new Set(f.bindings.filter((b) => !b.managed || answers[Q.includeSystem] === true).map((b) => b.key));

  // The read-only role, before any binding names it.
  if (readOnlyNeeded(answers)) {
    const role = readOnlyRole(f.readable, answers[Q.readOnlySecrets] === true);
    const existing = f.objects.clusterRoles.find((r) => r.metadata.name === READ_ONLY_ROLE);
    const reason = `ClusterRole ${READ_ONLY_ROLE}: get, list and watch only${answers[Q.readOnlySecrets] === true ? ' (Secrets included)' : ' (no Secrets)'}`;
    if (!existing) {
      edits.push({
        kind: 'object',
        op: 'create',
        area: 'rbac',
        object: role,
        findingIds: [],
        reason,
        risk: 'low',
        phase: 'prerequisites',
      } satisfies CreateEdit);
    } else if (!jsonEqual(existing.rules, role.rules)) {
      edits.push({
        kind: 'object',
        op: 'mutate',
        area: 'rbac',
        base: existing,
        mutate: (o) => ({ ...o, rules: structuredClone(role.rules) }),
        findingIds: [],
        reason: `${reason}: rules brought up to date`,
        risk: 'low',
        riskNote: `whoever is bound to ${READ_ONLY_ROLE} gets exactly these rules`,
        phase: 'prerequisites',
      } satisfies MutateEdit);
    }
  }

  // Bindings: remove, or narrow (create the replacement, then delete the old one).
  const choices = bindingChoices(answers);
  for (const [key, choice] of Object.entries(choices).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (choice === 'keep' || !offeredKeys.has(key)) continue;
    const old = byKey.get(key);
    const summary = summaries.get(key);
    if (!old || !summary) continue;
    const fixes = [...summary.findingIds, ...(f.probeFindings[key] ?? [])];
    if (choice !== 'remove') {
      const role = ROLE_OF[choice];
      const name = freeName(summary.kind, `${old.metadata.name}-${choice}`, summary.namespace);
      edits.push({
        kind: 'object',
        op: 'create',
        area: 'rbac',
        object: bindingObject(summary.kind, name, summary.namespace, role, (old.subjects as Subject[] | undefined) ?? [], key),
        findingIds: [],
        reason: `replaces ${key}: the same subjects (${who(summary)}) get ClusterRole ${role} instead of ${summary.roleRef.kind} ${summary.roleRef.name}`,
        risk: 'low',
        phase: 'create',
      } satisfies CreateEdit);
    }
    edits.push({
      kind: 'object',
      op: 'delete',
      area: 'rbac',
      base: old,
      findingIds: fixes,
      reason:
        choice === 'remove'
          ? `remove: ${who(summary)} lose ${summary.roleRef.kind} ${summary.roleRef.name} (${summary.rules.join(', ')})`
          : `narrowed to ${ROLE_OF[choice]}: ${who(summary)} lose ${summary.roleRef.kind} ${summary.roleRef.name}`,
      risk: 'high',
      riskNote: `${who(summary)} lose what ${summary.roleRef.kind} ${summary.roleRef.name} granted them here${choice === 'remove' ? '' : ` beyond ${ROLE_OF[choice]}`}; anything that relied on it stops working`,
      phase: 'delete',
    } satisfies DeleteEdit);
  }

  // Read-only access for the users and groups named, in the namespaces chosen.
  const { users, groups } = readOnlySubjects(answers);
  if (users.length + groups.length > 0) {
    const subjects: Subject[] = [
      ...users.map((name) => ({ kind: 'User', apiGroup: RBAC_GROUP, name })),
      ...groups.map((name) => ({ kind: 'Group', apiGroup: RBAC_GROUP, name })),
    ];
    const namespaces = ((answers[Q.readOnlyNamespaces] as string[] | undefined) ?? []).filter((n) => f.namespaces.includes(n));
    for (const ns of [...new Set(namespaces)].sort()) {
      const existing = byKey.get(bindingKey('RoleBinding', READ_ONLY_ROLE, ns));
      const ours =
        existing &&
        existing.roleRef &&
        (existing.roleRef as { kind: string; name: string }).kind === 'ClusterRole' &&
        (existing.roleRef as { name: string }).name === READ_ONLY_ROLE;
      const reason = `read-only access in ${ns} for ${subjects.map(subjectLabel).join(', ')}`;
      if (existing && ours) {
        const have = (existing.subjects as Subject[] | undefined) ?? [];
        const missing = subjects.filter((s) => !have.some((h) => h.kind === s.kind && h.name === s.name));
        if (missing.length === 0) continue;
        edits.push({
          kind: 'object',
          op: 'mutate',
          area: 'rbac',
          base: existing,
          mutate: (o) => ({ ...o, subjects: [...((o.subjects as Subject[] | undefined) ?? []), ...structuredClone(missing)] }),
          findingIds: [],
          reason,
          risk: 'low',
          phase: 'create',
        } satisfies MutateEdit);
        continue;
      }
      edits.push({
        kind: 'object',
        op: 'create',
        area: 'rbac',
        object: bindingObject('RoleBinding', freeName('RoleBinding', READ_ONLY_ROLE, ns), ns, READ_ONLY_ROLE, subjects),
        findingIds: [],
        reason,
        risk: 'low',
        phase: 'create',
      } satisfies CreateEdit);
    }
  }

  // Default service accounts: no token unless a pod asks for one.
  const chosen = new Set((answers[Q.automount] as string[] | undefined) ?? []);
  for (const sa of f.automount) {
    if (!chosen.has(sa.namespace)) continue;
    edits.push({
      kind: 'object',
      op: 'mutate',
      area: 'rbac',
      base: sa.object,
      mutate: (o) => ({ ...o, automountServiceAccountToken: false }),
      findingIds: sa.inScope ? [`rbac/defaultServiceAccountAutomount/ServiceAccount/${sa.namespace}/default`] : [],
      reason: 'automountServiceAccountToken: false on the default service account',
      risk: 'medium',
      riskNote:
        'new pods that name no service account get no API token; an application among them that calls the API server fails until it gets its own account or sets automountServiceAccountToken: true',
      phase: 'update',
    } satisfies MutateEdit);
  }
  return edits;
}
