// The leaves of Kubernetes RBAC evaluation, one function per Go helper, so the two can be read side by
// side. Sources (k8s.io/kubernetes v1.34):
//   pkg/apis/rbac/v1/evaluation_helpers.go       VerbMatches, APIGroupMatches, ResourceMatches,
//                                                ResourceNameMatches, NonResourceURLMatches
//   plugin/pkg/auth/authorizer/rbac/rbac.go      RuleAllows
//   pkg/registry/rbac/validation/rule.go         appliesToUser
//   k8s.io/apiserver .../serviceaccount/util.go  MatchesUsername
// Pure: no I/O, inputs are never modified.

/** One entry of a Role's or ClusterRole's `rules`, as the API server returns it (absent lists are empty). */
export interface PolicyRule {
  verbs?: readonly string[] | null;
  apiGroups?: readonly string[] | null;
  resources?: readonly string[] | null;
  resourceNames?: readonly string[] | null;
  nonResourceURLs?: readonly string[] | null;
}

/**
 * What is asked, as a SubjectAccessReview spells it. A request with `nonResourceURL` is a non-resource
 * request (only `verb` and the URL count); any other is a resource request. Absent fields are "".
 * `namespace` is the request's namespace: "" (absent) for cluster-scoped requests and for requests
 * across all namespaces, where only ClusterRoleBindings apply.
 */
export interface RequestAttributes {
  verb: string;
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  nonResourceURL?: string;
}

/** An entry of a binding's `subjects`. `apiGroup` is not looked at by the authorizer. */
export interface Subject {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

/** The authenticated identity a request is made as: exactly the groups given count (none are added). */
export interface UserInfo {
  username: string;
  groups: readonly string[];
}

export const VERB_ALL = '*';
export const API_GROUP_ALL = '*';
export const RESOURCE_ALL = '*';
export const NON_RESOURCE_ALL = '*';
export const SERVICE_ACCOUNT_USERNAME_PREFIX = 'system:serviceaccount:';

const list = (xs: readonly string[] | null | undefined): readonly string[] => xs ?? [];

export function isResourceRequest(attrs: RequestAttributes): boolean {
  return attrs.nonResourceURL === undefined;
}

export function verbMatches(rule: PolicyRule, requestedVerb: string): boolean {
  return list(rule.verbs).some((v) => v === VERB_ALL || v === requestedVerb);
}

export function apiGroupMatches(rule: PolicyRule, requestedGroup: string): boolean {
  return list(rule.apiGroups).some((g) => g === API_GROUP_ALL || g === requestedGroup);
}

/**
 * `combinedRequestedResource` is `resource` or `resource/subresource`. A rule resource matches when it
 * is `*`, equals the combined resource, or is `*` + `/<subresource>` for a request with that subresource.
 * (So `pods` does not cover `pods/log`, and `*` covers every subresource.)
 */
export function resourceMatches(rule: PolicyRule, combinedRequestedResource: string, requestedSubresource: string): boolean {
  for (const r of list(rule.resources)) {
    if (r === RESOURCE_ALL || r === combinedRequestedResource) return true;
    if (requestedSubresource.length === 0) continue;
    if (r.length === requestedSubresource.length + 2 && r.startsWith('*/') && r.endsWith(requestedSubresource)) return true;
  }
  return false;
}

/** No resourceNames means every name, including the empty name of list, watch, create and deletecollection. */
export function resourceNameMatches(rule: PolicyRule, requestedName: string): boolean {
  const names = list(rule.resourceNames);
  return names.length === 0 || names.includes(requestedName);
}

/** `*` matches every URL; a URL ending in `*` matches by plain string prefix (every trailing `*` dropped). */
export function nonResourceURLMatches(rule: PolicyRule, requestedURL: string): boolean {
  for (const u of list(rule.nonResourceURLs)) {
    if (u === NON_RESOURCE_ALL || u === requestedURL) return true;
    if (u.endsWith('*') && requestedURL.startsWith(u.replace(/\*+$/, ''))) return true;
  }
  return false;
}

/** RuleAllows: whether one rule allows the request. */
export function ruleAllows(attrs: RequestAttributes, rule: PolicyRule): boolean {
  if (isResourceRequest(attrs)) {
    const resource = attrs.resource ?? '';
    const subresource = attrs.subresource ?? '';
    const combined = subresource.length > 0 ? `${resource}/${subresource}` : resource;
    return (
      verbMatches(rule, attrs.verb) &&
      apiGroupMatches(rule, attrs.apiGroup ?? '') &&
      resourceMatches(rule, combined, subresource) &&
      resourceNameMatches(rule, attrs.name ?? '')
    );
  }
  return verbMatches(rule, attrs.verb) && nonResourceURLMatches(rule, attrs.nonResourceURL ?? '');
}

/** The username the API server gives a ServiceAccount's tokens: `system:serviceaccount:NS:NAME`. */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_USERNAME_PREFIX}${namespace}:${name}`;
}

/**
 * The identity a ServiceAccount's token authenticates as, with the groups the token authenticator
 * adds (system:serviceaccounts, system:serviceaccounts:NS, system:authenticated).
 */
export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return {
    username: serviceAccountUsername(namespace, name),
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
  };
}

/** MatchesUsername: exact `system:serviceaccount:<namespace>:<name>`. */
function matchesServiceAccountUsername(namespace: string, name: string, username: string): boolean {
  return username === serviceAccountUsername(namespace, name);
}

/**
 * The namespace a ServiceAccount subject names: its own, else the binding's. A ServiceAccount subject
 * of a ClusterRoleBinding (bindingNamespace "") without a namespace matches nobody: undefined.
 */
export function subjectServiceAccountNamespace(subject: Subject, bindingNamespace: string): string | undefined {
  const ns = subject.namespace ? subject.namespace : bindingNamespace;
  return ns.length > 0 ? ns : undefined;
}

/** appliesToUser: whether a binding subject covers the user. Kinds other than User, Group, ServiceAccount match nobody. */
export function subjectAppliesTo(user: UserInfo, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.username === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const ns = subjectServiceAccountNamespace(subject, bindingNamespace);
      return ns !== undefined && matchesServiceAccountUsername(ns, subject.name, user.username);
    }
    default:
      return false;
  }
}
