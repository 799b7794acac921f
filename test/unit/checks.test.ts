// Every check has a failing, a passing and a fixed fixture: the fix must turn failing into passing,
// touch nothing else, and never mutate its input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHECKS, type FixId } from '../../src/areas/workloads/checks.js';
import { fixPodSpec } from '../../src/areas/workloads/fixes.js';
import { evaluate } from '../../src/areas/workloads/inspect.js';
import type { PodSpec } from '../../src/areas/workloads/pod-spec.js';

const hardened = (): PodSpec => ({
  securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
  automountServiceAccountToken: false,
  containers: [
    {
      name: 'app',
      image: 'app:1',
      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
    },
  ],
});

/** For each check: a pod spec that fails it (and only it), and the fix that should repair it. */
const FAILING: Record<string, { pod: PodSpec; fix?: FixId }> = {
  privileged: { pod: withContainer({ privileged: true, allowPrivilegeEscalation: undefined }), fix: 'noPrivileged' },
  allowPrivilegeEscalation: { pod: withContainer({ allowPrivilegeEscalation: undefined }), fix: 'noEscalation' },
  runAsNonRoot: { pod: { ...hardened(), securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }, fix: 'runAsNonRoot' },
  capabilitiesDropAll: { pod: withContainer({ capabilities: {} }), fix: 'dropAll' },
  dangerousCapabilities: { pod: withContainer({ capabilities: { drop: ['ALL'], add: ['SYS_PTRACE'] } }) },
  seccomp: { pod: { ...hardened(), securityContext: { runAsNonRoot: true } }, fix: 'seccomp' },
  readOnlyRootFilesystem: { pod: withContainer({ readOnlyRootFilesystem: undefined }), fix: 'readOnlyRootFilesystem' },
  hostNamespaces: { pod: { ...hardened(), hostNetwork: true }, fix: 'hostNamespaces' },
  hostPath: { pod: { ...hardened(), volumes: [{ name: 'h', hostPath: { path: '/' } }] } },
  automountToken: { pod: { ...hardened(), automountServiceAccountToken: undefined }, fix: 'automountToken' },
};

function withContainer(sc: Record<string, unknown>): PodSpec {
  const p = hardened();
  p.containers[0].securityContext = { ...p.containers[0].securityContext, ...sc };
  for (const [k, v] of Object.entries(sc)) if (v === undefined) delete p.containers[0].securityContext![k];
  return p;
}

const deployment = (pod: PodSpec) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop' },
  spec: { template: { spec: pod } },
});
const failingChecks = (pod: PodSpec) =>
  evaluate(deployment(pod))
    .map((f) => f.rule)
    .sort();

test('the hardened fixture passes every check', () => {
  assert.deepEqual(failingChecks(hardened()), []);
});

test('every check has a failing fixture', () => {
  assert.deepEqual(Object.keys(FAILING).sort(), CHECKS.map((c) => c.id).sort());
});

for (const check of CHECKS) {
  test(`${check.id}: fails on its fixture, passes once fixed (or needs a human)`, () => {
    const { pod, fix } = FAILING[check.id];
    assert.ok(failingChecks(pod).includes(check.id), `${check.id} should fail: ${failingChecks(pod)}`);
    assert.equal(check.fixId, fix);
    const frozen = structuredClone(pod);
    if (!fix) {
      assert.ok(
        evaluate(deployment(pod))
          .filter((f) => f.rule === check.id)
          .every((f) => !f.fixable),
      );
      return;
    }
    const r = fixPodSpec(pod, { fixes: new Set([fix]) });
    assert.deepEqual(pod, frozen, 'the fix mutated its input');
    assert.ok(r.applied.includes(fix));
    assert.ok(!failingChecks(r.pod).includes(check.id), `${check.id} still fails after ${fix}`);
  });
}

test('fixes write only what was chosen', () => {
  const bare: PodSpec = { containers: [{ name: 'a', image: 'a' }] };
  const r = fixPodSpec(bare, { fixes: new Set<FixId>(['noEscalation']) });
  assert.deepEqual(r.pod, { containers: [{ name: 'a', image: 'a', securityContext: { allowPrivilegeEscalation: false } }] });
});

test('allowPrivilegeEscalation is not turned off beside privileged (the API server would refuse it)', () => {
  const p: PodSpec = { containers: [{ name: 'a', securityContext: { privileged: true } }] };
  const r = fixPodSpec(p, { fixes: new Set<FixId>(['noEscalation']) });
  assert.equal(r.pod.containers[0].securityContext?.allowPrivilegeEscalation, undefined);
  assert.match(r.notes[0], /privileged/);
  const both = fixPodSpec(p, { fixes: new Set<FixId>(['noEscalation', 'noPrivileged']) });
  assert.deepEqual(both.pod.containers[0].securityContext, { privileged: false, allowPrivilegeEscalation: false });
});

test('runAsNonRoot is left alone where a container runs as UID 0 on purpose; runAsUser only where no user is named', () => {
  const root: PodSpec = { containers: [{ name: 'a', securityContext: { runAsUser: 0 } }] };
  const r = fixPodSpec(root, { fixes: new Set<FixId>(['runAsNonRoot']), runAsUser: 1000 });
  assert.deepEqual(r.pod, root);
  const none: PodSpec = { containers: [{ name: 'a' }] };
  assert.deepEqual(fixPodSpec(none, { fixes: new Set<FixId>(['runAsNonRoot']), runAsUser: 1000 }).pod.securityContext, { runAsNonRoot: true, runAsUser: 1000 });
  const named: PodSpec = { containers: [{ name: 'a', securityContext: { runAsUser: 7 } }] };
  assert.equal(fixPodSpec(named, { fixes: new Set<FixId>(['runAsNonRoot']), runAsUser: 1000 }).pod.securityContext?.runAsUser, undefined);
});

test('init containers are checked and fixed too', () => {
  const p: PodSpec = { initContainers: [{ name: 'init' }], containers: [{ name: 'a' }] };
  assert.ok(evaluate(deployment(p)).some((f) => f.container === 'init' && f.rule === 'allowPrivilegeEscalation'));
  const r = fixPodSpec(p, { fixes: new Set<FixId>(['dropAll']) });
  assert.deepEqual(r.pod.initContainers![0].securityContext, { capabilities: { drop: ['ALL'] } });
});
