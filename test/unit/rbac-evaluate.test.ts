// The RBAC evaluator: each rule of Kubernetes RBAC authorization, including the easy-to-get-wrong ones.
// (test/integration/rbac-differential.test.ts checks the same evaluator against a real API server.)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  aggregateClusterRoles,
  authorize,
  buildIndex,
  grantsOf,
  labelSelectorMatches,
  objectsOf,
  RbacChangeError,
  ruleAllows,
  serviceAccountUser,
  whoCan,
  withChanges,
  type PolicyRule,
  type RbacObject,
  type RbacObjects,
  type RequestAttributes,
  type Subject,
  type UserInfo,
} from '../../src/areas/rbac/evaluate.js';

const RBAC = 'rbac.authorization.k8s.io/v1';
const cr = (name: string, rules: PolicyRule[], extra: Partial<RbacObject> = {}): RbacObject => ({
  apiVersion: RBAC,
  kind: 'ClusterRole',
  metadata: { name, ...(extra.metadata ?? {}) },
  rules,
  ...(extra.aggregationRule ? { aggregationRule: extra.aggregationRule } : {}),
});
const role = (namespace: string, name: string, rules: PolicyRule[]): RbacObject => ({ apiVersion: RBAC, kind: 'Role', metadata: { name, namespace }, rules });
const crb = (name: string, roleName: string, subjects: Subject[]): RbacObject => ({
  apiVersion: RBAC,
  kind: 'ClusterRoleBinding',
  metadata: { name },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
  subjects,
});
const rb = (namespace: string, name: string, roleKind: 'Role' | 'ClusterRole', roleName: string, subjects: Subject[]): RbacObject => ({
  apiVersion: RBAC,
  kind: 'RoleBinding',
  metadata: { name, namespace },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: roleName },
  subjects,
});
const user = (name: string): Subject => ({ kind: 'User', name, apiGroup: 'rbac.authorization.k8s.io' });
const group = (name: string): Subject => ({ kind: 'Group', name, apiGroup: 'rbac.authorization.k8s.io' });
const sa = (name: string, namespace?: string): Subject => ({ kind: 'ServiceAccount', name, ...(namespace ? { namespace } : {}) });

const alice: UserInfo = { username: 'alice', groups: ['system:authenticated'] };

/** One rule bound cluster-wide to alice; whether `attrs` is allowed. */
function allowsCluster(rule: PolicyRule, attrs: RequestAttributes): boolean {
  const index = buildIndex({ clusterRoles: [cr('r', [rule])], clusterRoleBindings: [crb('b', 'r', [user('alice')])] });
  return authorize(index, alice, attrs, { superuserGroups: [] }).allowed;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

describe('rule matching', () => {
  test('verbs: exact or *', () => {
    const r = { apiGroups: [''], resources: ['pods'], verbs: ['get'] };
    assert.equal(ruleAllows({ verb: 'get', resource: 'pods' }, r), true);
    assert.equal(ruleAllows({ verb: 'list', resource: 'pods' }, r), false);
    assert.equal(ruleAllows({ verb: 'escalate', resource: 'pods' }, { ...r, verbs: ['*'] }), true);
    assert.equal(ruleAllows({ verb: 'GET', resource: 'pods' }, r), false, 'verbs are case-sensitive');
  });

  test('apiGroups: "" is the core group, * is every group', () => {
    const core = { apiGroups: [''], resources: ['deployments'], verbs: ['get'] };
    assert.equal(ruleAllows({ verb: 'get', resource: 'deployments' }, core), true);
    assert.equal(ruleAllows({ verb: 'get', apiGroup: 'apps', resource: 'deployments' }, core), false);
    assert.equal(ruleAllows({ verb: 'get', apiGroup: 'apps', resource: 'deployments' }, { ...core, apiGroups: ['*'] }), true);
    assert.equal(ruleAllows({ verb: 'get', resource: 'deployments' }, { ...core, apiGroups: ['*'] }), true);
    assert.equal(ruleAllows({ verb: 'get', apiGroup: 'apps', resource: 'deployments' }, { ...core, apiGroups: undefined }), false);
  });

  test('subresources: pods does not cover pods/log; * and pods/log do; */scale covers every scale', () => {
    const rule = (resources: string[]) => ({ apiGroups: ['*'], resources, verbs: ['get', 'update'] });
    const log = { verb: 'get', resource: 'pods', subresource: 'log' };
    assert.equal(ruleAllows(log, rule(['pods'])), false);
    assert.equal(ruleAllows(log, rule(['pods/log'])), true);
    assert.equal(ruleAllows(log, rule(['*'])), true);
    assert.equal(ruleAllows(log, rule(['*/log'])), true);
    assert.equal(ruleAllows({ verb: 'get', resource: 'pods' }, rule(['pods/log'])), false);
    const scale = rule(['*/scale']);
    assert.equal(ruleAllows({ verb: 'update', apiGroup: 'apps', resource: 'deployments', subresource: 'scale' }, scale), true);
    assert.equal(ruleAllows({ verb: 'update', resource: 'replicationcontrollers', subresource: 'scale' }, scale), true);
    assert.equal(ruleAllows({ verb: 'update', apiGroup: 'apps', resource: 'deployments' }, scale), false, '*/scale is not the deployment itself');
    assert.equal(ruleAllows({ verb: 'update', resource: 'deployments', subresource: 'status' }, scale), false);
    assert.equal(ruleAllows({ verb: 'update', resource: 'deployments', subresource: 'xscale' }, scale), false);
    assert.equal(ruleAllows({ verb: 'get', resource: 'deployments', subresource: 'scale' }, rule(['deployments/*'])), false, 'no resource/* wildcard');
    assert.equal(ruleAllows({ verb: 'get', resource: 'x', subresource: 'scale' }, rule(['*/*'])), false, '*/* is not a wildcard');
  });

  test('resourceNames: only requests naming one of them; never list, watch-all or create', () => {
    const rule = { apiGroups: [''], resources: ['configmaps'], resourceNames: ['app-config'], verbs: ['get', 'list', 'create', 'update', 'delete'] };
    assert.equal(ruleAllows({ verb: 'get', resource: 'configmaps', name: 'app-config' }, rule), true);
    assert.equal(ruleAllows({ verb: 'get', resource: 'configmaps', name: 'other' }, rule), false);
    assert.equal(ruleAllows({ verb: 'list', resource: 'configmaps' }, rule), false, 'a list has no name');
    assert.equal(ruleAllows({ verb: 'create', resource: 'configmaps' }, rule), false, 'a create has no name');
    assert.equal(ruleAllows({ verb: 'list', resource: 'configmaps', name: 'app-config' }, rule), true, 'a list with a field selector on the name does');
    assert.equal(ruleAllows({ verb: 'get', resource: 'configmaps', name: 'app-config' }, { ...rule, resourceNames: [] }), true);
  });

  test('non-resource URLs: exact, *, trailing * is a plain prefix; a resource rule never matches them', () => {
    const rule = (urls: string[]) => ({ nonResourceURLs: urls, verbs: ['get'] });
    const get = (url: string) => ({ verb: 'get', nonResourceURL: url });
    assert.equal(ruleAllows(get('/healthz'), rule(['/healthz'])), true);
    assert.equal(ruleAllows(get('/healthz/etcd'), rule(['/healthz'])), false);
    assert.equal(ruleAllows(get('/healthz/etcd'), rule(['/healthz/*'])), true);
    assert.equal(ruleAllows(get('/healthz'), rule(['/healthz/*'])), false, '/healthz/* needs the slash');
    assert.equal(ruleAllows(get('/apis/apps/v1'), rule(['/api*'])), true, 'a prefix, not a path segment');
    assert.equal(ruleAllows(get('/api'), rule(['/api*'])), true);
    assert.equal(ruleAllows(get('/anything'), rule(['*'])), true);
    assert.equal(ruleAllows(get('/metricsfoo'), rule(['/metrics**'])), true, 'every trailing * is dropped');
    assert.equal(ruleAllows(get('/a*b'), rule(['/a*b'])), true, 'an inner * is literal');
    assert.equal(ruleAllows(get('/axb'), rule(['/a*b'])), false);
    assert.equal(ruleAllows({ verb: 'post', nonResourceURL: '/healthz' }, rule(['/healthz'])), false);
    assert.equal(ruleAllows(get('/healthz'), { apiGroups: ['*'], resources: ['*'], verbs: ['*'] }), false);
    assert.equal(ruleAllows({ verb: 'get', resource: 'pods' }, { nonResourceURLs: ['*'], verbs: ['*'] }), false);
  });

  test('an empty rule allows nothing', () => {
    assert.equal(allowsCluster({}, { verb: 'get', resource: 'pods' }), false);
    assert.equal(allowsCluster({ verbs: ['*'] }, { verb: 'get', nonResourceURL: '/' }), false);
  });
});

describe('bindings and subjects', () => {
  const objects: RbacObjects = {
    clusterRoles: [
      cr('pod-reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]),
      cr('health', [{ nonResourceURLs: ['/healthz', '/version'], verbs: ['get'] }]),
    ],
    roles: [role('dev', 'cm-writer', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['*'] }])],
    roleBindings: [
      rb('dev', 'bob-pods', 'ClusterRole', 'pod-reader', [user('bob')]),
      rb('dev', 'bob-health', 'ClusterRole', 'health', [user('bob')]),
      rb('dev', 'cm', 'Role', 'cm-writer', [group('devs')]),
      rb('dev', 'sa-local', 'Role', 'cm-writer', [sa('builder')]),
      rb('dev', 'dangling', 'Role', 'does-not-exist', [user('carol')]),
      rb('dev', 'dangling-cr', 'ClusterRole', 'does-not-exist', [user('carol')]),
      rb('dev', 'all-sas', 'ClusterRole', 'pod-reader', [group('system:serviceaccounts:ci')]),
      rb('prod', 'cross', 'Role', 'cm-writer', [user('dave')]),
    ],
    clusterRoleBindings: [
      crb('health', 'health', [group('system:authenticated')]),
      crb('sa-no-ns', 'pod-reader', [sa('robot')]),
      crb('sa-ns', 'pod-reader', [{ kind: 'ServiceAccount', name: 'robot', namespace: 'ops' }]),
      crb('weird', 'pod-reader', [{ kind: 'Machine', name: 'erin' }, user('erin')]),
    ],
  };
  const index = buildIndex(objects);
  const can = (u: UserInfo, attrs: RequestAttributes) => authorize(index, u, attrs).allowed;
  const bob: UserInfo = { username: 'bob', groups: [] };

  test('a RoleBinding to a ClusterRole grants in its namespace only', () => {
    assert.equal(can(bob, { verb: 'list', resource: 'pods', namespace: 'dev' }), true);
    assert.equal(can(bob, { verb: 'list', resource: 'pods', namespace: 'prod' }), false);
    assert.equal(can(bob, { verb: 'list', resource: 'pods' }), false, 'not across all namespaces');
    assert.equal(can(bob, { verb: 'get', nonResourceURL: '/healthz' }), false, 'non-resource URLs have no namespace');
    assert.equal(can(bob, { verb: 'get', nonResourceURL: '/healthz', namespace: 'dev' }), false, 'a URL request has no namespace, even if one is given');
  });

  test('a RoleBinding finds its Role in its own namespace; missing roles grant nothing', () => {
    const devs: UserInfo = { username: 'zed', groups: ['devs'] };
    assert.equal(can(devs, { verb: 'delete', resource: 'configmaps', namespace: 'dev', name: 'x' }), true);
    assert.equal(can(devs, { verb: 'delete', resource: 'configmaps', namespace: 'prod', name: 'x' }), false);
    assert.equal(can({ username: 'dave', groups: [] }, { verb: 'get', resource: 'configmaps', namespace: 'prod' }), false, 'no cm-writer Role in prod');
    assert.equal(can({ username: 'carol', groups: [] }, { verb: 'get', resource: 'pods', namespace: 'dev' }), false);
  });

  test('Group and User subjects; groups are exactly the ones given', () => {
    assert.equal(can(alice, { verb: 'get', nonResourceURL: '/version' }), true);
    assert.equal(can({ username: 'alice', groups: [] }, { verb: 'get', nonResourceURL: '/version' }), false);
    assert.equal(
      can({ username: 'devs', groups: [] }, { verb: 'get', resource: 'configmaps', namespace: 'dev' }),
      false,
      'a user named like a group is not in it',
    );
  });

  test('ServiceAccount subjects: the username system:serviceaccount:NS:NAME, namespace defaulted from a RoleBinding only', () => {
    assert.equal(can({ username: 'system:serviceaccount:dev:builder', groups: [] }, { verb: 'create', resource: 'configmaps', namespace: 'dev' }), true);
    assert.equal(can({ username: 'system:serviceaccount:prod:builder', groups: [] }, { verb: 'create', resource: 'configmaps', namespace: 'dev' }), false);
    assert.equal(can({ username: 'builder', groups: [] }, { verb: 'create', resource: 'configmaps', namespace: 'dev' }), false);
    // A ClusterRoleBinding's ServiceAccount subject without a namespace matches nobody.
    assert.equal(can({ username: 'system:serviceaccount::robot', groups: [] }, { verb: 'get', resource: 'pods' }), false);
    assert.equal(can({ username: 'system:serviceaccount:ops:robot', groups: [] }, { verb: 'get', resource: 'pods' }), true);
    assert.equal(can({ username: 'system:serviceaccount:ops:robot2', groups: [] }, { verb: 'get', resource: 'pods' }), false);
  });

  test('service account groups come from the groups given', () => {
    const ciSa = serviceAccountUser('ci', 'deployer');
    assert.deepEqual(ciSa.groups, ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated']);
    assert.equal(can(ciSa, { verb: 'list', resource: 'pods', namespace: 'dev' }), true, 'group system:serviceaccounts:ci is bound in dev');
    assert.equal(can({ ...ciSa, groups: [] }, { verb: 'list', resource: 'pods', namespace: 'dev' }), false);
  });

  test('unknown subject kinds match nobody; the others in the same binding still do', () => {
    assert.equal(can({ username: 'erin', groups: [] }, { verb: 'get', resource: 'pods' }), true);
    assert.equal(authorize(index, { username: 'erin', groups: [] }, { verb: 'get', resource: 'pods' }).via?.subjectIndex, 1);
  });

  test('system:masters is allowed everything unless superuserGroups says otherwise', () => {
    const admin: UserInfo = { username: 'root', groups: ['system:masters'] };
    assert.deepEqual(authorize(index, admin, { verb: 'delete', resource: 'nodes', name: 'n1' }), { allowed: true, superuserGroup: 'system:masters' });
    assert.equal(authorize(index, admin, { verb: 'delete', resource: 'nodes' }, { superuserGroups: [] }).allowed, false);
    assert.equal(authorize(index, { username: 'x', groups: ['wheel'] }, { verb: 'get', nonResourceURL: '/x' }, { superuserGroups: ['wheel'] }).allowed, true);
  });

  test('via names the binding, the role and the rule; ClusterRoleBindings are looked at first', () => {
    const d = authorize(index, { username: 'system:serviceaccount:ops:robot', groups: [] }, { verb: 'list', resource: 'pods', namespace: 'dev' });
    assert.deepEqual(d.via && { binding: d.via.binding, role: d.via.role, ruleIndex: d.via.ruleIndex }, {
      binding: { kind: 'ClusterRoleBinding', name: 'sa-ns' },
      role: { kind: 'ClusterRole', name: 'pod-reader' },
      ruleIndex: 0,
    });
    const d2 = authorize(index, { username: 'system:serviceaccount:dev:builder', groups: [] }, { verb: 'get', resource: 'configmaps', namespace: 'dev' });
    assert.deepEqual(d2.via?.binding, { kind: 'RoleBinding', namespace: 'dev', name: 'sa-local' });
    assert.deepEqual(d2.via?.role, { kind: 'Role', namespace: 'dev', name: 'cm-writer' });
    assert.deepEqual(d2.via?.subject, sa('builder'));
  });

  test('grantsOf lists every path, per namespace or everywhere', () => {
    const all = grantsOf(index, bob);
    assert.deepEqual(
      all.map((p) => `${p.binding.kind}/${p.binding.namespace ?? ''}/${p.binding.name} -> ${p.role.kind}/${p.role.name}#${p.ruleIndex}`),
      ['RoleBinding/dev/bob-health -> ClusterRole/health#0', 'RoleBinding/dev/bob-pods -> ClusterRole/pod-reader#0'],
    );
    assert.equal(all[0].namespace, 'dev');
    assert.deepEqual(grantsOf(index, bob, { namespace: 'prod' }), []);
    assert.deepEqual(
      grantsOf(index, alice).map((p) => p.binding.name),
      ['health'],
    );
    assert.deepEqual(
      grantsOf(index, group('devs')).map((p) => p.binding.name),
      ['cm'],
    );
    assert.deepEqual(
      grantsOf(index, sa('builder', 'dev')).map((p) => p.binding.name),
      ['sa-local'],
    );
    assert.deepEqual(
      grantsOf(index, serviceAccountUser('ci', 'x')).map((p) => p.binding.name),
      ['health', 'all-sas'],
      'its implicit groups count',
    );
    assert.deepEqual(grantsOf(index, { username: 'carol', groups: [] }), [], 'a binding to a missing role is no path');
  });

  test('whoCan lists the bound subjects and the superuser group, with their paths', () => {
    const who = whoCan(index, { verb: 'list', resource: 'pods', namespace: 'dev' });
    assert.deepEqual(
      who.map((e) => `${e.subject.kind}:${e.subject.namespace ?? ''}:${e.subject.name}${e.superuser ? '!' : ''} ${e.paths.map((p) => p.binding.name)}`),
      ['Group::system:masters! ', 'Group::system:serviceaccounts:ci all-sas', 'ServiceAccount:ops:robot sa-ns', 'User::bob bob-pods', 'User::erin weird'],
    );
    const cms = whoCan(index, { verb: 'update', resource: 'configmaps', namespace: 'dev', name: 'a' }, { superuserGroups: [] });
    assert.deepEqual(
      cms.map((e) => e.subject),
      [
        { kind: 'Group', name: 'devs' },
        { kind: 'ServiceAccount', name: 'builder', namespace: 'dev' },
      ],
    );
  });
});

describe('withChanges and aggregation', () => {
  const base = (): RbacObjects =>
    deepFreeze({
      clusterRoles: [
        cr('admin-ish', [], { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'agg/admin': 'true' } }] } }),
        cr('edit-ish', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }], {
          metadata: { name: 'edit-ish', labels: { 'agg/admin': 'true' } },
          aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'agg/edit': 'true' } }] },
        }),
        cr('b-parts', [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['*'] }], { metadata: { name: 'b-parts', labels: { 'agg/edit': 'true' } } }),
        cr(
          'a-parts',
          [
            { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
            { apiGroups: ['apps'], resources: ['deployments'], verbs: ['*'] },
          ],
          {
            metadata: { name: 'a-parts', labels: { 'agg/edit': 'true' } },
          },
        ),
      ],
      clusterRoleBindings: [crb('me', 'admin-ish', [user('me')])],
      roleBindings: [rb('ns1', 'x', 'ClusterRole', 'b-parts', [user('you')])],
    });
  const me: UserInfo = { username: 'me', groups: [] };
  const deploy = { verb: 'delete', apiGroup: 'apps', resource: 'deployments', namespace: 'ns1', name: 'd' };

  test('aggregation: selectors in order, roles by name, each rule once, nested roles settle', () => {
    const objects = base();
    const settled = aggregateClusterRoles(objects.clusterRoles!);
    const rulesOf = (name: string) => settled.find((c) => c.metadata.name === name)!.rules;
    assert.deepEqual(rulesOf('edit-ish'), [
      { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['*'] },
    ]);
    assert.deepEqual(rulesOf('admin-ish'), rulesOf('edit-ish'), 'admin-ish gets what edit-ish aggregated, not its stale rules');
    assert.equal(settled[2], objects.clusterRoles![2], 'unchanged roles are the same objects');
    assert.deepEqual(aggregateClusterRoles(settled), settled, 'settled is a fixed point');
  });

  test('label selectors: matchLabels and every operator; an invalid selector changes nothing', () => {
    const labels = { a: '1', b: '2' };
    assert.equal(labelSelectorMatches({}, labels), true);
    assert.equal(labelSelectorMatches({ matchLabels: { a: '1' } }, labels), true);
    assert.equal(labelSelectorMatches({ matchLabels: { a: '2' } }, labels), false);
    assert.equal(labelSelectorMatches({ matchExpressions: [{ key: 'a', operator: 'In', values: ['0', '1'] }] }, labels), true);
    assert.equal(labelSelectorMatches({ matchExpressions: [{ key: 'c', operator: 'NotIn', values: ['1'] }] }, labels), true, 'NotIn matches an absent label');
    assert.equal(labelSelectorMatches({ matchExpressions: [{ key: 'b', operator: 'NotIn', values: ['2'] }] }, labels), false);
    assert.equal(labelSelectorMatches({ matchExpressions: [{ key: 'b', operator: 'Exists' }] }, labels), true);
    assert.equal(labelSelectorMatches({ matchExpressions: [{ key: 'b', operator: 'DoesNotExist' }] }, labels), false);
    assert.equal(labelSelectorMatches({ matchLabels: { a: '1' }, matchExpressions: [{ key: 'c', operator: 'Exists' }] }, labels), false);
    const bad = cr('bad', [{ verbs: ['get'], nonResourceURLs: ['/x'] }], {
      aggregationRule: { clusterRoleSelectors: [{ matchExpressions: [{ key: 'a', operator: 'Near' }] }] },
    });
    assert.deepEqual(aggregateClusterRoles([bad, cr('other', [{ verbs: ['*'], nonResourceURLs: ['*'] }])])[0].rules, bad.rules);
  });

  test('a plan that removes the only path locks me out; the input index is untouched', () => {
    const before = buildIndex(base());
    const settled = withChanges(before, {});
    assert.equal(authorize(settled, me, deploy).allowed, true);
    const after = withChanges(before, { remove: [{ kind: 'ClusterRoleBinding', name: 'me' }] });
    assert.equal(authorize(after, me, deploy).allowed, false);
    assert.equal(before.clusterRoleBindings.length, 1);
  });

  test('removing or relabelling an aggregated part takes its rules out of every role that aggregated it', () => {
    const before = withChanges(buildIndex(base()), {});
    const removed = withChanges(before, { remove: [{ kind: 'ClusterRole', name: 'a-parts' }] });
    assert.equal(authorize(removed, me, deploy).allowed, true, 'b-parts still grants deployments');
    assert.equal(authorize(removed, me, { verb: 'get', resource: 'pods', name: 'p' }).allowed, false);
    const relabelled = withChanges(before, {
      remove: [{ kind: 'ClusterRole', name: 'a-parts' }],
      replace: [cr('b-parts', [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['*'] }])],
    });
    assert.equal(authorize(relabelled, me, deploy).allowed, false);
    assert.equal(authorize(withChanges(before, { remove: [{ kind: 'ClusterRole', name: 'a-parts' }] }, { aggregate: false }), me, deploy).allowed, true);
  });

  test('add and replace: a new binding grants, a narrowed role grants less', () => {
    const before = buildIndex(base());
    const you: UserInfo = { username: 'you', groups: [] };
    assert.equal(authorize(before, you, deploy).allowed, true);
    const narrowed = withChanges(before, {
      replace: [
        cr('b-parts', [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] }], { metadata: { name: 'b-parts', labels: { 'agg/edit': 'true' } } }),
      ],
    });
    assert.equal(authorize(narrowed, you, deploy).allowed, false);
    assert.equal(authorize(narrowed, you, { ...deploy, verb: 'get' }).allowed, true);
    const added = withChanges(narrowed, { add: [rb('ns2', 'y', 'ClusterRole', 'edit-ish', [user('you')])] });
    assert.equal(authorize(added, you, { ...deploy, namespace: 'ns2', verb: 'get' }).allowed, true);
    assert.equal(
      authorize(added, you, { ...deploy, namespace: 'ns2', verb: 'get', resource: 'secrets', apiGroup: '' }).allowed,
      false,
      'edit-ish is aggregated: its own rule is overwritten',
    );
    assert.equal(objectsOf(added).roleBindings.length, 2);
  });

  test('plans that disagree with the index are refused', () => {
    const before = buildIndex(base());
    assert.throws(() => withChanges(before, { remove: [{ kind: 'RoleBinding', namespace: 'ns1', name: 'nope' }] }), RbacChangeError);
    assert.throws(() => withChanges(before, { remove: [{ kind: 'RoleBinding', name: 'x' }] }), /needs a namespace/);
    assert.throws(() => withChanges(before, { add: [crb('me', 'x', [])] }), /already exists/);
    assert.throws(() => withChanges(before, { replace: [crb('nobody', 'x', [])] }), /does not exist/);
    assert.throws(() => withChanges(before, { add: [{ metadata: { name: 'k' } }] }), /not an RBAC kind/);
    // remove then add the same object is a re-create, which is fine
    const recreated = withChanges(before, { remove: [{ kind: 'ClusterRoleBinding', name: 'me' }], add: [crb('me', 'b-parts', [user('me')])] });
    assert.equal(authorize(recreated, me, { verb: 'get', apiGroup: 'apps', resource: 'deployments' }).allowed, true);
  });
});
