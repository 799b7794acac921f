// A fleet: the same profile on two real clusters through --all-contexts: a snapshot per cluster, one summary.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { SnapshotStore } from '../../src/engine/snapshot-store.js';
import { Cluster } from '../../src/cluster/client.js';
import { privateTestbed } from '../cluster/testbed.js';
import { deploymentManifest, runCli, tempHome, uniqueNs, withCluster } from '../helpers.js';

const t = withCluster();

/** One kubeconfig with both beds, their contexts renamed (both beds call theirs kube-harden-testbed). */
function merged(a: string, b: string, dir: string): string {
  const rename = (file: string, name: string) => {
    const k = parse(readFileSync(file, 'utf8'));
    k.clusters[0].name = `${name}-cluster`;
    k.users[0].name = `${name}-user`;
    k.contexts[0] = { name, context: { cluster: `${name}-cluster`, user: `${name}-user` } };
    return k;
  };
  const ka = rename(a, 'bed-a');
  const kb = rename(b, 'bed-b');
  const out = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [...ka.clusters, ...kb.clusters],
    users: [...ka.users, ...kb.users],
    contexts: [...ka.contexts, ...kb.contexts],
    'current-context': 'bed-a',
  };
  const file = path.join(dir, 'fleet.kubeconfig');
  writeFileSync(file, stringify(out), { mode: 0o600 });
  return file;
}

test('--all-contexts: the profile on every cluster of the kubeconfig, a snapshot each, one summary table', async () => {
  const other = await privateTestbed();
  const ns = uniqueNs('fleet');
  for (const kc of [t.bed.kubeconfig, other.kubeconfig]) {
    const c = await Cluster.connect({ kubeconfig: kc });
    await c.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await c.create(deploymentManifest('web', ns, 1));
    await c.close();
  }
  const home = tempHome();
  const kubeconfig = merged(t.bed.kubeconfig, other.kubeconfig, home);
  const refused = await runCli(['apply', '--profile', 'restricted', '--areas', 'workloads', '--all-contexts', '--kubeconfig', kubeconfig, '--namespaces', ns], {
    home,
  });
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /bed-a {2}https:\/\/127\.0\.0\.1:\d+\n {2}bed-b {2}https/);
  assert.match(refused.stderr, /refusing to apply to 2 cluster\(s\) without --yes/);

  const r = await runCli(
    ['apply', '--profile', 'restricted', '--areas', 'workloads', '--all-contexts', '--yes', '--kubeconfig', kubeconfig, '--namespaces', ns],
    {
      home,
      timeoutMs: 300_000,
    },
  );
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(
    r.stdout,
    /CONTEXT +OUTCOME +CHANGES +APPLIED +SNAPSHOT +EXIT\nbed-a +applied +2 +2 +\d{8}-\d{6}-[0-9a-f]{6} +0\nbed-b +applied +2 +2 +\d{8}-\d{6}-[0-9a-f]{6} +0/,
  );
  const store = new SnapshotStore(path.join(home, 'snapshots'));
  const list = await store.list();
  assert.deepEqual(list.map((s) => s.context).sort(), ['bed-a', 'bed-b']);
  assert.ok(list.every((s) => s.state === 'applied'));
});
