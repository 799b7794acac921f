// The engine against the real API server: edits of two areas composed into one write; rollback field by
// field (what someone else changed since is kept, or is a conflict named by field); snapshots of the old
// format still roll back.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Helm } from '../../src/cluster/helm.js';
import type { KubeObject } from '../../src/cluster/types.js';
import { applyPlan } from '../../src/engine/apply.js';
import { compose, type Edit } from '../../src/engine/compose.js';
import type { EngineContext } from '../../src/engine/kinds/index.js';
import { guardedReplace } from '../../src/engine/kinds/object.js';
import { objectHash } from '../../src/engine/normalise.js';
import { dryRunPlan } from '../../src/engine/preview.js';
import { rollbackSnapshot } from '../../src/engine/rollback.js';
import { SnapshotStore } from '../../src/engine/snapshot-store.js';
import { auditOffset, auditSince, deploymentManifest, MUTATING, normalised, runCli, tempHome, uniqueNs, withCluster } from '../helpers.js';

const t = withCluster();
const ctx = (): EngineContext => ({ cluster: t.cluster, helm: new Helm({ readOnly: false }), readOnly: false });
const identity = () => ({ context: t.cluster.contextName, server: t.cluster.server });

async function freshDeployment(prefix: string): Promise<{ ns: string; dep: KubeObject }> {
  const ns = uniqueNs(prefix);
  await t.cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const { object } = await t.cluster.create(deploymentManifest('web', ns, 1));
  return { ns, dep: object! };
}

const setSecurity = (o: KubeObject): KubeObject => {
  const spec = structuredClone(o.spec) as { template: { spec: { containers: Array<Record<string, unknown>>; securityContext?: Record<string, unknown> } } };
  spec.template.spec.securityContext = {
    ...(spec.template.spec.securityContext ?? {}),
    runAsNonRoot: true,
    runAsUser: 65532,
    seccompProfile: { type: 'RuntimeDefault' },
  };
  spec.template.spec.containers = spec.template.spec.containers.map((c) => ({
    ...c,
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
  }));
  return { ...o, spec };
};
const setPullPolicy = (o: KubeObject): KubeObject => {
  const spec = structuredClone(o.spec) as { template: { spec: { containers: Array<Record<string, unknown>> } } };
  spec.template.spec.containers = spec.template.spec.containers.map((c) => ({ ...c, imagePullPolicy: 'Always' }));
  return { ...o, spec };
};

async function applyEdits(home: string, edits: Edit[]) {
  const changes = compose(edits);
  const dry = await dryRunPlan(ctx(), changes);
  const store = new SnapshotStore(path.join(home, 'snapshots'));
  const result = await applyPlan(ctx(), changes, { store, dryRun: dry, cluster: identity(), rolloutTimeoutMs: 120_000 });
  return { changes, result, store };
}

test('two areas editing one Deployment: one change, one write, one exact rollback', async () => {
  const { ns, dep } = await freshDeployment('compose');
  const before = normalised(dep);
  const home = tempHome();
  const base = { kind: 'object' as const, op: 'mutate' as const, base: dep, findingIds: [], risk: 'medium' as const, phase: 'rollout' as const, rollout: true };
  const offset = auditOffset(t.bed);
  const { changes, result, store } = await applyEdits(home, [
    { ...base, area: 'workloads', reason: 'security context', mutate: setSecurity },
    { ...base, area: 'images', reason: 'imagePullPolicy Always', mutate: setPullPolicy },
  ]);
  assert.equal(changes.length, 1);
  assert.deepEqual(changes[0].areas, ['workloads', 'images']);
  assert.equal(result.applied, 1, result.failed?.error);
  const writes = auditSince(t.bed, offset).filter(
    (e) =>
      e.stage === 'ResponseComplete' &&
      e.userAgent?.startsWith('kube-harden/') &&
      MUTATING.has(e.verb) &&
      e.responseStatus?.code === 200 &&
      e.requestURI.includes(`/namespaces/${ns}/deployments/web`) &&
      !/dryRun=All/.test(e.requestURI),
  );
  assert.equal(writes.length, 1, writes.map((w) => `${w.verb} ${w.requestURI}`).join('\n'));
  const live = await t.cluster.get(changes[0].kind === 'object' ? changes[0].ref : ({} as never));
  const c = (live.spec as { template: { spec: { containers: Array<{ imagePullPolicy?: string; securityContext?: unknown }> } } }).template.spec.containers[0];
  assert.equal(c.imagePullPolicy, 'Always');
  assert.deepEqual(c.securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  const snap = await store.read(result.snapshot.id);
  const r = await rollbackSnapshot(ctx(), store, snap);
  assert.equal(r.restored, 1);
  assert.deepEqual(normalised(await t.cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'web' })), before);
});

test('rollback restores the fields kube-harden set and keeps what others changed since (replicas, image)', async () => {
  const { ns, dep } = await freshDeployment('fields');
  const home = tempHome();
  const { result, store } = await applyEdits(home, [
    {
      kind: 'object',
      op: 'mutate',
      base: dep,
      area: 'workloads',
      reason: 'security context',
      mutate: setSecurity,
      findingIds: [],
      risk: 'medium',
      phase: 'rollout',
      rollout: true,
    },
  ]);
  assert.equal(result.applied, 1, result.failed?.error);
  // An HPA scales it, CI bumps its image, the controller adds its annotations.
  const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'web' };
  const now = await t.cluster.get(ref);
  const spec = now.spec as { replicas: number; template: { spec: { containers: Array<{ image: string }> } } };
  spec.replicas = 3;
  spec.template.spec.containers[0].image = 'registry.example/app:2.0';
  await t.cluster.replace(now);

  const r = await runCli(['rollback', result.snapshot.id, '--yes', '--kubeconfig', t.bed.kubeconfig], { home });
  assert.equal(r.code, 0, r.stderr);
  const after = await t.cluster.get(ref);
  const s = after.spec as {
    replicas: number;
    template: { spec: { securityContext?: unknown; containers: Array<{ image: string; securityContext?: unknown }> } };
  };
  assert.equal(s.replicas, 3, 'their replicas are kept');
  assert.equal(s.template.spec.containers[0].image, 'registry.example/app:2.0', 'their image is kept');
  assert.equal(s.template.spec.containers[0].securityContext, undefined, 'our container security context is gone');
  const was = (dep.spec as { template: { spec: { securityContext?: unknown } } }).template.spec.securityContext;
  assert.deepEqual(s.template.spec.securityContext, was, 'our pod security context is gone (the server-defaulted empty one stays)');
  assert.equal((await store.summary(result.snapshot.id)).state, 'rolled-back');
});

test('a field kube-harden set and someone changed since is a conflict named by field; the rest is restored; --force restores it too', async () => {
  const a = await freshDeployment('conflict-a');
  const bNs = a.ns;
  const { object: b } = await t.cluster.create({ ...deploymentManifest('api', bNs, 1) });
  const home = tempHome();
  const edit = (base: KubeObject): Edit => ({
    kind: 'object',
    op: 'mutate',
    base,
    area: 'workloads',
    reason: 'sc',
    mutate: setSecurity,
    findingIds: [],
    risk: 'medium',
    phase: 'rollout',
    rollout: true,
  });
  const { result } = await applyEdits(home, [edit(a.dep), edit(b!)]);
  assert.equal(result.applied, 2, result.failed?.error);
  // Someone turns escalation back on in web: the very field we set.
  const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: bNs, name: 'web' };
  const web = await t.cluster.get(ref);
  (
    web.spec as { template: { spec: { containers: Array<{ securityContext: { allowPrivilegeEscalation: boolean } }> } } }
  ).template.spec.containers[0].securityContext.allowPrivilegeEscalation = true;
  await t.cluster.replace(web);

  const r = await runCli(['rollback', result.snapshot.id, '--yes', '--kubeconfig', t.bed.kubeconfig], { home });
  assert.equal(r.code, 4, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    /deployment\/web in .*changed since kube-harden wrote it: spec\.template\.spec\.containers\[name=app\]\.securityContext\.allowPrivilegeEscalation/,
  );
  const api = await t.cluster.get({ ...ref, name: 'api' });
  assert.deepEqual((api.spec as { template: { spec: { securityContext?: unknown } } }).template.spec.securityContext, {}, 'the other object was restored');
  const webNow = await t.cluster.get(ref);
  assert.equal(
    (webNow.spec as { template: { spec: { containers: Array<{ securityContext: { allowPrivilegeEscalation: boolean } }> } } }).template.spec.containers[0]
      .securityContext.allowPrivilegeEscalation,
    true,
  );

  const forced = await runCli(['rollback', result.snapshot.id, '--yes', '--force', '--kubeconfig', t.bed.kubeconfig], { home });
  assert.equal(forced.code, 0, forced.stderr);
  const webForced = await t.cluster.get(ref);
  assert.equal(
    (webForced.spec as { template: { spec: { containers: Array<{ securityContext?: unknown }> } } }).template.spec.containers[0].securityContext,
    undefined,
  );
});

test('rollback --force of an object deleted since: reported as skipped, no crash, not recreated', async () => {
  const { ns, dep } = await freshDeployment('deleted');
  const home = tempHome();
  const { result } = await applyEdits(home, [
    {
      kind: 'object',
      op: 'mutate',
      base: dep,
      area: 'workloads',
      reason: 'sc',
      mutate: setSecurity,
      findingIds: [],
      risk: 'medium',
      phase: 'rollout',
      rollout: true,
    },
  ]);
  await t.cluster.delete({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'web' });
  const r = await runCli(['rollback', result.snapshot.id, '--yes', '--force', '--kubeconfig', t.bed.kubeconfig], { home });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /skipped deployment\/web in .*: deleted by someone else since; not recreated/);
  assert.doesNotMatch(r.stderr, /TypeError/);
  assert.equal(await t.cluster.tryGet({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'web' }), undefined);
});

test('a snapshot from kube-harden 0.1 (format version 1) is read and rolled back', async () => {
  const { ns } = await freshDeployment('v1snap');
  const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'web' };
  const dep = await t.cluster.get(ref);
  const before = normalised(dep);
  const written = (await guardedReplace(t.cluster, dep, setSecurity(dep))).object!;
  const home = tempHome();
  const dir = path.join(home, 'snapshots');
  mkdirSync(dir, { recursive: true });
  const id = '20250101-101010-abc123';
  const v1 = {
    version: 1,
    id,
    createdAt: '2025-01-01T10:10:10.000Z',
    context: t.cluster.contextName,
    server: t.cluster.server,
    user: 'admin',
    changes: [
      {
        id: `workloads:apps/v1/Deployment/${ns}/web`,
        area: 'workloads',
        action: 'patch',
        ref,
        before: dep,
        oursHash: objectHash(written),
        findingIds: [],
        reason: 'r',
        risk: 'medium',
        phase: 20,
      },
    ],
  };
  writeFileSync(path.join(dir, `${id}.json`), JSON.stringify(v1), { mode: 0o600 });
  writeFileSync(
    path.join(dir, `${id}.journal.jsonl`),
    [{ event: 'apply-start' }, { event: 'start', change: v1.changes[0].id }, { event: 'done', change: v1.changes[0].id }, { event: 'apply-end', ok: true }]
      .map((e) => JSON.stringify({ t: 'x', ...e }))
      .join('\n') + '\n',
  );
  const show = await runCli(['snapshots', 'show', id], { home });
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /done +patch +deployment\/web in/);
  const r = await runCli(['rollback', id, '--yes', '--kubeconfig', t.bed.kubeconfig], { home });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(normalised(await t.cluster.get(ref)), before);
});
