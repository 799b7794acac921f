// The risky grants, as data: what a rule must allow, where the binding must grant it, and to whom.
// One evaluator (grants.ts) runs them over every binding; each rule's "allows" is the RBAC evaluator's
// own ruleAllows on a representative request, so "grants X" means exactly what the API server means.
import type { Reference, Rule, Severity } from '../types.js';
import { ruleAllows, type PolicyRule, type RequestAttributes } from './evaluate.js';
import type { SubjectClass } from './subjects.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const cis = (item: string, title: string): Reference => ({ title: `CIS Kubernetes Benchmark ${item}: ${title}` });
const GOOD_PRACTICES: Reference = {
  title: 'Kubernetes: Role Based Access Control Good Practices',
  url: 'https://kubernetes.io/docs/concepts/security/rbac-good-practices/',
};

/** A rule with `*` verbs on `*` resources (in any API group): cluster-admin, or as good as it where it is bound. */
export const isWildcardRule = (r: PolicyRule): boolean => (r.verbs ?? []).includes('*') && (r.resources ?? []).includes('*');

const allowsAny =
  (requests: RequestAttributes[]) =>
  (r: PolicyRule): boolean =>
    requests.some((q) => ruleAllows(q, r));

const verbsOn = (verbs: string[], apiGroup: string, resources: string[]): RequestAttributes[] =>
  verbs.flatMap((verb) =>
    resources.map((r) => {
      const [resource, subresource] = r.split('/');
      return { verb, apiGroup, resource, ...(subresource ? { subresource } : {}) };
    }),
  );

export interface GrantCheck extends Rule {
  /** Whether one rule of a role grants it. */
  grants: (rule: PolicyRule) => boolean;
  /** What it grants, for messages: "read of Secrets in every namespace". */
  what: string;
  /** Which bindings count: anywhere, ClusterRoleBindings only, or those that reach kube-system. */
  where: 'anywhere' | 'cluster' | 'kube-system';
  /** Which subjects count (system components never do). */
  subjects: SubjectClass[];
  /** Admin-level: the narrower checks do not report the same binding's same subjects again. */
  admin?: boolean;
}

const NOT_SYSTEM: SubjectClass[] = ['everyone', 'default-sa', 'ordinary'];

export const GRANT_CHECKS: GrantCheck[] = [
  {
    id: 'adminToEveryone',
    severity: 'critical',
    title: 'cluster-admin (or * on *) granted to everyone',
    why: 'Bound to system:authenticated, system:unauthenticated, system:anonymous or a service-account group, full power goes to every user, every pod or anyone who can reach the API server.',
    fix: 'Remove the binding, or replace it with a least-privilege role (view, edit, or a read-only role built from your answers) for the few who need it.',
    references: [
      cis('5.1.1', 'Ensure that the cluster-admin role is only used where required'),
      cis('5.1.3', 'Minimize wildcard use in Roles and ClusterRoles'),
      GOOD_PRACTICES,
    ],
    grants: isWildcardRule,
    what: 'every verb on every resource (* on *)',
    where: 'anywhere',
    subjects: ['everyone'],
    admin: true,
  },
  {
    id: 'adminToDefaultServiceAccount',
    severity: 'critical',
    title: 'cluster-admin (or * on *) granted to a default service account',
    why: 'Every pod of the namespace that names no service account runs as `default`: any of them, or anyone who can create a pod there, holds full power.',
    fix: 'Remove the binding, or replace it with a least-privilege role; give the workload that needs the access its own service account.',
    references: [
      cis('5.1.5', 'Ensure that default service accounts are not actively used'),
      cis('5.1.1', 'Ensure that the cluster-admin role is only used where required'),
    ],
    grants: isWildcardRule,
    what: 'every verb on every resource (* on *)',
    where: 'anywhere',
    subjects: ['default-sa'],
    admin: true,
  },
  {
    id: 'wildcardToUser',
    severity: 'high',
    title: 'Wildcard role (* verbs on * resources) bound to a user, group or service account',
    why: 'A `*` on `*` grants every current and future resource and verb (escalate, impersonate, secrets, exec), far beyond what a person or an application needs.',
    fix: 'Replace the binding with a least-privilege role (view, edit, or a read-only role built from your answers), or remove it.',
    references: [
      cis('5.1.3', 'Minimize wildcard use in Roles and ClusterRoles'),
      cis('5.1.1', 'Ensure that the cluster-admin role is only used where required'),
    ],
    grants: isWildcardRule,
    what: 'every verb on every resource (* on *)',
    where: 'anywhere',
    subjects: ['ordinary'],
    admin: true,
  },
  {
    id: 'escalateBindImpersonate',
    severity: 'high',
    title: 'escalate, bind or impersonate granted',
    why: 'escalate and bind let a subject write roles and bindings with more than it holds; impersonate lets it act as any user, group or service account: each is a path to cluster-admin. Critical when bound to everyone.',
    fix: 'Remove the binding, or replace it with a role without these verbs.',
    references: [cis('5.1.8', 'Limit use of the Bind, Impersonate and Escalate permissions in the Kubernetes cluster'), GOOD_PRACTICES],
    grants: allowsAny([
      ...verbsOn(['escalate', 'bind'], RBAC_GROUP, ['roles', 'clusterroles']),
      ...verbsOn(['impersonate'], '', ['users', 'groups', 'serviceaccounts']),
      ...verbsOn(['impersonate'], 'authentication.k8s.io', ['uids', 'userextras']),
    ]),
    what: 'escalate, bind or impersonate',
    where: 'anywhere',
    subjects: NOT_SYSTEM,
  },
  {
    id: 'secretsClusterWide',
    severity: 'high',
    title: 'Secrets readable in every namespace',
    why: 'Reading every Secret yields every service-account token, registry credential and TLS key of the cluster. Critical when bound to everyone (every service account, every user).',
    fix: 'Remove the binding, or replace it with a role without Secrets, bound only in the namespaces that need it.',
    references: [cis('5.1.2', 'Minimize access to secrets'), GOOD_PRACTICES],
    grants: allowsAny(verbsOn(['get', 'list', 'watch'], '', ['secrets'])),
    what: 'read of Secrets in every namespace',
    where: 'cluster',
    subjects: NOT_SYSTEM,
  },
  {
    id: 'execAttach',
    severity: 'medium',
    title: 'pods/exec or pods/attach granted',
    why: 'A shell in a pod is everything the pod holds: its service-account token, its mounted Secrets, its network position.',
    fix: 'Remove the binding, or replace it with a role without pods/exec and pods/attach (view, or a read-only role).',
    references: [GOOD_PRACTICES],
    grants: allowsAny(verbsOn(['create', 'get'], '', ['pods/exec', 'pods/attach'])),
    what: 'exec or attach into pods',
    where: 'anywhere',
    subjects: NOT_SYSTEM,
  },
  {
    id: 'kubeSystemWorkloads',
    severity: 'high',
    title: 'Pods or workloads can be created in kube-system',
    why: 'A pod in kube-system can mount any of its service accounts, the most privileged of the cluster: creating one is taking the cluster.',
    fix: 'Remove the binding, or replace it with a role without create on pods and workloads.',
    references: [cis('5.1.4', 'Minimize access to create pods'), GOOD_PRACTICES],
    grants: allowsAny([
      ...verbsOn(['create'], '', ['pods', 'replicationcontrollers']),
      ...verbsOn(['create'], 'apps', ['deployments', 'daemonsets', 'statefulsets', 'replicasets']),
      ...verbsOn(['create'], 'batch', ['jobs', 'cronjobs']),
    ]),
    what: 'create pods or workloads in kube-system',
    where: 'kube-system',
    subjects: NOT_SYSTEM,
  },
  {
    id: 'nodesProxy',
    severity: 'high',
    title: 'nodes/proxy granted',
    why: "nodes/proxy reaches the kubelet's API directly: exec into any pod on the node, bypassing admission and audit of the API server.",
    fix: 'Remove the binding, or replace it with a role without nodes/proxy (monitoring usually needs only nodes/metrics).',
    references: [cis('5.1.10', 'Minimize access to the proxy sub-resource of nodes'), GOOD_PRACTICES],
    grants: allowsAny(verbsOn(['get', 'create', 'update', 'patch', 'delete'], '', ['nodes/proxy'])),
    what: 'the kubelet API through nodes/proxy',
    where: 'anywhere',
    subjects: NOT_SYSTEM,
  },
  {
    id: 'tokenCreate',
    severity: 'high',
    title: 'Service-account tokens can be created',
    why: 'create on serviceaccounts/token mints a token for any service account in reach, and with it that account\u2019s permissions.',
    fix: 'Remove the binding, or replace it with a role without serviceaccounts/token.',
    references: [cis('5.1.13', 'Minimize access to the service account token creation'), GOOD_PRACTICES],
    grants: allowsAny(verbsOn(['create'], '', ['serviceaccounts/token'])),
    what: 'create service-account tokens',
    where: 'anywhere',
    subjects: NOT_SYSTEM,
  },
];

/** A finding's severity: high grants to everyone or a default service account count as critical. */
export function severityFor(check: GrantCheck, classes: SubjectClass[]): Severity {
  if (check.severity === 'high' && classes.some((c) => c === 'everyone' || c === 'default-sa')) return 'critical';
  return check.severity;
}

/** The rules found by probing the live API server, and the service-account rule. */
export const OTHER_RULES: Rule[] = [
  {
    id: 'rbacApiServed',
    severity: 'critical',
    title: 'The RBAC API is not served',
    why: 'Without rbac.authorization.k8s.io the API server authorizes with something else (often AlwaysAllow): every role and binding is ignored.',
    fix: 'Start the API server with --authorization-mode=Node,RBAC (the apiserver area offers this flag change where the manifest is readable).',
    references: [
      cis('1.2.7', 'Ensure that the --authorization-mode argument is not set to AlwaysAllow'),
      cis('1.2.9', 'Ensure that the --authorization-mode argument includes RBAC'),
    ],
  },
  {
    id: 'unknownUserAllowed',
    severity: 'critical',
    title: 'A made-up authenticated user may read Secrets, exec into pods or do everything',
    why: 'The API server answered a SubjectAccessReview for a user nobody created with "allowed": any authenticated identity gets that access.',
    fix: 'Remove or narrow the binding that grants it (shown in the path); if no binding explains it, another authorizer allows it: check --authorization-mode.',
    references: [
      cis('5.1.1', 'Ensure that the cluster-admin role is only used where required'),
      cis('1.2.7', 'Ensure that the --authorization-mode argument is not set to AlwaysAllow'),
    ],
  },
  {
    id: 'anonymousAllowed',
    severity: 'critical',
    title: 'system:anonymous may read Secrets, exec into pods or do everything',
    why: 'The API server answered a SubjectAccessReview for system:anonymous with "allowed": anyone who can reach the API server, without credentials, gets that access.',
    fix: 'Remove or narrow the binding that grants it (shown in the path); if no binding explains it, another authorizer allows it: check --authorization-mode and --anonymous-auth.',
    references: [
      cis('1.2.1', 'Ensure that the --anonymous-auth argument is set to false'),
      cis('1.2.7', 'Ensure that the --authorization-mode argument is not set to AlwaysAllow'),
    ],
  },
  {
    id: 'defaultServiceAccountAutomount',
    severity: 'low',
    title: 'The default service account mounts its token into pods',
    why: 'Every pod that names no service account gets a token of `default` mounted: a foothold in any such pod can call the API server with it.',
    fix: 'Set automountServiceAccountToken: false on the namespace\u2019s default service account (pods that need a token set it themselves or use their own account).',
    references: [
      cis('5.1.5', 'Ensure that default service accounts are not actively used'),
      cis('5.1.6', 'Ensure that Service Account Tokens are only mounted where necessary'),
    ],
  },
];

export const RBAC_RULES: Rule[] = [
  ...GRANT_CHECKS.map(({ id, severity, title, why, fix, references }) => ({ id, severity, title, why, fix, references })),
  ...OTHER_RULES,
];
