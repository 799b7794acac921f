// Derived objects against the real API server: what a controller makes because of a change (the
// ingress-shim's Certificate for an annotated Ingress, cert-manager's Secret for it) is removed at
// rollback while it still is that consequence (controlled by the changed object, or carrying the
// annotations), and nothing else of that name is touched.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { Helm } from '../../src/cluster/helm.js';
import type { KubeObject } from '../../src/cluster/types.js';
import { applyPlan } from '../../src/engine/apply.js';
import { compose, type Edit } from '../../src/engine/compose.js';
import type { EngineContext } from '../../src/engine/kinds/index.js';
import { dryRunPlan } from '../../src/engine/preview.js';
import { rollbackSnapshot } from '../../src/engine/rollback.js';
import { SnapshotStore } from '../../src/engine/snapshot-store.js';
import { normalised, tempHome, uniqueNs, withCluster } from '../helpers.js';

const t = withCluster();
const ctx = (): EngineContext => ({ cluster: t.cluster, helm: new Helm({ readOnly: false }), readOnly: false });

const configMap = (ns: string, name: string, meta: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns, ...meta },
  data: { made: 'by a controller' },
});

test('rollback removes the derived objects that are still the change’s consequence, and keeps the rest', async () => {
  const ns = uniqueNs('derived');
  await t.cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const target = (await t.cluster.create(configMap(ns, 'target'))).object!;
  const before = normalised(target);
  const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name });
  const edits: Edit[] = [
    {
      kind: 'object',
      op: 'mutate',
      area: 'tls',
      base: target,
      mutate: (o) => ({ ...o, metadata: { ...o.metadata, annotations: { 'example.test/issue': 'yes' } } }),
      findingIds: [],
      reason: 'annotate',
      risk: 'low',
      phase: 'update',
      derived: [
        { ref: cm('owned'), controlledByTarget: true },
        { ref: cm('annotated'), annotations: { 'example.test/made-for': 'target' } },
        { ref: cm('someone-elses'), controlledByTarget: true },
        { ref: cm('relabelled'), annotations: { 'example.test/made-for': 'target' } },
        { ref: cm('never-made'), controlledByTarget: true },
      ],
    },
  ];
  const changes = compose(edits);
  assert.equal(changes[0].kind === 'object' && changes[0].derived?.length, 5);
  const store = new SnapshotStore(path.join(tempHome(), 'snapshots'));
  const dry = await dryRunPlan(ctx(), changes);
  const applied = await applyPlan(ctx(), changes, { store, dryRun: dry, cluster: { context: t.cluster.contextName, server: t.cluster.server } });
  assert.equal(applied.applied, 1, applied.failed?.error);

  // The "controller" reacts to the change.
  const owner = { apiVersion: 'v1', kind: 'ConfigMap', name: 'target', uid: target.metadata.uid!, controller: true };
  await t.cluster.create(configMap(ns, 'owned', { ownerReferences: [owner] }));
  await t.cluster.create(configMap(ns, 'annotated', { annotations: { 'example.test/made-for': 'target' } }));
  // Same names, not (or no longer) the consequence: left alone.
  await t.cluster.create(configMap(ns, 'someone-elses', { ownerReferences: [{ ...owner, controller: false }] }));
  await t.cluster.create(configMap(ns, 'relabelled', { annotations: { 'example.test/made-for': 'something else' } }));

  const r = await rollbackSnapshot(ctx(), store, await store.read(applied.snapshot.id));
  assert.equal(r.restored, 1);
  assert.deepEqual(normalised(await t.cluster.get(cm('target'))), before);
  assert.equal(await t.cluster.tryGet(cm('owned')), undefined);
  assert.equal(await t.cluster.tryGet(cm('annotated')), undefined);
  assert.ok(await t.cluster.tryGet(cm('someone-elses')), 'not controlled by the target: kept');
  assert.ok(await t.cluster.tryGet(cm('relabelled')), 'annotation differs: kept');

  // The snapshot on disk carries them, so a rollback from another process does the same.
  const stored = (await store.read(applied.snapshot.id)).changes[0];
  assert.equal(stored.kind === 'object' && stored.derived?.length, 5);
});
