// Checks the test bed itself against the real server.
// npx node --import tsx --test --test-timeout=600000 test/cluster/testbed.test.ts
import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rename, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import {
  KUBERNETES_VERSION,
  RUNS_AS_ROOT_MARKER,
  applyManifests,
  BOOKINFO,
  down,
  ensureNamespace,
  kubeRequest,
  loadCrds,
  loadKubeConfig,
  pollUntil,
  privateTestbed,
  rolloutComplete,
  sharedTestbed,
  waitForPods,
  waitForRollout,
  type Testbed,
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
  const created = await applyManifests(bed.kubeconfig, BOOKINFO, ns);
  assert.equal(created.filter((o) => o.kind === 'Deployment').length, 6);
  assert.ok(created.every((o) => o.metadata?.namespace === ns));
  await waitForPods(bed.kubeconfig, ns, 6);
});

// --- simulated nodes (kwok) and kube-scheduler -------------------------------------------------------

const core = (kubeconfig: string) => loadKubeConfig(kubeconfig).makeApiClient(k8s.CoreV1Api);
const appsApi = (kubeconfig: string) => loadKubeConfig(kubeconfig).makeApiClient(k8s.AppsV1Api);
const isReady = (p: k8s.V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

function deployment(name: string, image: string, podSecurityContext?: k8s.V1PodSecurityContext): k8s.V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { securityContext: podSecurityContext, containers: [{ name: 'app', image }] },
      },
    },
  };
}

test('the simulated nodes are Ready, schedulable and labelled like kwok nodes', async () => {
  assert.equal(bed.nodes.length, 3);
  const nodes = (await core(bed.kubeconfig).listNode()).items.filter((n) => bed.nodes.includes(n.metadata!.name!));
  assert.equal(nodes.length, 3);
  for (const n of nodes) {
    assert.ok(
      n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      `${n.metadata?.name} not Ready`,
    );
    assert.deepEqual(n.spec?.taints ?? [], [], `${n.metadata?.name} has taints`);
    assert.equal(n.metadata?.labels?.type, 'kwok');
    assert.equal(n.metadata?.labels?.['kubernetes.io/os'], 'linux');
    assert.ok(n.status?.addresses?.some((a) => a.type === 'InternalIP'));
  }
});

test('a Deployment rolls out: scheduled, Running, Ready, available', async () => {
  const ns = 'tb-rollout';
  await ensureNamespace(bed.kubeconfig, ns);
  const body = deployment('web', 'nginx:1.27');
  body.spec!.replicas = 3;
  await appsApi(bed.kubeconfig).createNamespacedDeployment({ namespace: ns, body });
  const d = await waitForRollout(bed.kubeconfig, ns, 'web');
  assert.equal(d.status?.availableReplicas, 3);
  assert.equal(d.status?.observedGeneration, d.metadata?.generation);
  const pods = (await core(bed.kubeconfig).listNamespacedPod({ namespace: ns })).items;
  assert.equal(pods.length, 3);
  for (const p of pods) {
    assert.equal(p.status?.phase, 'Running');
    assert.ok(isReady(p));
    assert.ok(bed.nodes.includes(p.spec!.nodeName!), `pod on ${p.spec?.nodeName}`);
    assert.ok(p.status?.podIP, 'pod has an IP');
  }
  // A template change rolls out too (a new ReplicaSet replaces the old one).
  await appsApi(bed.kubeconfig).patchNamespacedDeployment(
    { namespace: ns, name: 'web', body: { spec: { template: { metadata: { annotations: { rev: '2' } } } } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  const d2 = await waitForRollout(bed.kubeconfig, ns, 'web');
  assert.ok(d2.status!.observedGeneration! > d.status!.observedGeneration!);
});

test('a DaemonSet gets one Ready pod per node', async () => {
  const ns = 'tb-daemonset';
  await ensureNamespace(bed.kubeconfig, ns);
  await appsApi(bed.kubeconfig).createNamespacedDaemonSet({
    namespace: ns,
    body: {
      metadata: { name: 'agent' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image: 'registry.example/agent:1.0' }] } },
      },
    },
  });
  const ds = await pollUntil('the DaemonSet to be ready on every node', async () => {
    const d = await appsApi(bed.kubeconfig).readNamespacedDaemonSet({ namespace: ns, name: 'agent' });
    const st = d.status!;
    return st.desiredNumberScheduled === bed.nodes.length && st.numberReady === bed.nodes.length && st.updatedNumberScheduled === bed.nodes.length
      ? d
      : undefined;
  });
  assert.equal(ds.status?.numberAvailable, bed.nodes.length);
  const pods = (await core(bed.kubeconfig).listNamespacedPod({ namespace: ns })).items;
  assert.deepEqual(pods.map((p) => p.spec!.nodeName).sort(), [...bed.nodes].sort());
  assert.ok(pods.every(isReady));
});

// --- an image that runs as root (test/cluster/kwok/pod-runs-as-root.yaml) ---------------------------

const ROOT_IMAGE = `registry.example/legacy-${RUNS_AS_ROOT_MARKER}:1.0`;

async function waitForPod(kubeconfig: string, ns: string, name: string, ok: (p: k8s.V1Pod) => boolean, what: string): Promise<k8s.V1Pod> {
  let last: k8s.V1Pod | undefined;
  return pollUntil(
    `pod ${ns}/${name} ${what}`,
    async () => {
      last = await core(kubeconfig).readNamespacedPod({ namespace: ns, name });
      return ok(last) ? last : undefined;
    },
    { describe: () => JSON.stringify(last?.status ?? {}) },
  );
}

const refused = (p: k8s.V1Pod) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError';

test('runAsNonRoot with an image that runs as root: CreateContainerConfigError, never Ready', async () => {
  const ns = 'tb-runs-as-root';
  await ensureNamespace(bed.kubeconfig, ns);
  const pod = (name: string, image: string, sc?: k8s.V1SecurityContext, psc?: k8s.V1PodSecurityContext): k8s.V1Pod => ({
    metadata: { name },
    spec: { securityContext: psc, containers: [{ name: 'app', image, securityContext: sc }] },
  });
  const api = core(bed.kubeconfig);
  await api.createNamespacedPod({ namespace: ns, body: pod('refused', ROOT_IMAGE, undefined, { runAsNonRoot: true }) });
  await api.createNamespacedPod({ namespace: ns, body: pod('refused-container-level', ROOT_IMAGE, { runAsNonRoot: true }) });
  await api.createNamespacedPod({ namespace: ns, body: pod('root-allowed', ROOT_IMAGE) });
  await api.createNamespacedPod({ namespace: ns, body: pod('root-image-with-uid', ROOT_IMAGE, { runAsUser: 1000 }, { runAsNonRoot: true }) });
  await api.createNamespacedPod({ namespace: ns, body: pod('uid-0', 'nginx:1.27', { runAsUser: 0 }, { runAsNonRoot: true }) });
  await api.createNamespacedPod({ namespace: ns, body: pod('nonroot-image', 'nginx:1.27', undefined, { runAsNonRoot: true }) });

  const p = await waitForPod(bed.kubeconfig, ns, 'refused', refused, 'refused');
  const waiting = p.status!.containerStatuses![0]!.state!.waiting!;
  assert.equal(waiting.message, `container has runAsNonRoot and image will run as root (pod: "refused_${ns}(${p.metadata!.uid})", container: app)`);
  assert.equal(p.status?.phase, 'Pending');
  assert.ok(!isReady(p));
  assert.equal(p.status?.conditions?.find((c) => c.type === 'Ready')?.message, 'containers with unready status: [app]');
  await waitForPod(bed.kubeconfig, ns, 'refused-container-level', refused, 'refused');
  const uid0 = await waitForPod(bed.kubeconfig, ns, 'uid-0', refused, 'refused');
  assert.match(uid0.status!.containerStatuses![0]!.state!.waiting!.message!, /^container's runAsUser breaks non-root policy \(pod: "uid-0_/);
  for (const name of ['root-allowed', 'root-image-with-uid', 'nonroot-image']) {
    const ok = await waitForPod(bed.kubeconfig, ns, name, isReady, 'Ready');
    assert.equal(ok.status?.phase, 'Running');
  }
  // It stays that way (no stage moves it on), and deleting it works.
  await sleep(3000);
  const still = await api.readNamespacedPod({ namespace: ns, name: 'refused' });
  assert.ok(refused(still) && !isReady(still) && still.status?.phase === 'Pending');
  await api.deleteNamespacedPod({ namespace: ns, name: 'refused' });
  await pollUntil('the refused pod to be deleted', async () => {
    const pods = await api.listNamespacedPod({ namespace: ns, fieldSelector: 'metadata.name=refused' });
    return pods.items.length === 0;
  });
});

test('runAsNonRoot on a Deployment whose image runs as root stalls its rollout; undoing it completes it', async () => {
  const ns = 'tb-runs-as-root-rollout';
  await ensureNamespace(bed.kubeconfig, ns);
  const apps = appsApi(bed.kubeconfig);
  await apps.createNamespacedDeployment({ namespace: ns, body: deployment('legacy', ROOT_IMAGE) });
  await waitForRollout(bed.kubeconfig, ns, 'legacy');
  const oldPod = (await core(bed.kubeconfig).listNamespacedPod({ namespace: ns })).items[0]!;
  assert.ok(isReady(oldPod));

  const patch = (runAsNonRoot: boolean | null) =>
    apps.patchNamespacedDeployment(
      { namespace: ns, name: 'legacy', body: { spec: { template: { spec: { securityContext: { runAsNonRoot } } } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
  await patch(true);
  const stalled = await pollUntil('the new ReplicaSet pod to be refused', async () => {
    const pods = (await core(bed.kubeconfig).listNamespacedPod({ namespace: ns })).items;
    return pods.find((p) => p.metadata!.name !== oldPod.metadata!.name && refused(p));
  });
  assert.match(stalled.status!.containerStatuses![0]!.state!.waiting!.message!, /container has runAsNonRoot and image will run as root/);
  await sleep(3000);
  const d = await apps.readNamespacedDeployment({ namespace: ns, name: 'legacy' });
  assert.ok(!rolloutComplete(d), 'the rollout must not complete');
  assert.equal(d.status?.updatedReplicas, 1);
  assert.equal(d.status?.availableReplicas, 1, 'the old pod keeps serving');
  assert.equal(d.status?.unavailableReplicas, 1);
  const old = await core(bed.kubeconfig).readNamespacedPod({ namespace: ns, name: oldPod.metadata!.name! });
  assert.ok(isReady(old) && !old.metadata?.deletionTimestamp, 'the old pod is still Ready');

  await patch(null);
  await waitForRollout(bed.kubeconfig, ns, 'legacy');
  await pollUntil('only Ready pods left', async () => {
    const pods = (await core(bed.kubeconfig).listNamespacedPod({ namespace: ns })).items;
    return pods.length === 1 && pods.every(isReady);
  });
});

// --- the API server as a static pod -------------------------------------------------------------------

/** GET `path` without credentials (the anonymous user), trusting the bed's CA. */
async function anonymousGet(b: Testbed, path: string): Promise<number> {
  const ca = loadKubeConfig(b.kubeconfig).getCurrentCluster()!.caData!;
  return new Promise((resolve, reject) => {
    const req = https.get(new URL(path, b.server), { ca: Buffer.from(ca, 'base64'), timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

test('up({ anonymousAuth: false }) starts a bed that refuses anonymous requests', async () => {
  const b = await privateTestbed({ anonymousAuth: false, nodes: 1 });
  try {
    assert.equal(b.nodes.length, 1);
    assert.equal(await anonymousGet(b, '/version'), 401);
    assert.equal((await kubeRequest(b.kubeconfig, 'GET', '/version')).status, 200);
  } finally {
    await down({ dir: b.dir });
  }
  assert.equal(await anonymousGet(bed, '/version'), 200, 'the default bed lets anonymous read /version (system:public-info-viewer)');
});

describe('static-pod API server', () => {
  let sb: Testbed;
  let original: string;
  const mirrorName = () => `kube-apiserver-${sb.controlPlaneNode}`;
  const readMirror = () => core(sb.kubeconfig).readNamespacedPod({ namespace: 'kube-system', name: mirrorName() });
  const command = (p: k8s.V1Pod) => p.spec!.containers.find((c) => c.name === 'kube-apiserver')!.command!;
  /** Replace the manifest atomically (as editors and kubeadm do: write a temp file, rename). */
  const writeManifest = async (text: string) => {
    await writeFile(`${sb.apiserverManifest}.tmp`, text);
    await rename(`${sb.apiserverManifest}.tmp`, sb.apiserverManifest!);
  };
  const adminUp = async () => {
    try {
      return (await kubeRequest(sb.kubeconfig, 'GET', '/readyz')).status === 200;
    } catch {
      return false;
    }
  };

  before(async () => {
    sb = await privateTestbed({ staticApiserver: true, nodes: 1 });
    original = await readFile(sb.apiserverManifest!, 'utf8');
  });
  after(async () => {
    if (sb) await down({ dir: sb.dir });
  });

  test('the manifest is kubeadm-style and the mirror pod shows its flags', async () => {
    assert.equal(sb.controlPlaneNode, 'testbed-control-plane');
    assert.match(original, /^kind: Pod$/m);
    assert.match(original, /^ {4}- kube-apiserver$/m);
    assert.match(original, /--secure-port=\d+/);
    const m = await readMirror();
    assert.equal(m.metadata?.labels?.component, 'kube-apiserver');
    assert.equal(m.metadata?.labels?.tier, 'control-plane');
    assert.equal(m.metadata?.annotations?.['kubernetes.io/config.source'], 'file');
    assert.ok(m.metadata?.annotations?.['kubernetes.io/config.mirror']);
    assert.equal(m.metadata?.annotations?.['kubernetes.io/config.mirror'], m.metadata?.annotations?.['kubernetes.io/config.hash']);
    assert.equal(m.spec?.nodeName, sb.controlPlaneNode);
    assert.equal(command(m)[0], 'kube-apiserver');
    assert.ok(command(m).includes('--authorization-mode=Node,RBAC'));
    assert.ok(
      command(m).every((f) => original.includes(f)),
      'mirror pod command = manifest command',
    );
    const node = await core(sb.kubeconfig).readNode({ name: sb.controlPlaneNode! });
    assert.ok('node-role.kubernetes.io/control-plane' in (node.metadata?.labels ?? {}));
    await waitForPod(sb.kubeconfig, 'kube-system', mirrorName(), isReady, 'Ready');
  });

  test('an edit adding --anonymous-auth=false restarts the API server with it', async () => {
    assert.equal(await anonymousGet(sb, '/version'), 200);
    const before = (await readMirror()).metadata!.annotations!['kubernetes.io/config.mirror'];
    await writeManifest(original.replace(/^( {4}- kube-apiserver\n)/m, '$1    - --anonymous-auth=false\n'));
    await pollUntil('anonymous /version to answer 401', async () => {
      try {
        return (await anonymousGet(sb, '/version')) === 401;
      } catch {
        return false; // restarting
      }
    });
    assert.equal((await kubeRequest(sb.kubeconfig, 'GET', '/version')).status, 200, 'the admin kubeconfig still works');
    const m = await pollUntil('the mirror pod to follow the manifest', async () => {
      const p = await readMirror();
      return p.metadata!.annotations!['kubernetes.io/config.mirror'] !== before ? p : undefined;
    });
    assert.ok(command(m).includes('--anonymous-auth=false'));
  });

  test('a bad edit (unknown flag) keeps the API server down until the file is restored', async () => {
    const good = await readFile(sb.apiserverManifest!, 'utf8');
    await writeManifest(good.replace(/^( {4}- kube-apiserver\n)/m, '$1    - --no-such-flag=1\n'));
    await pollUntil('the API server to go down', async () => !(await adminUp()), { timeoutMs: 30_000 });
    for (let i = 0; i < 6; i++) {
      await sleep(1000);
      assert.equal(await adminUp(), false, 'the API server must stay down while its flags are bad');
    }
    await pollUntil('the supervisor to log its back-off', async () =>
      /back-off \S+ restarting failed container/.test(await readFile(`${sb.dir}/testbed.log`, 'utf8')),
    );
    assert.match(await readFile(`${sb.dir}/apiserver.log`, 'utf8'), /unknown flag: --no-such-flag/);

    await writeManifest(good);
    await pollUntil('the API server to come back', adminUp, { timeoutMs: 60_000 });
    assert.equal(await anonymousGet(sb, '/version'), 401, 'the restored manifest still has --anonymous-auth=false');
    const m = await pollUntil('the mirror pod to show the restored flags', async () => {
      const p = await readMirror();
      return command(p).includes('--no-such-flag=1') ? undefined : p;
    });
    assert.ok(command(m).includes('--anonymous-auth=false'));
  });
});
