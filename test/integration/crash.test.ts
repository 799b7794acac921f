// kill -9 in the middle of an apply, then `rollback`: the cluster is as it was before.
import assert from 'node:assert/strict';
import path from 'node:path';
import pMap from 'p-map';
import { after, before, test } from 'node:test';
import type { Cluster } from '../../src/cluster/client.js';
import { SnapshotStore } from '../../src/engine/snapshot-store.js';
import { connect, deploymentManifest, namespaceState, runCli, sharedTestbed, tempHome, uniqueNs, type Testbed } from '../helpers.js';

let bed: Testbed;
let cluster: Cluster;
before(async () => {
  bed = await sharedTestbed();
  cluster = await connect(bed.kubeconfig);
});
after(() => cluster?.close());

test('SIGKILL during apply, then rollback: every object equals its state before', async () => {
  const ns = uniqueNs('crash');
  await cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const N = 400;
  await pMap(Array.from({ length: N }, (_, i) => i), (i) => cluster.create(deploymentManifest(`app-${String(i).padStart(3, '0')}`, ns)), { concurrency: 8 });
  const stateBefore = await namespaceState(cluster, ns);
  const home = tempHome();

  const killed = await runCli(
    ['apply', '--profile', 'restricted', '--yes', '--concurrency', '1', '--kubeconfig', bed.kubeconfig, '--namespaces', ns],
    {
      home,
      onStderr: (all, kill) => {
        if (/applied 20\//.test(all)) kill();
      },
    },
  );
  assert.equal(killed.signal, 'SIGKILL', `the apply finished before it could be killed: ${killed.stdout}`);
  const store = new SnapshotStore(path.join(home, 'snapshots'));
  const [id] = await store.ids();
  const summary = await store.summary(id);
  assert.equal(summary.state, 'partial');
  assert.ok(summary.applied >= 20 && summary.applied < N + 1, `applied ${summary.applied}`);
  assert.notDeepEqual(await namespaceState(cluster, ns), stateBefore);

  const r = await runCli(['rollback', '--yes', '--kubeconfig', bed.kubeconfig], { home });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await namespaceState(cluster, ns), stateBefore);
  assert.equal((await store.summary(id)).state, 'rolled-back');
});
