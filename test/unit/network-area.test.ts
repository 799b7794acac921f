// The network area on object fixtures (no API server): the planner never denies egress without DNS over
// every combination of answers, merging reuses what exists and never touches it, the questions' defaults,
// the CNI table, and the impact preview (lost paths, grouping, speed).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { networkArea } from '../../src/areas/network/index.js';
import { detectCni } from '../../src/areas/network/cni.js';
import { compileModel, evaluateCompiled, selectingPolicies, type NetworkPolicy, type Peer } from '../../src/areas/network/evaluate.js';
import { impactOf, policiesAfter } from '../../src/areas/network/impact.js';
import type { NetworkFacts } from '../../src/areas/network/inspect.js';
import { dnsPeers, newPodIn, peerOfGroup } from '../../src/areas/network/model.js';
import { withDefaults, type Answers, type InspectContext, type Inspection, type ReviewSection } from '../../src/areas/types.js';
import { ClusterError } from '../../src/cluster/errors.js';
import type { KubeObject } from '../../src/cluster/types.js';
import { compose } from '../../src/engine/compose.js';
import type { Change } from '../../src/engine/change.js';

// ---- a small cluster as objects ----

const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
let ipSeq = 10;
function pod(
  namespace: string,
  name: string,
  labels: Record<string, string>,
  opts: { ports?: Array<{ containerPort: number; name?: string; protocol?: string }>; env?: Record<string, string>; sa?: string; automount?: boolean } = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: {
      serviceAccountName: opts.sa ?? 'default',
      ...(opts.automount === false ? { automountServiceAccountToken: false } : {}),
      containers: [
        { name: 'c', image: 'registry.example/app:1', ports: opts.ports ?? [], env: Object.entries(opts.env ?? {}).map(([name, value]) => ({ name, value })) },
      ],
    },
    status: { phase: 'Running', podIP: `10.244.${Math.floor(ipSeq / 250)}.${ipSeq++ % 250}` },
  };
}
const svc = (
  namespace: string,
  name: string,
  selector: Record<string, string>,
  ports: Array<{ port: number; targetPort?: number | string; protocol?: string }>,
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace },
  spec: { selector, ports, clusterIP: `10.96.0.${ipSeq++ % 250}` },
});
const netpol = (namespace: string, name: string, spec: NetworkPolicy['spec'], labels?: Record<string, string>): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace, resourceVersion: '7', ...(labels ? { labels } : {}) },
  spec,
});
const deployment = (namespace: string, name: string, image: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace },
  spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image }] } } },
});
const daemonSet = (namespace: string, name: string, images: string[], args: string[] = []): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name, namespace },
  spec: {
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: images.map((image, i) => ({ name: `c${i}`, image, args })) } },
  },
});

function shop(): KubeObject[] {
  return [
    ns('shop'),
    ns('legacy'),
    ns('ingress-nginx'),
    ns('kube-system'),
    ns('default'),
    pod('shop', 'frontend-1', { app: 'frontend' }, { ports: [{ containerPort: 8080, name: 'http' }], env: { BACKEND_URL: 'http://backend:9090' } }),
    pod('shop', 'frontend-2', { app: 'frontend' }, { ports: [{ containerPort: 8080, name: 'http' }], env: { BACKEND_URL: 'http://backend:9090' } }),
    pod('shop', 'backend-1', { app: 'backend' }, { ports: [{ containerPort: 9090, name: 'api' }], env: { DB_HOST: 'database' }, sa: 'backend' }),
    pod('shop', 'database-1', { app: 'database' }, { ports: [{ containerPort: 5432 }], automount: false }),
    pod('legacy', 'old-1', { app: 'old' }, { ports: [{ containerPort: 80 }] }),
    pod('ingress-nginx', 'controller-1', { 'app.kubernetes.io/name': 'ingress-nginx' }, { ports: [{ containerPort: 80 }, { containerPort: 443 }] }),
    pod(
      'kube-system',
      'coredns-1',
      { 'k8s-app': 'kube-dns' },
      {
        ports: [
          { containerPort: 53, protocol: 'UDP', name: 'dns' },
          { containerPort: 53, name: 'dns-tcp' },
        ],
      },
    ),
    svc('shop', 'frontend', { app: 'frontend' }, [{ port: 80, targetPort: 'http' }]),
    svc('shop', 'backend', { app: 'backend' }, [{ port: 9090, targetPort: 9090 }]),
    svc('shop', 'database', { app: 'database' }, [{ port: 5432 }]),
    svc('kube-system', 'kube-dns', { 'k8s-app': 'kube-dns' }, [
      { port: 53, protocol: 'UDP', targetPort: 53 },
      { port: 53, targetPort: 53 },
    ]),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default' },
      spec: { clusterIP: '10.96.0.1', ports: [{ port: 443, targetPort: 6443 }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
      endpoints: [{ addresses: ['192.168.1.10'] }],
      ports: [{ port: 6443 }],
    },
    deployment('ingress-nginx', 'ingress-nginx-controller', 'registry.k8s.io/ingress-nginx/controller:v1.11.0'),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'backend-reads-configmaps', namespace: 'shop' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'backend', namespace: 'shop' }],
    },
    // legacy already isolates its pods for egress with no DNS (someone else's policy).
    netpol('legacy', 'lockdown', { podSelector: {}, policyTypes: ['Egress'] }),
  ];
}

function context(objects: KubeObject[], infrastructure = new Map([['ingress-nginx', 'an NGINX ingress controller']])): InspectContext {
  const refuse = () => Promise.reject(new ClusterError('Forbidden', 'fixture'));
  const cluster = new Proxy({ concurrency: 4, server: 'https://fixture.invalid' } as Record<string, unknown>, {
    get: (t, p: string) => (p in t ? t[p] : p === 'then' ? undefined : refuse),
  }) as unknown as InspectContext['cluster'];
  const all = objects.filter((o) => o.kind === 'Namespace');
  const names = new Set(all.map((n) => n.metadata.name).filter((n) => !['kube-system', 'kube-public', 'kube-node-lease'].includes(n)));
  return {
    cluster,
    helm: {} as InspectContext['helm'],
    version: { gitVersion: 'v1.34.4', major: '1', minor: '34' },
    identity: { username: 'fixture', groups: [] },
    scope: { all, namespaces: [...names].sort(), inScope: (n) => n !== undefined && names.has(n), infrastructure },
    list: async (kind, apiVersion) => objects.filter((o) => o.kind === kind && (!apiVersion || o.apiVersion === apiVersion)).map((o) => structuredClone(o)),
    options: {},
  };
}

const inspect = (objects: KubeObject[]) => networkArea.inspect(context(objects));

function plan(ins: Inspection<NetworkFacts>, given: Answers): { answers: Answers; changes: Change[]; review: () => ReviewSection[] } {
  const answers = withDefaults(networkArea.questions(ins), given);
  const changes = compose(networkArea.plan(ins, answers));
  return { answers, changes, review: () => networkArea.review!(ins, changes, new Map(), answers) };
}

const created = (changes: Change[]) =>
  changes.filter((c) => c.kind === 'object' && c.action !== 'delete').map((c) => (c as { after: KubeObject }).after as unknown as NetworkPolicy);

function subsets<T>(xs: T[]): T[][] {
  return xs.reduce<T[][]>((acc, x) => [...acc, ...acc.map((s) => [...s, x])], [[]]);
}

// ---- the tests ----

describe('never cut DNS', () => {
  test('every combination of answers: an egress deny always comes with DNS, and no policy isolates a direction that was not denied', async () => {
    const ins = await inspect(shop());
    const qs = networkArea.questions(ins);
    const choices = (id: string) => qs.find((q) => q.id === id)!.choices!.map((c) => c.value);
    const f = ins.facts;
    const dns = dnsPeers(f.dns, f.groups);
    let plans = 0;
    let egressPlans = 0;
    const appRuleSets = [[], choices('network.appRules'), choices('network.appRules').slice(0, 2), choices('network.appRules').filter((_, i) => i % 2 === 1)];
    for (const namespaces of subsets(choices('network.namespaces')))
      for (const deny of choices('network.defaultDeny'))
        for (const allow of subsets(choices('network.allow')))
          for (const apiServer of subsets(choices('network.apiServer')))
            for (const appRules of appRuleSets) {
              const given = {
                'network.namespaces': namespaces,
                'network.defaultDeny': deny,
                'network.allow': allow,
                'network.apiServer': apiServer,
                'network.appRules': appRules,
              };
              // The planner is given the raw answers too (a profile may carry answers a condition hides).
              for (const answers of [withDefaults(qs, given), given]) {
                plans++;
                const changes = compose(networkArea.plan(ins, answers));
                const after = policiesAfter(f.policies, changes);
                const m = compileModel({ namespaces: f.namespaceInfos, policies: after });
                const egressDenied = deny === 'both' || deny === 'egress';
                const ingressDenied = deny === 'both' || deny === 'ingress';
                for (const p of created(changes)) {
                  if (!egressDenied)
                    assert.ok(
                      !(p.spec.policyTypes ?? []).includes('Egress'),
                      `${p.metadata.name}: egress isolated without an egress deny (${JSON.stringify(given)})`,
                    );
                  if (!ingressDenied)
                    assert.ok(!(p.spec.policyTypes ?? []).includes('Ingress'), `${p.metadata.name}: ingress isolated without an ingress deny`);
                }
                for (const n of namespaces) {
                  const ourEgress = created(changes).some((p) => p.metadata.namespace === n && (p.spec.policyTypes ?? []).includes('Egress'));
                  if (!ourEgress) continue;
                  egressPlans++;
                  const pods: Peer[] = [...f.groups.filter((g) => g.namespace === n).map(peerOfGroup), newPodIn(n), newPodIn(n, { app: 'frontend' })];
                  for (const src of pods) {
                    const isolated = selectingPolicies(m, src, 'egress').length > 0;
                    assert.ok(isolated, `${n}: our egress policy isolates ${src.kind === 'pod' ? src.name : ''}`);
                    for (const d of dns.filter((x) => x.kind === 'pod'))
                      for (const protocol of ['UDP', 'TCP'] as const) {
                        const e = evaluateCompiled(m, src, d, 53, protocol);
                        assert.ok(
                          e.egress.allowed,
                          `${n}: ${src.kind === 'pod' ? src.name : ''} cannot reach DNS on ${protocol}/53 with ${JSON.stringify(given)}`,
                        );
                      }
                  }
                }
              }
            }
    assert.ok(plans > 2000, `only ${plans} plans`);
    assert.ok(egressPlans > 500, `only ${egressPlans} namespace plans deny egress`);
  });
});

describe('merge with existing policies', () => {
  const existing = () => [
    ...shop(),
    // A person's policies in shop: same-namespace ingress, and the frontend open to the world.
    netpol('shop', 'allow-same-namespace', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: {} }] }] }),
    netpol('shop', 'frontend-public', { podSelector: { matchLabels: { app: 'frontend' } }, ingress: [{ ports: [{ port: 'http' }] }] }),
  ];

  test('keeps what exists, adds only what is missing, and says what it reused', async () => {
    const ins = await inspect(existing());
    const { changes, review } = plan(ins, {
      'network.namespaces': ['shop'],
      'network.defaultDeny': 'both',
      'network.allow': ['dns', 'same-namespace'],
      'network.apiServer': [],
    });
    assert.deepEqual(changes.map((c) => (c.kind === 'object' ? `${c.action} ${c.ref.name}` : c.id)).sort(), [
      'create allow-dns-egress',
      'create allow-same-namespace-egress',
      'create default-deny-egress',
    ]);
    const reasons = changes.flatMap((c) => c.reasons.map((r) => r.text)).join('\n');
    assert.match(reasons, /reused existing networkpolicy\/allow-same-namespace in shop: it already does what default-deny-ingress would/);
    assert.match(reasons, /reused existing networkpolicy\/allow-same-namespace in shop: it already does what allow-same-namespace-ingress would/);
    const sections = review();
    const shopSection = sections.find((s) => s.title === 'Network paths in shop')!;
    const text = shopSection.lines.join('\n');
    assert.match(text, /reused existing networkpolicy\/allow-same-namespace/);
    assert.match(text, /kept as they are: networkpolicy\/allow-same-namespace, networkpolicy\/frontend-public/);
    // The frontend stays open to the world: nothing the existing policies allow is cut.
    assert.doesNotMatch(text, /outside \(203\.0\.113\.10\)\s+frontend/);
    assert.match(text, /frontend.*outside \(203\.0\.113\.10\)|outside \(203\.0\.113\.10\).*TCP\/443/);
  });

  test('a policy of an earlier run is updated in place; one of the same name by someone else is left alone', async () => {
    const ours = { 'app.kubernetes.io/managed-by': 'kube-harden' };
    const objects = [
      ...shop(),
      netpol(
        'shop',
        'allow-dns-egress',
        {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [{ to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'old-dns' } } }], ports: [{ protocol: 'UDP', port: 53 }] }],
        },
        ours,
      ),
      netpol('shop', 'default-deny-ingress', { podSelector: { matchLabels: { app: 'backend' } }, policyTypes: ['Ingress'] }),
    ];
    const ins = await inspect(objects);
    const { changes } = plan(ins, {
      'network.namespaces': ['shop'],
      'network.defaultDeny': 'both',
      'network.allow': ['dns', 'same-namespace'],
      'network.apiServer': [],
    });
    const byName = new Map(changes.map((c) => [c.kind === 'object' ? c.ref.name : c.id, c]));
    const dns = byName.get('allow-dns-egress');
    assert.equal(dns?.kind === 'object' && dns.action, 'patch');
    assert.ok(byName.get('default-deny-ingress-kube-harden'), [...byName.keys()].join(', '));
    assert.ok(!byName.has('default-deny-ingress'), 'someone else’s policy is never changed');
    // Our earlier allow-dns-egress isolates every pod for egress already: the deny is not duplicated.
    assert.ok(!byName.has('default-deny-egress'));
    assert.match(
      changes.flatMap((c) => c.reasons.map((r) => r.text)).join('\n'),
      /reused existing networkpolicy\/allow-dns-egress in shop: it already does what default-deny-egress would/,
    );
  });

  test('planning twice on what the first plan created plans nothing', async () => {
    const ins = await inspect(shop());
    const given = { 'network.namespaces': ['shop', 'legacy'], 'network.defaultDeny': 'both', 'network.allow': ['dns', 'same-namespace', 'ingress-controller'] };
    const first = plan(ins, given).changes;
    assert.ok(first.length >= 5);
    const again = await inspect([
      ...shop(),
      ...created(first).map((p) => ({ ...(p as unknown as KubeObject), metadata: { ...p.metadata, resourceVersion: '9' } })),
    ]);
    assert.deepEqual(
      plan(again, given).changes.map((c) => c.id),
      [],
    );
    assert.deepEqual(
      again.findings.filter((f) => f.ref.name === 'shop' || f.ref.name === 'legacy'),
      [],
    );
  });
});

describe('questions', () => {
  test('defaults: infrastructure never, API access for apps bound to a role, app rules from what the apps name', async () => {
    const ins = await inspect(shop());
    const qs = networkArea.questions(ins);
    const q = (id: string) => qs.find((x) => x.id === id)!;
    assert.deepEqual(q('network.namespaces').default, ['legacy', 'shop']);
    assert.ok(q('network.namespaces').choices!.some((c) => c.value === 'ingress-nginx' && /infrastructure/.test(c.hint ?? '')));
    assert.deepEqual(q('network.apiServer').default, ['shop/backend']);
    assert.ok(!q('network.apiServer').choices!.some((c) => c.value === 'shop/database'), 'the database mounts no token');
    assert.deepEqual(q('network.appRules').default, ['shop/frontend>backend', 'shop/backend>database']);
    assert.match(q('network.allow').choices!.find((c) => c.value === 'ingress-controller')!.hint!, /ingress-nginx/);
    // asked only when relevant
    assert.equal(q('network.apiServer').when!({ 'network.defaultDeny': 'ingress' }), false);
    assert.equal(q('network.appRules').when!({ 'network.defaultDeny': 'both', 'network.allow': ['dns', 'same-namespace'] }), false);
    assert.equal(q('network.appRules').when!({ 'network.defaultDeny': 'both', 'network.allow': ['dns'] }), true);
  });

  test('frontend may reach backend, not the database: app rules instead of the whole namespace', async () => {
    const ins = await inspect(shop());
    const { changes } = plan(ins, {
      'network.namespaces': ['shop'],
      'network.defaultDeny': 'both',
      'network.allow': ['dns', 'ingress-controller'],
      'network.apiServer': ['shop/backend'],
    });
    const after = policiesAfter(ins.facts.policies, changes);
    const m = compileModel({ namespaces: ins.facts.namespaceInfos, policies: after });
    const g = (app: string) => peerOfGroup(ins.facts.groups.find((x) => x.namespace === 'shop' && x.app === app)!);
    const ok = (a: string, b: string, port: number) => evaluateCompiled(m, g(a), g(b), port, 'TCP').allowed;
    assert.equal(ok('frontend', 'backend', 9090), true);
    assert.equal(ok('backend', 'database', 5432), true);
    assert.equal(ok('frontend', 'database', 5432), false);
    assert.equal(ok('backend', 'frontend', 8080), false);
    const controller = peerOfGroup(ins.facts.groups.find((x) => x.namespace === 'ingress-nginx')!);
    assert.equal(evaluateCompiled(m, controller, g('frontend'), 'http', 'TCP').allowed, true, 'the ingress controller reaches the pods');
    const api = { kind: 'external' as const, ip: '192.168.1.10' };
    assert.equal(evaluateCompiled(m, g('backend'), api, 6443, 'TCP').allowed, true, 'backend reaches the API server');
    assert.equal(evaluateCompiled(m, g('frontend'), api, 6443, 'TCP').allowed, false);
  });
});

describe('CNI', () => {
  const cases: Array<[string, KubeObject[], 'yes' | 'no' | 'unknown', RegExp]> = [
    ['nothing', [], 'unknown', /no CNI detected: policies may not be enforced/],
    ['flannel alone', [daemonSet('kube-flannel', 'kube-flannel-ds', ['docker.io/flannel/flannel:v0.26.1'])], 'no', /Flannel DOES NOT ENFORCE/],
    [
      'canal (flannel + calico)',
      [daemonSet('kube-system', 'canal', ['docker.io/calico/node:v3.29.0', 'docker.io/flannel/flannel:v0.26.1'])],
      'yes',
      /enforced \(Calico\)/,
    ],
    ['cilium', [daemonSet('kube-system', 'cilium', ['quay.io/cilium/cilium:v1.16.0'])], 'yes', /Cilium/],
    [
      'aws-node alone',
      [daemonSet('kube-system', 'aws-node', ['602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.0'])],
      'no',
      /network policy agent/,
    ],
    [
      'aws-node with its agent',
      [
        daemonSet('kube-system', 'aws-node', [
          '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.0',
          '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon/aws-network-policy-agent:v1.1.0',
        ]),
      ],
      'yes',
      /AWS/,
    ],
    ['GKE dataplane v2', [daemonSet('kube-system', 'anetd', ['gke.gcr.io/cilium/cilium:v1.14'])], 'yes', /GKE Dataplane V2/],
    ['weave with npc', [daemonSet('kube-system', 'weave-net', ['weaveworks/weave-kube:2.8.1', 'weaveworks/weave-npc:2.8.1'])], 'yes', /Weave/],
    [
      'kube-router without firewall',
      [daemonSet('kube-system', 'kube-router', ['docker.io/cloudnativelabs/kube-router:v2'], ['--run-firewall=false'])],
      'no',
      /run-firewall/,
    ],
    [
      'azure cni + npm',
      [
        daemonSet('kube-system', 'azure-cns', ['mcr.microsoft.com/containernetworking/azure-cns:v1']),
        daemonSet('kube-system', 'azure-npm', ['mcr.microsoft.com/containernetworking/azure-npm:v1.5']),
      ],
      'yes',
      /Azure/,
    ],
    ['antrea', [daemonSet('kube-system', 'antrea-agent', ['antrea/antrea-agent-ubuntu:v2.1.0'])], 'yes', /Antrea/],
  ];
  for (const [name, objects, enforces, summary] of cases)
    test(name, () => {
      const c = detectCni(objects);
      assert.equal(c.enforces, enforces);
      assert.match(c.summary, summary);
    });

  test('flannel alone is a high finding and a loud note; the plan still works', async () => {
    const ins = await inspect([...shop(), ns('kube-flannel'), daemonSet('kube-flannel', 'kube-flannel-ds', ['docker.io/flannel/flannel:v0.26.1'])]);
    const f = ins.findings.find((x) => x.rule === 'cniNoEnforcement')!;
    assert.equal(f.severity, 'high');
    assert.equal(f.fixable, false);
    assert.match(ins.notes![0], /^WARNING: CNI: Flannel DOES NOT ENFORCE NetworkPolicy/);
    const sections = plan(ins, { 'network.namespaces': ['shop'], 'network.defaultDeny': 'ingress' }).review();
    assert.equal(sections[0].title, 'These policies will NOT be enforced');
  });
});

describe('impact preview', () => {
  test('lists what is lost, grouped by app, and stays fast on big namespaces', async () => {
    const objects = [...shop()];
    // 40 namespaces of 25 identical pods each, and a big shop: 3000 pods in 60 apps.
    for (let n = 0; n < 40; n++) {
      objects.push(ns(`team-${n}`, { team: `t${n % 4}` }));
      for (let i = 0; i < 25; i++) objects.push(pod(`team-${n}`, `w-${i}`, { app: 'worker' }, { ports: [{ containerPort: 8080 }] }));
    }
    for (let a = 0; a < 60; a++)
      for (let i = 0; i < 50; i++)
        objects.push(
          pod(
            'shop',
            `app${a}-${i}`,
            { app: `app${a}`, tier: a % 2 ? 'web' : 'data' },
            { ports: [{ containerPort: 8000 + a }, { containerPort: 9100, name: 'metrics' }] },
          ),
        );
    const t0 = performance.now();
    const ins = await inspect(objects);
    const inspectMs = performance.now() - t0;
    const { review } = plan(ins, {
      'network.namespaces': ['shop'],
      'network.defaultDeny': 'both',
      'network.allow': ['dns', 'same-namespace'],
      'network.apiServer': [],
    });
    const t1 = performance.now();
    const sections = review();
    const reviewMs = performance.now() - t1;
    const text = sections.find((s) => s.title === 'Network paths in shop')!.lines.join('\n');
    assert.match(text, /3004 pod\(s\)/);
    assert.match(text, /team-\d+\/\*/, 'other namespaces lose their way in');
    assert.match(text, /outside \(203\.0\.113\.10\)/);
    assert.ok(sections.find((s) => s.title === 'Network paths in shop')!.warn);
    process.stderr.write(
      `network impact: ${ins.facts.groups.length} groups of ${objects.filter((o) => o.kind === 'Pod').length} pods; inspect ${inspectMs.toFixed(0)} ms, review ${reviewMs.toFixed(0)} ms\n`,
    );
    assert.ok(reviewMs < 10_000, `review took ${reviewMs} ms`);
  });

  test('the counts are the truth tables’: lost + kept = allowed before, and nothing is lost without a deny', async () => {
    const ins = await inspect(shop());
    const f = ins.facts;
    const { changes } = plan(ins, {
      'network.namespaces': ['shop'],
      'network.defaultDeny': 'ingress',
      'network.allow': ['dns', 'same-namespace', 'ingress-controller'],
    });
    const after = policiesAfter(f.policies, changes);
    const i = impactOf(f, f.policies, after, 'shop');
    assert.equal(i.diff.lost.length + i.diff.kept, i.before);
    assert.equal(i.diff.kept + i.diff.gained.length, i.after);
    // ingress only: every lost path ends in shop, none starts there
    assert.ok(i.diff.lost.every((p) => p.toNamespace === 'shop'));
    assert.ok(i.diff.lost.some((p) => p.fromNamespace === 'kube-system'));
    assert.ok(!i.diff.lost.some((p) => p.fromNamespace === 'legacy'), 'legacy pods could not get out before');
    assert.ok(!i.diff.lost.some((p) => p.fromNamespace === 'ingress-nginx'), 'the ingress controller keeps its way in');
    assert.ok(!i.diff.lost.some((p) => p.fromNamespace === 'shop'), 'same-namespace traffic is kept');
    const none = impactOf(f, f.policies, f.policies, 'shop');
    assert.deepEqual([none.diff.lost.length, none.diff.gained.length], [0, 0]);
  });
});
