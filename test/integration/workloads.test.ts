// Pod security that never breaks what runs, against the real API server with simulated nodes (kwok):
// rollouts followed and a stalled one rolled back, node agents / operator-owned / GitOps-managed
// workloads left alone, Pod Security levels that refuse nothing the namespace holds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podSpecOf } from '../../src/areas/workloads/pod-spec.js';
import type { KubeObject } from '../../src/cluster/types.js';
import { deployments, namespaceState, runCli, seedFixture, tempHome, uniqueNs, withCluster, BOOKINFO } from '../helpers.js';

const t = withCluster();

async function namespace(prefix: string): Promise<string> {
  const ns = uniqueNs(prefix);
  await t.cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  return ns;
}

const deployment = (name: string, ns: string, image = 'registry.example/app:1.0', extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns, ...extra },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image }] } },
  },
});

test('bookinfo: apply --profile restricted rolls all six Deployments out Ready, then enforces restricted, pinned to the cluster version', async () => {
  const ns = uniqueNs('bookinfo-ready');
  await seedFixture(t.bed, BOOKINFO, ns);
  const home = tempHome();
  const r = await runCli(['apply', '--profile', 'restricted', '--yes', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns, '--areas', 'workloads'], {
    home,
    timeoutMs: 300_000,
  });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stderr, /rollout wave 1\/2 \(1 workload\(s\)\)/);
  assert.match(r.stderr, /rollouts: 5\/5 ready/);
  for (const d of await deployments(t.cluster, ns)) {
    const st = d.status as { readyReplicas?: number; updatedReplicas?: number; observedGeneration?: number };
    const spec = d.spec as { replicas: number };
    assert.equal(st.readyReplicas, spec.replicas, `${d.metadata.name} ready`);
    assert.equal(st.updatedReplicas, spec.replicas, `${d.metadata.name} updated`);
    assert.equal(podSpecOf(d)!.securityContext?.runAsNonRoot, true);
  }
  const labels = (await t.cluster.get({ apiVersion: 'v1', kind: 'Namespace', name: ns })).metadata.labels!;
  assert.equal(labels['pod-security.kubernetes.io/enforce'], 'restricted');
  assert.equal(labels['pod-security.kubernetes.io/enforce-version'], `v1.${(await t.cluster.version()).minor}`);
});

test('an image that runs as root: runAsNonRoot stalls its rollout; the pod reason is reported, that workload rolled back, the rest stays hardened', async () => {
  const ns = await namespace('runs-as-root');
  for (const d of [deployment('a-web', ns), deployment('b-api', ns), deployment('c-legacy', ns, 'registry.example/legacy-runs-as-root:1.0')])
    await t.cluster.create(d);
  const home = tempHome();
  const r = await runCli(
    ['apply', '--profile', 'restricted', '--yes', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns, '--areas', 'workloads', '--rollout-timeout', '120'],
    {
      home,
      timeoutMs: 300_000,
    },
  );
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /rollout failed: deployment\/c-legacy in .*CreateContainerConfigError: container has runAsNonRoot and image will run as root/);
  assert.match(r.stdout, /rolled back/);
  const byName = Object.fromEntries((await deployments(t.cluster, ns)).map((d) => [d.metadata.name, d]));
  assert.equal(podSpecOf(byName['a-web'])!.securityContext?.runAsNonRoot, true, 'the canary stays hardened');
  assert.equal(podSpecOf(byName['b-api'])!.securityContext?.runAsNonRoot, true, 'the rest of its wave stays hardened');
  assert.equal(podSpecOf(byName['c-legacy'])!.securityContext?.runAsNonRoot, undefined, 'the stalled one is rolled back');
  // Its rollout completes again on the old template.
  const legacy = await t.cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'c-legacy' });
  assert.ok(legacy.metadata.generation! > 1);
  const labels = (await t.cluster.get({ apiVersion: 'v1', kind: 'Namespace', name: ns })).metadata.labels ?? {};
  assert.equal(labels['pod-security.kubernetes.io/enforce'], undefined, 'no enforce label after a failed rollout');
});

test('node agents, operator-owned and GitOps-managed workloads are left alone and listed; the plan changes only the rest', async () => {
  const ns = await namespace('left-alone');
  // A node monitoring agent: privileged, hostPID, hostPath /.
  await t.cluster.create({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'node-monitor', namespace: ns },
    spec: {
      selector: { matchLabels: { app: 'node-monitor' } },
      template: {
        metadata: { labels: { app: 'node-monitor' } },
        spec: {
          hostPID: true,
          containers: [
            { name: 'agent', image: 'registry.example/monitor:1', securityContext: { privileged: true }, volumeMounts: [{ name: 'root', mountPath: '/host' }] },
          ],
          volumes: [{ name: 'root', hostPath: { path: '/' } }],
        },
      },
    },
  });
  // An operator's Deployment: owned by a custom resource.
  await t.cluster
    .create({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'databases.example.com' },
      spec: {
        group: 'example.com',
        names: { kind: 'Database', plural: 'databases', singular: 'database' },
        scope: 'Namespaced',
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    })
    .catch(() => undefined);
  let db: KubeObject | undefined;
  for (let i = 0; i < 50 && !db; i++) {
    db = await t.cluster
      .create({ apiVersion: 'example.com/v1', kind: 'Database', metadata: { name: 'orders', namespace: ns } })
      .then((x) => x.object)
      .catch(async () => {
        await new Promise((r) => setTimeout(r, 200));
        return undefined;
      });
  }
  assert.ok(db, 'the custom resource exists');
  await t.cluster.create(
    deployment('orders-db', ns, 'registry.example/db:1', {
      ownerReferences: [{ apiVersion: 'example.com/v1', kind: 'Database', name: 'orders', uid: db.metadata.uid!, controller: true }],
    }),
  );
  await t.cluster.create(deployment('shop', ns, 'registry.example/shop:1', { labels: { 'argocd.argoproj.io/instance': 'shop-prod' } }));
  await t.cluster.create(deployment('plain', ns));
  const before = await namespaceState(t.cluster, ns);
  const home = tempHome();

  const audit = await runCli(['audit', '--output', 'json', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns, '--areas', 'workloads'], { home });
  assert.equal(audit.code, 0, audit.stderr);
  const findings = (JSON.parse(audit.stdout) as { findings: Array<{ ref: { name: string }; manual?: string; fixable: boolean }> }).findings;
  const manualOf = (name: string) => findings.find((f) => f.ref.name === name && f.manual)?.manual ?? '';
  assert.match(manualOf('node-monitor'), /node agent \(privileged, hostPID, hostPath \/\)/);
  assert.match(manualOf('orders-db'), /owned by Database orders \(example\.com\/v1\)/);
  assert.match(manualOf('shop'), /managed by Argo CD \(shop-prod\): .*put it in Git/);

  const preview = await runCli(
    ['apply', '--profile', 'restricted', '--preview', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns, '--areas', 'workloads'],
    { home },
  );
  assert.equal(preview.code, 0, preview.stderr);
  assert.match(preview.stdout, /~ deployment\/plain in /);
  assert.doesNotMatch(preview.stdout, /~ (deployment\/orders-db|deployment\/shop|daemonset\/node-monitor) in/);
  assert.match(preview.stdout, /Left alone/);
  assert.match(
    preview.stdout,
    /To put in Git[\s\S]*deployment\/shop in .*\(Argo CD\):\n\s+spec\.template\.spec\.containers\[name=app\]\.securityContext\.allowPrivilegeEscalation: false/,
  );

  const applied = await runCli(['apply', '--profile', 'restricted', '--yes', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns, '--areas', 'workloads'], {
    home,
    timeoutMs: 300_000,
  });
  assert.equal(applied.code, 0, applied.stderr);
  const after = await namespaceState(t.cluster, ns);
  for (const name of ['DaemonSet/node-monitor', 'Deployment/orders-db', 'Deployment/shop']) assert.deepEqual(after[name], before[name], `${name} untouched`);
  assert.notDeepEqual(after['Deployment/plain'], before['Deployment/plain']);
  // The namespace holds a privileged agent: no enforce level would leave it running.
  assert.equal(after[`Namespace/${ns}`].metadata.labels?.['pod-security.kubernetes.io/enforce'], undefined);
});

test('a namespace with only a CronJob that uses hostPort: no enforce level that would refuse its next run', async () => {
  const ns = await namespace('cron-hostport');
  const podSpec = {
    restartPolicy: 'OnFailure',
    containers: [{ name: 'job', image: 'registry.example/report:1', ports: [{ containerPort: 80, hostPort: 8080 }] }],
  };
  await t.cluster.create({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'nightly', namespace: ns },
    spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: { spec: podSpec } } } },
  });
  const home = tempHome();
  const r = await runCli(['apply', '--profile', 'restricted', '--yes', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns, '--areas', 'workloads'], { home });
  assert.equal(r.code, 0, r.stderr);
  const labels = (await t.cluster.get({ apiVersion: 'v1', kind: 'Namespace', name: ns })).metadata.labels ?? {};
  assert.equal(labels['pod-security.kubernetes.io/enforce'], undefined);
  assert.equal(labels['pod-security.kubernetes.io/warn'], 'restricted');
  // And the API server agrees: the CronJob's next pod (its template, hardened) is admitted.
  const cj = await t.cluster.get({ apiVersion: 'batch/v1', kind: 'CronJob', namespace: ns, name: 'nightly' });
  const spec = (cj.spec as { jobTemplate: { spec: { template: { spec: unknown } } } }).jobTemplate.spec.template.spec;
  const created = await t.cluster.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'next-run', namespace: ns }, spec } as KubeObject, {
    dryRun: true,
  });
  assert.ok(created.object);
});
