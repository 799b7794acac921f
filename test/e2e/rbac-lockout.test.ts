// The lock-out guard in a real terminal, as a user who gets its power from a binding (a certificate
// minted with the CSR API): removing that binding is applied only after the context name is typed,
// whatever --yes says; a wrong name writes nothing. Both drivers: `apply --profile` on a terminal, and
// the guided session.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { isClusterError, type KubeObject } from '../../src/cluster/client.js';
import { kubeconfigFor } from '../cluster/users.js';
import { runCli, tempHome, uniqueNs, withCluster } from '../helpers.js';
import { spawnCli } from './pty.js';

const t = withCluster();
const RUN = `rbl${Date.now().toString(36).slice(-5)}`;
const RBAC = 'rbac.authorization.k8s.io/v1';
const G = 'rbac.authorization.k8s.io';
const crb = (name: string, subjects: unknown[]): KubeObject => ({
  apiVersion: RBAC,
  kind: 'ClusterRoleBinding',
  metadata: { name },
  roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'cluster-admin' },
  subjects,
});

/** A literal that the terminal may have wrapped at any of its spaces. */
const wrapped = (text: string) => new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s+'));

async function setup(tag: string) {
  const ns = uniqueNs(`rbac-pty-${tag}`);
  await t.cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const opsUser = `${RUN}-${tag}-ops`;
  const binding = crb(`${RUN}-${tag}-ops-admin`, [{ kind: 'User', apiGroup: G, name: opsUser }]);
  // Someone else stays admin, so the plan is a lock-out of ops (confirm), not the last admin (refuse).
  const others = crb(`${RUN}-${tag}-platform`, [{ kind: 'Group', apiGroup: G, name: `${RUN}-platform` }]);
  await t.cluster.create(binding);
  await t.cluster.create(others);
  const kubeconfig = await kubeconfigFor(t.bed, opsUser, []);
  const file = path.join(tempHome(), 'profile.yaml');
  writeFileSync(
    file,
    stringify({
      version: 2,
      areas: ['rbac'],
      answers: { 'rbac.bindings': { [`ClusterRoleBinding/${binding.metadata.name}`]: 'remove' }, 'rbac.automount': [] },
    }),
  );
  const exists = async () => !!(await t.cluster.tryGet({ apiVersion: RBAC, kind: 'ClusterRoleBinding', name: binding.metadata.name }));
  const cleanup = async () => {
    for (const o of [binding, others]) {
      try {
        await t.cluster.delete({ apiVersion: RBAC, kind: 'ClusterRoleBinding', name: o.metadata.name });
      } catch (e) {
        if (!isClusterError(e, 'NotFound')) throw e;
      }
    }
  };
  return { ns, opsUser, kubeconfig, file, exists, cleanup, context: `kube-harden-testbed-${opsUser}` };
}

test('apply --profile --yes on a terminal: the lock-out needs the context name typed; a wrong name writes nothing, the right one applies', async () => {
  const s = await setup('apply');
  const home = tempHome();
  try {
    const args = ['apply', '--profile', s.file, '--yes', '--kubeconfig', s.kubeconfig, '--namespaces', s.ns];
    let term = spawnCli(args, { KUBE_HARDEN_HOME: home });
    await term.waitFor(/needs confirmation: the plan removes your own access/);
    await term.waitFor(new RegExp(`Type the context name \\(${s.context}\\) to apply: `));
    await term.write('kube-harden-testbed\r');
    await term.waitFor(/not applied: nothing was written/);
    assert.equal((await term.exit).exitCode, 0);
    assert.ok(await s.exists(), 'a wrong name wrote nothing');

    term = spawnCli(args, { KUBE_HARDEN_HOME: home });
    await term.waitFor(new RegExp(`Type the context name \\(${s.context}\\) to apply: `));
    await term.write(`${s.context}\r`);
    await term.waitFor(/applied clusterrolebinding\//);
    assert.equal((await term.exit).exitCode, 0, term.text().slice(-1500));
    assert.equal(await s.exists(), false);
    const rb = await runCli(['rollback', '--yes', '--kubeconfig', t.bed.kubeconfig, '--context', 'kube-harden-testbed'], { home });
    assert.equal(rb.code, 0, rb.stderr);
    assert.ok(await s.exists(), 'rolled back');
  } finally {
    await s.cleanup();
  }
});

test('the guided session: the lock-out is shown in the review and the confirmation asks for the context name; Esc leaves with nothing written', async () => {
  const s = await setup('wizard');
  const home = tempHome();
  try {
    const term = spawnCli(['--kubeconfig', s.kubeconfig, '--areas', 'rbac', '--namespaces', s.ns, '--profile', s.file], { KUBE_HARDEN_HOME: home });
    await term.waitFor(new RegExp(`connected to ${s.context} .*as ${s.opsUser.slice(0, 10)}`));
    await term.waitFor(/Which areas should the session walk\?/);
    await term.write('\r');
    // The per-binding question shows the binding with its role; the profile's answer is the initial one.
    await term.waitFor(/What should happen to each risky binding\?/);
    await term.waitFor(new RegExp(`ClusterRoleBinding/${RUN}-wizard-ops-admin → ClusterRole/cluster-admin`));
    // With its path down to the rule (the terminal may wrap it anywhere a space is).
    await term.waitFor(
      wrapped(
        `high wildcardToUser: ClusterRoleBinding/${RUN}-wizard-ops-admin → ClusterRole/cluster-admin (labelled kubernetes.io/bootstrapping=rbac-defaults) → rule 0`,
      ),
    );
    term.mark();
    await term.write('\r');
    for (const q of [/Which users may view and list everything/, /Which groups may view and list everything/, /stop mounting its token/]) {
      await term.waitFor(q);
      term.mark();
      await term.write('\r');
    }
    await term.waitFor(/RBAC: who may do what: 1 change/);
    term.mark();
    await term.write('\r');
    await term.waitFor(/Review: 1 change/);
    await term.waitFor(/the plan removes your own access/);
    // The notes view (n) has the guard's details: what would be lost, and by which path.
    await term.write('n');
    await term.waitFor(wrapped(`you lose cluster-admin power (* on *), granted by ClusterRoleBinding/${RUN}-wizard-ops-admin`));
    term.mark();
    await term.write('n');
    await term.waitFor(/delete\s+clusterrolebinding\//);
    term.mark();
    await term.write('\r');
    await term.waitFor(new RegExp(`type the context name\\s+${s.context}`));
    await term.write('kube-harden-testbed');
    await term.write('\r');
    await term.waitFor(/is not "/);
    await term.write('\u001B');
    // Declined: the answers may still be saved (empty name: not saved), then the session ends.
    await term.waitFor(/Save these answers as a profile/);
    await term.write('\r');
    await term.exit;
    assert.ok(await s.exists(), 'nothing was written');
  } finally {
    await s.cleanup();
  }
});
