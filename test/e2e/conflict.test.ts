// A Deployment edited by someone else between the preview and the apply: reported, not overwritten,
// exit 4, and the changes already made are rolled back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { namespaceState, seedFixture, tempHome, uniqueNs, withCluster, BOOKINFO } from '../helpers.js';
import { spawnCli } from './pty.js';

const t = withCluster();

test('edited between preview and apply: not overwritten, exit 4, the rest rolled back', async () => {
  const ns = uniqueNs('conflict');
  await seedFixture(t.bed, BOOKINFO, ns);
  const home = tempHome();
  const term = spawnCli(['apply', '--profile', 'restricted', '--areas', 'workloads', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns], {
    KUBE_HARDEN_HOME: home,
  });
  await term.waitFor(/Apply 7 change\(s\) to kube-harden-testbed\? \(y\/N\)/);

  // Someone else edits reviews-v1 while the operator reads the plan.
  const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'reviews-v1' };
  const theirs = await t.cluster.get(ref);
  theirs.metadata.annotations = { ...(theirs.metadata.annotations ?? {}), 'team.example/owner': 'payments' };
  (theirs.spec as { replicas: number }).replicas = 3;
  await t.cluster.replace(theirs);
  const stateWithTheirEdit = await namespaceState(t.cluster, ns);

  await term.write('y\r');
  const { exitCode } = await term.exit;
  const out = term.text();
  assert.equal(exitCode, 4, out);
  assert.match(out, /deployment\/reviews-v1 in conflict-.* changed since the preview; it was not overwritten/);
  assert.match(out, /already applied were rolled back/);
  // Their edit stands, nothing of ours is left anywhere.
  const now = await t.cluster.get(ref);
  assert.equal(now.metadata.annotations?.['team.example/owner'], 'payments');
  assert.deepEqual(await namespaceState(t.cluster, ns), stateWithTheirEdit);
});
