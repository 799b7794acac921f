// cert-manager, real, against the test bed: its released Helm chart installs and uninstalls, and its real
// controllers issue certificates (self-signed CA -> CA ClusterIssuer -> leaf, and through the ingress-shim).
// Each test runs on a private bed of its own: the chart leaves CRDs behind and its webhook configuration
// blocks every cert-manager object while installed; the issuance test creates cluster-scoped issuers.
// npx node --import tsx --test --test-timeout=900000 test/cluster/cert-manager.test.ts
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import {
  CERT_MANAGER_VERSION,
  certManagerChart,
  helmEnv,
  loadCertManagerCrds,
  startCertManagerControllers,
  type CertManagerControllers,
} from './cert-manager.js';
import { CreateError, createObject, ensureNamespace, kubeRequest } from './kube.js';
import { down, privateTestbed, type Testbed } from './testbed.js';
import { ensureTool, tail } from './tools.js';

const CERT_MANAGER_CRDS = [
  'certificaterequests.cert-manager.io',
  'certificates.cert-manager.io',
  'challenges.acme.cert-manager.io',
  'clusterissuers.cert-manager.io',
  'issuers.cert-manager.io',
  'orders.acme.cert-manager.io',
];

/** A bed of our own for one test, stopped (and its dir removed) when the test ends. */
async function privateBed(t: TestContext): Promise<Testbed> {
  const bed = await privateTestbed();
  t.after(() => down({ dir: bed.dir }));
  return bed;
}

type Obj = Record<string, any>;

const CM = '/apis/cert-manager.io/v1';
const WEBHOOKS = '/apis/admissionregistration.k8s.io/v1';

async function getJson<T = Obj>(kubeconfig: string, apiPath: string): Promise<{ status: number; body: T }> {
  const res = await kubeRequest(kubeconfig, 'GET', apiPath);
  return { status: res.status, body: (res.body ? JSON.parse(res.body) : {}) as T };
}

async function listItems(kubeconfig: string, apiPath: string): Promise<Obj[]> {
  return (await getJson<{ items: Obj[] }>(kubeconfig, apiPath)).body.items;
}

async function cmCrds(kubeconfig: string): Promise<Obj[]> {
  const crds = await listItems(kubeconfig, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions');
  return crds.filter((c) => /(^|\.)cert-manager\.io$/.test(c.spec.group)).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

test('helm installs the released cert-manager chart on the bed, and uninstall keeps its CRDs', async (t) => {
  const [helm, chart] = [await ensureTool('helm'), await certManagerChart()];
  const bed = await privateBed(t);
  const helmHome = await mkdtemp(path.join(os.tmpdir(), 'kube-harden-helm-'));
  t.after(() => rm(helmHome, { recursive: true, force: true }));
  const run = (...args: string[]) => execa(helm, [...args, '--kubeconfig', bed.kubeconfig], { env: helmEnv(helmHome), reject: false, all: true });
  const K = bed.kubeconfig;

  const install = await run(
    'install',
    'cert-manager',
    chart,
    '-n',
    'cert-manager',
    '--create-namespace',
    '--set',
    'crds.enabled=true',
    '--set',
    'startupapicheck.enabled=false',
  );
  assert.equal(install.exitCode, 0, `helm install failed:\n${install.all}`);

  const releases = JSON.parse(String((await run('list', '-n', 'cert-manager', '-o', 'json')).stdout)) as Obj[];
  assert.deepEqual(
    releases.map((r) => [r.name, r.status, r.chart, r.app_version]),
    [['cert-manager', 'deployed', `cert-manager-${CERT_MANAGER_VERSION}`, CERT_MANAGER_VERSION]],
  );

  const crds = await cmCrds(K);
  assert.deepEqual(
    crds.map((c) => c.metadata.name),
    CERT_MANAGER_CRDS,
  );
  for (const c of crds) {
    assert.equal(c.metadata.annotations?.['helm.sh/resource-policy'], 'keep', c.metadata.name);
    assert.equal(c.metadata.labels?.['app.kubernetes.io/instance'], 'cert-manager', c.metadata.name);
  }

  const deployments = await listItems(K, '/apis/apps/v1/namespaces/cert-manager/deployments');
  const images = Object.fromEntries(deployments.map((d) => [d.metadata.name, d.spec.template.spec.containers[0].image]));
  assert.deepEqual(images, {
    'cert-manager': `quay.io/jetstack/cert-manager-controller:${CERT_MANAGER_VERSION}`,
    'cert-manager-cainjector': `quay.io/jetstack/cert-manager-cainjector:${CERT_MANAGER_VERSION}`,
    'cert-manager-webhook': `quay.io/jetstack/cert-manager-webhook:${CERT_MANAGER_VERSION}`,
  });
  const vwc = await getJson(K, `${WEBHOOKS}/validatingwebhookconfigurations/cert-manager-webhook`);
  assert.equal(vwc.status, 200, 'the chart installs its validating webhook configuration');

  // No pod really runs behind the webhook's Service, so while the chart is installed the API server
  // refuses every cert-manager object: this is why the issuance test runs on a bed without the chart.
  const issuer = {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Issuer',
    metadata: { name: 'selfsigned', namespace: 'default' },
    spec: { selfSigned: {} },
  };
  await assert.rejects(createObject(K, issuer), (e: unknown) => {
    assert.ok(e instanceof CreateError);
    assert.ok(e.code >= 500, `HTTP ${e.code}`);
    assert.match(e.message, /webhook\.cert-manager\.io/);
    return true;
  });

  const uninstall = await run('uninstall', 'cert-manager', '-n', 'cert-manager');
  assert.equal(uninstall.exitCode, 0, `helm uninstall failed:\n${uninstall.all}`);
  // helm says so itself: the CRDs carry helm.sh/resource-policy: keep, so users' certificates survive.
  assert.match(String(uninstall.all), /kept due to the resource policy/);
  assert.deepEqual(JSON.parse(String((await run('list', '-A', '-o', 'json')).stdout)), []);
  assert.deepEqual(await listItems(K, '/apis/apps/v1/namespaces/cert-manager/deployments'), []);
  for (const kind of ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations']) {
    assert.equal((await getJson(K, `${WEBHOOKS}/${kind}/cert-manager-webhook`)).status, 404, kind);
  }

  // The cluster is not as before the install: the six CRDs stay, and work (no webhook in the way now).
  assert.deepEqual(
    (await cmCrds(K)).map((c) => c.metadata.name),
    CERT_MANAGER_CRDS,
  );
  const created = await createObject(K, issuer);
  assert.equal(created.metadata?.name, 'selfsigned');
});

/** Poll a cert-manager object until its Ready condition is True; fail with its status and the log tail. */
async function waitReady(kubeconfig: string, apiPath: string, controllers: CertManagerControllers, timeoutMs = 90_000): Promise<Obj> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await getJson(kubeconfig, apiPath);
    const conditions = (body.status?.conditions ?? []) as { type: string; status: string }[];
    if (status === 200 && conditions.some((c) => c.type === 'Ready' && c.status === 'True')) return body;
    if (Date.now() > deadline) {
      const log = controllers.logFile;
      const logText = existsSync(log) ? tail(readFileSync(log, 'utf8').trimEnd(), 40) : '';
      assert.fail(
        `${apiPath} not Ready after ${timeoutMs / 1000} s: HTTP ${status} ${JSON.stringify(body.status ?? body)}\n` + `--- ${log} (tail)\n${logText}`,
      );
    }
    await sleep(250);
  }
}

async function secretCert(kubeconfig: string, namespace: string, name: string, key = 'tls.crt'): Promise<X509Certificate> {
  const secret = await getJson(kubeconfig, `/api/v1/namespaces/${namespace}/secrets/${name}`);
  assert.equal(secret.status, 200, `Secret ${namespace}/${name}`);
  assert.equal(secret.body.type, 'kubernetes.io/tls');
  const pem = Buffer.from(secret.body.data?.[key] ?? '', 'base64').toString('utf8');
  assert.match(pem, /-----BEGIN CERTIFICATE-----/, `${namespace}/${name} ${key}`);
  return new X509Certificate(pem);
}

function assertSignedBy(leaf: X509Certificate, ca: X509Certificate, dnsName: string): void {
  assert.equal(leaf.ca, false);
  assert.ok(leaf.checkIssued(ca), `${leaf.subject} is not issued by ${ca.subject}`);
  assert.ok(leaf.verify(ca.publicKey), 'the leaf signature does not verify with the CA public key');
  assert.ok(leaf.checkHost(dnsName), `${dnsName} not in ${leaf.subjectAltName}`);
  assert.equal(leaf.subjectAltName, `DNS:${dnsName}`);
}

test('real cert-manager controllers issue a CA, a CA ClusterIssuer, a leaf, and a certificate for an Ingress', async (t) => {
  const bed = await privateBed(t);
  const K = bed.kubeconfig;
  assert.deepEqual((await loadCertManagerCrds(K)).sort(), CERT_MANAGER_CRDS);
  await ensureNamespace(K, 'cert-manager');
  await ensureNamespace(K, 'app');
  const logDir = await mkdtemp(path.join(os.tmpdir(), 'cert-manager-controllers-'));
  const controllers = await startCertManagerControllers(K, { logFile: path.join(logDir, 'controllers.log') });
  t.after(async () => {
    await controllers.stop();
    await rm(logDir, { recursive: true, force: true });
  });
  const issuerRef = (name: string) => ({ name, kind: 'ClusterIssuer', group: 'cert-manager.io' });

  const clusterIssuer = (name: string, spec: Obj) => ({
    apiVersion: 'cert-manager.io/v1',
    kind: 'ClusterIssuer',
    metadata: { name },
    spec,
  });

  await createObject(K, clusterIssuer('selfsigned', { selfSigned: {} }));
  await waitReady(K, `${CM}/clusterissuers/selfsigned`, controllers);

  await createObject(K, {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name: 'test-ca', namespace: 'cert-manager' },
    spec: {
      isCA: true,
      commonName: 'kube-harden test CA',
      secretName: 'test-ca',
      privateKey: { algorithm: 'ECDSA', size: 256 },
      issuerRef: issuerRef('selfsigned'),
    },
  });
  await waitReady(K, `${CM}/namespaces/cert-manager/certificates/test-ca`, controllers);
  const ca = await secretCert(K, 'cert-manager', 'test-ca');
  assert.equal(ca.ca, true);
  assert.equal(ca.subject, 'CN=kube-harden test CA');
  assert.ok(ca.checkIssued(ca) && ca.verify(ca.publicKey), 'the CA is self-signed');

  // A CA ClusterIssuer finds its Secret in the cluster resource namespace (cert-manager here).
  await createObject(K, clusterIssuer('test-ca', { ca: { secretName: 'test-ca' } }));
  await waitReady(K, `${CM}/clusterissuers/test-ca`, controllers);

  await createObject(K, {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name: 'app', namespace: 'app' },
    spec: { secretName: 'app-tls', dnsNames: ['app.example.test'], issuerRef: issuerRef('test-ca') },
  });
  const appCert = await waitReady(K, `${CM}/namespaces/app/certificates/app`, controllers);
  assert.ok(appCert.status.notAfter, 'status.notAfter is set');
  const leaf = await secretCert(K, 'app', 'app-tls');
  assertSignedBy(leaf, ca, 'app.example.test');
  assert.equal((await secretCert(K, 'app', 'app-tls', 'ca.crt')).fingerprint256, ca.fingerprint256, 'ca.crt is the CA');

  // The ingress-shim turns an annotated Ingress's tls section into a Certificate named after its Secret.
  await createObject(K, {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web', namespace: 'app', annotations: { 'cert-manager.io/cluster-issuer': 'test-ca' } },
    spec: {
      tls: [{ hosts: ['web.example.test'], secretName: 'web-tls' }],
      rules: [
        {
          host: 'web.example.test',
          http: {
            paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }],
          },
        },
      ],
    },
  });
  const shimmed = await waitReady(K, `${CM}/namespaces/app/certificates/web-tls`, controllers);
  const owners = shimmed.metadata.ownerReferences as { kind: string; name: string; controller?: boolean }[];
  assert.deepEqual(
    owners.map((o) => [o.kind, o.name, o.controller]),
    [['Ingress', 'web', true]],
  );
  assert.deepEqual(shimmed.spec.dnsNames, ['web.example.test']);
  assert.deepEqual(shimmed.spec.issuerRef, issuerRef('test-ca'));
  assertSignedBy(await secretCert(K, 'app', 'web-tls'), ca, 'web.example.test');
});
