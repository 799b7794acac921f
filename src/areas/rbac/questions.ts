// The rbac area's questions: what to do with each risky binding (keep, remove, or narrow it to a
// least-privilege role), a read-only role for the users and groups you name in the namespaces you
// pick, and the default service accounts' token automount. System-managed bindings only on request.
import type { Answers, Choice, Inspection, Question } from '../types.js';
import type { BindingSummary } from './grants.js';
import type { RbacFacts } from './inspect.js';
import { subjectLabel } from './subjects.js';

export const READ_ONLY_ROLE = 'kube-harden-read-only';

export type BindingChoice = 'keep' | 'remove' | 'view' | 'edit' | 'read-only';

export const BINDING_CHOICES: Array<Choice & { value: BindingChoice }> = [
  { value: 'keep', label: 'keep' },
  { value: 'remove', label: 'remove the binding' },
  { value: 'view', label: 'narrow to view', hint: 'built-in view: read most objects, not Secrets, no writes' },
  { value: 'edit', label: 'narrow to edit', hint: 'built-in edit: read and write workloads and Secrets, no RBAC' },
  { value: 'read-only', label: `narrow to ${READ_ONLY_ROLE}`, hint: 'get, list and watch only, built from your answers below' },
];

export const Q = {
  bindings: 'rbac.bindings',
  includeSystem: 'rbac.includeSystem',
  systemBindings: 'rbac.systemBindings',
  readOnlyUsers: 'rbac.readOnlyUsers',
  readOnlyGroups: 'rbac.readOnlyGroups',
  readOnlyNamespaces: 'rbac.readOnlyNamespaces',
  readOnlySecrets: 'rbac.readOnlySecrets',
  automount: 'rbac.automount',
} as const;

function item(b: BindingSummary): Choice {
  const who = b.subjects.map(subjectLabel);
  return {
    value: b.key,
    label: `${b.key} → ${b.roleRef.kind}/${b.roleRef.name}`,
    hint: `${b.severity}: ${b.rules.join(', ')}; to ${who.slice(0, 3).join(', ')}${who.length > 3 ? ` and ${who.length - 3} more` : ''}`,
  };
}

/** Bindings that give everyone (or a default service account) something critical are removed unless you say otherwise. */
export const defaultChoice = (b: BindingSummary): BindingChoice => (b.severity === 'critical' ? 'remove' : 'keep');

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const record = (v: unknown): Record<string, string> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : {});

/** Every binding choice the answers make, system-managed bindings included only when asked for. */
export function bindingChoices(answers: Answers): Record<string, BindingChoice> {
  const out = { ...record(answers[Q.bindings]) };
  if (answers[Q.includeSystem] === true) Object.assign(out, record(answers[Q.systemBindings]));
  return out as Record<string, BindingChoice>;
}

export const readOnlySubjects = (answers: Answers) => ({
  users: strings(answers[Q.readOnlyUsers])
    .map((s) => s.trim())
    .filter(Boolean),
  groups: strings(answers[Q.readOnlyGroups])
    .map((s) => s.trim())
    .filter(Boolean),
});

/** Whether the read-only role is needed: subjects named for it, or a binding narrowed to it. */
export function readOnlyNeeded(answers: Answers): boolean {
  const { users, groups } = readOnlySubjects(answers);
  return users.length + groups.length > 0 || Object.values(bindingChoices(answers)).includes('read-only');
}

const NAME = /^[^/%]+$/;
const validNames = (v: unknown) => {
  const bad = strings(v).filter((s) => s.trim() !== '' && (!NAME.test(s.trim()) || s.trim() === '.' || s.trim() === '..'));
  return bad.length ? `not a valid name: ${bad.join(', ')}` : undefined;
};

export function rbacQuestions(ins: Inspection<RbacFacts>): Question[] {
  const f = ins.facts;
  const offered = f.bindings.filter((b) => !b.managed);
  const managed = f.bindings.filter((b) => b.managed);
  const byId = new Map(ins.findings.map((x) => [x.id, x]));
  const ordinary = (kind: string) =>
    [...new Set(f.bindings.flatMap((b) => b.subjects.filter((s) => s.kind === kind && s.class === 'ordinary').map((s) => s.name)))].sort();
  const hasSubjects = (a: Answers) => {
    const { users, groups } = readOnlySubjects(a);
    return users.length + groups.length > 0;
  };
  return [
    {
      id: Q.bindings,
      area: 'rbac',
      title: 'What should happen to each risky binding?',
      help: 'Narrowing creates a new binding with the same subjects to the role you pick, then deletes the old one (a binding\u2019s role cannot be changed in place). Bindings that give everyone or a default service account critical access are removed by default.',
      kind: 'per-item',
      items: offered.map(item),
      choices: BINDING_CHOICES,
      default: Object.fromEntries(offered.map((b) => [b.key, defaultChoice(b)])),
      details: offered.flatMap((b) =>
        b.findingIds.flatMap((id) => {
          const x = byId.get(id);
          return x ? [`${x.severity} ${x.rule}: ${(x.path ?? [b.key]).join(' → ')}`] : [];
        }),
      ),
      when: () => offered.length > 0,
    },
    {
      id: Q.includeSystem,
      area: 'rbac',
      title: 'Also offer bindings the system manages for change?',
      help: `${managed.length} risky binding(s) are managed by the system (bootstrap labels, system: names). The API server may restore them when it restarts; change them only if you know why they were edited.`,
      kind: 'confirm',
      default: false,
      details: managed.map((b) => `${b.key} (${b.managed})`),
      when: () => managed.length > 0,
    },
    {
      id: Q.systemBindings,
      area: 'rbac',
      title: 'What should happen to each system-managed binding?',
      help: 'The same choices as for the other bindings; keep is the default.',
      kind: 'per-item',
      items: managed.map(item),
      choices: BINDING_CHOICES,
      default: Object.fromEntries(managed.map((b) => [b.key, 'keep'])),
      when: (a) => managed.length > 0 && a[Q.includeSystem] === true,
    },
    {
      id: Q.readOnlyUsers,
      area: 'rbac',
      title: `Which users may view and list everything in chosen namespaces, but not create or delete? (${READ_ONLY_ROLE})`,
      help: 'User names as the API server authenticates them (a certificate\u2019s CN, an OIDC claim). Comma-separated; empty for none.',
      kind: 'list',
      suggestions: ordinary('User'),
      default: [],
      validate: validNames,
    },
    {
      id: Q.readOnlyGroups,
      area: 'rbac',
      title: `Which groups may view and list everything in chosen namespaces, but not create or delete? (${READ_ONLY_ROLE})`,
      help: 'Group names as the API server authenticates them (a certificate\u2019s O, an OIDC groups claim). Comma-separated; empty for none.',
      kind: 'list',
      suggestions: ordinary('Group'),
      default: [],
      validate: validNames,
    },
    {
      id: Q.readOnlyNamespaces,
      area: 'rbac',
      title: 'In which namespaces should they have read-only access?',
      help: `A RoleBinding named ${READ_ONLY_ROLE} in each namespace binds the ClusterRole ${READ_ONLY_ROLE} to the users and groups above.`,
      kind: 'multiselect',
      choices: f.namespaces.map((n) => ({ value: n, label: n, ...(f.inScope.includes(n) ? {} : { hint: 'system or out of scope' }) })),
      default: [],
      when: hasSubjects,
      validate: (v) => (strings(v).length === 0 ? 'choose at least one namespace (or leave the users and groups empty)' : undefined),
    },
    {
      id: Q.readOnlySecrets,
      area: 'rbac',
      title: `May ${READ_ONLY_ROLE} read Secrets too?`,
      help: f.readable
        ? 'No (recommended). The role names every readable namespaced resource the cluster serves today (never *: before Kubernetes 1.35 get on pods/exec opens a shell), plus pods/log; resources added later (new CRDs) come in when the role is planned again.'
        : 'No (recommended). The cluster\u2019s resources could not be discovered: the role names the built-in namespaced resources, plus pods/log.',
      kind: 'confirm',
      default: false,
      when: readOnlyNeeded,
    },
    {
      id: Q.automount,
      area: 'rbac',
      title: 'In which namespaces should the default service account stop mounting its token?',
      help: 'Sets automountServiceAccountToken: false on the namespace\u2019s `default` service account. New pods that name no service account get no API token; pods that set automountServiceAccountToken: true keep theirs. Running pods are not restarted.',
      kind: 'multiselect',
      choices: f.automount.map((s) => ({ value: s.namespace, label: s.namespace, ...(s.inScope ? {} : { hint: 'system or out of scope' }) })),
      default: f.automount.filter((s) => s.inScope).map((s) => s.namespace),
      when: () => f.automount.length > 0,
    },
  ];
}
