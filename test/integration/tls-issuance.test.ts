// The tls area with cert-manager's real controllers (built from its v1.21.2 module) on a private bed that
// has only cert-manager's CRDs and those controllers: no chart, so no webhook configuration whose pod
// kwok cannot run (it would refuse every cert-manager object; see test/cluster/README-real-parts.md).
// Audit finds the Ingresses without TLS and the certificates in use (expiring, self-signed, weak key,
// missing Secret); apply --profile bootstraps the self-signed CA, a CA ClusterIssuer that becomes Ready,
// and TLS for the Ingresses through the ingress-shim, whose Certificates become Ready with Secrets signed
// by that CA (checked with X509Certificate); rollback removes all of it and restores the Ingresses.
// npx node --import tsx --test --test-timeout=900000 test/integration/tls-issuance.test.ts
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { Cluster } from '../../src/cluster/client.js';
import type { KubeObject, ObjectRef } from '../../src/cluster/types.js';
import { loadCertManagerCrds, startCertManagerControllers, type CertManagerControllers } from '../cluster/cert-manager.js';
import { ensureNamespace } from '../cluster/kube.js';
import { down, privateTestbed, type Testbed } from '../cluster/testbed.js';
import { tail } from '../cluster/tools.js';
import { normalised, runCli, tempHome } from '../helpers.js';

let bed: Testbed;
let cluster: Cluster;
let controllers: CertManagerControllers;
const work = mkdtempSync(path.join(os.tmpdir(), 'kube-harden-tls-issuance-'));

before(async () => {
  bed = await privateTestbed();
  await loadCertManagerCrds(bed.kubeconfig);
  await ensureNamespace(bed.kubeconfig, 'cert-manager');
  controllers = await startCertManagerControllers(bed.kubeconfig, { logFile: path.join(work, 'controllers.log') });
  cluster = await Cluster.connect({ kubeconfig: bed.kubeconfig });
});
after(async () => {
  await controllers?.stop();
  await cluster?.close();
  if (bed) await down({ dir: bed.dir });
});

const CM = 'cert-manager.io/v1';
const ref = (kind: string, name: string, namespace?: string, apiVersion = CM): ObjectRef => ({ apiVersion, kind, name, namespace });

function ingress(name: string, host: string, tlsSecret?: string): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'shop' },
    spec: {
      ingressClassName: 'nginx',
      ...(tlsSecret ? { tls: [{ hosts: [host], secretName: tlsSecret }] } : {}),
      rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }],
    },
  };
}

/** A self-signed RSA-1024 certificate valid 10 days, as some teams still make by hand. */
async function weakSelfSigned(host: string): Promise<{ crt: string; key: string }> {
  const dir = mkdtempSync(path.join(work, 'openssl-'));
  const [crt, key] = [path.join(dir, 'tls.crt'), path.join(dir, 'tls.key')];
  await execa('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:1024',
    '-nodes',
    '-keyout',
    key,
    '-out',
    crt,
    '-days',
    '10',
    '-subj',
    `/CN=${host}`,
    '-addext',
    `subjectAltName=DNS:${host}`,
  ]);
  return { crt: readFileSync(crt, 'utf8'), key: readFileSync(key, 'utf8') };
}

async function waitReady(r: ObjectRef, timeoutMs = 90_000): Promise<KubeObject> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const o = await cluster.tryGet(r);
    const conditions = ((o?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []) as Array<{
      type: string;
      status: string;
    }>;
    if (o && conditions.some((c) => c.type === 'Ready' && c.status === 'True')) return o;
    if (Date.now() > deadline) {
      const log = existsSync(controllers.logFile) ? tail(readFileSync(controllers.logFile, 'utf8'), 30) : '';
      assert.fail(`${r.kind} ${r.namespace ?? ''}/${r.name} not Ready after ${timeoutMs / 1000} s: ${JSON.stringify(o?.status)}\n${log}`);
    }
    await sleep(250);
  }
}

async function secretCert(namespace: string, name: string): Promise<X509Certificate> {
  const s = await cluster.get(ref('Secret', name, namespace, 'v1'));
  return new X509Certificate(Buffer.from((s.data as Record<string, string>)['tls.crt'], 'base64'));
}

const rules = (stdout: string) =>
  (JSON.parse(stdout) as { findings: Array<{ rule: string; ref: { name: string } }> }).findings.map((f) => `${f.rule} ${f.ref.name}`).sort();

/**
 * Namespace shop: a Service, an IngressClass (the default), and three Ingresses: web without TLS, old
 * with a hand-made weak self-signed certificate, gone naming a Secret that does not exist. Once per bed.
 */
let seeded: Promise<{ before: Record<string, KubeObject>; oldSecret: KubeObject }> | undefined;
function seed() {
  seeded ??= (async () => {
    await cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    await cluster.create({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: 'nginx', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
      spec: { controller: 'k8s.io/ingress-nginx' },
    });
    await cluster.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { ports: [{ port: 80 }], selector: { app: 'web' } },
    });
    const old = await weakSelfSigned('old.example.test');
    const oldSecret = (
      await cluster.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'old-tls', namespace: 'shop' },
        type: 'kubernetes.io/tls',
        data: { 'tls.crt': Buffer.from(old.crt).toString('base64'), 'tls.key': Buffer.from(old.key).toString('base64') },
      })
    ).object!;
    const before: Record<string, KubeObject> = {};
    for (const [name, host, secret] of [
      ['web', 'web.example.test', undefined],
      ['old', 'old.example.test', 'old-tls'],
      ['gone', 'gone.example.test', 'gone-tls'],
    ] as const) {
      before[name] = normalised((await cluster.create(ingress(name, host, secret))).object!);
    }
    return { before, oldSecret };
  })();
  return seeded;
}

test('self-signed CA bootstrap, a CA ClusterIssuer Ready, Ingresses given TLS by the ingress-shim with certificates signed by that CA; rollback removes them', async () => {
  const K = bed.kubeconfig;
  const home = tempHome();
  const { before, oldSecret } = await seed();

  // Audit: the API is served (the CRDs), no issuer; the Ingress without TLS; the certificates in use.
  const audit = await runCli(['audit', '--areas', 'tls', '--output', 'json', '--kubeconfig', K], { home });
  assert.equal(audit.code, 0, audit.stderr);
  // The controllers run as a process beside the bed, not as a Deployment: the area cannot see them and says so.
  assert.deepEqual(rules(audit.stdout), [
    'certManagerUnavailable cert-manager',
    'ingressCertExpiring old',
    'ingressCertMissing gone',
    'ingressCertSelfSigned old',
    'ingressCertWeakKey old',
    'ingressWithoutTls web',
    'noIssuer issuers',
  ]);
  const table = await runCli(['audit', '--areas', 'tls', '--kubeconfig', K], { home });
  assert.match(table.stdout, /its certificate old-tls has a weak key: RSA 1024 bits \(at least 2048\)/);
  assert.match(table.stdout, /its certificate old-tls expires on \d{4}-\d\d-\d\d \((9|10) days\)/);

  const profile = path.join(work, 'tls-ca.yaml');
  writeFileSync(
    profile,
    [
      'version: 2',
      'name: tls-ca',
      'areas: [tls]',
      'answers:',
      '  tls.issuer: selfsigned-ca',
      '  tls.ingresses: [shop/web]',
      '  tls.replace: [shop/old/old-tls, shop/gone/gone-tls]',
      '  tls.services: [shop/web]',
      '',
    ].join('\n'),
  );
  const preview = await runCli(['apply', '--profile', profile, '--preview', '--kubeconfig', K], { home });
  assert.equal(preview.code, 0, preview.stderr);
  assert.match(preview.stdout, /preview only: 7 change\(s\), 0 failed the dry-run/);
  // The review: what will be issued, and the certificates in use (issuer, expiry, self-signed, key).
  assert.match(preview.stdout, /tls: certificates cert-manager will issue \(5\)\n/);
  assert.match(preview.stdout, / {4}cert-manager\/kube-harden-ca: CA certificate \(ClusterIssuer kube-harden-selfsigned\)\n/);
  assert.match(
    preview.stdout,
    / {4}shop\/web-web-example-test-tls: web\.example\.test \(ClusterIssuer kube-harden-ca, through the ingress-shim of Ingress web\)\n/,
  );
  assert.match(preview.stdout, / {4}shop\/web-tls: web, web\.shop, web\.shop\.svc, web\.shop\.svc\.cluster\.local \(ClusterIssuer kube-harden-ca\)\n/);
  assert.match(preview.stdout, /tls: certificates Ingresses serve now \(2\)\n/);
  assert.match(
    preview.stdout,
    / {4}shop\/old old-tls: CN=old\.example\.test, self-signed, expires \d{4}-\d\d-\d\d \((9|10) days\), RSA 1024 \(weak key: RSA 1024 bits \(at least 2048\)\)\n/,
  );
  assert.match(preview.stdout, / {4}shop\/gone gone-tls: Secret missing\n/);

  const applied = await runCli(['apply', '--profile', profile, '--yes', '--kubeconfig', K], { home, timeoutMs: 300_000 });
  assert.equal(applied.code, 0, `${applied.stdout}\n${applied.stderr}`);
  assert.match(applied.stdout, /applied 7 change\(s\)/);
  const id = /undo with: kube-harden rollback (\S+)/.exec(applied.stdout)?.[1];
  assert.ok(id);

  // The bootstrap: the self-signed issuer signs the CA; the CA ClusterIssuer becomes Ready from its Secret.
  await waitReady(ref('ClusterIssuer', 'kube-harden-selfsigned'));
  await waitReady(ref('Certificate', 'kube-harden-ca', 'cert-manager'));
  const caIssuer = await waitReady(ref('ClusterIssuer', 'kube-harden-ca'));
  assert.deepEqual(caIssuer.spec, { ca: { secretName: 'kube-harden-ca' } });
  const ca = await secretCert('cert-manager', 'kube-harden-ca');
  assert.equal(ca.ca, true);
  assert.equal(ca.subject, 'CN=kube-harden CA');
  assert.ok(ca.checkIssued(ca) && ca.verify(ca.publicKey), 'the CA is self-signed');

  // The Ingresses: the ingress-shim made a Certificate per tls entry, owned by the Ingress, issued by the CA.
  const signed = async (name: string, host: string, ingressName: string) => {
    const c = await waitReady(ref('Certificate', name, 'shop'));
    assert.deepEqual(
      c.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.controller]),
      [['Ingress', ingressName, true]],
      'made by the ingress-shim',
    );
    assert.deepEqual((c.spec as { issuerRef: unknown }).issuerRef, { name: 'kube-harden-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' });
    const leaf = await secretCert('shop', name);
    assert.equal(leaf.ca, false);
    assert.ok(leaf.checkIssued(ca), `${leaf.subject} is not issued by ${ca.subject}`);
    assert.ok(leaf.verify(ca.publicKey), 'the signature does not verify with the CA key');
    assert.ok(leaf.checkHost(host), `${host} not in ${leaf.subjectAltName}`);
  };
  const web = await cluster.get(ref('Ingress', 'web', 'shop', 'networking.k8s.io/v1'));
  assert.equal(web.metadata.annotations?.['cert-manager.io/cluster-issuer'], 'kube-harden-ca');
  assert.deepEqual((web.spec as { tls: unknown }).tls, [{ hosts: ['web.example.test'], secretName: 'web-web-example-test-tls' }]);
  await signed('web-web-example-test-tls', 'web.example.test', 'web');
  // A missing Secret is issued under its own name; an existing certificate gets a new Secret, the old one kept.
  await signed('gone-tls', 'gone.example.test', 'gone');
  await signed('old-tls-cm', 'old.example.test', 'old');
  assert.deepEqual((await cluster.get(ref('Secret', 'old-tls', 'shop', 'v1'))).data, oldSecret.data, 'the old certificate is untouched');
  // The Service's certificate, for its in-cluster names.
  await waitReady(ref('Certificate', 'web-tls', 'shop'));
  const svc = await secretCert('shop', 'web-tls');
  assert.ok(svc.checkIssued(ca) && svc.verify(ca.publicKey));
  assert.ok(svc.checkHost('web.shop.svc.cluster.local') && svc.checkHost('web.shop.svc'));

  const again = await runCli(['audit', '--areas', 'tls', '--output', 'json', '--kubeconfig', K], { home });
  assert.deepEqual(rules(again.stdout), ['certManagerUnavailable cert-manager'], 'everything the plan meant to fix is fixed');

  // Rollback: the Ingresses as they were; issuers, Certificates (ours and the shim's) and their Secrets gone.
  const rb = await runCli(['rollback', id, '--yes', '--kubeconfig', K], { home, timeoutMs: 120_000 });
  assert.equal(rb.code, 0, `${rb.stdout}\n${rb.stderr}`);
  assert.match(rb.stdout, /7 restored/);
  for (const name of ['web', 'old', 'gone']) {
    assert.deepEqual(normalised(await cluster.get(ref('Ingress', name, 'shop', 'networking.k8s.io/v1'))), before[name], name);
  }
  const all = async (kind: string, apiVersion = CM) =>
    (await cluster.list(await cluster.typeOf(apiVersion, kind))).map((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`);
  // The shim is told nothing by an Ingress that lost its annotation: give it a moment to prove it makes nothing again.
  await sleep(2000);
  assert.deepEqual(await all('ClusterIssuer'), []);
  assert.deepEqual(await all('Certificate'), []);
  assert.deepEqual(
    (await all('Secret', 'v1')).filter((n) => n.startsWith('shop/') || n.startsWith('cert-manager/')),
    ['shop/old-tls'],
  );
});

test("an ACME ClusterIssuer (Let's Encrypt staging, HTTP-01 on the detected class) passes the API server's dry-run against cert-manager's CRDs", async () => {
  // The controllers here do not link ACME (and nothing reaches Let's Encrypt from the test machine): preview only.
  await seed();
  const home = tempHome();
  const profile = path.join(work, 'tls-acme.yaml');
  writeFileSync(
    profile,
    [
      'version: 2',
      'name: tls-acme',
      'areas: [tls]',
      'answers:',
      '  tls.issuer: letsencrypt-staging',
      '  tls.acmeEmail: ops@example.test',
      '  tls.ingresses: [shop/web]',
      '  tls.replace: []',
      '',
    ].join('\n'),
  );
  const r = await runCli(['apply', '--profile', profile, '--preview', '--diff', '--kubeconfig', bed.kubeconfig], { home });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(
    r.stdout,
    /^\+ clusterissuer\/letsencrypt-staging: ACME ClusterIssuer \(Let's Encrypt staging, HTTP-01 through ingress class nginx\) \[low risk\] ✓ dry-run ok$/m,
  );
  assert.match(r.stdout, /\+ {4}server: https:\/\/acme-staging-v02\.api\.letsencrypt\.org\/directory\n/);
  assert.match(r.stdout, /\+ {12}ingressClassName: nginx\n/);
  assert.match(
    r.stdout,
    /^~ ingress\/web in shop: TLS for web\.example\.test \(cert-manager, ClusterIssuer letsencrypt-staging\) \[medium risk\] ✓ dry-run ok$/m,
  );
  assert.match(r.stdout, /tls: Let's Encrypt \(HTTP-01\)\n {4}every host must resolve publicly/);
  assert.match(r.stdout, /preview only: 2 change\(s\), 0 failed the dry-run/);
});
