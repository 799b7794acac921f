// The real binary in a pseudo-terminal, through whole guided sessions against the real API server.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { podSpecOf } from '../../src/areas/workloads/pod-spec.js';
import { auditOffset, auditSince, deployments, MUTATING, namespaceState, runCli, seedFixture, tempHome, uniqueNs, withCluster, BOOKINFO } from '../helpers.js';
import { spawnCli } from './pty.js';

const t = withCluster();

/** Walk the session from the first screen to the area's plan with every default answer. */
async function toPreview(term: ReturnType<typeof spawnCli>) {
  await term.waitFor(/Which areas should the session walk\?/);
  await term.waitFor(/\[x\] Pod security \(workloads\)/);
  term.mark();
  await term.write('\r');
  for (const q of ['Which namespaces', 'Which security-context fixes', 'runAsUser for workloads', 'Pod Security Admission: which enforce level']) {
    await term.waitFor(q);
    term.mark();
    await term.write('\r');
  }
  await term.waitFor(/Pod security: 7 changes/);
  // Look around the area's plan as an operator would: next change, then scroll its diff.
  term.mark();
  await term.write('\u001B[B');
  await term.waitFor(/--- a\/deployment\/productpage-v1 in /);
  term.mark();
  await term.write('j');
  await term.waitFor(/diff · lines 2–/);
  term.mark();
  await term.write('\r');
  await term.waitFor(/Review: 7 changes across 1 area/);
}

test('a whole guided session: preview, confirm, apply, summary with the rollback command; then rollback', async () => {
  const ns = uniqueNs('wizard');
  await seedFixture(t.bed, BOOKINFO, ns);
  const stateBefore = await namespaceState(t.cluster, ns);
  const home = tempHome();
  const term = spawnCli(['--kubeconfig', t.bed.kubeconfig, '--namespaces', ns, '--areas', 'workloads'], { KUBE_HARDEN_HOME: home });
  await term.waitFor(/connected to kube-harden-testbed .*Kubernetes v1\.34\.4, as kube-harden-admin/);
  await toPreview(term);
  term.mark();
  await term.write('\r');
  await term.waitFor(/Apply 7 changes to kube-harden-testbed\? \(y\/N\)/);
  await term.write('y');
  await term.waitFor(/Save these answers as a profile/);
  await term.write('\r');
  const { exitCode } = await term.exit;
  // The undo command is printed last as one plain line, so it pastes whole whatever the terminal's width.
  const last = term.text().trimEnd().split('\n').at(-1)!;
  const m = /^undo with: kube-harden rollback (\S+) --context kube-harden-testbed --kubeconfig (\S+)$/.exec(last);
  assert.ok(m, last);
  assert.equal(m[2], t.bed.kubeconfig);
  const id = m[1];
  assert.match(term.text(), /applied 7 of 7 changes/);
  assert.equal(exitCode, 0, term.text().slice(-2000));

  for (const d of await deployments(t.cluster, ns)) {
    const pod = podSpecOf(d)!;
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(pod.containers[0].securityContext?.allowPrivilegeEscalation, false);
  }
  const r = await runCli(['rollback', id, '--yes', '--kubeconfig', t.bed.kubeconfig], { home });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await namespaceState(t.cluster, ns), stateBefore);
});

test('a whole --preview session writes nothing: no mutating request without dryRun, no local file', async () => {
  const ns = uniqueNs('wizard-preview');
  await seedFixture(t.bed, BOOKINFO, ns);
  const stateBefore = await namespaceState(t.cluster, ns);
  const home = tempHome();
  const offset = auditOffset(t.bed);
  const term = spawnCli(['--preview', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns, '--areas', 'workloads'], { KUBE_HARDEN_HOME: home });
  await term.waitFor(/PREVIEW/);
  await toPreview(term);
  term.mark();
  await term.write('\r');
  await term.waitFor(/Save these answers as a profile/);
  await term.write('\r');
  await term.waitFor(/Preview only/);
  const { exitCode } = await term.exit;
  assert.equal(exitCode, 0);

  const ours = auditSince(t.bed, offset).filter((e) => e.userAgent?.startsWith('kube-harden/') && e.stage === 'ResponseComplete');
  const writes = ours.filter((e) => MUTATING.has(e.verb));
  assert.ok(writes.filter((e) => /dryRun=All/.test(e.requestURI)).length >= 7, 'the session dry-ran its plan');
  assert.deepEqual(
    writes.filter((e) => !/[?&]dryRun=All(&|$)/.test(e.requestURI)).map((e) => `${e.verb} ${e.requestURI}`),
    [],
  );
  assert.deepEqual(readdirSync(home), []);
  assert.deepEqual(await namespaceState(t.cluster, ns), stateBefore);
});

test('q leaves the session before anything is written, exit 0', async () => {
  const ns = uniqueNs('wizard-quit');
  await seedFixture(t.bed, BOOKINFO, ns);
  const stateBefore = await namespaceState(t.cluster, ns);
  const home = tempHome();
  const term = spawnCli(['--kubeconfig', t.bed.kubeconfig, '--namespaces', ns, '--areas', 'workloads'], { KUBE_HARDEN_HOME: home });
  await toPreview(term);
  await term.write('q');
  const { exitCode } = await term.exit;
  assert.equal(exitCode, 0);
  assert.deepEqual(readdirSync(home), []);
  assert.deepEqual(await namespaceState(t.cluster, ns), stateBefore);
});
