// Checks the test bed itself against the real server.
// npx node --import tsx --test test/cluster/testbed.test.ts
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import {
  KUBERNETES_VERSION,
  applyManifests,
  ensureNamespace,
  kubeRequest,
  loadCrds,
  loadKubeConfig,
  sharedTestbed,
  waitForPods,
} from './testbed.js';

const bed = await sharedTestbed();

test('/version reports the pinned Kubernetes release', async () => {
  const version = await loadKubeConfig(bed.kubeconfig).makeApiClient(k8s.VersionApi).getCode();
  assert.equal(version.gitVersion, KUBERNETES_VERSION);
});

test('a Deployment gets a ReplicaSet and Pods (controller manager works)', async () => {
  const ns = 'tb-deploy';
  await ensureNamespace(bed.kubeconfig, ns);
  const apps = loadKubeConfig(bed.kubeconfig).makeApiClient(k8s.AppsV1Api);
  await apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name: 'web' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
        },
      },
    },
  });
  const pods = await waitForPods(bed.kubeconfig, ns, 2);
  assert.equal(pods.length, 2);
  assert.ok(pods.every((p) => p.metadata?.ownerReferences?.[0]?.kind === 'ReplicaSet'));
});

test('the limited user is authenticated but forbidden to list pods', async () => {
  const core = loadKubeConfig(bed.limitedKubeconfig).makeApiClient(k8s.CoreV1Api);
  await assert.rejects(core.listNamespacedPod({ namespace: 'default' }), (e: unknown) => {
    assert.ok(e instanceof k8s.ApiException);
    assert.equal(e.code, 403);
    const status = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as { message: string };
    assert.match(status.message, /User "limited-user" cannot list resource "pods"/);
    return true;
  });
});

test('the audit log records requests', async () => {
  const marker = `tb-audit-${Date.now()}`;
  const res = await kubeRequest(bed.kubeconfig, 'GET', `/api/v1/namespaces/default/configmaps/${marker}`);
  assert.equal(res.status, 404);
  let line: string | undefined;
  for (let i = 0; i < 50 && !line; i++) {
    line = (await readFile(bed.auditLog, 'utf8')).split('\n').find((l) => l.includes(marker));
    if (!line) await sleep(100);
  }
  assert.ok(line, `no audit event mentions ${marker}`);
  const event = JSON.parse(line) as { kind: string; level: string; verb: string; user: { username: string } };
  assert.equal(event.kind, 'Event');
  assert.equal(event.level, 'Metadata');
  assert.equal(event.verb, 'get');
  assert.equal(event.user.username, 'kube-harden-admin');
});

test('Pod Security Admission warns on a dry-run enforce=restricted label', async () => {
  const ns = 'tb-psa';
  await ensureNamespace(bed.kubeconfig, ns);
  const core = loadKubeConfig(bed.kubeconfig).makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name: 'insecure' },
      spec: { containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }] },
    },
  });
  const res = await kubeRequest(
    bed.kubeconfig,
    'PATCH',
    `/api/v1/namespaces/${ns}?dryRun=All`,
    { metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } },
    'application/merge-patch+json',
  );
  assert.equal(res.status, 200, res.body);
  assert.ok(
    res.warnings.some((w) => w.includes('insecure') && w.includes('restricted')),
    `warnings: ${JSON.stringify(res.warnings)}`,
  );
  // dry run: the label must not have been stored
  const stored = await core.readNamespace({ name: ns });
  assert.equal(stored.metadata?.labels?.['pod-security.kubernetes.io/enforce'], undefined);
});

test('fixture helpers: CRDs become Established, bookinfo applies and gets its Pods', async () => {
  const crds = await loadCrds(bed.kubeconfig, 'cert-manager-v1.21.1');
  assert.equal(crds.length, 6);
  assert.ok(crds.includes('certificates.cert-manager.io'));
  const again = await loadCrds(bed.kubeconfig, 'crds/cert-manager-v1.21.1'); // idempotent
  assert.deepEqual(again, crds);
  const ns = 'tb-bookinfo';
  const created = await applyManifests(bed.kubeconfig, 'workloads/bookinfo/bookinfo.yaml', ns);
  assert.equal(created.filter((o) => o.kind === 'Deployment').length, 6);
  assert.ok(created.every((o) => o.metadata?.namespace === ns));
  await waitForPods(bed.kubeconfig, ns, 6);
});
