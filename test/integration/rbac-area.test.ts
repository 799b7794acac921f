// The rbac area against the real API server (its own private test bed): RBAC in force on a clean bed;
// the cluster (cluster-admin for system:authenticated, a wildcard role for a user, Secrets for
// every service account, automount on) found with paths, fixed as chosen through the CLI, and rolled back
// exactly; the lock-out guard as a user who gets its power from a binding (credentials minted with the
// CSR API), non-interactively; a read-only role created from answers, checked with SubjectAccessReview
// and with real requests as its subject.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { builtinByKind, Cluster, isClusterError, type KubeObject } from '../../src/cluster/client.js';
import type { RbacFacts } from '../../src/areas/rbac/inspect.js';
import type { Finding, Inspection } from '../../src/areas/types.js';
import { normalise } from '../../src/engine/normalise.js';
import { Session } from '../../src/session.js';
import { kubeconfigFor } from '../cluster/users.js';
import { runCli, tempHome, uniqueNs, withCluster } from '../helpers.js';

const t = withCluster();
const RUN = `rba${Date.now().toString(36).slice(-5)}`;
const RBAC = 'rbac.authorization.k8s.io/v1';
const G = 'rbac.authorization.k8s.io';
const RBAC_KINDS = ['ClusterRole', 'Role', 'ClusterRoleBinding', 'RoleBinding'];

const clusterRole = (name: string, rules: unknown[]): KubeObject => ({ apiVersion: RBAC, kind: 'ClusterRole', metadata: { name }, rules });
const crb = (name: string, role: string, subjects: unknown[]): KubeObject => ({
  apiVersion: RBAC,
  kind: 'ClusterRoleBinding',
  metadata: { name },
  roleRef: { apiGroup: G, kind: 'ClusterRole', name: role },
  subjects,
});
const group = (name: string) => ({ kind: 'Group', apiGroup: G, name });
const user = (name: string) => ({ kind: 'User', apiGroup: G, name });

async function createAll(objs: KubeObject[]): Promise<void> {
  for (const o of objs) await t.cluster.create(o);
}
async function deleteAll(objs: KubeObject[]): Promise<void> {
  for (const o of [...objs].reverse()) {
    try {
      await t.cluster.delete({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace });
    } catch (e) {
      if (!isClusterError(e, 'NotFound')) throw e;
    }
  }
}

/** Every RBAC object of the cluster, and the ServiceAccounts of a namespace, normalised: what a rollback must restore. */
async function rbacState(namespace: string): Promise<Record<string, KubeObject>> {
  const out: Record<string, KubeObject> = {};
  for (const kind of RBAC_KINDS) {
    for (const o of await t.cluster.list(builtinByKind(kind))) out[`${kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`] = normalise(o);
  }
  for (const o of await t.cluster.list(builtinByKind('ServiceAccount'), { namespace })) out[`ServiceAccount/${namespace}/${o.metadata.name}`] = normalise(o);
  return out;
}

async function sar(u: string, groups: string[], attrs: Record<string, string>): Promise<boolean> {
  const r = await t.cluster.rest.request<{ status: { allowed: boolean } }>({
    method: 'POST',
    path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: u, groups, resourceAttributes: attrs } },
  });
  return r.body.status.allowed;
}

function profile(answers: Record<string, unknown>): string {
  const file = path.join(tempHome(), 'profile.yaml');
  writeFileSync(file, stringify({ version: 2, name: 'rbac-test', areas: ['rbac'], answers }));
  return file;
}

async function audit(kubeconfig: string, namespace: string): Promise<Finding[]> {
  const r = await runCli(['audit', '--output', 'json', '--areas', 'rbac', '--kubeconfig', kubeconfig, '--namespaces', namespace], { home: tempHome() });
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { findings: Finding[] }).findings;
}

/** The answers of the test: remove the grants to everyone, narrow alice to view, keep the platform admins. */
const answersFor = (ns: string) => ({
  'rbac.bindings': {
    [`ClusterRoleBinding/${RUN}-everyone-admin`]: 'remove',
    [`ClusterRoleBinding/${RUN}-alice`]: 'view',
    [`ClusterRoleBinding/${RUN}-sa-secrets`]: 'remove',
    [`ClusterRoleBinding/${RUN}-platform-admins`]: 'keep',
  },
  'rbac.automount': [ns],
});

async function namespace(prefix: string): Promise<string> {
  const ns = uniqueNs(prefix);
  await t.cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  // The controller-manager creates the default service account.
  for (let i = 0; i < 100; i++) {
    if (await t.cluster.tryGet({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: ns, name: 'default' })) return ns;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no default service account in ${ns}`);
}

test('RBAC in force on a clean bed: served, a made-up user and system:anonymous denied; bootstrap policy is no finding', async () => {
  const ns = await namespace('rbac-clean');
  const session = await Session.open({ kubeconfig: t.bed.kubeconfig, areas: ['rbac'], namespaces: [ns], preview: true });
  try {
    const [state] = await session.inspect();
    const facts = (state.inspection as Inspection<RbacFacts>).facts;
    assert.equal(facts.enforcement.served, true);
    assert.equal(facts.enforcement.probes.length, 6);
    assert.deepEqual(
      facts.enforcement.probes.map((p) => [p.user.username, p.label, p.allowed]),
      facts.enforcement.probes.map((p) => [p.user.username, p.label, false]),
    );
    assert.match(state.inspection.notes!.join('\n'), /a made-up user and system:anonymous are denied secrets, pods\/exec and \* \(6 SubjectAccessReviews\)/);
    // Nothing but the namespace's default service account: the bootstrap roles and bindings (controllers,
    // system:masters, discovery for everyone) are what they should be.
    assert.deepEqual(
      state.inspection.findings.map((f) => f.id),
      [`rbac/defaultServiceAccountAutomount/ServiceAccount/${ns}/default`],
    );
    // Discovery found the readable resources the read-only role names.
    assert.ok(facts.readable!.some((r) => r.apiGroup === 'apps' && r.resources.includes('deployments')));
  } finally {
    await session.close();
  }
  // The same through the CLI's audit, as JSON.
  const findings = await audit(t.bed.kubeconfig, ns);
  assert.deepEqual(
    findings.map((f) => f.rule),
    ['defaultServiceAccountAutomount'],
  );
});

test("the issue's cluster: found with paths, fixed as chosen (apply --profile --yes), rollback restores it exactly", async () => {
  const ns = await namespace('rbac-issue');
  const objs = [
    crb(`${RUN}-everyone-admin`, 'cluster-admin', [group('system:authenticated')]),
    clusterRole(`${RUN}-everything`, [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]),
    crb(`${RUN}-alice`, `${RUN}-everything`, [user(`${RUN}-alice`)]),
    clusterRole(`${RUN}-secret-reader`, [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] }]),
    crb(`${RUN}-sa-secrets`, `${RUN}-secret-reader`, [group('system:serviceaccounts')]),
    // The legitimate admins: kept, so the plan does not remove the last cluster-admin of a person.
    crb(`${RUN}-platform-admins`, 'cluster-admin', [group(`${RUN}-platform-admins`)]),
  ];
  await createAll(objs);
  try {
    // Found, each with its path and subjects; the made-up user is allowed, and the path says why.
    const findings = await audit(t.bed.kubeconfig, ns);
    const find = (rule: string, name: string) => findings.find((f) => f.rule === rule && f.ref.name === name);
    const everyone = find('adminToEveryone', `${RUN}-everyone-admin`)!;
    assert.deepEqual(everyone.path, [
      `ClusterRoleBinding/${RUN}-everyone-admin`,
      'ClusterRole/cluster-admin (labelled kubernetes.io/bootstrapping=rbac-defaults)',
      'rule 0: verbs [*] on [*] in apiGroups [*]',
    ]);
    assert.match(everyone.message, /to Group system:authenticated/);
    const alice = find('wildcardToUser', `${RUN}-alice`)!;
    assert.deepEqual(alice.path, [`ClusterRoleBinding/${RUN}-alice`, `ClusterRole/${RUN}-everything`, 'rule 0: verbs [*] on [*] in apiGroups [*]']);
    assert.match(alice.message, new RegExp(`to User ${RUN}-alice`));
    const secrets = find('secretsClusterWide', `${RUN}-sa-secrets`)!;
    assert.equal(secrets.severity, 'critical');
    assert.deepEqual(secrets.path, [
      `ClusterRoleBinding/${RUN}-sa-secrets`,
      `ClusterRole/${RUN}-secret-reader`,
      'rule 0: verbs [get,list,watch] on [secrets] in apiGroups []',
    ]);
    assert.match(secrets.message, /to Group system:serviceaccounts/);
    assert.ok(findings.some((f) => f.id === `rbac/defaultServiceAccountAutomount/ServiceAccount/${ns}/default`));
    const probe = findings.filter((f) => f.rule === 'unknownUserAllowed');
    assert.equal(probe.length, 3, 'secrets, exec and * allowed to a made-up user');
    assert.ok(probe.every((f) => f.path?.[0] === `ClusterRoleBinding/${RUN}-everyone-admin`));
    assert.ok(!findings.some((f) => f.rule === 'anonymousAllowed'));

    const before = await rbacState(ns);
    const home = tempHome();
    // --preview writes nothing, removals included (their dry-run deletes must not delete).
    const preview = await runCli(['apply', '--profile', profile(answersFor(ns)), '--preview', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns], { home });
    assert.equal(preview.code, 0, preview.stderr);
    assert.match(preview.stdout, /preview only: 5 change\(s\), 0 failed the dry-run; nothing was written/);
    assert.deepEqual(await rbacState(ns), before);
    const answers = answersFor(ns);
    const r = await runCli(['apply', '--profile', profile(answers), '--yes', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns], {
      home,
      timeoutMs: 240_000,
    });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    // The review's impact table, per subject.
    assert.match(r.stdout, /rbac: Access changed by the plan, per subject/);
    assert.match(r.stdout, /Group system:authenticated\s+cluster-wide\s+loses everything \(\* on \*\), read Secrets/);
    assert.match(
      r.stdout,
      new RegExp(
        `User ${RUN}-alice\\s+cluster-wide\\s+loses everything \\(\\* on \\*\\), read Secrets, exec into pods, create pods, delete pods, write RBAC; keeps list pods`,
      ),
    );
    assert.match(r.stdout, /You \(kube-harden-admin\) keep your access/);

    // Fixed as chosen.
    const get = (kind: string, name: string, namespace?: string) =>
      t.cluster.tryGet({ apiVersion: kind === 'ServiceAccount' ? 'v1' : RBAC, kind, name, namespace });
    assert.equal(await get('ClusterRoleBinding', `${RUN}-everyone-admin`), undefined);
    assert.equal(await get('ClusterRoleBinding', `${RUN}-sa-secrets`), undefined);
    assert.equal(await get('ClusterRoleBinding', `${RUN}-alice`), undefined);
    const narrowed = (await get('ClusterRoleBinding', `${RUN}-alice-view`))!;
    assert.deepEqual(narrowed.roleRef, { apiGroup: G, kind: 'ClusterRole', name: 'view' });
    assert.deepEqual(narrowed.subjects, [user(`${RUN}-alice`)]);
    assert.ok(await get('ClusterRoleBinding', `${RUN}-platform-admins`));
    assert.equal((await get('ServiceAccount', 'default', ns))!.automountServiceAccountToken, false);
    // The API server agrees: a made-up user is denied again, alice may only read.
    assert.equal(await sar('kube-harden-probe:someone', ['system:authenticated'], { verb: 'get', resource: 'secrets', namespace: 'kube-system' }), false);
    assert.equal(await sar(`${RUN}-alice`, ['system:authenticated'], { verb: 'list', resource: 'pods', namespace: ns }), true);
    assert.equal(await sar(`${RUN}-alice`, ['system:authenticated'], { verb: 'delete', resource: 'pods', namespace: ns }), false);
    assert.equal(
      await sar('system:serviceaccount:default:default', ['system:serviceaccounts', 'system:authenticated'], { verb: 'get', resource: 'secrets' }),
      false,
    );
    const after = await audit(t.bed.kubeconfig, ns);
    assert.deepEqual(
      after
        .filter((f) => f.ref.name.startsWith(RUN) || f.rule === 'unknownUserAllowed' || f.ref.namespace === ns)
        .map((f) => f.id)
        .sort(),
      [`rbac/wildcardToUser/ClusterRoleBinding//${RUN}-platform-admins`],
      'what was fixed is gone; what was kept is still reported',
    );

    // Rollback restores every RBAC object and the service account exactly.
    const rb = await runCli(['rollback', '--yes', '--kubeconfig', t.bed.kubeconfig], { home });
    assert.equal(rb.code, 0, rb.stderr + rb.stdout);
    assert.deepEqual(await rbacState(ns), before);
  } finally {
    await deleteAll([...objs, crb(`${RUN}-alice-view`, 'view', [])]);
  }
});

test('lock-out guard, non-interactive: removing the binding that gives me my power is refused without --allow-lockout; the last admin binding never', async () => {
  const ns = await namespace('rbac-lockout');
  const opsUser = `${RUN}-ops`;
  const opsGroup = `${RUN}-ops-team`;
  const opsBinding = crb(`${RUN}-ops-admin`, 'cluster-admin', [group(opsGroup)]);
  const others = crb(`${RUN}-platform`, 'cluster-admin', [group(`${RUN}-platform`)]);
  await createAll([opsBinding]);
  const kubeconfig = await kubeconfigFor(t.bed, opsUser, [opsGroup]);
  const ops = await Cluster.connect({ kubeconfig });
  try {
    assert.deepEqual(await ops.whoami(), { username: opsUser, groups: [opsGroup, 'system:authenticated'] });
    const home = tempHome();
    const file = profile({ 'rbac.bindings': { [`ClusterRoleBinding/${RUN}-ops-admin`]: 'remove' }, 'rbac.automount': [] });
    const apply = (...extra: string[]) => runCli(['apply', '--profile', file, '--yes', '--kubeconfig', kubeconfig, '--namespaces', ns, ...extra], { home });
    const exists = async () => !!(await t.cluster.tryGet({ apiVersion: RBAC, kind: 'ClusterRoleBinding', name: `${RUN}-ops-admin` }));

    // The only binding that gives a person cluster-admin: refused, even with --allow-lockout.
    let r = await apply('--allow-lockout');
    assert.equal(r.code, 4, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `refused for safety.*removes the last binding that gives cluster-admin to someone who is not a system component \\(ClusterRoleBinding/${RUN}-ops-admin: Group ${opsGroup}\\)`,
      ),
    );
    assert.ok(await exists());

    // Another admin exists: removing mine is a lock-out, refused without the flag.
    await createAll([others]);
    r = await apply();
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, new RegExp(`refused for safety: the plan removes your own access \\(${opsUser}\\): cluster-admin power and \\d+ RBAC permission`));
    assert.match(r.stderr, /pass --allow-lockout to apply anyway/);
    // The review says what would be lost, and by which path.
    assert.match(r.stdout, /needs confirmation: the plan removes your own access/);
    assert.match(
      r.stdout,
      new RegExp(`you lose cluster-admin power \\(\\* on \\*\\), granted by ClusterRoleBinding/${RUN}-ops-admin → ClusterRole/cluster-admin → rule 0`),
    );
    assert.ok(await exists(), 'nothing was written');

    // With the flag: applied, and ops has lost its power for real.
    r = await apply('--allow-lockout');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await exists(), false);
    const denied = await ops.canI([{ verb: 'list', group: G, resource: 'clusterrolebindings' }]);
    assert.equal(denied[0].allowed, false);
    // An admin rolls it back (ops cannot any more), from the admin's context on the same cluster.
    const rb = await runCli(['rollback', '--yes', '--kubeconfig', t.bed.kubeconfig, '--context', 'kube-harden-testbed'], { home });
    assert.equal(rb.code, 0, rb.stderr);
    assert.ok(await exists());
    assert.equal((await ops.canI([{ verb: 'list', group: G, resource: 'clusterrolebindings' }]))[0].allowed, true);
  } finally {
    await ops.close();
    await deleteAll([opsBinding, others]);
  }
});

test('a read-only role from answers: its subject can list but not delete, by SubjectAccessReview and by real requests', async () => {
  const ns = await namespace('rbac-readonly');
  const other = await namespace('rbac-readonly-other');
  const reader = `${RUN}-reader`;
  await t.cluster.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: ns }, data: { a: '1' } });
  await t.cluster.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token', namespace: ns }, stringData: { t: 'x' } });
  const home = tempHome();
  const file = profile({ 'rbac.readOnlyUsers': [reader], 'rbac.readOnlyNamespaces': [ns], 'rbac.automount': [] });
  const r = await runCli(['apply', '--profile', file, '--yes', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns], { home });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, new RegExp(`User ${reader}\\s+in ${ns}\\s+gains list pods`));
  try {
    const can = (verb: string, resource: string, namespace: string, extra: Record<string, string> = {}) =>
      sar(reader, ['system:authenticated'], { verb, resource, namespace, ...extra });
    assert.equal(await can('list', 'pods', ns), true);
    assert.equal(await can('get', 'configmaps', ns), true);
    assert.equal(await can('list', 'deployments', ns, { group: 'apps' }), true);
    assert.equal(await can('delete', 'pods', ns), false);
    assert.equal(await can('create', 'configmaps', ns), false);
    assert.equal(await can('get', 'secrets', ns), false);
    assert.equal(await can('get', 'pods', ns, { subresource: 'exec' }), false);
    assert.equal(await can('list', 'pods', other), false);

    // The same, as the reader itself over the wire.
    const kc = await kubeconfigFor(t.bed, reader, []);
    const me = await Cluster.connect({ kubeconfig: kc });
    try {
      const cms = await me.list(builtinByKind('ConfigMap'), { namespace: ns });
      assert.ok(cms.some((c) => c.metadata.name === 'settings'));
      assert.ok(Array.isArray(await me.list(builtinByKind('Pod'), { namespace: ns })));
      const refused = async (p: Promise<unknown>) => {
        await assert.rejects(p, (e: unknown) => isClusterError(e, 'Forbidden'));
      };
      await refused(me.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'settings' }));
      await refused(me.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mine', namespace: ns } }));
      await refused(me.get({ apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'token' }));
      await refused(me.list(builtinByKind('ConfigMap'), { namespace: other }));
    } finally {
      await me.close();
    }
  } finally {
    const rb = await runCli(['rollback', '--yes', '--kubeconfig', t.bed.kubeconfig], { home });
    assert.equal(rb.code, 0, rb.stderr);
  }
  assert.equal(await sar(reader, ['system:authenticated'], { verb: 'list', resource: 'pods', namespace: ns }), false, 'rolled back');
});
