// kill -9 in the middle of an apply, then `rollback`: the cluster is as it was before.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import pMap from 'p-map';
import { test } from 'node:test';
import { SnapshotStore } from '../../src/engine/snapshot-store.js';
import { BIN, deploymentManifest, namespaceState, runCli, tempHome, uniqueNs, withCluster } from '../helpers.js';

const t = withCluster();

test('SIGKILL during apply, then rollback: every object equals its state before', async () => {
  const ns = uniqueNs('crash');
  await t.cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const N = 400;
  await pMap(
    Array.from({ length: N }, (_, i) => i),
    (i) => t.cluster.create(deploymentManifest(`app-${String(i).padStart(3, '0')}`, ns)),
    { concurrency: 8 },
  );
  const stateBefore = await namespaceState(t.cluster, ns);
  const home = tempHome();

  const killed = await runCli(
    ['apply', '--profile', 'restricted', '--areas', 'workloads', '--yes', '--concurrency', '1', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns],
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
  assert.notDeepEqual(await namespaceState(t.cluster, ns), stateBefore);

  const r = await runCli(['rollback', '--yes', '--kubeconfig', t.bed.kubeconfig], { home });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await namespaceState(t.cluster, ns), stateBefore);
  assert.equal((await store.summary(id)).state, 'rolled-back');
});

test('a reader that goes away (| head) does not stop an apply halfway', async () => {
  const ns = uniqueNs('epipe');
  await t.cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const N = 60;
  await pMap(
    Array.from({ length: N }, (_, i) => i),
    (i) => t.cluster.create(deploymentManifest(`app-${i}`, ns)),
    { concurrency: 8 },
  );
  const home = tempHome();
  const child = spawn(
    process.execPath,
    [BIN, 'apply', '--profile', 'restricted', '--areas', 'workloads', '--yes', '--concurrency', '1', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns],
    {
      env: { ...process.env, KUBE_HARDEN_HOME: home, CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  // Read the first line, then close both pipes, as `| head -1` would.
  await new Promise<void>((resolve) => child.stderr.once('data', () => resolve()));
  child.stdout.destroy();
  child.stderr.destroy();
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 0);
  const store = new SnapshotStore(path.join(home, 'snapshots'));
  const [id] = await store.ids();
  assert.equal((await store.summary(id)).state, 'applied');
  assert.equal((await store.summary(id)).applied, N + 1);
});
