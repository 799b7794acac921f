// The tls area's pure parts: certificates described from PEM, and the plan for each answer (release,
// issuers, Ingress TLS, Service certificates) on inspections made from objects. The live paths are in
// test/integration/tls-install.test.ts and tls-issuance.test.ts.
import assert from 'node:assert/strict';
import test from 'node:test';
import { certificateSummary, describeCertificate, weakKey } from '../../src/areas/tls/certs.js';
import { inspectTls } from '../../src/areas/tls/inspect.js';
import { planTls, UNDO_NOTE } from '../../src/areas/tls/plan.js';
import { tlsQuestions } from '../../src/areas/tls/questions.js';
import type { TlsFacts } from '../../src/areas/tls/facts.js';
import { activeQuestions, validateAnswer, withDefaults, type Answers, type InspectContext, type Inspection } from '../../src/areas/types.js';
import { ClusterError } from '../../src/cluster/errors.js';
import type { KubeObject } from '../../src/cluster/types.js';
import { compose, type MutateEdit, type ReleaseEdit } from '../../src/engine/compose.js';
import { CA, LEAF, WEAK_SELF_SIGNED } from './tls-pems.js';

test('a certificate described from PEM: issuer, expiry, self-signed, key type and size', () => {
  const leaf = describeCertificate(LEAF + CA, new Date('2026-12-29T00:00:00Z'));
  assert.equal(leaf.subject, 'CN=web.example.test');
  assert.equal(leaf.issuer, 'CN=Fixture CA');
  assert.deepEqual(leaf.altNames, ['DNS:web.example.test']);
  assert.equal(leaf.selfSigned, false);
  assert.equal(leaf.keyType, 'EC');
  assert.equal(leaf.keyBits, 384);
  assert.equal(leaf.curve, 'secp384r1');
  assert.equal(leaf.chainLength, 1);
  assert.equal(leaf.daysLeft, 60);
  assert.equal(weakKey(leaf), undefined);

  const ca = describeCertificate(CA);
  assert.equal(ca.selfSigned, true);
  assert.equal(ca.ca, true);
  assert.equal(ca.keyBits, 256);

  const weak = describeCertificate(WEAK_SELF_SIGNED, new Date('2026-12-19T00:00:00Z'));
  assert.equal(weak.keyType, 'RSA');
  assert.equal(weak.keyBits, 1024);
  assert.equal(weak.selfSigned, true);
  assert.ok(weak.daysLeft < 0, 'expired');
  assert.match(weakKey(weak)!, /RSA 1024 bits/);
  assert.match(certificateSummary(weak), /^CN=weak\.example\.test, self-signed, expired 2026-12-\d\d, RSA 1024$/);
  assert.throws(() => describeCertificate('no certificate here'), /no PEM certificate/);
});

type Probe = { served?: boolean; helm?: string; secrets?: Record<string, KubeObject> };

/** A cluster of objects; discovery and Secrets answer as told, everything else is refused. */
function context(objects: KubeObject[], p: Probe): InspectContext {
  const refuse = () => Promise.reject(new ClusterError('Forbidden', 'refused'));
  const cluster = {
    concurrency: 4,
    serves: async () => (p.served === undefined ? refuse() : p.served),
    tryGet: async (r: { namespace?: string; name: string }) => (p.secrets ? p.secrets[`${r.namespace}/${r.name}`] : refuse()),
  } as unknown as InspectContext['cluster'];
  const helm = { available: async () => p.helm, release: async () => undefined } as unknown as InspectContext['helm'];
  const all = objects.filter((o) => o.kind === 'Namespace');
  const names = new Set(all.map((n) => n.metadata.name));
  return {
    cluster,
    helm,
    version: { gitVersion: 'v1.34.4', major: '1', minor: '34' },
    identity: { username: 'admin', groups: [] },
    scope: { all, namespaces: [...names], inScope: (ns) => !!ns && names.has(ns), infrastructure: new Map() },
    list: async (kind, apiVersion) => objects.filter((o) => o.kind === kind && (!apiVersion || o.apiVersion === apiVersion)).map((o) => structuredClone(o)),
    options: {},
  };
}

const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const ingress = (name: string, hosts: string[], extra: Record<string, unknown> = {}, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name, namespace: 'shop', resourceVersion: '7', uid: `uid-${name}`, ...(annotations ? { annotations } : {}) },
  spec: {
    ingressClassName: 'nginx',
    rules: hosts.map((host) => ({ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name, port: { number: 80 } } } }] } })),
    ...extra,
  },
});
const tlsSecret = (name: string, pem: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: 'shop' },
  type: 'kubernetes.io/tls',
  data: { 'tls.crt': Buffer.from(pem).toString('base64'), 'tls.key': '' },
});
const service: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'shop' }, spec: { ports: [{ port: 8443 }] } };
const nginxClass: KubeObject = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  metadata: { name: 'nginx', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
};

async function session(objects: KubeObject[], p: Probe) {
  const ins = (await inspectTls(context(objects, p))) as Inspection<TlsFacts>;
  const qs = tlsQuestions(ins);
  const answers = (given: Answers) => withDefaults(qs, given);
  return { ins, qs, answers, plan: (given: Answers) => planTls(ins, answers(given)) };
}

test('without cert-manager: the install is offered with the official chart, pinned, and planned as a Helm release', async () => {
  const s = await session([ns('shop'), ingress('web', ['web.example.test'])], { served: false, helm: 'v3.22.0', secrets: {} });
  assert.equal(s.ins.facts.certManager.state, 'absent');
  assert.deepEqual(
    s.ins.findings.map((f) => [f.rule, f.fixable]),
    [
      ['certManagerMissing', true],
      ['ingressWithoutTls', true],
    ],
  );
  const defaults = s.answers({});
  assert.equal(defaults['tls.install'], 'helm');
  assert.equal(defaults['tls.chart'], 'cert-manager');
  assert.equal(defaults['tls.chartRepo'], 'https://charts.jetstack.io');
  assert.equal(defaults['tls.chartVersion'], 'v1.21.2');
  assert.equal(defaults['tls.issuer'], 'selfsigned-ca');

  const release = s.plan({ 'tls.issuer': 'none' }) as ReleaseEdit[];
  assert.equal(release.length, 1);
  assert.equal(release[0].phase, 'prerequisites');
  assert.deepEqual(release[0].release, {
    action: 'install',
    release: 'cert-manager',
    namespace: 'cert-manager',
    chart: 'cert-manager',
    repo: 'https://charts.jetstack.io',
    version: 'v1.21.2',
    values: { crds: { enabled: true } },
    createNamespace: true,
    previousRevision: undefined,
    undoNote: UNDO_NOTE,
  });
  assert.deepEqual(release[0].findingIds, ['tls/certManagerMissing/cert-manager/cert-manager/cert-manager']);

  // A packaged chart: no repository, and the repository question is not asked.
  const local = s.plan({ 'tls.issuer': 'none', 'tls.chart': '/charts/cert-manager-v1.21.2.tgz' }) as ReleaseEdit[];
  assert.equal(local[0].release.chart, '/charts/cert-manager-v1.21.2.tgz');
  assert.equal(local[0].release.repo, undefined);
  assert.ok(!activeQuestions(s.qs, s.answers({ 'tls.chart': '/charts/x.tgz' })).some((q) => q.id === 'tls.chartRepo'));

  // With the default issuer: release first, then the bootstrap (the namespace comes with the release), then the Ingress.
  const changes = compose(s.plan({}));
  assert.deepEqual(
    changes.map((c) => `${c.phase} ${c.id}`),
    [
      'prerequisites release:cert-manager/cert-manager',
      'create object:cert-manager.io/v1/ClusterIssuer//kube-harden-selfsigned',
      'create object:cert-manager.io/v1/Certificate/cert-manager/kube-harden-ca',
      'create object:cert-manager.io/v1/ClusterIssuer//kube-harden-ca',
      'update object:networking.k8s.io/v1/Ingress/shop/web',
    ],
  );
});

test('without helm: the install is not the default, the finding says how to get helm and the static manifest', async () => {
  const s = await session([ns('shop'), ingress('web', ['web.example.test'])], { served: false, secrets: {} });
  assert.equal(s.answers({})['tls.install'], 'skip');
  assert.deepEqual(s.plan({}), []);
  const missing = s.ins.findings.find((f) => f.rule === 'certManagerMissing')!;
  assert.equal(missing.fixable, false);
  assert.match(missing.manual!, /helm\.sh\/docs\/intro\/install/);
  assert.match(missing.manual!, /releases\/download\/v1\.21\.2\/cert-manager\.yaml/);
  const q = s.qs.find((x) => x.id === 'tls.install')!;
  assert.match(q.choices!.find((c) => c.value === 'helm')!.hint!, /helm not found on PATH/);
  assert.deepEqual(s.plan({ 'tls.install': 'manifest' }), []);
});

test('with cert-manager: an Ingress gets a tls entry and Secret per host and the cluster-issuer annotation; rollback removes what the shim makes', async () => {
  const objects = [
    ns('shop'),
    ns('cert-manager'),
    nginxClass,
    ingress('web', ['web.example.test', 'www.example.test']),
    ingress('keep', ['keep.example.test'], {}, { 'cert-manager.io/issuer': 'team-ca' }),
    service,
  ];
  const s = await session(objects, { served: true, secrets: { 'shop/web-web-example-test-tls': tlsSecret('web-web-example-test-tls', CA) } });
  assert.equal(s.ins.facts.certManager.state, 'crds-only');
  // Served, but no controller Deployment and CRDs not from the chart: said, and left to a person.
  const unavailable = s.ins.findings.find((f) => f.rule === 'certManagerUnavailable')!;
  assert.equal(unavailable.fixable, false);
  assert.match(unavailable.manual!, /if it runs outside the cluster, nothing to do/);
  assert.ok(!activeQuestions(s.qs, s.answers({})).some((q) => q.id === 'tls.install'));
  assert.deepEqual(
    s.ins.findings.map((f) => f.rule),
    ['certManagerUnavailable', 'noIssuer', 'ingressWithoutTls', 'ingressWithoutTls'],
  );
  const edits = s.plan({ 'tls.services': ['shop/api'] });
  const web = edits.find((e) => e.kind === 'object' && e.op === 'mutate' && e.base.metadata.name === 'web') as MutateEdit;
  const after = web.mutate(web.base);
  // The name of the first host's Secret is taken (a Secret exists): the next free one.
  assert.deepEqual((after.spec as { tls: unknown }).tls, [
    { hosts: ['web.example.test'], secretName: 'web-web-example-test-tls-2' },
    { hosts: ['www.example.test'], secretName: 'web-www-example-test-tls' },
  ]);
  assert.equal(after.metadata.annotations?.['cert-manager.io/cluster-issuer'], 'kube-harden-ca');
  assert.equal(web.phase, 'update');
  assert.deepEqual(web.findingIds, ['tls/ingressWithoutTls/Ingress/shop/web']);
  assert.deepEqual(
    web.derived?.map((d) => `${d.ref.kind}/${d.ref.name} ${d.controlledByTarget ? 'owned' : JSON.stringify(d.annotations)}`),
    [
      'Certificate/web-web-example-test-tls-2 owned',
      'Certificate/web-www-example-test-tls owned',
      'Secret/web-web-example-test-tls-2 {"cert-manager.io/certificate-name":"web-web-example-test-tls-2"}',
      'Secret/web-www-example-test-tls {"cert-manager.io/certificate-name":"web-www-example-test-tls"}',
    ],
  );
  assert.notEqual(after, web.base, 'a new object');
  assert.equal(web.base.metadata.annotations, undefined, 'the base is untouched');

  // An Ingress with its own issuer annotation keeps it: no second annotation (the shim would refuse both).
  const keep = edits.find((e) => e.kind === 'object' && e.op === 'mutate' && e.base.metadata.name === 'keep') as MutateEdit;
  assert.deepEqual(keep.mutate(keep.base).metadata.annotations, { 'cert-manager.io/issuer': 'team-ca' });
  assert.match(keep.reason, /Issuer team-ca/);

  const svc = edits.find((e) => e.kind === 'object' && e.op === 'create' && e.object.kind === 'Certificate' && e.object.metadata.namespace === 'shop');
  assert.ok(svc && svc.kind === 'object' && svc.op === 'create');
  assert.deepEqual(svc.object.spec, {
    secretName: 'api-tls',
    dnsNames: ['api', 'api.shop', 'api.shop.svc', 'api.shop.svc.cluster.local'],
    issuerRef: { name: 'kube-harden-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' },
    privateKey: { algorithm: 'ECDSA', size: 256 },
  });
});

test("ACME: Let's Encrypt with HTTP-01 on the detected ingress class; DNS-01 plans no issuer; no Service certificates", async () => {
  const s = await session([ns('shop'), ns('cert-manager'), nginxClass, ingress('web', ['web.example.test']), service], { served: true, secrets: {} });
  const given = { 'tls.issuer': 'letsencrypt-staging', 'tls.acmeEmail': 'ops@example.test', 'tls.services': ['shop/api'] };
  assert.equal(s.answers(given)['tls.ingressClass'], 'nginx');
  const edits = s.plan(given);
  const issuer = edits.find((e) => e.kind === 'object' && e.op === 'create');
  assert.ok(issuer && issuer.kind === 'object' && issuer.op === 'create');
  assert.deepEqual(issuer.object.spec, {
    acme: {
      server: 'https://acme-staging-v02.api.letsencrypt.org/directory',
      email: 'ops@example.test',
      privateKeySecretRef: { name: 'letsencrypt-staging-account-key' },
      solvers: [{ http01: { ingress: { ingressClassName: 'nginx' } } }],
    },
  });
  assert.equal(edits.length, 2, 'the issuer and the Ingress; no Service certificate with ACME');
  const email = s.qs.find((q) => q.id === 'tls.acmeEmail')!;
  assert.equal(email.validate!('not-an-email', {}), 'an e-mail address');
  assert.deepEqual(s.plan({ ...given, 'tls.acmeSolver': 'dns01' }), []);
});

test('Ingress certificates: expired, self-signed and weak are found; a missing Secret is issued under its name, an existing one never overwritten', async (t) => {
  // WEAK_SELF_SIGNED expired on 2026-12-09.
  t.mock.timers.enable({ apis: ['Date'], now: new Date('2027-01-01T00:00:00Z') });
  const objects = [
    ns('shop'),
    ns('cert-manager'),
    ingress('old', ['weak.example.test'], { tls: [{ hosts: ['weak.example.test'], secretName: 'old-tls' }] }),
    ingress('gone', ['gone.example.test'], { tls: [{ hosts: ['gone.example.test'], secretName: 'gone-tls' }] }),
  ];
  const s = await session(objects, { served: true, secrets: { 'shop/old-tls': tlsSecret('old-tls', WEAK_SELF_SIGNED) } });
  assert.deepEqual(s.ins.findings.map((f) => f.id).sort(), [
    'tls/certManagerUnavailable/cert-manager/cert-manager/cert-manager',
    'tls/ingressCertExpiring/Ingress/shop/old/old-tls',
    'tls/ingressCertMissing/Ingress/shop/gone/gone-tls',
    'tls/ingressCertSelfSigned/Ingress/shop/old/old-tls',
    'tls/ingressCertWeakKey/Ingress/shop/old/old-tls',
    'tls/noIssuer/cert-manager//issuers',
  ]);
  const q = s.qs.find((x) => x.id === 'tls.replace')!;
  assert.deepEqual(q.default, ['shop/old/old-tls', 'shop/gone/gone-tls'], 'expired and missing are replaced by default');
  const edits = s.plan({});
  const old = edits.find((e) => e.kind === 'object' && e.op === 'mutate' && e.base.metadata.name === 'old') as MutateEdit;
  assert.deepEqual((old.mutate(old.base).spec as { tls: unknown }).tls, [{ hosts: ['weak.example.test'], secretName: 'old-tls-cm' }]);
  assert.equal(old.findingIds.length, 3);
  const gone = edits.find((e) => e.kind === 'object' && e.op === 'mutate' && e.base.metadata.name === 'gone') as MutateEdit;
  assert.deepEqual((gone.mutate(gone.base).spec as { tls: unknown }).tls, [{ hosts: ['gone.example.test'], secretName: 'gone-tls' }]);
  assert.deepEqual(gone.findingIds, ['tls/ingressCertMissing/Ingress/shop/gone/gone-tls']);
});

test('a probe refused (no discovery, no Secrets, no helm) is "unknown", never a crash or a false finding', async () => {
  const s = await session([ns('shop'), ingress('web', ['web.example.test'], { tls: [{ hosts: ['web.example.test'], secretName: 'web-tls' }] })], {});
  assert.equal(s.ins.facts.certManager.state, 'unknown');
  assert.deepEqual(s.ins.findings, []);
  assert.equal(s.ins.facts.ingresses[0].secrets[0].state, 'unknown');
  assert.deepEqual(s.plan({}), []);
  assert.ok(s.ins.notes?.some((n) => /not read: reading their Secrets was refused/.test(n)));
});

test('every question is in the list on every cluster (a profile made on one is accepted on another); conditions decide what is asked', async () => {
  const ids = async (objects: KubeObject[], p: Probe) => (await session(objects, p)).qs.map((q) => q.id);
  const absent = await ids([ns('shop')], { served: false, helm: 'v3.22.0', secrets: {} });
  assert.deepEqual(absent, await ids([ns('shop'), ns('cert-manager'), ingress('web', ['web.example.test']), service], { served: true, secrets: {} }));
  assert.deepEqual(absent, await ids([ns('shop')], {}));
  const s = await session([ns('shop'), ns('cert-manager')], { served: true, secrets: {} });
  assert.deepEqual(
    activeQuestions(s.qs, s.answers({})).map((q) => q.id),
    ['tls.issuer'],
  );
});

test('the CA bootstrap creates the cluster resource namespace when it is missing (and the install does not bring it)', async () => {
  const s = await session([ns('shop')], { served: true, secrets: {} });
  const changes = compose(s.plan({}));
  assert.deepEqual(
    changes.map((c) => `${c.phase} ${c.id}`),
    [
      'prerequisites object:v1/Namespace//cert-manager',
      'create object:cert-manager.io/v1/ClusterIssuer//kube-harden-selfsigned',
      'create object:cert-manager.io/v1/Certificate/cert-manager/kube-harden-ca',
      'create object:cert-manager.io/v1/ClusterIssuer//kube-harden-ca',
    ],
  );
  const installing = await session([ns('shop')], { served: false, helm: 'v3.22.0', secrets: {} });
  assert.ok(!compose(installing.plan({})).some((c) => c.id === 'object:v1/Namespace//cert-manager'), 'helm --create-namespace brings it');
});

test('CRDs kept by a helm uninstall, no controller: the install is offered again (the chart adopts its CRDs)', async () => {
  const crd: KubeObject = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: 'certificates.cert-manager.io',
      labels: { 'app.kubernetes.io/managed-by': 'Helm' },
      annotations: { 'meta.helm.sh/release-name': 'cert-manager', 'meta.helm.sh/release-namespace': 'cert-manager', 'helm.sh/resource-policy': 'keep' },
    },
  };
  const s = await session([ns('shop'), ns('cert-manager')], { served: true, helm: 'v3.22.0', secrets: { 'undefined/certificates.cert-manager.io': crd } });
  assert.equal(s.ins.facts.certManager.crdsFromRelease, true);
  const f = s.ins.findings.find((x) => x.rule === 'certManagerUnavailable')!;
  assert.equal(f.fixable, true);
  assert.match(s.qs.find((q) => q.id === 'tls.install')!.title, /install it again/);
  const release = s.plan({ 'tls.issuer': 'none' }) as ReleaseEdit[];
  assert.equal(release[0].release.action, 'install');
  assert.deepEqual(release[0].findingIds, [f.id]);
});

test('a profile answering selfsigned-ca stays valid once the CA exists: it is reused, nothing created twice', async () => {
  const issuer = (name: string, spec: Record<string, unknown>): KubeObject => ({
    apiVersion: 'cert-manager.io/v1',
    kind: 'ClusterIssuer',
    metadata: { name },
    spec,
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  });
  const ca: KubeObject = {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name: 'kube-harden-ca', namespace: 'cert-manager' },
    spec: { secretName: 'kube-harden-ca', isCA: true },
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  };
  const objects = [
    ns('shop'),
    ns('cert-manager'),
    issuer('kube-harden-selfsigned', { selfSigned: {} }),
    issuer('kube-harden-ca', { ca: { secretName: 'kube-harden-ca' } }),
    ca,
  ];
  const s = await session([...objects, ingress('web', ['web.example.test'])], { served: true, secrets: {} });
  const q = s.qs.find((x) => x.id === 'tls.issuer')!;
  assert.equal(validateAnswer(q, 'selfsigned-ca', {}), undefined);
  assert.equal(q.default, 'clusterissuer/kube-harden-ca');
  const edits = s.plan({ 'tls.issuer': 'selfsigned-ca' });
  assert.deepEqual(
    compose(edits).map((c) => c.id),
    ['object:networking.k8s.io/v1/Ingress/shop/web'],
  );
});
