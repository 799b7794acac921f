// Who a binding names, classified: everyone (broad groups, anonymous), a namespace's `default`
// service account, a system component, or an ordinary user, group or service account. And which RBAC
// objects the system manages (bootstrap roles and bindings, `system:` names, aggregated roles).
// Pure data and functions.
import { serviceAccountUser, type Subject, type UserInfo } from './evaluate.js';
import type { RbacObject } from './evaluate.js';

/** Groups every authenticated or unauthenticated caller is in (and the anonymous user). */
export const EVERYONE_GROUPS = ['system:authenticated', 'system:unauthenticated', 'system:serviceaccounts'];
export const ANONYMOUS_USER = 'system:anonymous';
export const SUPERUSER_GROUP = 'system:masters';
export const SERVICE_ACCOUNTS_GROUP_PREFIX = 'system:serviceaccounts:';

export type SubjectClass =
  /** system:authenticated, system:unauthenticated, system:anonymous, all service accounts (of the cluster or a namespace). */
  | 'everyone'
  /** A namespace's `default` service account, which every pod without its own runs as. */
  | 'default-sa'
  /** Control-plane components and bootstrap identities: system:* users and groups, kube-system's service accounts. */
  | 'system'
  /** A user, a group, or a service account of an application. */
  | 'ordinary';

/** The subject as bound, with a ServiceAccount's namespace defaulted from its RoleBinding. */
export function boundSubject(s: Subject, bindingNamespace: string | undefined): Subject {
  if (s.kind !== 'ServiceAccount') return { kind: s.kind, name: s.name };
  return { kind: s.kind, name: s.name, namespace: s.namespace || bindingNamespace || undefined };
}

export function classifySubject(s: Subject): SubjectClass {
  if (s.kind === 'Group') {
    if (EVERYONE_GROUPS.includes(s.name) || s.name.startsWith(SERVICE_ACCOUNTS_GROUP_PREFIX)) return 'everyone';
    return s.name.startsWith('system:') ? 'system' : 'ordinary';
  }
  if (s.kind === 'User') {
    if (s.name === ANONYMOUS_USER) return 'everyone';
    // A service account's token user named directly, e.g. system:serviceaccount:ns:default.
    const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(s.name);
    if (sa) return classifySubject({ kind: 'ServiceAccount', namespace: sa[1], name: sa[2] });
    return s.name.startsWith('system:') ? 'system' : 'ordinary';
  }
  if (s.kind === 'ServiceAccount') {
    if (s.name === 'default') return 'default-sa';
    return s.namespace === 'kube-system' ? 'system' : 'ordinary';
  }
  // Unknown kinds match nobody.
  return 'system';
}

export const subjectLabel = (s: Subject): string => `${s.kind} ${s.namespace ? `${s.namespace}/` : ''}${s.name}`;
export const subjectKey = (s: Subject): string => `${s.kind}:${s.namespace ?? ''}:${s.name}`;

/**
 * The identity a subject stands for, as the API server would see a request from it: a user is
 * authenticated (or anonymous), a group is any one member of it, a service account has its token's
 * groups.
 */
export function subjectUser(s: Subject): UserInfo {
  if (s.kind === 'ServiceAccount') return serviceAccountUser(s.namespace ?? '', s.name);
  if (s.kind === 'Group') return { username: '\u0000', groups: [s.name] };
  if (s.name === ANONYMOUS_USER) return { username: s.name, groups: ['system:unauthenticated'] };
  return { username: s.name, groups: ['system:authenticated'] };
}

export const BOOTSTRAP_LABEL = 'kubernetes.io/bootstrapping';

/** Why the system manages an RBAC object (the API server reconciles its bootstrap policy at start), or undefined. */
export function systemManaged(o: RbacObject): string | undefined {
  const labels = o.metadata.labels ?? {};
  if (labels[BOOTSTRAP_LABEL]) return `labelled ${BOOTSTRAP_LABEL}=${labels[BOOTSTRAP_LABEL]}`;
  if (o.metadata.name.startsWith('system:')) return 'a system: name';
  if (o.aggregationRule) return 'an aggregated role (the controller rewrites its rules)';
  return undefined;
}
