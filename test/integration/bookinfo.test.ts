// bookinfo (unhardened) end to end through the real CLI against the real API server:
// apply the restricted profile, check every container, roll back, check every object is as before.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { podSpecOf, allContainers, type PodSpec } from '../../src/areas/workloads/pod-spec.js';
import { deployments, namespaceState, runCli, seedFixture, tempHome, uniqueNs, withCluster, BOOKINFO } from '../helpers.js';

const t = withCluster();

function assertHardened(pod: PodSpec, runAsUser?: number) {
  assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
  assert.equal(pod.securityContext?.runAsNonRoot, true);
  if (runAsUser !== undefined) assert.equal(pod.securityContext?.runAsUser, runAsUser);
  for (const c of allContainers(pod)) {
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${c.name}: allowPrivilegeEscalation`);
    assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], `${c.name}: drop ALL`);
  }
}

test('bookinfo: apply hardens every container, rollback restores every object exactly', async () => {
  const ns = uniqueNs('bookinfo');
  await seedFixture(t.bed, BOOKINFO, ns);
  const beforeState = await namespaceState(t.cluster, ns);
  assert.equal(Object.keys(beforeState).filter((k) => k.startsWith('Deployment/')).length, 6);
  const home = tempHome();

  const applied = await runCli(['apply', '--profile', 'restricted', '--areas', 'workloads', '--yes', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns], {
    home,
  });
  assert.equal(applied.code, 0, applied.stderr);
  assert.match(applied.stdout, /applied 7 change\(s\)/);
  const id = /snapshot (\S+); undo with: kube-harden rollback \1/.exec(applied.stdout)?.[1];
  assert.ok(id, applied.stdout);

  const deps = await deployments(t.cluster, ns);
  for (const d of deps) assertHardened(podSpecOf(d)!);
  const nsObj = await t.cluster.get({ apiVersion: 'v1', kind: 'Namespace', name: ns });
  assert.equal(nsObj.metadata.labels?.['pod-security.kubernetes.io/warn'], 'restricted');
  assert.ok(['baseline', 'restricted'].includes(nsObj.metadata.labels!['pod-security.kubernetes.io/enforce']));

  const rolled = await runCli(['rollback', id!, '--yes', '--kubeconfig', t.bed.kubeconfig], { home });
  assert.equal(rolled.code, 0, rolled.stderr);
  assert.match(rolled.stdout, /7 restored/);
  assert.deepEqual(await namespaceState(t.cluster, ns), beforeState);

  // A second rollback of the same snapshot changes nothing.
  const again = await runCli(['rollback', id!, '--yes', '--kubeconfig', t.bed.kubeconfig], { home });
  assert.equal(again.code, 0);
  assert.match(again.stdout, /already rolled back/);
});

test('bookinfo: an answered runAsUser is set where no user is named', async () => {
  const ns = uniqueNs('bookinfo-uid');
  await seedFixture(t.bed, BOOKINFO, ns);
  const home = tempHome();
  const profile = path.join(home, 'uid.yaml');
  writeFileSync(
    profile,
    'version: 1\nname: uid\nanswers:\n  workloads.fixes: [noEscalation, dropAll, seccomp, runAsNonRoot]\n  workloads.runAsUser: "10001"\n  workloads.psa: skip\n',
  );
  const r = await runCli(['apply', '--profile', profile, '--yes', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns], { home });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /applied 6 change\(s\)/);
  for (const d of await deployments(t.cluster, ns)) assertHardened(podSpecOf(d)!, 10001);
});
