// The rbac area on objects: grant findings with their paths and subjects, system-managed bindings shown
// but not offered, the plan (replacement created before the removal, the read-only role), the lock-out
// guard (confirm, refuse, system:masters) and the review's impact table.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rbacArea } from '../../src/areas/rbac/index.js';
import { authorize, buildIndex, ruleAllows, serviceAccountUser, type PolicyRule, type Subject } from '../../src/areas/rbac/evaluate.js';
import { adminBindings, lockoutVerdicts, rbacChangesOf } from '../../src/areas/rbac/guard.js';
import { indexOf, type RbacFacts } from '../../src/areas/rbac/inspect.js';
import { readOnlyRules } from '../../src/areas/rbac/plan.js';
import { withDefaults, type Answers, type InspectContext, type Inspection } from '../../src/areas/types.js';
import { ClusterError } from '../../src/cluster/errors.js';
import type { KubeObject } from '../../src/cluster/types.js';
import { phaseRank } from '../../src/engine/change.js';
import { compose } from '../../src/engine/compose.js';

const RBAC = 'rbac.authorization.k8s.io/v1';
const G = 'rbac.authorization.k8s.io';
const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const cr = (name: string, rules: PolicyRule[], labels?: Record<string, string>): KubeObject => ({
  apiVersion: RBAC,
  kind: 'ClusterRole',
  metadata: { name, resourceVersion: '1', ...(labels ? { labels } : {}) },
  rules,
});
const crb = (name: string, role: string, subjects: Subject[], labels?: Record<string, string>): KubeObject => ({
  apiVersion: RBAC,
  kind: 'ClusterRoleBinding',
  metadata: { name, resourceVersion: '1', uid: `uid-${name}`, ...(labels ? { labels } : {}) },
  roleRef: { apiGroup: G, kind: 'ClusterRole', name: role },
  subjects,
});
const rb = (namespace: string, name: string, role: string, subjects: Subject[]): KubeObject => ({
  apiVersion: RBAC,
  kind: 'RoleBinding',
  metadata: { name, namespace, resourceVersion: '1' },
  roleRef: { apiGroup: G, kind: 'ClusterRole', name: role },
  subjects,
});
const sa = (namespace: string, automount?: boolean): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: { name: 'default', namespace, resourceVersion: '1' },
  ...(automount === undefined ? {} : { automountServiceAccountToken: automount }),
});
const user = (name: string): Subject => ({ kind: 'User', apiGroup: G, name });
const group = (name: string): Subject => ({ kind: 'Group', apiGroup: G, name });
const ADMIN_RULES: PolicyRule[] = [
  { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
  { nonResourceURLs: ['*'], verbs: ['*'] },
];
const BOOTSTRAP = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };

/** The issue's cluster: cluster-admin for system:authenticated, a wildcard role for a user, Secrets for every service account, automount on. */
function issueCluster(): KubeObject[] {
  return [
    ns('shop'),
    ns('kube-system'),
    cr('cluster-admin', ADMIN_RULES, BOOTSTRAP),
    cr('view', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]),
    cr('edit', [{ apiGroups: [''], resources: ['pods', 'pods/exec', 'secrets'], verbs: ['get', 'list', 'watch', 'create', 'delete'] }]),
    cr('everything', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]),
    cr('secret-reader', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] }]),
    crb('cluster-admin', 'cluster-admin', [group('system:masters')], BOOTSTRAP),
    crb('everyone-admin', 'cluster-admin', [group('system:authenticated')]),
    crb('alice-everything', 'everything', [user('alice')]),
    crb('platform-admins', 'cluster-admin', [group('platform-admins')]),
    crb('sa-secrets', 'secret-reader', [group('system:serviceaccounts')]),
    sa('shop'),
    sa('kube-system'),
  ];
}

function context(objects: KubeObject[], identity = { username: 'admin', groups: ['system:masters', 'system:authenticated'] }): InspectContext {
  const refuse = () => Promise.reject(new ClusterError('Forbidden', 'no API server'));
  const cluster = new Proxy({ concurrency: 4 } as Record<string, unknown>, {
    get: (t, p: string) => (p in t ? t[p] : p === 'rest' ? new Proxy({}, { get: () => refuse }) : p === 'then' ? undefined : refuse),
  }) as unknown as InspectContext['cluster'];
  const all = objects.filter((o) => o.kind === 'Namespace');
  const names = new Set(all.map((n) => n.metadata.name).filter((n) => n !== 'kube-system'));
  return {
    cluster,
    helm: {} as InspectContext['helm'],
    version: { gitVersion: 'v1.34.4', major: '1', minor: '34' },
    identity,
    scope: { all, namespaces: [...names].sort(), inScope: (n) => n !== undefined && names.has(n), infrastructure: new Map() },
    list: async (kind, apiVersion) => objects.filter((o) => o.kind === kind && (!apiVersion || o.apiVersion === apiVersion)).map((o) => structuredClone(o)),
    options: {},
  };
}

const inspect = (objects: KubeObject[], identity?: InspectContext['identity']) => rbacArea.inspect(context(objects, identity));
const planned = (ins: Inspection<RbacFacts>, given: Answers) => compose(rbacArea.plan(ins, withDefaults(rbacArea.questions(ins), given)));

describe('rbac inspect', () => {
  test("the issue's risky grants are found with path and subjects; the bootstrap cluster-admin binding is not a finding", async () => {
    const ins = await inspect(issueCluster());
    const by = (rule: string) => ins.findings.filter((f) => f.rule === rule);
    const [everyone] = by('adminToEveryone');
    assert.equal(everyone.id, 'rbac/adminToEveryone/ClusterRoleBinding//everyone-admin');
    assert.equal(everyone.severity, 'critical');
    assert.deepEqual(everyone.path, [
      'ClusterRoleBinding/everyone-admin',
      'ClusterRole/cluster-admin (labelled kubernetes.io/bootstrapping=rbac-defaults)',
      'rule 0: verbs [*] on [*] in apiGroups [*]',
    ]);
    assert.match(everyone.message, /to Group system:authenticated via ClusterRole\/cluster-admin/);
    assert.deepEqual(
      by('wildcardToUser').map((f) => f.ref.name),
      ['alice-everything', 'platform-admins'],
    );
    const [secrets] = by('secretsClusterWide');
    assert.equal(secrets.ref.name, 'sa-secrets');
    assert.equal(secrets.severity, 'critical', 'Secrets for every service account is critical');
    // The admin bindings are not reported again for their narrower grants (escalate, secrets, exec...).
    assert.deepEqual(
      ins.findings.filter((f) => f.ref.name === 'everyone-admin').map((f) => f.rule),
      ['adminToEveryone'],
    );
    assert.equal(
      ins.findings.some((f) => f.ref.name === 'cluster-admin'),
      false,
    );
    assert.deepEqual(
      by('defaultServiceAccountAutomount').map((f) => f.ref.namespace),
      ['shop'],
      'kube-system is out of scope: not a finding',
    );
    // Probes could not be asked (the cluster refuses everything): an unknown, never a crash.
    assert.match(ins.notes!.join('\n'), /RBAC in force: unknown/);
    assert.match(ins.notes!.join('\n'), /you \(admin\) are in system:masters/);
  });

  test('a system-managed binding with a risky grant is shown, not fixable, and offered only on request', async () => {
    const objs = [...issueCluster().filter((o) => o.metadata.name !== 'cluster-admin' || o.kind !== 'ClusterRoleBinding')];
    objs.push(crb('cluster-admin', 'cluster-admin', [group('system:masters'), group('system:unauthenticated')], BOOTSTRAP));
    const ins = await inspect(objs);
    const f = ins.findings.find((x) => x.ref.name === 'cluster-admin' && x.rule === 'adminToEveryone')!;
    assert.equal(f.fixable, false);
    assert.match(f.manual!, /managed by the system/);
    const qs = rbacArea.questions(ins);
    const items = qs.find((q) => q.id === 'rbac.bindings')!.items!.map((i) => i.value);
    assert.ok(!items.includes('ClusterRoleBinding/cluster-admin'));
    assert.ok(qs.find((q) => q.id === 'rbac.systemBindings')!.items!.some((i) => i.value === 'ClusterRoleBinding/cluster-admin'));
    // Answering for it without rbac.includeSystem changes nothing.
    const bindings = { 'ClusterRoleBinding/cluster-admin': 'remove' };
    assert.equal(planned(ins, { 'rbac.bindings': {}, 'rbac.systemBindings': bindings, 'rbac.automount': [] }).length, 0);
    assert.equal(planned(ins, { 'rbac.bindings': {}, 'rbac.includeSystem': true, 'rbac.systemBindings': bindings, 'rbac.automount': [] }).length, 1);
  });
});

describe('rbac plan', () => {
  test('defaults: remove what gives everyone critical access, keep the rest, automount off in scope', async () => {
    const ins = await inspect(issueCluster());
    const q = rbacArea.questions(ins).find((x) => x.id === 'rbac.bindings')!;
    assert.deepEqual(q.default, {
      'ClusterRoleBinding/everyone-admin': 'remove',
      'ClusterRoleBinding/alice-everything': 'keep',
      'ClusterRoleBinding/platform-admins': 'keep',
      'ClusterRoleBinding/sa-secrets': 'remove',
    });
    const changes = planned(ins, {});
    assert.deepEqual(
      changes.map((c) => `${c.kind === 'object' ? c.action : ''} ${c.id}`),
      [
        'delete object:rbac.authorization.k8s.io/v1/ClusterRoleBinding//everyone-admin',
        'delete object:rbac.authorization.k8s.io/v1/ClusterRoleBinding//sa-secrets',
        'patch object:v1/ServiceAccount/shop/default',
      ],
    );
  });

  test('narrowing creates the replacement (same subjects, new role) before the removal', async () => {
    const ins = await inspect(issueCluster());
    const changes = planned(ins, { 'rbac.bindings': { 'ClusterRoleBinding/alice-everything': 'view' }, 'rbac.automount': [] });
    const create = changes.find((c) => c.kind === 'object' && c.action === 'create')!;
    const del = changes.find((c) => c.kind === 'object' && c.action === 'delete')!;
    assert.ok(create.kind === 'object' && del.kind === 'object');
    assert.ok(phaseRank(create.phase) < phaseRank(del.phase), `${create.phase} before ${del.phase}`);
    assert.equal(create.after!.metadata.name, 'alice-everything-view');
    assert.deepEqual(create.after!.roleRef, { apiGroup: G, kind: 'ClusterRole', name: 'view' });
    assert.deepEqual(create.after!.subjects, [user('alice')]);
    assert.deepEqual(del.findingIds, ['rbac/wildcardToUser/ClusterRoleBinding//alice-everything']);
  });

  test('read-only access from answers: a ClusterRole of get/list/watch (no *, no Secrets, no exec) and a RoleBinding per namespace', async () => {
    const ins = await inspect(issueCluster());
    const changes = planned(ins, {
      'rbac.bindings': {},
      'rbac.automount': [],
      'rbac.readOnlyUsers': ['carol'],
      'rbac.readOnlyGroups': ['auditors'],
      'rbac.readOnlyNamespaces': ['shop'],
    });
    const role = changes.find((c) => c.kind === 'object' && c.ref.kind === 'ClusterRole')!;
    const binding = changes.find((c) => c.kind === 'object' && c.ref.kind === 'RoleBinding')!;
    assert.ok(role.kind === 'object' && binding.kind === 'object');
    assert.ok(phaseRank(role.phase) < phaseRank(binding.phase), 'the role exists before a binding names it');
    const rules = role.after!.rules as PolicyRule[];
    for (const r of rules) {
      assert.deepEqual(r.verbs, ['get', 'list', 'watch']);
      assert.ok(!r.resources!.includes('*') && !r.resources!.includes('secrets'));
    }
    const index = buildIndex({
      clusterRoles: [role.after as never],
      roleBindings: [binding.after as never],
    });
    const carol = { username: 'carol', groups: ['system:authenticated'] };
    const can = (verb: string, resource: string, subresource?: string) =>
      authorize(index, carol, { verb, resource, ...(subresource ? { subresource } : {}), namespace: 'shop' }).allowed;
    assert.equal(can('list', 'pods'), true);
    assert.equal(can('get', 'pods', 'log'), true);
    assert.equal(can('delete', 'pods'), false);
    assert.equal(can('create', 'pods'), false);
    assert.equal(can('get', 'secrets'), false);
    assert.equal(can('get', 'pods', 'exec'), false, 'get on pods/exec is a websocket shell before 1.35');
    assert.equal(authorize(index, carol, { verb: 'list', resource: 'pods', namespace: 'other' }).allowed, false);
    assert.deepEqual(binding.after!.subjects, [user('carol'), group('auditors')]);
    // With Secrets asked for, Secrets come in, still named, never *.
    const withSecrets = readOnlyRules(undefined, true);
    assert.ok(withSecrets.some((r) => ruleAllows({ verb: 'get', resource: 'secrets' }, r)));
    assert.ok(!withSecrets.some((r) => ruleAllows({ verb: 'get', resource: 'pods', subresource: 'exec' }, r)));
  });

  test('names of read-only users are asked for namespaces; no namespace is a bad answer', async () => {
    const ins = await inspect(issueCluster());
    const q = rbacArea.questions(ins).find((x) => x.id === 'rbac.readOnlyNamespaces')!;
    assert.equal(q.when!({ 'rbac.readOnlyUsers': [] }), false);
    assert.equal(q.when!({ 'rbac.readOnlyUsers': ['carol'] }), true);
    assert.match(q.validate!([], {})!, /at least one namespace/);
  });
});

describe('rbac lock-out guard', () => {
  const opsIdentity = { username: 'ops', groups: ['ops-team', 'system:authenticated'] };
  // Without the binding that gives every authenticated user cluster-admin (else nobody can lose anything).
  const withOps = () => [...issueCluster().filter((o) => o.metadata.name !== 'everyone-admin'), crb('ops-admin', 'cluster-admin', [group('ops-team')])];

  test('removing the binding that gives the running identity its power asks for confirmation, with the path it loses', async () => {
    const ins = await inspect(withOps(), opsIdentity);
    const changes = planned(ins, { 'rbac.bindings': { 'ClusterRoleBinding/ops-admin': 'remove' }, 'rbac.automount': [] });
    const v = await rbacArea.guard!({ cluster: {} as never, identity: opsIdentity, changes, inspection: ins });
    assert.equal(v.length, 1);
    assert.equal(v[0].level, 'confirm');
    assert.equal(v[0].flag, '--allow-lockout');
    assert.match(v[0].message, /removes your own access \(ops\): cluster-admin power/);
    assert.ok(v[0].details.some((d) => /cluster-admin power .*ClusterRoleBinding\/ops-admin → ClusterRole\/cluster-admin → rule 0/.test(d)));
  });

  test('narrowing it to view still loses RBAC access: confirm; another admin path kept: no verdict', async () => {
    const ins = await inspect(withOps(), opsIdentity);
    let changes = planned(ins, { 'rbac.bindings': { 'ClusterRoleBinding/ops-admin': 'view' }, 'rbac.automount': [] });
    assert.equal((await rbacArea.guard!({ cluster: {} as never, identity: opsIdentity, changes, inspection: ins }))[0].level, 'confirm');
    // ops also in platform-admins: removing ops-admin loses nothing.
    const both = { username: 'ops', groups: ['ops-team', 'platform-admins', 'system:authenticated'] };
    changes = planned(ins, { 'rbac.bindings': { 'ClusterRoleBinding/ops-admin': 'remove' }, 'rbac.automount': [] });
    assert.deepEqual(await rbacArea.guard!({ cluster: {} as never, identity: both, changes, inspection: ins }), []);
  });

  test('access to RBAC objects through a RoleBinding counts too', () => {
    const index = indexOf({
      clusterRoles: [cr('rbac-manager', [{ apiGroups: [G], resources: ['roles', 'rolebindings'], verbs: ['*'] }])],
      roles: [],
      clusterRoleBindings: [],
      roleBindings: [rb('shop', 'team-rbac', 'rbac-manager', [user('lead')])],
    } as never);
    const v = lockoutVerdicts(index, { remove: [{ kind: 'RoleBinding', namespace: 'shop', name: 'team-rbac' }] }, { username: 'lead', groups: [] });
    assert.equal(v[0].level, 'confirm');
    assert.ok(v[0].details.some((d) => d.startsWith('you lose create rolebindings in shop')));
  });

  test('the last binding that gives cluster-admin to someone who is not a system component is never removed', async () => {
    const ins = await inspect(issueCluster());
    const changes = planned(ins, {
      'rbac.bindings': { 'ClusterRoleBinding/alice-everything': 'view', 'ClusterRoleBinding/platform-admins': 'remove' },
      'rbac.automount': [],
    });
    const v = await rbacArea.guard!({ cluster: {} as never, identity: { username: 'admin', groups: ['system:masters'] }, changes, inspection: ins });
    assert.deepEqual(
      v.map((x) => x.level),
      ['refuse'],
    );
    assert.match(v[0].message, /last binding that gives cluster-admin/);
    assert.ok(v[0].details.some((d) => /system:masters: the API server allows you everything/.test(d)));
    // Bindings to everyone and to system components do not count as someone's admin.
    assert.deepEqual(
      adminBindings(indexOf(ins.facts.objects)).map((a) => a.key),
      ['ClusterRoleBinding/alice-everything', 'ClusterRoleBinding/platform-admins'],
    );
  });

  test('system:masters: no lock-out verdict, and the review says why', async () => {
    const ins = await inspect(issueCluster());
    const identity = { username: 'admin', groups: ['system:masters', 'system:authenticated'] };
    const changes = planned(ins, {});
    assert.deepEqual(await rbacArea.guard!({ cluster: {} as never, identity, changes, inspection: ins }), []);
    const sections = rbacArea.review!(ins, changes, new Map(), {});
    const table = sections.find((s) => s.title.startsWith('Access changed'))!;
    assert.equal(table.warn, true);
    assert.ok(
      table.lines.some((l) => /^Group system:authenticated\s+cluster-wide\s+loses everything \(\* on \*\), read Secrets/.test(l)),
      table.lines.join('\n'),
    );
    assert.ok(
      table.lines.some((l) => /^Group system:serviceaccounts\s+cluster-wide\s+loses read Secrets/.test(l)),
      table.lines.join('\n'),
    );
    const me = sections.find((s) => s.title === 'You (admin) keep your access')!;
    assert.match(me.lines[0], /system:masters.*does not lock you out/);
    assert.ok(me.lines.includes('removed: ClusterRoleBinding/everyone-admin names you as Group system:authenticated'), me.lines.join('\n'));
  });

  test('a plan that does not fit the objects read is refused', () => {
    const index = indexOf({ clusterRoles: [], roles: [], clusterRoleBindings: [], roleBindings: [] } as never);
    const v = lockoutVerdicts(index, { remove: [{ kind: 'ClusterRoleBinding', name: 'gone' }] }, { username: 'x', groups: [] });
    assert.equal(v[0].level, 'refuse');
  });

  test('the guard sees every area\u2019s RBAC changes, and nothing else', () => {
    const rc = rbacChangesOf([
      {
        id: 'a',
        kind: 'object',
        action: 'delete',
        ref: { apiVersion: RBAC, kind: 'RoleBinding', namespace: 'x', name: 'b' },
        areas: ['network'],
        findingIds: [],
        reasons: [],
        risk: 'low',
        riskNotes: [],
        phase: 'delete',
      },
      {
        id: 'b',
        kind: 'object',
        action: 'patch',
        ref: { apiVersion: 'v1', kind: 'ServiceAccount', namespace: 'x', name: 'default' },
        areas: ['rbac'],
        findingIds: [],
        reasons: [],
        risk: 'low',
        riskNotes: [],
        phase: 'update',
      },
    ]);
    assert.deepEqual(rc, { remove: [{ kind: 'RoleBinding', namespace: 'x', name: 'b' }], add: [], replace: [] });
  });

  test('a service account is judged with its token groups', () => {
    const index = indexOf({
      clusterRoles: [cr('secret-reader', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }])],
      roles: [],
      clusterRoleBindings: [crb('sa-secrets', 'secret-reader', [group('system:serviceaccounts')])],
      roleBindings: [],
    } as never);
    assert.equal(authorize(index, serviceAccountUser('shop', 'app'), { verb: 'get', resource: 'secrets' }).allowed, true);
  });
});
