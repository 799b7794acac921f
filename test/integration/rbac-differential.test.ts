// Differential test of the RBAC evaluator against the real API server: a few hundred generated rules
// (deterministic seed) bound to made-up users, groups and service accounts are created in the test bed;
// then, for a couple of thousand (subject, request) cases, the API server's SubjectAccessReview answer
// must equal `authorize` on the same objects LISTed back (bootstrap roles and bindings included).
// It also checks that whoCan and grantsOf agree with every answer, and that aggregateClusterRoles
// predicts exactly what the clusterrole-aggregation controller stored.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pMap from 'p-map';
import {
  aggregateClusterRoles,
  authorize,
  buildIndex,
  grantsOf,
  ruleAllows,
  ruleKey,
  subjectAppliesTo,
  whoCan,
  type PolicyRule,
  type RbacIndex,
  type RbacObject,
  type RequestAttributes,
  type Subject,
  type UserInfo,
} from '../../src/areas/rbac/evaluate.js';
import { builtinByKind, Cluster, type KubeObject } from '../../src/cluster/client.js';
import { sharedTestbed } from '../cluster/testbed.js';

/** Override with KUBE_HARDEN_RBAC_SEED to explore other generated clusters. */
const SEED = Number(process.env.KUBE_HARDEN_RBAC_SEED ?? 20250611);
const CASES = 2400;
const CONCURRENCY = 8;
const RBAC_API = 'rbac.authorization.k8s.io/v1';
const RBAC_GROUP = 'rbac.authorization.k8s.io';
const KINDS = ['ClusterRole', 'Role', 'ClusterRoleBinding', 'RoleBinding'] as const;

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const some = <T>(xs: readonly T[], max: number): T[] => {
    const n = 1 + Math.floor(next() * max);
    return [...new Set(Array.from({ length: n }, () => pick(xs)))];
  };
  const chance = (p: number) => next() < p;
  return { next, pick, some, chance };
}

// Run-scoped names, so a shared bed can host the test twice; everything else is fixed by SEED.
const RUN = `rbd${Date.now().toString(36).slice(-5)}`;
const NAMESPACES = [0, 1, 2].map((i) => `${RUN}-ns${i}`);
const ABSENT_NS = `${RUN}-absent`;
const USERS = [0, 1, 2, 3, 4, 5].map((i) => `${RUN}-user${i}`);
const GROUPS = [0, 1, 2, 3].map((i) => `${RUN}-group${i}`);
const SAS = ['builder', 'deployer'];
const AGG_LABEL = `${RUN}.example.com/aggregate`;

const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'impersonate', 'bind', 'escalate', 'use'];
const API_GROUPS = ['', 'apps', 'batch', 'example.com', 'rbac.authorization.k8s.io'];
const RESOURCES = [
  'pods',
  'pods/log',
  'pods/exec',
  'pods/status',
  'deployments',
  'deployments/scale',
  'replicasets/scale',
  '*/scale',
  '*/status',
  'configmaps',
  'secrets',
  'jobs',
  'widgets',
  'widgets/status',
  'nodes',
  'namespaces',
  'roles',
  'clusterroles',
  'serviceaccounts/token',
];
const NAMES = ['alpha', 'beta', 'gamma'];
const URL_RULES = ['/healthz', '/healthz/*', '/metrics', '/api*', '/apis/example.com*', '/logs/*', '/logs', '/version', '/debug/pprof/*', '/x**'];
const URLS = [
  '/healthz',
  '/healthz/etcd',
  '/healthz/',
  '/metrics',
  '/api',
  '/api/v1',
  '/apis',
  '/apis/example.com/v1',
  '/apis/example.comx',
  '/logs',
  '/logs/',
  '/logs/kube',
  '/version',
  '/debug/pprof/heap',
  '/debug/pprof',
  '/openapi/v2',
  '/livez',
  '/readyz',
  '/xyz',
  '/x',
];

interface Generated {
  clusterRoles: RbacObject[];
  roles: RbacObject[];
  clusterRoleBindings: RbacObject[];
  roleBindings: RbacObject[];
}

function generate(): Generated {
  const r = prng(SEED);
  const resourceRule = (): PolicyRule => {
    const rule: PolicyRule = {
      apiGroups: r.chance(0.15) ? ['*'] : r.some(API_GROUPS, 2),
      resources: r.chance(0.1) ? ['*'] : r.some(RESOURCES, 3),
      verbs: r.chance(0.12) ? ['*'] : r.some(VERBS, 3),
    };
    if (r.chance(0.25)) return { ...rule, resourceNames: r.some(NAMES, 2) };
    return rule;
  };
  const urlRule = (): PolicyRule => ({
    nonResourceURLs: r.chance(0.05) ? ['*'] : r.some(URL_RULES, 2),
    verbs: r.chance(0.1) ? ['*'] : r.some(['get', 'post', 'put', 'delete'], 2),
  });
  const rules = (n: number, urls: boolean) => Array.from({ length: n }, () => (urls && r.chance(0.2) ? urlRule() : resourceRule()));
  const meta = (name: string, namespace?: string, labels?: Record<string, string>) => ({
    name,
    ...(namespace ? { namespace } : {}),
    labels: { 'kube-harden.test/rbac-run': RUN, ...labels },
  });

  const clusterRoles: RbacObject[] = [];
  for (let i = 0; i < 24; i++) {
    const labels: Record<string, string> = {};
    if (i % 3 === 0) labels[AGG_LABEL] = r.pick(['a', 'b', 'c']);
    clusterRoles.push({
      apiVersion: RBAC_API,
      kind: 'ClusterRole',
      metadata: meta(`${RUN}-cr${i}`, undefined, labels),
      rules: rules(1 + Math.floor(r.next() * 8), true),
    });
  }
  // Parts aggregated into the bootstrap roles (edit is aggregated into admin): harmless made-up resources.
  clusterRoles.push({
    apiVersion: RBAC_API,
    kind: 'ClusterRole',
    metadata: meta(`${RUN}-to-edit`, undefined, { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' }),
    rules: [{ apiGroups: ['example.com'], resources: [`${RUN}-gadgets`, 'widgets/status'], verbs: ['get', 'update'] }],
  });
  // Our own aggregated roles: matchLabels, matchExpressions, and one that aggregates another.
  clusterRoles.push(
    {
      apiVersion: RBAC_API,
      kind: 'ClusterRole',
      metadata: meta(`${RUN}-agg-a`, undefined, { [`${AGG_LABEL}-outer`]: 'yes' }),
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [AGG_LABEL]: 'a' } }] },
      rules: [],
    },
    {
      apiVersion: RBAC_API,
      kind: 'ClusterRole',
      metadata: meta(`${RUN}-agg-bc`),
      aggregationRule: {
        clusterRoleSelectors: [{ matchExpressions: [{ key: AGG_LABEL, operator: 'In', values: ['b', 'c'] }] }, { matchLabels: { [AGG_LABEL]: 'a' } }],
      },
      rules: [],
    },
    {
      apiVersion: RBAC_API,
      kind: 'ClusterRole',
      metadata: meta(`${RUN}-agg-outer`),
      aggregationRule: { clusterRoleSelectors: [{ matchExpressions: [{ key: `${AGG_LABEL}-outer`, operator: 'Exists' }] }] },
      rules: [],
    },
  );
  const roles: RbacObject[] = [];
  for (const ns of NAMESPACES) {
    for (let i = 0; i < 12; i++)
      roles.push({ apiVersion: RBAC_API, kind: 'Role', metadata: meta(`${RUN}-role${i}`, ns), rules: rules(1 + Math.floor(r.next() * 8), false) });
  }

  const subject = (namespaced: boolean): Subject => {
    const k = r.next();
    if (k < 0.35) return { kind: 'User', apiGroup: RBAC_GROUP, name: r.pick(USERS) };
    if (k < 0.6)
      return { kind: 'Group', apiGroup: RBAC_GROUP, name: r.chance(0.85) ? r.pick(GROUPS) : r.pick(NAMESPACES.map((ns) => `system:serviceaccounts:${ns}`)) };
    if (k < 0.7) return { kind: 'User', apiGroup: RBAC_GROUP, name: `system:serviceaccount:${r.pick(NAMESPACES)}:${r.pick(SAS)}` };
    if (namespaced && r.chance(0.5)) return { kind: 'ServiceAccount', name: r.pick(SAS) };
    return { kind: 'ServiceAccount', name: r.pick(SAS), namespace: r.pick(NAMESPACES) };
  };
  const subjects = (namespaced: boolean) => Array.from({ length: 1 + Math.floor(r.next() * 3) }, () => subject(namespaced));
  const crNames = () => r.pick([...clusterRoles.map((c) => c.metadata.name), 'view', 'edit', 'admin', `${RUN}-missing`, 'system:aggregate-to-view']);

  const clusterRoleBindings: RbacObject[] = [];
  for (let i = 0; i < 16; i++) {
    clusterRoleBindings.push({
      apiVersion: RBAC_API,
      kind: 'ClusterRoleBinding',
      metadata: meta(`${RUN}-crb${i}`),
      roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: crNames() },
      subjects: subjects(false),
    });
  }
  const roleBindings: RbacObject[] = [];
  for (const ns of NAMESPACES) {
    for (let i = 0; i < 14; i++) {
      const toRole = r.chance(0.55);
      roleBindings.push({
        apiVersion: RBAC_API,
        kind: 'RoleBinding',
        metadata: meta(`${RUN}-rb${i}`, ns),
        roleRef: { apiGroup: RBAC_GROUP, kind: toRole ? 'Role' : 'ClusterRole', name: toRole ? `${RUN}-role${Math.floor(r.next() * 13)}` : crNames() },
        subjects: r.chance(0.1) ? [] : subjects(true),
      });
    }
  }
  return { clusterRoles, roles, clusterRoleBindings, roleBindings };
}

interface Case {
  user: UserInfo;
  attrs: RequestAttributes;
}

function generateCases(n: number, generated: Generated): Case[] {
  const r = prng(SEED + 1);
  const userOf = (): UserInfo => {
    const k = r.next();
    const authenticated = r.chance(0.75) ? ['system:authenticated'] : [];
    if (k < 0.5) return { username: r.pick(USERS), groups: [...r.some(GROUPS, 2).filter(() => r.chance(0.6)), ...authenticated] };
    if (k < 0.8) {
      const ns = r.pick(NAMESPACES);
      const groups = r.chance(0.8) ? ['system:serviceaccounts', `system:serviceaccounts:${ns}`, ...authenticated] : [];
      return { username: `system:serviceaccount:${ns}:${r.pick(SAS)}`, groups };
    }
    if (k < 0.9) return { username: '', groups: [...r.some(GROUPS, 2), ...authenticated] };
    if (k < 0.97) return { username: 'system:anonymous', groups: ['system:unauthenticated'] };
    return { username: r.pick(USERS), groups: ['system:masters', ...authenticated] };
  };
  const attrsOf = (): RequestAttributes => {
    if (r.chance(0.22)) return { verb: r.pick(['get', 'post', 'put', 'delete', 'head']), nonResourceURL: r.pick(URLS) };
    const combined = r.pick([...RESOURCES.filter((x) => !x.startsWith('*')), 'services', 'widgets/scale', 'jobs/status', `${RUN}-gadgets`]);
    const [resource, subresource] = combined.split('/');
    const a: RequestAttributes = { verb: r.pick([...VERBS, 'get', 'list', 'get']), apiGroup: r.pick([...API_GROUPS, 'policy']), resource };
    if (subresource) a.subresource = subresource;
    if (r.chance(0.45)) a.name = r.pick([...NAMES, 'delta']);
    const ns = r.next();
    if (ns < 0.75) a.namespace = r.pick(NAMESPACES);
    else if (ns < 0.82) a.namespace = ABSENT_NS;
    return a;
  };
  return Array.from({ length: n }, () => (r.chance(0.5) ? targeted(r, generated) : undefined) ?? { user: userOf(), attrs: attrsOf() });
}

/**
 * A case aimed at one generated rule through one of its bindings: the request the rule allows for one
 * of the binding's subjects, half the time with one thing changed (verb, group, resource, subresource,
 * name, namespace, URL), so near-misses are asked as often as hits.
 */
function targeted(r: ReturnType<typeof prng>, g: Generated): Case | undefined {
  const binding = r.pick([...g.clusterRoleBindings, ...g.roleBindings]);
  const bindingNs = binding.metadata.namespace ?? '';
  const subjects = binding.subjects ?? [];
  if (subjects.length === 0) return undefined;
  const s = r.pick(subjects);
  const authenticated = r.chance(0.8) ? ['system:authenticated'] : [];
  let user: UserInfo;
  if (s.kind === 'User') user = { username: s.name, groups: authenticated };
  else if (s.kind === 'Group') user = { username: r.chance(0.7) ? r.pick(USERS) : '', groups: [s.name, ...authenticated] };
  else {
    const ns = s.namespace || bindingNs;
    user = { username: `system:serviceaccount:${ns}:${s.name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, ...authenticated] };
  }
  const ref = binding.roleRef!;
  const role =
    ref.kind === 'Role'
      ? g.roles.find((x) => x.metadata.namespace === bindingNs && x.metadata.name === ref.name)
      : g.clusterRoles.find((x) => x.metadata.name === ref.name && !x.aggregationRule);
  const rule = role?.rules?.length ? r.pick(role.rules) : undefined;
  if (!rule) return undefined;
  const fill = (xs: readonly string[] | null | undefined, all: readonly string[]) => {
    const v = r.pick(xs ?? []);
    return v === '*' ? r.pick(all) : v;
  };
  const mutate = r.chance(0.5);
  if (rule.nonResourceURLs?.length) {
    let url = r.pick(rule.nonResourceURLs);
    if (url === '*') url = r.pick(URLS);
    else if (url.endsWith('*')) url = url.replace(/\*+$/, '') + r.pick(['', 'x', '/', '/deep/er']);
    const attrs: RequestAttributes = { verb: fill(rule.verbs, ['get', 'post', 'patch']), nonResourceURL: url };
    if (mutate) {
      if (r.chance(0.5)) attrs.verb = r.pick(['get', 'post', 'delete']);
      else attrs.nonResourceURL = r.pick([url.slice(0, -1), `${url}/more`, url.toUpperCase()]);
    }
    return { user, attrs };
  }
  const combined = fill(
    rule.resources,
    RESOURCES.filter((x) => !x.startsWith('*')),
  );
  const [first, subresource] = combined.split('/');
  let resource = first;
  if (resource === '*') resource = r.pick(['deployments', 'replicationcontrollers', 'widgets', 'pods']);
  const attrs: RequestAttributes = { verb: fill(rule.verbs, VERBS), apiGroup: fill(rule.apiGroups, API_GROUPS), resource };
  if (subresource) attrs.subresource = subresource;
  if (rule.resourceNames?.length) attrs.name = r.pick(rule.resourceNames);
  else if (r.chance(0.4)) attrs.name = r.pick(NAMES);
  attrs.namespace = bindingNs || (r.chance(0.8) ? r.pick(NAMESPACES) : undefined);
  if (mutate) {
    switch (r.pick(['verb', 'group', 'resource', 'subresource', 'name', 'namespace'])) {
      case 'verb':
        attrs.verb = r.pick(VERBS);
        break;
      case 'group':
        attrs.apiGroup = r.pick([...API_GROUPS, 'policy']);
        break;
      case 'resource':
        attrs.resource = r.pick(['pods', 'deployments', 'widgets', 'secrets']);
        break;
      case 'subresource':
        if (attrs.subresource) delete attrs.subresource;
        else attrs.subresource = r.pick(['scale', 'status', 'log']);
        break;
      case 'name':
        if (attrs.name) delete attrs.name;
        else attrs.name = r.pick(NAMES);
        break;
      case 'namespace':
        attrs.namespace = r.pick([undefined, ...NAMESPACES]);
        break;
    }
  }
  if (attrs.namespace === undefined) delete attrs.namespace;
  return { user, attrs };
}

function sarBody(c: Case): unknown {
  const { attrs } = c;
  const spec: Record<string, unknown> = {};
  if (c.user.username) spec.user = c.user.username;
  if (c.user.groups.length) spec.groups = c.user.groups;
  if (attrs.nonResourceURL !== undefined) spec.nonResourceAttributes = { path: attrs.nonResourceURL, verb: attrs.verb };
  else {
    const ra: Record<string, string> = { verb: attrs.verb, resource: attrs.resource ?? '' };
    if (attrs.apiGroup) ra.group = attrs.apiGroup;
    if (attrs.subresource) ra.subresource = attrs.subresource;
    if (attrs.name) ra.name = attrs.name;
    if (attrs.namespace) ra.namespace = attrs.namespace;
    spec.resourceAttributes = ra;
  }
  return { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec };
}

const timings: string[] = [];
let phaseStart = Date.now();
function phase(name: string): void {
  timings.push(`${name} ${((Date.now() - phaseStart) / 1000).toFixed(1)} s`);
  phaseStart = Date.now();
}

let cluster: Cluster;
const generated = generate();

async function sar(c: Case): Promise<boolean> {
  const res = await cluster.rest.request<{ status?: { allowed?: boolean } }>({
    method: 'POST',
    path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    body: sarBody(c),
  });
  return res.body.status?.allowed === true;
}

async function listAll(): Promise<Record<(typeof KINDS)[number], KubeObject[]>> {
  const [cr, r, crb, rb] = await Promise.all(KINDS.map((k) => cluster.list(builtinByKind(k))));
  return { ClusterRole: cr, Role: r, ClusterRoleBinding: crb, RoleBinding: rb };
}

const indexOf = (all: Record<(typeof KINDS)[number], KubeObject[]>): RbacIndex =>
  buildIndex({
    clusterRoles: all.ClusterRole as RbacObject[],
    roles: all.Role as RbacObject[],
    clusterRoleBindings: all.ClusterRoleBinding as RbacObject[],
    roleBindings: all.RoleBinding as RbacObject[],
  });

/** Aggregated ClusterRoles whose stored rules differ from what aggregateClusterRoles predicts. */
function unsettled(clusterRoles: KubeObject[]): string[] {
  const settled = aggregateClusterRoles(clusterRoles as RbacObject[]);
  return settled
    .filter(
      (cr, i) =>
        cr.aggregationRule && JSON.stringify((cr.rules ?? []).map(ruleKey)) !== JSON.stringify(((clusterRoles[i] as RbacObject).rules ?? []).map(ruleKey)),
    )
    .map((cr) => cr.metadata.name);
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

before(async () => {
  phaseStart = Date.now();
  const bed = await sharedTestbed();
  cluster = await Cluster.connect({ kubeconfig: bed.kubeconfig, concurrency: CONCURRENCY });
  for (const ns of NAMESPACES)
    await cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'kube-harden.test/rbac-run': RUN } } });
  const all = [...generated.clusterRoles, ...generated.roles, ...generated.clusterRoleBindings, ...generated.roleBindings];
  await pMap(all, (o) => cluster.create(o as KubeObject), { concurrency: CONCURRENCY });
});

after(async () => {
  if (!cluster) return;
  const refs = [...generated.clusterRoleBindings, ...generated.clusterRoles, ...sentinels.filter((s) => !s.metadata.namespace)];
  await pMap(refs, (o) => cluster.delete({ apiVersion: RBAC_API, kind: o.kind!, name: o.metadata.name }).catch(() => undefined), { concurrency: CONCURRENCY });
  await pMap(NAMESPACES, (ns) => cluster.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns }).catch(() => undefined), { concurrency: CONCURRENCY });
  await cluster.close();
});

// Created last, one per kind: once the API server's authorizer sees them, its informers have every
// object created before (each kind's watch delivers events in order).
const SENTINEL_USER = `${RUN}-sentinel`;
const sentinels: RbacObject[] = [
  {
    apiVersion: RBAC_API,
    kind: 'ClusterRole',
    metadata: { name: `${RUN}-sentinel` },
    rules: [{ apiGroups: ['sentinel.example.com'], resources: ['cluster'], verbs: ['get'] }],
  },
  {
    apiVersion: RBAC_API,
    kind: 'Role',
    metadata: { name: `${RUN}-sentinel`, namespace: NAMESPACES[0] },
    rules: [{ apiGroups: ['sentinel.example.com'], resources: ['namespaced'], verbs: ['get'] }],
  },
  {
    apiVersion: RBAC_API,
    kind: 'ClusterRoleBinding',
    metadata: { name: `${RUN}-sentinel` },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: `${RUN}-sentinel` },
    subjects: [{ kind: 'User', apiGroup: RBAC_GROUP, name: SENTINEL_USER }],
  },
  {
    apiVersion: RBAC_API,
    kind: 'RoleBinding',
    metadata: { name: `${RUN}-sentinel`, namespace: NAMESPACES[0] },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: `${RUN}-sentinel` },
    subjects: [{ kind: 'User', apiGroup: RBAC_GROUP, name: SENTINEL_USER }],
  },
];

test('authorize equals the API server on every SubjectAccessReview', async () => {
  phase('bed up and objects created');
  const ruleCount = [...generated.clusterRoles, ...generated.roles].reduce((n, o) => n + (o.rules?.length ?? 0), 0);
  assert.ok(ruleCount >= 200, `only ${ruleCount} generated rules`);

  // 1. The aggregation controller has settled exactly where aggregateClusterRoles says it will.
  await waitFor('the clusterrole-aggregation controller to settle as predicted', async () => {
    const crs = await cluster.list(builtinByKind('ClusterRole'));
    const left = unsettled(crs);
    return left.length === 0 ? true : undefined;
  }).catch(async (e) => {
    throw new Error(`${(e as Error).message}: ${unsettled(await cluster.list(builtinByKind('ClusterRole'))).join(', ')}`);
  });
  const stored = async (name: string) => (await cluster.get({ apiVersion: RBAC_API, kind: 'ClusterRole', name })) as RbacObject;
  const [aggA, aggOuter] = [await stored(`${RUN}-agg-a`), await stored(`${RUN}-agg-outer`)];
  assert.ok((aggA.rules?.length ?? 0) > 0, 'the controller filled our aggregated role');
  assert.deepEqual(aggOuter.rules, aggA.rules, 'an aggregated role aggregating an aggregated role');
  const admin = await stored('admin');
  assert.ok(
    admin.rules?.some((rule) => rule.resources?.includes(`${RUN}-gadgets`)),
    'our aggregate-to-edit part reached admin through edit',
  );

  phase('aggregation settled');
  // 2. The authorizer's caches have everything (sentinels created last, one per kind).
  for (const s of sentinels) await cluster.create(s as KubeObject);
  await waitFor('the authorizer to see the sentinels', async () => {
    const u = { username: SENTINEL_USER, groups: [] };
    const a = await sar({ user: u, attrs: { verb: 'get', apiGroup: 'sentinel.example.com', resource: 'cluster' } });
    const b = await sar({ user: u, attrs: { verb: 'get', apiGroup: 'sentinel.example.com', resource: 'namespaced', namespace: NAMESPACES[0] } });
    return a && b ? true : undefined;
  });

  phase('authorizer caught up');
  // 3. The same objects, read back, in the evaluator.
  const listed = await listAll();
  const index = indexOf(listed);
  const ours = (kind: (typeof KINDS)[number]) => listed[kind].filter((o) => o.metadata.labels?.['kube-harden.test/rbac-run'] === RUN).length;
  assert.equal(ours('ClusterRole') + ours('Role') + ours('ClusterRoleBinding') + ours('RoleBinding'), Object.values(generated).flat().length);
  assert.ok(index.clusterRoles.has('system:basic-user') && index.clusterRoles.has('cluster-admin') && index.clusterRoles.has('view'));

  // 4. Every case: the server's answer, ours, and whoCan/grantsOf agreeing with ours.
  const cases = generateCases(CASES, generated);
  phase('listed');
  const answers = await pMap(cases, sar, { concurrency: CONCURRENCY });
  phase(`${cases.length} reviews`);
  const mismatches: string[] = [];
  const inconsistent: string[] = [];
  let allowed = 0;
  let superuser = 0;
  const byPath = { crb: 0, rb: 0 };
  cases.forEach((c, i) => {
    const d = authorize(index, c.user, c.attrs);
    if (answers[i]) allowed++;
    if (d.superuserGroup) superuser++;
    else if (d.via) byPath[d.via.binding.kind === 'ClusterRoleBinding' ? 'crb' : 'rb']++;
    if (d.allowed !== answers[i]) mismatches.push(`server ${answers[i]}, ours ${d.allowed}: ${JSON.stringify(c)}`);

    const ns = c.attrs.nonResourceURL === undefined ? (c.attrs.namespace ?? '') : '';
    const who = whoCan(index, c.attrs);
    const byWho = who.some((e) => (e.superuser ? c.user.groups.includes(e.subject.name) : subjectAppliesTo(c.user, e.subject, e.subject.namespace ?? '')));
    const paths = grantsOf(index, c.user, { namespace: ns }).filter((p) => (p.namespace ?? '') === '' || p.namespace === ns);
    const byGrants = d.superuserGroup !== undefined || paths.some((p) => ruleAllows(c.attrs, p.rule));
    if (byWho !== d.allowed || byGrants !== d.allowed) inconsistent.push(`authorize ${d.allowed}, whoCan ${byWho}, grantsOf ${byGrants}: ${JSON.stringify(c)}`);
  });

  // 5. Nothing changed under us while the reviews ran.
  const relisted = await listAll();
  const versions = (all: Record<string, KubeObject[]>) =>
    Object.entries(all)
      .flatMap(([k, xs]) => xs.map((o) => `${k}/${o.metadata.namespace ?? ''}/${o.metadata.name}@${o.metadata.resourceVersion}`))
      .sort();
  assert.deepEqual(versions(relisted), versions(listed), 'RBAC objects changed while the reviews ran');

  const rbacRules = Object.values(listed)
    .flat()
    .reduce((n, o) => n + ((o as RbacObject).rules?.length ?? 0), 0);
  console.log(
    `rbac differential (seed ${SEED}): ${cases.length} cases compared, ${mismatches.length} mismatches, ${inconsistent.length} whoCan/grantsOf inconsistencies; ` +
      `${allowed} allowed (${superuser} as system:masters, ${byPath.crb} via ClusterRoleBindings, ${byPath.rb} via RoleBindings), ${cases.length - allowed} denied; ` +
      `${ruleCount} generated rules in ${generated.clusterRoles.length} ClusterRoles and ${generated.roles.length} Roles, ` +
      `${generated.clusterRoleBindings.length + generated.roleBindings.length} generated bindings; ${rbacRules} rules in the cluster in all; ${timings.join(', ')}`,
  );
  assert.deepEqual(mismatches.slice(0, 20), [], `${mismatches.length} of ${cases.length} cases differ from the API server`);
  assert.deepEqual(inconsistent.slice(0, 20), [], `${inconsistent.length} cases where whoCan or grantsOf disagree with authorize`);
  assert.ok(allowed > cases.length * 0.15 && allowed < cases.length * 0.85, `a useful mix of answers: ${allowed} of ${cases.length} allowed`);
});
