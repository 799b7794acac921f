// The image admission policy on the real API server: Deny refuses with the policy's message, Warn
// admits with it; and the differential test: for generated workloads and generated rules, the violation
// preview (our TypeScript evaluator) names exactly the objects and messages the API server warns about
// on dry-run updates, through the same confirmWithServer the area's inspection uses.
import assert from 'node:assert/strict';
import test from 'node:test';
import { isClusterError } from '../../src/cluster/errors.js';
import type { KubeObject } from '../../src/cluster/types.js';
import { admissionBinding, admissionPolicy } from '../../src/areas/images/policy-cel.js';
import { POLICY_NAME, preview, violations, type ImagePolicy } from '../../src/areas/images/policy.js';
import { confirmWithServer, pairOf, policyWarning } from '../../src/areas/images/server-check.js';
import type { Cluster } from '../../src/cluster/client.js';
import { ensureNamespace, pollUntil } from '../cluster/kube.js';
import { uniqueNs, withCluster } from '../helpers.js';

const ctx = withCluster();
const ADM = 'admissionregistration.k8s.io/v1';
const D1 = `sha256:${'1a'.repeat(32)}`;
const D2 = `sha256:${'2b'.repeat(32)}`;

async function removePolicy(cluster: Cluster): Promise<void> {
  for (const kind of ['ValidatingAdmissionPolicyBinding', 'ValidatingAdmissionPolicy']) {
    try {
      await cluster.delete({ apiVersion: ADM, kind, name: POLICY_NAME });
    } catch (e) {
      if (!isClusterError(e, 'NotFound')) throw e;
    }
  }
}

/** Install the policy and wait until the API server enforces this very version of it (a canary's dry-run). */
async function installPolicy(cluster: Cluster, p: ImagePolicy, canary: KubeObject): Promise<void> {
  await removePolicy(cluster);
  await cluster.create(admissionPolicy(p));
  await cluster.create(admissionBinding(p));
  const want = violations(canary, p)
    .map((v) => v.message)
    .sort();
  assert.ok(want.length > 0, 'the canary must break the policy');
  await pollUntil(
    'the policy to be in force',
    async () => {
      try {
        const r = await cluster.create(canary, { dryRun: true });
        if (p.mode === 'deny') return false;
        const got = r.warnings
          .map((w) => policyWarning(w))
          .filter(Boolean)
          .sort();
        return JSON.stringify(got) === JSON.stringify(want);
      } catch (e) {
        return p.mode === 'deny' && (e as Error).message.includes(want[0]);
      }
    },
    { timeoutMs: 30_000 },
  );
}

const pod = (ns: string, name: string, image: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns },
  spec: { containers: [{ name: 'app', image }] },
});

test('Deny refuses nginx:latest and a registry not allowed with the policy message, admits an allowed image; Warn admits with the warning', async () => {
  const { cluster } = ctx;
  const ns = uniqueNs('img-deny');
  await ensureNamespace(ctx.bed.kubeconfig, ns);
  const p: ImagePolicy = {
    allowedRegistries: ['docker.io', 'ghcr.io/acme'],
    forbidLatest: true,
    requireDigest: false,
    namespaces: { operator: 'In', values: [ns] },
    mode: 'deny',
  };
  try {
    await installPolicy(cluster, p, pod(ns, 'canary', 'nginx:latest'));
    await assert.rejects(cluster.create(pod(ns, 'latest', 'nginx:latest')), (e: Error) => {
      assert.match(
        e.message,
        /ValidatingAdmissionPolicy 'kube-harden-images' with binding 'kube-harden-images' denied request: kube-harden\/images noLatest: nginx:latest tagged :latest or untagged/,
      );
      return true;
    });
    await assert.rejects(cluster.create(pod(ns, 'evil', 'evil.example.com/app:1.0')), (e: Error) => {
      assert.match(
        e.message,
        /kube-harden\/images allowedRegistries: evil\.example\.com\/app:1\.0 not from an allowed registry \(docker\.io, ghcr\.io\/acme\)/,
      );
      return true;
    });
    const ok = await cluster.create(pod(ns, 'fine', 'ghcr.io/acme/app:2.1'));
    assert.equal(ok.object?.metadata.name, 'fine');
    assert.deepEqual(ok.warnings, []);
    // Another namespace is not selected: the same image is admitted there.
    const other = uniqueNs('img-other');
    await ensureNamespace(ctx.bed.kubeconfig, other);
    await cluster.create(pod(other, 'latest', 'nginx:latest'), { dryRun: true });

    // Warn + Audit: the same Pod is admitted, with the policy's warning.
    await installPolicy(cluster, { ...p, mode: 'warn' }, pod(ns, 'canary', 'nginx:latest'));
    const warned = await cluster.create(pod(ns, 'latest', 'nginx:latest'));
    assert.equal(warned.object?.metadata.name, 'latest');
    assert.deepEqual(
      warned.warnings.map((w) => policyWarning(w)),
      ['kube-harden/images noLatest: nginx:latest tagged :latest or untagged: pin a version tag or a digest'],
    );
  } finally {
    await removePolicy(cluster);
  }
});

// --- the differential test ---

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const IMAGES = [
  'nginx',
  'nginx:latest',
  'nginx:1.25',
  `nginx@${D1}`,
  `nginx:latest@${D1}`,
  'docker.io/library/redis:7',
  'index.docker.io/bitnami/redis',
  'library/alpine:3.20',
  'ghcr.io/acme/app:1',
  'ghcr.io/acmex/app',
  `ghcr.io/acme/tools/cli:2@${D2}`,
  'quay.io/prometheus/node-exporter:v1.8.0',
  'registry.local:5000/team/app',
  `registry.local:5000/team/app:2@${D2}`,
  'localhost/app',
  'localhost:5000/app:1',
  'Foo/bar:1',
  '[fc00::1]:5000/x/y:3',
  `gcr.io/distroless/static@${D1}`,
  'busybox',
];
const REGISTRY_CHOICES = ['docker.io', 'ghcr.io', 'ghcr.io/acme', 'quay.io', 'registry.local:5000', 'localhost', 'gcr.io/distroless', 'Foo'];

function workload(r: () => number, ns: string, i: number): KubeObject {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const containers = Array.from({ length: 1 + Math.floor(r() * 2) }, (_, k) => ({ name: `c${k}`, image: pick(IMAGES) }));
  const initContainers = r() < 0.3 ? [{ name: 'init', image: pick(IMAGES) }] : undefined;
  const spec = { containers, ...(initContainers ? { initContainers } : {}) };
  const kind = pick(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Pod', 'Pod']);
  const name = `w${i}`;
  const labels = { app: name };
  const template = { metadata: { labels }, spec: kind === 'Job' || kind === 'CronJob' ? { ...spec, restartPolicy: 'Never' } : spec };
  switch (kind) {
    case 'Pod':
      return { apiVersion: 'v1', kind, metadata: { name, namespace: ns }, spec };
    case 'Deployment':
      return { apiVersion: 'apps/v1', kind, metadata: { name, namespace: ns }, spec: { replicas: 1, selector: { matchLabels: labels }, template } };
    case 'StatefulSet':
      return {
        apiVersion: 'apps/v1',
        kind,
        metadata: { name, namespace: ns },
        spec: { replicas: 1, serviceName: name, selector: { matchLabels: labels }, template },
      };
    case 'DaemonSet':
      return { apiVersion: 'apps/v1', kind, metadata: { name, namespace: ns }, spec: { selector: { matchLabels: labels }, template } };
    case 'Job':
      return { apiVersion: 'batch/v1', kind, metadata: { name, namespace: ns }, spec: { suspend: true, template } };
    default:
      return {
        apiVersion: 'batch/v1',
        kind,
        metadata: { name, namespace: ns },
        spec: { schedule: '0 0 1 1 *', suspend: true, jobTemplate: { spec: { template } } },
      };
  }
}

function rules(r: () => number, namespaces: string[]): ImagePolicy {
  for (;;) {
    const allowed = REGISTRY_CHOICES.filter(() => r() < 0.35);
    const p: ImagePolicy = {
      allowedRegistries: r() < 0.75 ? allowed : [],
      forbidLatest: r() < 0.6,
      requireDigest: r() < 0.35,
      namespaces:
        r() < 0.5 ? { operator: 'In', values: namespaces.filter(() => r() < 0.6) } : { operator: 'NotIn', values: namespaces.filter(() => r() < 0.4) },
      mode: 'warn',
    };
    if (p.namespaces.values.length === 0) continue;
    if (p.allowedRegistries.length || p.forbidLatest || p.requireDigest) return p;
  }
}

const LIST_KINDS: Array<[string, string]> = [
  ['v1', 'Pod'],
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'ReplicaSet'],
  ['apps/v1', 'StatefulSet'],
  ['apps/v1', 'DaemonSet'],
  ['batch/v1', 'Job'],
  ['batch/v1', 'CronJob'],
];

test('differential: the violation preview names exactly the objects and messages the API server warns about (generated workloads x generated rules)', async (t) => {
  const { cluster } = ctx;
  const r = rng(20261129);
  const namespaces = [uniqueNs('imgd-a'), uniqueNs('imgd-b'), uniqueNs('imgd-c')];
  for (const ns of namespaces) await ensureNamespace(ctx.bed.kubeconfig, ns);
  let i = 0;
  for (const ns of namespaces) for (let k = 0; k < 25; k++) await cluster.create(workload(r, ns, i++));
  // Let the controllers make ReplicaSets and pods, which the policy judges too.
  await pollUntil(
    'the controllers to create pods',
    async () => {
      const pods = (await cluster.list(await cluster.typeOf('v1', 'Pod'))).filter((p) => namespaces.includes(p.metadata.namespace!));
      return pods.length >= 60;
    },
    { timeoutMs: 90_000 },
  );
  await new Promise((res) => setTimeout(res, 3000));
  const objects: KubeObject[] = [];
  for (const [av, kind] of LIST_KINDS) {
    for (const o of await cluster.list(await cluster.typeOf(av, kind), { dropStatus: true })) if (namespaces.includes(o.metadata.namespace!)) objects.push(o);
  }
  let compared = 0;
  let warnedTotal = 0;
  let cleanTotal = 0;
  try {
    for (let round = 0; round < 6; round++) {
      const p = rules(r, namespaces);
      const selected = objects.filter((o) =>
        (p.namespaces.operator === 'In' ? p.namespaces.values : namespaces.filter((n) => !p.namespaces.values.includes(n))).includes(o.metadata.namespace!),
      );
      const canaryNs = p.namespaces.operator === 'In' ? p.namespaces.values[0] : namespaces.find((n) => !p.namespaces.values.includes(n))!;
      if (!canaryNs) continue;
      const canaryImage = p.allowedRegistries.length ? 'evil.example.com/x' : p.forbidLatest ? 'x' : 'x:1';
      await installPolicy(cluster, p, pod(canaryNs, 'canary', canaryImage));
      // Fresh objects (controllers update them): the server compares against what we evaluate.
      const fresh: KubeObject[] = [];
      for (const o of objects) {
        const f = await cluster.tryGet({ apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name });
        if (f) fresh.push(f);
      }
      const check = await confirmWithServer(cluster, p, fresh);
      const ours = preview(fresh, p)
        .flatMap((x) => x.violations.map((v) => pairOf(x.object, v.message)))
        .sort();
      assert.deepEqual(check.server, ours, `round ${round}: ${JSON.stringify(p)}`);
      assert.equal(check.state, 'agree', `round ${round}: ${check.detail ?? ''}`);
      assert.equal(
        check.checked,
        fresh.filter((o) => selected.some((s) => s.metadata.name === o.metadata.name && s.kind === o.kind && s.metadata.namespace === o.metadata.namespace))
          .length,
      );
      compared += check.checked;
      const warnedObjects = new Set(check.server.map((s) => s.split('\t')[0]));
      warnedTotal += warnedObjects.size;
      cleanTotal += check.checked - warnedObjects.size;
    }
  } finally {
    await removePolicy(cluster);
  }
  t.diagnostic(`${compared} object verdicts compared over 6 rule sets: ${warnedTotal} warned, ${cleanTotal} clean`);
  // Not a vacuous agreement: many objects compared, both warned and clean ones.
  assert.ok(compared > 200, `compared ${compared}`);
  assert.ok(warnedTotal > 30 && cleanTotal > 10, `warned ${warnedTotal}, clean ${cleanTotal}`);
});
