// An object in a namespace the plan itself creates earlier (a Namespace change, or a release with
// --create-namespace) cannot be judged by the server's dry-run before that namespace exists: its dry-run
// is deferred to right before it is written, against the real API server. Without such a namespace in
// the plan, the dry-run still fails.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { Helm } from '../../src/cluster/helm.js';
import type { KubeObject } from '../../src/cluster/types.js';
import { applyPlan } from '../../src/engine/apply.js';
import { compose, type CreateEdit } from '../../src/engine/compose.js';
import type { EngineContext } from '../../src/engine/kinds/index.js';
import { dryRunPlan } from '../../src/engine/preview.js';
import { rollbackSnapshot } from '../../src/engine/rollback.js';
import { SnapshotStore } from '../../src/engine/snapshot-store.js';
import { tempHome, uniqueNs, withCluster } from '../helpers.js';

const t = withCluster();
const ctx = (): EngineContext => ({ cluster: t.cluster, helm: new Helm({ readOnly: false }), readOnly: false });
const create = (object: KubeObject, phase: CreateEdit['phase']): CreateEdit => ({
  kind: 'object',
  op: 'create',
  area: 'tls',
  object,
  phase,
  findingIds: [],
  reason: 'test',
  risk: 'low',
});

test('an object in a namespace created earlier in the plan: dry-run deferred, then validated and written after it', async () => {
  const ns = uniqueNs('deferred-ns');
  const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'inside', namespace: ns }, data: { a: 'b' } };
  const changes = compose([create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, 'prerequisites'), create(cm, 'create')]);
  const dry = await dryRunPlan(ctx(), changes);
  const [nsDry, cmDry] = changes.map((c) => dry.get(c.id)!);
  assert.equal(nsDry.ok, true);
  assert.equal(nsDry.deferred, undefined);
  assert.equal(cmDry.ok, true);
  assert.match(cmDry.deferred ?? '', new RegExp(`namespace ${ns} is created earlier in this plan`));

  const store = new SnapshotStore(path.join(tempHome(), 'snapshots'));
  const r = await applyPlan(ctx(), changes, { store, dryRun: dry, cluster: { context: t.cluster.contextName, server: t.cluster.server } });
  assert.equal(r.applied, 2, r.failed?.error);
  assert.deepEqual((await t.cluster.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'inside' })).data, { a: 'b' });
  const rb = await rollbackSnapshot(ctx(), store, await store.read(r.snapshot.id));
  assert.equal(rb.restored, 2);
});

test('an object in a namespace that does not exist and that the plan does not create: the dry-run fails', async () => {
  const ns = uniqueNs('no-such-ns');
  const changes = compose([create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'inside', namespace: ns } }, 'create')]);
  const d = (await dryRunPlan(ctx(), changes)).get(changes[0].id)!;
  assert.equal(d.ok, false);
  assert.equal(d.deferred, undefined);
  assert.match(d.error ?? '', /not found/);
});
