/** The rbac area's rule fixtures, for the contract test (not shipped: nothing in the tool imports it). */
import type { KubeObject } from '../../cluster/types.js';
import type { AreaFixtures } from '../types.js';
import type { PolicyRule, Subject } from './evaluate.js';

const RBAC = 'rbac.authorization.k8s.io/v1';
const G = 'rbac.authorization.k8s.io';
const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const cr = (name: string, rules: PolicyRule[]): KubeObject => ({ apiVersion: RBAC, kind: 'ClusterRole', metadata: { name, resourceVersion: '1' }, rules });
const role = (namespace: string, name: string, rules: PolicyRule[]): KubeObject => ({
  apiVersion: RBAC,
  kind: 'Role',
  metadata: { name, namespace, resourceVersion: '1' },
  rules,
});
const crb = (name: string, roleName: string, subjects: Subject[]): KubeObject => ({
  apiVersion: RBAC,
  kind: 'ClusterRoleBinding',
  metadata: { name, resourceVersion: '1' },
  roleRef: { apiGroup: G, kind: 'ClusterRole', name: roleName },
  subjects,
});
const rb = (namespace: string, name: string, kind: 'Role' | 'ClusterRole', roleName: string, subjects: Subject[]): KubeObject => ({
  apiVersion: RBAC,
  kind: 'RoleBinding',
  metadata: { name, namespace, resourceVersion: '1' },
  roleRef: { apiGroup: G, kind, name: roleName },
  subjects,
});
const sa = (namespace: string, automount?: boolean): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: { name: 'default', namespace, resourceVersion: '1' },
  ...(automount === undefined ? {} : { automountServiceAccountToken: automount }),
});
const user = (name: string): Subject => ({ kind: 'User', apiGroup: G, name });
const group = (name: string): Subject => ({ kind: 'Group', apiGroup: G, name });

/** A small clean cluster: cluster-admin, view and edit as their (shortened) defaults, one namespace. */
const BASE: KubeObject[] = [
  ns('fx'),
  ns('kube-system'),
  cr('cluster-admin', [
    { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
    { nonResourceURLs: ['*'], verbs: ['*'] },
  ]),
  cr('view', [{ apiGroups: [''], resources: ['pods', 'configmaps', 'services'], verbs: ['get', 'list', 'watch'] }]),
  cr('edit', [{ apiGroups: ['', 'apps'], resources: ['pods', 'deployments', 'configmaps'], verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'] }]),
  sa('fx', false),
  sa('kube-system', false),
];
const cluster = (...objs: KubeObject[]) => [...BASE, ...objs];
const bindings = (v: Record<string, string>) => ({ 'rbac.bindings': v });

export const fixtures: AreaFixtures = {
  answers: { 'rbac.bindings': {}, 'rbac.automount': [], 'rbac.readOnlyUsers': [], 'rbac.readOnlyGroups': [] },
  probed: {
    rbacApiServed:
      'found by GET /apis/rbac.authorization.k8s.io/v1 on the live API server: served on the test bed (test/integration/rbac-area.test.ts), not served on a bed started without it (test/integration/rbac-not-in-force.test.ts)',
    unknownUserAllowed:
      'found by SubjectAccessReviews for a made-up user on the live API server: denied on a clean bed, allowed with its path once cluster-admin is bound to system:authenticated (rbac-area.test.ts), allowed with no binding to explain it under AlwaysAllow (rbac-not-in-force.test.ts)',
    anonymousAllowed:
      'found by SubjectAccessReviews for system:anonymous on the live API server: denied on a clean bed and with cluster-admin bound to system:authenticated (rbac-area.test.ts), allowed with no binding to explain it under AlwaysAllow (rbac-not-in-force.test.ts)',
  },
  rules: {
    adminToEveryone: {
      failing: cluster(crb('everyone-admin', 'cluster-admin', [group('system:authenticated')])),
      passing: cluster(crb('everyone-view', 'view', [group('system:authenticated')])),
      fix: bindings({ 'ClusterRoleBinding/everyone-admin': 'remove' }),
    },
    adminToDefaultServiceAccount: {
      failing: cluster(rb('fx', 'default-admin', 'ClusterRole', 'cluster-admin', [{ kind: 'ServiceAccount', name: 'default' }])),
      passing: cluster(rb('fx', 'default-view', 'ClusterRole', 'view', [{ kind: 'ServiceAccount', name: 'default' }])),
      fix: bindings({ 'RoleBinding/fx/default-admin': 'view' }),
    },
    wildcardToUser: {
      failing: cluster(cr('apps-everything', [{ apiGroups: ['apps'], resources: ['*'], verbs: ['*'] }]), crb('alice-apps', 'apps-everything', [user('alice')])),
      passing: cluster(crb('alice-edit', 'edit', [user('alice')])),
      fix: bindings({ 'ClusterRoleBinding/alice-apps': 'read-only' }),
    },
    escalateBindImpersonate: {
      failing: cluster(
        cr('impersonator', [{ apiGroups: [''], resources: ['users', 'groups'], verbs: ['impersonate'] }]),
        crb('ops-impersonate', 'impersonator', [group('ops')]),
      ),
      passing: cluster(crb('ops-view', 'view', [group('ops')])),
      fix: bindings({ 'ClusterRoleBinding/ops-impersonate': 'remove' }),
    },
    secretsClusterWide: {
      failing: cluster(
        cr('secret-reader', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }]),
        crb('sa-secrets', 'secret-reader', [group('system:serviceaccounts')]),
      ),
      passing: cluster(
        cr('secret-reader', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }]),
        rb('fx', 'sa-secrets', 'ClusterRole', 'secret-reader', [user('erin')]),
      ),
      fix: bindings({ 'ClusterRoleBinding/sa-secrets': 'remove' }),
    },
    execAttach: {
      failing: cluster(
        role('fx', 'exec', [{ apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }]),
        rb('fx', 'bob-exec', 'Role', 'exec', [user('bob')]),
      ),
      passing: cluster(role('fx', 'logs', [{ apiGroups: [''], resources: ['pods/log'], verbs: ['get'] }]), rb('fx', 'bob-logs', 'Role', 'logs', [user('bob')])),
      fix: bindings({ 'RoleBinding/fx/bob-exec': 'view' }),
    },
    kubeSystemWorkloads: {
      failing: cluster(
        role('kube-system', 'deployer', [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['create'] }]),
        rb('kube-system', 'carol-deploy', 'Role', 'deployer', [user('carol')]),
      ),
      passing: cluster(
        role('fx', 'deployer', [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['create'] }]),
        rb('fx', 'carol-deploy', 'Role', 'deployer', [user('carol')]),
      ),
      fix: bindings({ 'RoleBinding/kube-system/carol-deploy': 'remove' }),
    },
    nodesProxy: {
      failing: cluster(
        cr('node-proxy', [{ apiGroups: [''], resources: ['nodes/proxy'], verbs: ['get'] }]),
        crb('prom-nodes', 'node-proxy', [{ kind: 'ServiceAccount', name: 'prom', namespace: 'fx' }]),
      ),
      passing: cluster(
        cr('node-metrics', [{ apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] }]),
        crb('prom-nodes', 'node-metrics', [{ kind: 'ServiceAccount', name: 'prom', namespace: 'fx' }]),
      ),
      fix: bindings({ 'ClusterRoleBinding/prom-nodes': 'remove' }),
    },
    tokenCreate: {
      failing: cluster(
        cr('token-minter', [{ apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] }]),
        crb('dave-tokens', 'token-minter', [user('dave')]),
      ),
      passing: cluster(cr('sa-reader', [{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get'] }]), crb('dave-sas', 'sa-reader', [user('dave')])),
      fix: bindings({ 'ClusterRoleBinding/dave-tokens': 'remove' }),
    },
    defaultServiceAccountAutomount: {
      failing: [...BASE.filter((o) => !(o.kind === 'ServiceAccount' && o.metadata.namespace === 'fx')), sa('fx')],
      passing: BASE,
      fix: { 'rbac.automount': ['fx'] },
    },
  },
};
