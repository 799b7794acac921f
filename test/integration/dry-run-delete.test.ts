// A dry-run DELETE against the real API server deletes nothing. The API server reads a DELETE's options
// from its body when there is one and then ignores the query, so `?dryRun=All` beside a DeleteOptions
// body without dryRun is a real delete: Cluster.delete must put dryRun in the body (it once did not,
// and every preview of a removal deleted the object).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uniqueNs, withCluster } from '../helpers.js';

const t = withCluster();

test('Cluster.delete with dryRun leaves the object (with and without preconditions); the real delete removes it', async () => {
  const ns = uniqueNs('dry-delete');
  await t.cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'keep-me' };
  await t.cluster.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keep-me', namespace: ns }, data: { a: '1' } });
  const live = await t.cluster.get(ref);
  await t.cluster.delete(ref, { dryRun: true });
  await t.cluster.delete(ref, { dryRun: true, uid: live.metadata.uid, resourceVersion: live.metadata.resourceVersion });
  const still = await t.cluster.tryGet(ref);
  assert.ok(still, 'a dry-run delete deleted the object');
  assert.equal(still.metadata.uid, live.metadata.uid);
  await t.cluster.delete(ref, { uid: live.metadata.uid, resourceVersion: live.metadata.resourceVersion });
  assert.equal(await t.cluster.tryGet(ref), undefined);
});
