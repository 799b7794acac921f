// The NetworkPolicy evaluator against the cases of the Kubernetes documentation's NetworkPolicy page
// (https://kubernetes.io/docs/concepts/services-networking/network-policies/) and the API reference's
// field semantics, plus named ports, label selector operators and the impact-table helpers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  compileModel,
  diffTables,
  effectivePolicyTypes,
  evaluate,
  evaluateCompiled,
  matchesSelector,
  truthTable,
  type NamespaceInfo,
  type NetworkModel,
  type NetworkPolicy,
  type Peer,
} from '../../src/areas/network/evaluate.js';
import { cidrContains, parseCidr, parseIp } from '../../src/areas/network/eval-cidr.js';

type Pod = Extract<Peer, { kind: 'pod' }>;

const pod = (namespace: string, name: string, labels: Record<string, string>, extra: Partial<Pod> = {}): Pod => ({
  kind: 'pod',
  namespace,
  name,
  labels,
  ...extra,
});
const ext = (ip: string): Peer => ({ kind: 'external', ip });

const policy = (namespace: string, name: string, spec: NetworkPolicy['spec']): NetworkPolicy => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace },
  spec,
});

const NAMESPACES: NamespaceInfo[] = [
  { name: 'default', labels: {} },
  { name: 'myproject', labels: { project: 'myproject' } },
  { name: 'other', labels: { project: 'other', user: 'alice' } },
  { name: 'bob', labels: { user: 'bob' } },
];
const model = (...policies: NetworkPolicy[]): NetworkModel => ({ namespaces: NAMESPACES, policies });

const db = pod('default', 'db', { role: 'db' }, { ip: '10.1.0.10' });
const frontend = pod('default', 'frontend', { role: 'frontend' }, { ip: '10.1.0.11' });
const web = pod('default', 'web', { app: 'web' }, { ip: '10.1.0.12' });
const inMyproject = pod('myproject', 'any', { app: 'x' }, { ip: '10.1.1.10' });
const frontendElsewhere = pod('other', 'frontend', { role: 'frontend' }, { ip: '10.1.2.11' });
const clientInAlice = pod('other', 'client', { role: 'client' }, { ip: '10.1.2.12' });
const clientInBob = pod('bob', 'client', { role: 'client' }, { ip: '10.1.3.12' });

const ok = (m: NetworkModel, src: Peer, dst: Peer, port: number | string = 80, proto: 'TCP' | 'UDP' | 'SCTP' = 'TCP') =>
  evaluate(m, src, dst, port, proto).allowed;

describe('default policies (concept page)', () => {
  const denyIngress = policy('default', 'default-deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] });
  const allowAllIngress = policy('default', 'allow-all-ingress', { podSelector: {}, ingress: [{}], policyTypes: ['Ingress'] });
  const denyEgress = policy('default', 'default-deny-egress', { podSelector: {}, policyTypes: ['Egress'] });
  const allowAllEgress = policy('default', 'allow-all-egress', { podSelector: {}, egress: [{}], policyTypes: ['Egress'] });
  const denyAll = policy('default', 'default-deny-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });

  test('no policy: everything is allowed, nothing is isolated', () => {
    const r = evaluate(model(), web, db, 80, 'TCP');
    assert.equal(r.allowed, true);
    assert.deepEqual(r.ingress, { isolated: false, allowed: true, selectedBy: [], allowedBy: [] });
    assert.deepEqual(r.egress, { isolated: false, allowed: true, selectedBy: [], allowedBy: [] });
  });

  test('default-deny-ingress isolates every pod of its namespace for ingress only', () => {
    const m = model(denyIngress);
    const r = evaluate(m, web, db, 80, 'TCP');
    assert.equal(r.allowed, false);
    assert.deepEqual(r.ingress, { isolated: true, allowed: false, selectedBy: ['default/default-deny-ingress'], allowedBy: [] });
    assert.equal(r.egress.isolated, false);
    assert.equal(ok(m, inMyproject, db), false, 'from another namespace too');
    assert.equal(ok(m, ext('8.8.8.8'), db), false, 'and from outside');
    assert.equal(ok(m, db, inMyproject), true, 'pods of other namespaces are not selected');
    assert.equal(ok(m, db, ext('8.8.8.8'), 443), true, 'egress stays open');
  });

  test('allow-all-ingress allows everything in, even beside a default deny', () => {
    assert.equal(ok(model(allowAllIngress), inMyproject, db, 5432), true);
    const r = evaluate(model(denyIngress, allowAllIngress), ext('1.2.3.4'), db, 5432, 'UDP');
    assert.equal(r.allowed, true);
    assert.deepEqual(r.ingress.selectedBy, ['default/default-deny-ingress', 'default/allow-all-ingress']);
    assert.deepEqual(r.ingress.allowedBy, ['default/allow-all-ingress']);
  });

  test('default-deny-egress isolates for egress only', () => {
    const m = model(denyEgress);
    assert.equal(ok(m, db, web), false);
    assert.equal(ok(m, db, ext('8.8.8.8'), 53, 'UDP'), false);
    assert.equal(ok(m, inMyproject, db), true, 'ingress stays open');
    const r = evaluate(m, db, web, 80, 'TCP');
    assert.equal(r.egress.isolated, true);
    assert.equal(r.ingress.isolated, false);
  });

  test('allow-all-egress', () => {
    assert.equal(ok(model(denyEgress, allowAllEgress), db, ext('8.8.8.8'), 53, 'UDP'), true);
  });

  test('default-deny-all denies both ways, even inside the namespace', () => {
    const m = model(denyAll);
    assert.equal(ok(m, web, db), false);
    assert.equal(ok(m, db, ext('8.8.8.8')), false);
    assert.equal(ok(m, ext('8.8.8.8'), db), false);
    assert.equal(ok(m, inMyproject, frontendElsewhere), true, 'other namespaces untouched');
    const r = evaluate(m, web, db, 80, 'TCP');
    assert.equal(r.ingress.isolated && r.egress.isolated, true);
  });

  test('traffic needs both sides: egress of the source AND ingress of the destination', () => {
    const allowDbIn = policy('default', 'db-in', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{}] });
    const m = model(denyAll, allowDbIn);
    const r = evaluate(m, web, db, 80, 'TCP');
    assert.equal(r.ingress.allowed, true);
    assert.equal(r.egress.allowed, false);
    assert.equal(r.allowed, false);
    assert.equal(ok(model(denyAll, allowDbIn, allowAllEgress), web, db), true);
  });
});

describe('test-network-policy (concept page example)', () => {
  const testNetworkPolicy = policy('default', 'test-network-policy', {
    podSelector: { matchLabels: { role: 'db' } },
    policyTypes: ['Ingress', 'Egress'],
    ingress: [
      {
        from: [
          { ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } },
          { namespaceSelector: { matchLabels: { project: 'myproject' } } },
          { podSelector: { matchLabels: { role: 'frontend' } } },
        ],
        ports: [{ protocol: 'TCP', port: 6379 }],
      },
    ],
    egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ protocol: 'TCP', port: 5978 }] }],
  });
  const m = model(testNetworkPolicy);

  test('ingress: role=frontend pods of the same namespace on TCP 6379 only', () => {
    assert.equal(ok(m, frontend, db, 6379), true);
    assert.equal(ok(m, frontend, db, 6380), false);
    assert.equal(ok(m, frontend, db, 6379, 'UDP'), false);
    assert.equal(ok(m, web, db, 6379), false, 'not role=frontend');
    assert.equal(ok(m, frontendElsewhere, db, 6379), false, 'podSelector alone means the policy namespace');
  });

  test('ingress: any pod of a namespace labelled project=myproject', () => {
    assert.equal(ok(m, inMyproject, db, 6379), true);
    assert.equal(ok(m, inMyproject, db, 80), false);
  });

  test('ingress: 172.17.0.0/16 except 172.17.1.0/24', () => {
    assert.equal(ok(m, ext('172.17.0.5'), db, 6379), true);
    assert.equal(ok(m, ext('172.17.255.255'), db, 6379), true);
    assert.equal(ok(m, ext('172.17.1.5'), db, 6379), false);
    assert.equal(ok(m, ext('172.18.0.1'), db, 6379), false);
  });

  test('egress: to 10.0.0.0/24 on TCP 5978 only', () => {
    assert.equal(ok(m, db, ext('10.0.0.7'), 5978), true);
    assert.equal(ok(m, db, ext('10.0.0.7'), 5979), false);
    assert.equal(ok(m, db, ext('10.0.1.7'), 5978), false);
    assert.equal(ok(m, db, web, 5978), false, 'db may not reach pods outside the block');
    const podInBlock = pod('default', 'in-block', {}, { ip: '10.0.0.9' });
    assert.equal(ok(m, db, podInBlock, 5978), true, 'ipBlock matches a pod by its IP');
  });

  test('pods not selected are not affected', () => {
    assert.equal(ok(m, web, frontend, 1234), true);
    assert.equal(ok(m, frontend, ext('8.8.8.8'), 443), true);
  });

  test('the verdict names the policy', () => {
    const r = evaluate(m, frontend, db, 6379, 'TCP');
    assert.deepEqual(r.ingress, {
      isolated: true,
      allowed: true,
      selectedBy: ['default/test-network-policy'],
      allowedBy: ['default/test-network-policy'],
    });
  });
});

describe('peers: AND vs OR (concept page "Behavior of to and from selectors")', () => {
  const target = { podSelector: {} };
  const and = policy('default', 'and', {
    ...target,
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { user: 'alice' } }, podSelector: { matchLabels: { role: 'client' } } }] }],
  });
  const or = policy('default', 'or', {
    ...target,
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { user: 'alice' } } }, { podSelector: { matchLabels: { role: 'client' } } }] }],
  });
  const clientHere = pod('default', 'client', { role: 'client' });
  const otherInAlice = pod('other', 'noclient', { role: 'server' });

  test('one element with both selectors: role=client pods in user=alice namespaces', () => {
    const m = model(and);
    assert.equal(ok(m, clientInAlice, db), true);
    assert.equal(ok(m, otherInAlice, db), false);
    assert.equal(ok(m, clientHere, db), false, 'not in an alice namespace');
    assert.equal(ok(m, clientInBob, db), false);
  });

  test('two elements: role=client pods of the policy namespace OR any pod of user=alice namespaces', () => {
    const m = model(or);
    assert.equal(ok(m, clientInAlice, db), true);
    assert.equal(ok(m, otherInAlice, db), true);
    assert.equal(ok(m, clientHere, db), true);
    assert.equal(ok(m, clientInBob, db), false, 'podSelector alone is the policy namespace only');
  });

  test('namespaceSelector {} means every namespace; with podSelector: those pods everywhere', () => {
    const all = policy('default', 'all-ns', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }] }] });
    assert.equal(ok(model(all), clientInBob, db), true);
    assert.equal(ok(model(all), ext('1.1.1.1'), db), false, 'selectors never match an external address');
    const clients = policy('default', 'clients', {
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { role: 'client' } } }] }],
    });
    assert.equal(ok(model(clients), clientInBob, db), true);
    assert.equal(ok(model(clients), otherInAlice, db), false);
  });

  test('podSelector {} alone: every pod of the policy namespace', () => {
    const same = policy('default', 'same-ns', { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] });
    assert.equal(ok(model(same), web, db), true);
    assert.equal(ok(model(same), inMyproject, db), false);
  });

  test('targeting a namespace by name: kubernetes.io/metadata.name is always there', () => {
    const byName = policy('default', 'by-name', {
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'bob' } } }] }],
    });
    assert.equal(ok(model(byName), clientInBob, db), true);
    assert.equal(ok(model(byName), clientInAlice, db), false);
    const unknownNs = pod('nowhere', 'p', {});
    const toNowhere = policy('default', 'nowhere', {
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'nowhere' } } }] }],
    });
    assert.equal(ok(model(toNowhere), unknownNs, db), true, 'a namespace missing from the model still has its name label');
  });
});

describe('ports', () => {
  test('endPort (concept page multi-port-egress): 32000..32768 inclusive', () => {
    const m = model(
      policy('default', 'multi-port-egress', {
        podSelector: { matchLabels: { role: 'db' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ protocol: 'TCP', port: 32000, endPort: 32768 }] }],
      }),
    );
    const dst = ext('10.0.0.1');
    assert.equal(ok(m, db, dst, 31999), false);
    assert.equal(ok(m, db, dst, 32000), true);
    assert.equal(ok(m, db, dst, 32500), true);
    assert.equal(ok(m, db, dst, 32768), true);
    assert.equal(ok(m, db, dst, 32769), false);
    assert.equal(ok(m, db, dst, 32000, 'UDP'), false);
  });

  test('protocol defaults to TCP; a port-less entry is every port of its protocol; SCTP', () => {
    const m = model(
      policy('default', 'p', {
        podSelector: {},
        ingress: [{ ports: [{ port: 80 }] }, { ports: [{ protocol: 'UDP' }] }, { ports: [{ protocol: 'SCTP', port: 9 }] }],
      }),
    );
    assert.equal(ok(m, web, db, 80, 'TCP'), true);
    assert.equal(ok(m, web, db, 81, 'TCP'), false);
    assert.equal(ok(m, web, db, 12345, 'UDP'), true);
    assert.equal(ok(m, web, db, 9, 'SCTP'), true);
    assert.equal(ok(m, web, db, 10, 'SCTP'), false);
  });

  test('absent vs empty from / ports / ingress', () => {
    const emptyFrom = policy('default', 'a', { podSelector: {}, ingress: [{ from: [], ports: [{ port: 80 }] }] });
    assert.equal(ok(model(emptyFrom), ext('9.9.9.9'), db, 80), true, 'from: [] is every source');
    const emptyPorts = policy('default', 'b', { podSelector: {}, ingress: [{ from: [{ podSelector: {} }], ports: [] }] });
    assert.equal(ok(model(emptyPorts), web, db, 7, 'UDP'), true, 'ports: [] is every port');
    const noRules = policy('default', 'c', { podSelector: {}, ingress: [] });
    assert.equal(ok(model(noRules), web, db), false, 'ingress: [] isolates and allows nothing');
    const nulls = policy('default', 'd', { podSelector: {}, ingress: [{ from: null, ports: null }] });
    assert.equal(ok(model(nulls), ext('9.9.9.9'), db, 1, 'SCTP'), true, 'null is absent');
  });
});

describe('named ports', () => {
  const a = pod(
    'default',
    'a',
    { app: 'a' },
    {
      ip: '10.1.0.1',
      ports: [
        { name: 'http', containerPort: 8080 },
        { name: 'dns', containerPort: 53, protocol: 'UDP' },
      ],
    },
  );
  const b = pod('default', 'b', { app: 'b' }, { ip: '10.1.0.2', ports: [{ name: 'http', containerPort: 9090, protocol: 'TCP' }, { containerPort: 7000 }] });
  const client = pod('default', 'client', { app: 'client' }, { ip: '10.1.0.3' });
  const allowHttp = policy('default', 'http', { podSelector: {}, ingress: [{ ports: [{ port: 'http' }] }] });

  test('ingress: the name resolves against each destination pod', () => {
    const m = model(allowHttp);
    assert.equal(ok(m, client, a, 8080), true);
    assert.equal(ok(m, client, a, 9090), false);
    assert.equal(ok(m, client, b, 9090), true);
    assert.equal(ok(m, client, b, 8080), false);
    assert.equal(ok(m, client, b, 7000), false, 'an unnamed port');
    assert.equal(ok(m, a, client, 8080), false, 'a pod without that name');
  });

  test('traffic may name the port: it resolves on the destination', () => {
    const r = evaluate(model(allowHttp), client, b, 'http', 'TCP');
    assert.deepEqual(r.port, { number: 9090, names: ['http'] });
    assert.equal(r.allowed, true);
    const numbered = policy('default', 'n', { podSelector: {}, ingress: [{ ports: [{ port: 9090 }] }] });
    assert.equal(ok(model(numbered), client, b, 'http'), true, 'a numeric rule matches a named connection');
  });

  test('the name must exist for the protocol', () => {
    const tcpDns = policy('default', 'dns', { podSelector: {}, ingress: [{ ports: [{ port: 'dns', protocol: 'TCP' }] }] });
    assert.equal(ok(model(tcpDns), client, a, 53, 'TCP'), false, "a's dns port is UDP");
    assert.equal(ok(model(tcpDns), client, a, 53, 'UDP'), false);
    const udpDns = policy('default', 'dns', { podSelector: {}, ingress: [{ ports: [{ port: 'dns', protocol: 'UDP' }] }] });
    assert.equal(ok(model(udpDns), client, a, 53, 'UDP'), true);
  });

  test('one number, two protocols, two names (DNS over TCP and UDP)', () => {
    const dns = pod(
      'default',
      'dns',
      { app: 'dns' },
      {
        ports: [
          { name: 'dns-tcp', containerPort: 53 },
          { name: 'dns', containerPort: 53, protocol: 'UDP' },
        ],
      },
    );
    const m = model(policy('default', 'p', { podSelector: {}, ingress: [{ ports: [{ port: 'dns', protocol: 'UDP' }, { port: 'dns-tcp' }] }] }));
    assert.deepEqual(evaluate(m, client, dns, 53, 'UDP').port, { number: 53, names: ['dns'] });
    assert.deepEqual(evaluate(m, client, dns, 53, 'TCP').port, { number: 53, names: ['dns-tcp'] });
    assert.equal(ok(m, client, dns, 53, 'UDP'), true);
    assert.equal(ok(m, client, dns, 53, 'TCP'), true);
    const udpOnly = model(policy('default', 'p', { podSelector: {}, ingress: [{ ports: [{ port: 'dns', protocol: 'UDP' }] }] }));
    assert.equal(ok(udpOnly, client, dns, 53, 'TCP'), false);
  });

  test('two containers naming the same port differently: either name matches', () => {
    const twin = pod(
      'default',
      'twin',
      {},
      {
        ports: [
          { name: 'a', containerPort: 80 },
          { name: 'b', containerPort: 80 },
        ],
      },
    );
    assert.deepEqual(evaluate(model(), client, twin, 80, 'TCP').port, { number: 80, names: ['a', 'b'] });
    assert.equal(ok(model(policy('default', 'p', { podSelector: {}, ingress: [{ ports: [{ port: 'b' }] }] })), client, twin, 'a'), true);
  });

  test('an unresolvable named connection: number null, only port-less rules match', () => {
    const r = evaluate(model(allowHttp), client, a, 'metrics', 'TCP');
    assert.deepEqual(r.port, { number: null, names: [] });
    assert.equal(r.allowed, false);
    const anyPort = policy('default', 'any', { podSelector: {}, ingress: [{ ports: [{ protocol: 'TCP' }] }] });
    assert.equal(ok(model(anyPort), client, a, 'metrics'), true);
  });

  test('egress: the name resolves against the destination pod, never an external address', () => {
    const m = model(
      policy('default', 'egress-http', {
        podSelector: { matchLabels: { app: 'client' } },
        policyTypes: ['Egress'],
        egress: [{ ports: [{ port: 'http' }] }],
      }),
    );
    assert.equal(ok(m, client, a, 8080), true);
    assert.equal(ok(m, client, b, 9090), true);
    assert.equal(ok(m, client, b, 8080), false);
    assert.equal(ok(m, client, ext('1.1.1.1'), 8080), false);
    assert.equal(ok(m, client, ext('1.1.1.1'), 'http'), false);
  });
});

describe('label selectors', () => {
  const L = { app: 'web', tier: '', env: 'prod' };
  test('matchLabels needs the key present, even for an empty value', () => {
    assert.equal(matchesSelector({ matchLabels: { tier: '' } }, L), true);
    assert.equal(matchesSelector({ matchLabels: { zone: '' } }, L), false);
    assert.equal(matchesSelector({ matchLabels: { app: 'web', env: 'dev' } }, L), false);
    assert.equal(matchesSelector({}, {}), true);
  });
  test('In, NotIn (absent key matches), Exists, DoesNotExist, ANDed', () => {
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }] }, L), true);
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, L), false);
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, L), false);
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] }, L), true);
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, L), true);
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, L), true);
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, L), true);
    assert.equal(matchesSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }, L), false);
  });
  test('a policy podSelector with expressions selects what it says', () => {
    const m = model(
      policy('default', 'not-db', {
        podSelector: { matchExpressions: [{ key: 'role', operator: 'NotIn', values: ['db'] }] },
        policyTypes: ['Ingress'],
      }),
    );
    assert.equal(ok(m, db, web), false, 'web has no role label: NotIn selects it');
    assert.equal(ok(m, web, db), true);
  });
});

describe('policyTypes defaulting (API server)', () => {
  test('absent: Ingress, plus Egress when egress rules exist', () => {
    const p = (spec: Partial<NetworkPolicy['spec']>) => policy('default', 'p', { podSelector: {}, ...spec });
    assert.deepEqual(effectivePolicyTypes(p({})), ['Ingress']);
    assert.deepEqual(effectivePolicyTypes(p({ egress: [] })), ['Ingress']);
    assert.deepEqual(effectivePolicyTypes(p({ egress: [{}] })), ['Ingress', 'Egress']);
    assert.deepEqual(effectivePolicyTypes(p({ policyTypes: [], egress: [{}] })), ['Ingress', 'Egress']);
    assert.deepEqual(effectivePolicyTypes(p({ policyTypes: ['Egress'], ingress: [{}] })), ['Egress']);
  });
  test('a policy with only egress rules and no policyTypes also isolates ingress', () => {
    const m = model(policy('default', 'e', { podSelector: {}, egress: [{ ports: [{ port: 53, protocol: 'UDP' }] }] }));
    assert.equal(ok(m, web, db, 80), false);
    const r = evaluate(m, web, db, 53, 'UDP');
    assert.equal(r.egress.allowed, true);
    assert.equal(r.ingress.isolated, true);
    assert.equal(r.allowed, false);
  });
  test('explicit [Egress]: ingress rules are ignored and ingress is not isolated', () => {
    const m = model(policy('default', 'e', { podSelector: {}, policyTypes: ['Egress'], ingress: [{ from: [{ podSelector: { matchLabels: { x: 'y' } } }] }] }));
    assert.equal(evaluate(m, ext('1.1.1.1'), db, 80, 'TCP').ingress.isolated, false);
  });
});

describe('IP blocks', () => {
  test('IPv4 and IPv6 parsing and containment', () => {
    assert.equal(cidrContains(parseCidr('10.0.0.0/8')!, parseIp('10.255.0.1')!), true);
    assert.equal(cidrContains(parseCidr('10.0.0.5/8')!, parseIp('10.0.0.1')!), true, 'host bits are masked');
    assert.equal(cidrContains(parseCidr('0.0.0.0/0')!, parseIp('8.8.8.8')!), true);
    assert.equal(cidrContains(parseCidr('0.0.0.0/0')!, parseIp('2001:db8::1')!), false, 'families never mix');
    assert.equal(cidrContains(parseCidr('::/0')!, parseIp('2001:db8::1')!), true);
    assert.equal(cidrContains(parseCidr('2001:db8::/32')!, parseIp('2001:db8:ffff::1')!), true);
    assert.equal(cidrContains(parseCidr('2001:db8::/32')!, parseIp('2001:db9::1')!), false);
    assert.equal(cidrContains(parseCidr('10.0.0.0/8')!, parseIp('::ffff:10.1.2.3')!), true, 'IPv4-mapped is IPv4');
    assert.equal(cidrContains(parseCidr('::ffff:0.0.0.0/96')!, parseIp('::ffff:10.1.2.3')!), false, "as Go's IPNet.Contains");
    assert.equal(parseIp('1.2.3.04'), undefined);
    assert.equal(parseIp('1::2::3'), undefined);
    assert.equal(parseCidr('10.0.0.0/33'), undefined);
    assert.deepEqual(parseIp('::'), { v6: true, value: 0n });
    assert.deepEqual(parseIp('1:2:3:4:5:6:7:8'), { v6: true, value: 0x00010002000300040005000600070008n });
  });
  test('IPv6 ipBlock with except', () => {
    const m = model(policy('default', 'v6', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '2001:db8::/32', except: ['2001:db8:1::/48'] } }] }] }));
    assert.equal(ok(m, ext('2001:db8:2::5'), db), true);
    assert.equal(ok(m, ext('2001:db8:1::5'), db), false);
    assert.equal(ok(m, ext('10.0.0.1'), db), false);
  });
  test('a pod without an IP never matches an ipBlock', () => {
    const m = model(policy('default', 'all', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] }));
    assert.equal(ok(m, pod('default', 'noip', {}), db), false);
    assert.equal(ok(m, web, db), true);
  });
});

describe('validity and purity', () => {
  test('what the API server would reject throws, naming the policy', () => {
    const bad = (spec: NetworkPolicy['spec'], re: RegExp) => assert.throws(() => evaluate(model(policy('default', 'bad', spec)), web, db, 80, 'TCP'), re);
    bad({ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] }, /default\/bad.*ipBlock cannot/);
    bad({ podSelector: {}, ingress: [{ from: [{}] }] }, /needs podSelector, namespaceSelector or ipBlock/);
    bad({ podSelector: {}, ingress: [{ ports: [{ port: 'http', endPort: 90 }] }] }, /endPort needs a numeric port/);
    bad({ podSelector: {}, ingress: [{ ports: [{ port: 100, endPort: 90 }] }] }, /endPort 90/);
    bad({ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.300/8' } }] }] }, /invalid CIDR/);
    bad({ podSelector: { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] } }, /needs at least one value/);
    bad({ podSelector: {}, ingress: [{ ports: [{ protocol: 'ICMP' as never }] }] }, /unsupported protocol/);
  });

  test('inputs are never mutated (deep-frozen inputs evaluate fine and stay equal)', () => {
    const deepFreeze = <T>(o: T): T => {
      if (o && typeof o === 'object') {
        for (const v of Object.values(o)) deepFreeze(v);
        Object.freeze(o);
      }
      return o;
    };
    const m = deepFreeze(model(policy('default', 'p', { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }] }] })));
    const snapshot = JSON.stringify(m);
    const src = deepFreeze({ ...web });
    const dst = deepFreeze({ ...db, ports: [{ name: 'x', containerPort: 1 }] });
    evaluate(m, src, dst, 'x', 'TCP');
    truthTable(m, [src, dst, deepFreeze(ext('1.1.1.1'))], [{ port: 80, protocol: 'TCP' }]);
    assert.equal(JSON.stringify(m), snapshot);
  });

  test('evaluateCompiled gives the same answers as evaluate', () => {
    const m = model(policy('default', 'p', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from: [{ podSelector: {} }] }] }));
    const c = compileModel(m);
    for (const s of [web, inMyproject, ext('1.2.3.4')]) assert.deepEqual(evaluateCompiled(c, s, db, 80, 'TCP'), evaluate(m, s, db, 80, 'TCP'));
  });
});

describe('truth table and diff (impact preview)', () => {
  const a = pod('shop', 'a', { app: 'a' }, { ip: '10.2.0.1', ports: [{ name: 'http', containerPort: 8080 }] });
  const b = pod('shop', 'b', { app: 'b' }, { ip: '10.2.0.2' });
  const c = pod('dns', 'coredns', { k8s: 'dns' }, { ip: '10.2.1.1' });
  const out = ext('93.184.216.34');
  const peers: Peer[] = [a, b, c, out];
  const ports = [
    { port: 'http', protocol: 'TCP' as const },
    { port: 53, protocol: 'UDP' as const },
  ];
  const before: NetworkModel = { namespaces: [{ name: 'shop' }, { name: 'dns' }], policies: [] };
  const after: NetworkModel = {
    ...before,
    policies: [
      policy('shop', 'deny-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
      policy('shop', 'dns', {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'dns' } } }], ports: [{ port: 53, protocol: 'UDP' }] }],
      }),
      policy('shop', 'same-ns', { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }], egress: [{ to: [{ podSelector: {} }] }] }),
    ],
  };

  test('the matrix: null where there is no path', () => {
    const t = truthTable(before, peers, ports);
    assert.deepEqual(t.peers, [
      { key: 'shop/a', namespace: 'shop' },
      { key: 'shop/b', namespace: 'shop' },
      { key: 'dns/coredns', namespace: 'dns' },
      { key: '93.184.216.34' },
    ]);
    assert.deepEqual(t.ports, ['TCP/http', 'UDP/53']);
    assert.deepEqual(t.allowed[1][0], [true, true], 'b -> a');
    assert.deepEqual(t.allowed[0][1], [null, true], 'b has no port named http');
    assert.deepEqual(t.allowed[3][3], [null, null], 'outside to outside');
    assert.deepEqual(t.allowed[0][3], [null, true], 'no named port outside');
  });

  test('diff: what the plan closes and opens', () => {
    const d = diffTables(truthTable(before, peers, ports), truthTable(after, peers, ports));
    assert.deepEqual(d.gained, []);
    const lost = d.lost.map((p) => `${p.from} -> ${p.to} ${p.port}`).sort();
    assert.deepEqual(lost, [
      '93.184.216.34 -> shop/a TCP/http',
      '93.184.216.34 -> shop/a UDP/53',
      '93.184.216.34 -> shop/b UDP/53',
      'dns/coredns -> shop/a TCP/http',
      'dns/coredns -> shop/a UDP/53',
      'dns/coredns -> shop/b UDP/53',
      'shop/a -> 93.184.216.34 UDP/53',
      'shop/b -> 93.184.216.34 UDP/53',
    ]);
    assert.equal(d.lost.find((p) => p.from === 'dns/coredns')?.fromNamespace, 'dns');
    // kept: a->a, a->b, b->a, b->b (UDP/53), a->a, b->a (http), a->dns, b->dns (UDP/53), dns->dns UDP/53, dns->out UDP/53, out->dns UDP/53
    assert.equal(d.kept, 11);
    const back = diffTables(truthTable(after, peers, ports), truthTable(before, peers, ports));
    assert.equal(back.gained.length, 8);
    assert.equal(back.lost.length, 0);
  });
});
