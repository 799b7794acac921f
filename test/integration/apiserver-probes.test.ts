// The apiserver area's probes against real API servers: a bed with anonymous auth on (the default) and
// one with it off and TLS 1.0 and a CBC suite allowed. Each probe's answer is compared with what the bed
// was started with (and with its certificate on disk), not with what the probe code expects of itself.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { guardApiserver } from '../../src/areas/apiserver/guard.js';
import { apiserverArea } from '../../src/areas/apiserver/index.js';
import type { ApiserverFacts } from '../../src/areas/apiserver/inspect.js';
import type { GuardContext, InspectContext, Inspection } from '../../src/areas/types.js';
import type { FileChange } from '../../src/engine/change.js';
import { Cluster } from '../../src/cluster/client.js';
import { Session } from '../../src/session.js';
import { down, privateTestbed, type Testbed } from '../cluster/testbed.js';

async function inspect(kubeconfig: string): Promise<Inspection<ApiserverFacts>> {
  const s = await Session.open({ kubeconfig, areas: ['apiserver'], preview: true });
  try {
    const [state] = await s.inspect();
    return state.inspection as Inspection<ApiserverFacts>;
  } finally {
    await s.close();
  }
}

/** The area alone, as a user who may not even list namespaces (the session would stop before). */
async function inspectArea(kubeconfig: string): Promise<Inspection<ApiserverFacts>> {
  const cluster = await Cluster.connect({ kubeconfig });
  try {
    const ctx: InspectContext = {
      cluster,
      helm: undefined as never,
      version: await cluster.version(),
      identity: await cluster.whoami(),
      scope: { all: [], namespaces: [], inScope: () => false, infrastructure: new Map() },
      list: async (kind, apiVersion) => cluster.list(await cluster.typeOf(apiVersion ?? 'v1', kind)),
      options: {},
    };
    return await apiserverArea.inspect(ctx);
  } finally {
    await cluster.close();
  }
}

const rules = (ins: Inspection) => ins.findings.map((f) => f.rule);
const status = (ins: Inspection<ApiserverFacts>) => Object.fromEntries(ins.facts.probes.anonymous.map((a) => [a.path, a.status]));

describe('a bed with anonymous auth on (the API server default)', () => {
  let bed: Testbed;
  let ins: Inspection<ApiserverFacts>;
  before(async () => {
    bed = await privateTestbed({ nodes: 1 });
    ins = await inspect(bed.kubeconfig);
  });
  after(() => bed && down({ dir: bed.dir }));

  test('anonymous requests: health and version answered, discovery, metrics and pprof refused by RBAC', () => {
    assert.deepEqual(status(ins), {
      '/version': 200,
      '/healthz': 200,
      '/readyz': 200,
      '/livez': 200,
      '/api': 403,
      '/apis': 403,
      '/metrics': 403,
      '/debug/pprof/': 403,
    });
    const anon = ins.findings.filter((f) => f.rule.startsWith('anonymous'));
    assert.deepEqual(anon.map((f) => `${f.rule} ${f.ref.name}`).sort(), [
      'anonymousHealthInfo /healthz',
      'anonymousHealthInfo /livez',
      'anonymousHealthInfo /readyz',
      'anonymousHealthInfo /version',
    ]);
    // No manifest here (not static-pod mode): a person must change it, and the finding says how.
    assert.ok(anon.every((f) => !f.fixable && /control-plane node|--apiserver-manifest/.test(f.manual ?? '')));
  });

  test('TLS: 1.0 and 1.1 refused, 1.2 and 1.3 accepted; RSA key exchange refused; Go default CBC suites accepted', () => {
    const t = ins.facts.probes.tls!;
    assert.ok(t, ins.facts.probes.tlsError);
    assert.deepEqual(t.versions, { TLSv1: 'refused', 'TLSv1.1': 'refused', 'TLSv1.2': 'accepted', 'TLSv1.3': 'accepted' });
    assert.ok(!rules(ins).includes('tlsLegacyVersions'));
    assert.ok(t.ciphers.accepted.length > 0);
    // Go 1.22 dropped RSA key exchange from its defaults. (ECDHE_RSA suites are answered too: for a client
    // that offers only those, Go serves the API server's RSA loopback certificate.)
    assert.deepEqual(
      t.ciphers.accepted.filter((c) => c.startsWith('TLS_RSA_')),
      [],
    );
    assert.ok(t.ciphers.refused.includes('TLS_RSA_WITH_AES_128_GCM_SHA256'));
    assert.ok(t.ciphers.accepted.includes('TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'));
    // Go's default list still has the ECDHE CBC SHA-1 suites: CIS 1.2.29 counts them as weak.
    assert.ok(t.ciphers.accepted.includes('TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA'), t.ciphers.accepted.join(', '));
    const weak = ins.findings.find((f) => f.rule === 'tlsWeakCiphers');
    assert.match(weak?.message ?? '', /TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA/);
  });

  test('the serving certificate is the one on disk: issuer, SANs, P-256 key, expiry; trusted, not self-signed', () => {
    const c = ins.facts.probes.tls!.cert!;
    const disk = new X509Certificate(readFileSync(path.join(bed.dir, 'pki', 'apiserver.crt')));
    assert.equal(c.subject, disk.subject.replace(/\n/g, ', '));
    assert.equal(c.issuer, 'CN=kube-harden-testbed-ca');
    assert.equal(c.notAfter, new Date(disk.validTo).toISOString());
    assert.ok(c.daysLeft >= 363 && c.daysLeft <= 365, `${c.daysLeft}`);
    assert.ok(c.sans.includes('IP Address:127.0.0.1') && c.sans.includes('DNS:kubernetes.default.svc'), c.sans.join(', '));
    assert.equal(c.keyType, 'ec');
    assert.equal(c.curve, 'prime256v1');
    assert.equal(c.trusted, true);
    assert.equal(c.selfSigned, false);
    for (const r of ['certExpiry', 'certSelfSigned', 'certWeakKey']) assert.ok(!rules(ins).includes(r), r);
  });

  test('the insecure port is closed', () => {
    assert.equal(ins.facts.probes.insecurePort.state, 'closed', ins.facts.probes.insecurePort.detail);
    assert.ok(!rules(ins).includes('insecurePort'));
  });

  test('the lock-out guard of "enable RBAC": removing AlwaysAllow asks to confirm for whom RBAC does not make admin', async () => {
    const cluster = await Cluster.connect({ kubeconfig: bed.kubeconfig });
    try {
      await cluster.create({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'alice-cluster-admin' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' }],
      });
      const change = (mode: string) =>
        ({
          id: 'file:/m',
          kind: 'file',
          areas: ['apiserver'],
          gate: { type: 'apiserver', flags: { 'authorization-mode': mode }, timeoutMs: 1 },
        }) as unknown as FileChange;
      const guard = (username: string, groups: string[], before: string) =>
        guardApiserver({
          cluster,
          identity: { username, groups },
          changes: [change('Node,RBAC')],
          inspection: { area: 'apiserver', findings: [], facts: { manifest: { info: { flags: { 'authorization-mode': before } } } } },
        } as unknown as GuardContext);
      const limited = await guard('limited-user', ['system:authenticated'], 'AlwaysAllow');
      assert.equal(limited.length, 1);
      assert.equal(limited[0].level, 'confirm');
      assert.equal(limited[0].flag, '--allow-lockout');
      assert.ok(limited[0].details.includes('limited-user would no longer be allowed to everything (cluster-admin)'), limited[0].details.join('; '));
      assert.ok(limited[0].details.includes('limited-user would no longer be allowed to read the API server mirror pod (the health gate)'));
      assert.deepEqual(await guard('alice', ['system:authenticated'], 'Node,RBAC,AlwaysAllow'), [], 'RBAC makes alice cluster-admin');
      assert.deepEqual(await guard('kube-harden-admin', ['system:masters', 'system:authenticated'], 'AlwaysAllow'), [], 'system:masters');
      assert.deepEqual(await guard('limited-user', ['system:authenticated'], 'RBAC'), [], 'adding Node takes nothing away');
    } finally {
      await cluster.close();
    }
  });

  test('a user without rights: flags unknown, probes still answered, no crash', async () => {
    const limited = await inspectArea(bed.limitedKubeconfig);
    assert.equal(limited.facts.servers, undefined);
    assert.match(limited.facts.serversError ?? '', /forbidden|Forbidden/);
    assert.ok(limited.notes?.some((n) => /API server flags: unknown/.test(n)));
    assert.equal(status(limited)['/version'], 200);
    assert.equal(limited.facts.probes.tls?.versions['TLSv1.2'], 'accepted');
  });
});

describe('a bed with anonymous auth off, TLS 1.0 and one CBC suite allowed', () => {
  let bed: Testbed;
  let ins: Inspection<ApiserverFacts>;
  const suites = ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA'];
  before(async () => {
    bed = await privateTestbed({
      nodes: 1,
      anonymousAuth: false,
      apiserverArgs: ['--tls-min-version=VersionTLS10', `--tls-cipher-suites=${suites.join(',')}`],
    });
    ins = await inspect(bed.kubeconfig);
  });
  after(() => bed && down({ dir: bed.dir }));

  test('every anonymous request is refused with 401: no anonymous finding', () => {
    assert.ok(
      Object.values(status(ins)).every((s) => s === 401),
      JSON.stringify(status(ins)),
    );
    assert.ok(!rules(ins).some((r) => r.startsWith('anonymous')));
  });

  test('TLS 1.0 and 1.1 accepted (a finding naming both), and exactly the two suites allowed', () => {
    const t = ins.facts.probes.tls!;
    assert.deepEqual(t.versions, { TLSv1: 'accepted', 'TLSv1.1': 'accepted', 'TLSv1.2': 'accepted', 'TLSv1.3': 'accepted' });
    assert.match(ins.findings.find((f) => f.rule === 'tlsLegacyVersions')?.message ?? '', /TLSv1 and TLSv1\.1 handshakes are accepted \(CIS 1\.2\.29\)/);
    assert.deepEqual([...t.ciphers.accepted].sort(), [...suites].sort());
    assert.match(ins.findings.find((f) => f.rule === 'tlsWeakCiphers')?.message ?? '', /weak suite\(s\) TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA \(/);
  });
});
