// Pod Security levels per namespace, decided on every pod the namespace will hold after the plan.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../src/cluster/types.js';
import { decideLevel, planWorkloads } from '../../src/areas/workloads/plan.js';
import { pinnedVersion, safeLevel } from '../../src/areas/workloads/psa.js';
import type { Inspection } from '../../src/areas/types.js';
import type { WorkloadFacts } from '../../src/areas/workloads/inspect.js';
import type { PodSpec } from '../../src/areas/workloads/pod-spec.js';
import { compose } from '../../src/engine/compose.js';

const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels, resourceVersion: '1' },
});
const deployment = (name: string, namespace: string, pod: PodSpec): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace, resourceVersion: '1' },
  spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: pod } },
});
const cronjob = (name: string, namespace: string, pod: PodSpec): KubeObject => ({
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name, namespace, resourceVersion: '1' },
  spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', ...pod } } } } },
});
const plain: PodSpec = { containers: [{ name: 'app', image: 'registry.example/app:1' }] };

function inspection(objects: KubeObject[], namespaces: KubeObject[]): Inspection<WorkloadFacts> {
  return {
    area: 'workloads',
    findings: [],
    facts: {
      namespaces: namespaces.map((n) => n.metadata.name),
      infrastructure: {},
      psa: namespaces.map((n) => ({ namespace: n.metadata.name, enforce: n.metadata.labels?.['pod-security.kubernetes.io/enforce'] })),
      psaVersion: 'v1.34',
      objects,
      ownership: {},
      otherPods: {},
      namespaceObjects: namespaces,
    },
  };
}
const labelsOf = (ins: Inspection<WorkloadFacts>, answers: Record<string, unknown>) => {
  const changes = compose(planWorkloads(ins, answers as never));
  const n = changes.find((c) => c.kind === 'object' && c.ref.kind === 'Namespace');
  return n?.kind === 'object' ? (n.after!.metadata.labels ?? {}) : undefined;
};

test('the policy version is pinned to the cluster minor', () => {
  assert.equal(pinnedVersion('34'), 'v1.34');
  assert.equal(pinnedVersion('31+'), 'v1.31');
  assert.equal(pinnedVersion(''), 'latest');
});

test('a namespace whose only violations this plan fixes gets restricted, pinned, after the rollouts', () => {
  const ins = inspection([deployment('web', 'shop', plain)], [ns('shop')]);
  const answers = { 'workloads.namespaces': ['shop'], 'workloads.fixes': ['noEscalation', 'dropAll', 'seccomp', 'runAsNonRoot'], 'workloads.psa': 'auto' };
  const changes = compose(planWorkloads(ins, answers as never));
  const nsChange = changes.find((c) => c.kind === 'object' && c.ref.kind === 'Namespace')!;
  assert.equal(nsChange.phase, 'after-rollout');
  assert.equal(labelsOf(ins, answers)!['pod-security.kubernetes.io/enforce'], 'restricted');
  assert.equal(labelsOf(ins, answers)!['pod-security.kubernetes.io/enforce-version'], 'v1.34');
  // Without the fixes, the same namespace can only get baseline.
  assert.equal(labelsOf(ins, { ...answers, 'workloads.fixes': [] })!['pod-security.kubernetes.io/enforce'], 'baseline');
});

test('a namespace with only a CronJob that uses hostPort: auto enforces no level that refuses it', () => {
  const pod: PodSpec = { containers: [{ name: 'job', image: 'busybox:1.36', ports: [{ containerPort: 80, hostPort: 8080 }] }] };
  const ins = inspection([cronjob('nightly', 'batch', pod)], [ns('batch')]);
  const v = safeLevel([{ name: 'cronjob/nightly', spec: pod }], 'v1.34');
  assert.equal(v.level, 'privileged');
  assert.match(v.blockers.baseline[0], /hostPort/);
  const labels = labelsOf(ins, {
    'workloads.namespaces': ['batch'],
    'workloads.fixes': ['noEscalation', 'dropAll', 'seccomp', 'runAsNonRoot'],
    'workloads.psa': 'auto',
  })!;
  assert.equal(labels['pod-security.kubernetes.io/enforce'], undefined);
  assert.equal(labels['pod-security.kubernetes.io/warn'], 'restricted');
  // Asked for restricted or baseline explicitly: still not set, because it would refuse the CronJob's next run.
  for (const mode of ['restricted', 'baseline']) {
    assert.equal(
      labelsOf(ins, { 'workloads.namespaces': ['batch'], 'workloads.fixes': [], 'workloads.psa': mode })!['pod-security.kubernetes.io/enforce'],
      undefined,
    );
  }
});

test('an explicit level is never lowered or overridden unasked; chosen per namespace it may be, if nothing is refused', () => {
  const p = { namespace: 'agents', enforce: 'privileged' };
  const ok = { level: 'restricted' as const, blockers: { baseline: [], restricted: [] } };
  for (const mode of ['auto', 'restricted', 'baseline'] as const) assert.equal(decideLevel(p, ok, mode).enforce, undefined);
  assert.match(decideLevel(p, ok, 'auto').note, /enforce=privileged was set by someone/);
  assert.equal(decideLevel(p, ok, 'per-namespace', 'restricted').enforce, 'restricted');
  assert.equal(decideLevel(p, ok, 'per-namespace', 'unchanged').enforce, undefined);
  const blocked = { level: 'baseline' as const, blockers: { baseline: [], restricted: ['deployment/x: runAsNonRoot != true'] } };
  const d = decideLevel({ namespace: 'n' }, blocked, 'per-namespace', 'restricted');
  assert.equal(d.enforce, undefined);
  assert.match(d.note, /enforce restricted would refuse deployment\/x/);
  assert.equal(decideLevel({ namespace: 'n', enforce: 'restricted' }, ok, 'per-namespace', 'baseline').enforce, undefined, 'never lowered');
});
