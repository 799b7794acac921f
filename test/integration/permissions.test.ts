// A user without the permissions a plan needs is told which, before anything is written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { namespaceState, runCli, seedFixture, tempHome, uniqueNs, withCluster, BOOKINFO } from '../helpers.js';

const t = withCluster();

test('the limited user (no grants): exit 4 naming the missing read permissions', async () => {
  const r = await runCli(['apply', '--profile', 'restricted', '--areas', 'workloads', '--yes', '--kubeconfig', t.bed.limitedKubeconfig], { home: tempHome() });
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stderr, /missing permissions to inspect the cluster \(nothing was changed\): list namespaces.*list deployments\.apps/);
  assert.equal(r.stderr.trim().split('\n').length, 2, r.stderr); // the context line and the error line
});

test('a read-only user: the missing write permissions are named before the first write', async () => {
  const ns = uniqueNs('readonly');
  await seedFixture(t.bed, BOOKINFO, ns);
  const stateBefore = await namespaceState(t.cluster, ns);
  const binding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: `limited-view-${ns}` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'limited-user' }],
  };
  const nsReader = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: `ns-reader-${ns}` },
    rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list'] }],
  };
  const nsBinding = { ...binding, metadata: { name: `limited-ns-${ns}` }, roleRef: { ...binding.roleRef, name: nsReader.metadata.name } };
  await t.cluster.create(binding);
  await t.cluster.create(nsReader);
  await t.cluster.create(nsBinding);
  try {
    const r = await runCli(['apply', '--profile', 'restricted', '--areas', 'workloads', '--yes', '--kubeconfig', t.bed.limitedKubeconfig, '--namespaces', ns], {
      home: tempHome(),
    });
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, new RegExp(`missing permissions \\(nothing was changed\\): .*update deployments\\.apps in namespace ${ns}`));
    assert.match(r.stderr, /update namespaces/);
    assert.doesNotMatch(r.stderr, /snapshot/);
    assert.deepEqual(await namespaceState(t.cluster, ns), stateBefore);
  } finally {
    for (const o of [binding, nsBinding, nsReader]) await t.cluster.delete({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name });
  }
});
