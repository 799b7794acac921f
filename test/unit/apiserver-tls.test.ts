// The certificate and insecure-port probes against local servers that are what an API server should never
// be (the test bed's API server is none of these): an expired, self-signed RSA-1024 certificate, and a
// plain-HTTP port answering /version like an API server. Real TLS handshakes and HTTP, no fakes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findingsOf } from '../../src/areas/apiserver/findings.js';
import type { ApiserverFacts } from '../../src/areas/apiserver/inspect.js';
import { probeInsecurePort, probeTls, type ProbeFacts } from '../../src/areas/apiserver/probes.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/apiserver');
let tlsServer: https.Server;
let plain: http.Server;
const port = (s: { address(): unknown }) => (s.address() as AddressInfo).port;

before(async () => {
  tlsServer = https.createServer(
    {
      cert: readFileSync(path.join(fixtures, 'expired-weak.crt')),
      key: readFileSync(path.join(fixtures, 'expired-weak.key')),
      // An RSA-1024 key is refused at the default security level; TLS 1.2 and 1.3 only.
      ciphers: 'DEFAULT:@SECLEVEL=0',
      minVersion: 'TLSv1.2',
    },
    (_req, res) => res.end('ok'),
  );
  plain = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(req.url === '/version' ? '{"major":"1","minor":"19","gitVersion":"v1.19.16"}' : '{}');
  });
  await Promise.all([tlsServer, plain].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
});
after(() => {
  tlsServer.close();
  plain.close();
});

const facts = (probes: ProbeFacts): ApiserverFacts => ({
  version: 'v1.34.4',
  platform: { id: 'unknown', name: 'an unrecognised platform', managed: false, evidence: 'test' },
  servers: [],
  probes,
});

test('an expired, self-signed RSA-1024 certificate: each fact from the handshake, and the three findings', async () => {
  const t = await probeTls({ host: '127.0.0.1', port: port(tlsServer) }, {}, new Date('2026-01-01T00:00:00Z'));
  assert.deepEqual(t.versions, { TLSv1: 'refused', 'TLSv1.1': 'refused', 'TLSv1.2': 'accepted', 'TLSv1.3': 'accepted' });
  const c = t.cert!;
  assert.ok(c, t.certError);
  assert.equal(c.subject, 'CN=expired-weak.kube-harden.test');
  assert.equal(c.issuer, 'CN=expired-weak.kube-harden.test');
  assert.equal(c.selfSigned, true);
  assert.equal(c.notAfter, '2020-03-01T00:00:00.000Z');
  assert.ok(c.daysLeft < -2000, `${c.daysLeft}`);
  assert.deepEqual(c.sans, ['DNS:expired-weak.kube-harden.test', 'IP Address:127.0.0.1']);
  assert.equal(c.keyType, 'rsa');
  assert.equal(c.keyBits, 1024);
  assert.equal(c.trusted, false, 'no CA given trusts it');
  assert.ok(t.ciphers.accepted.includes('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'));
  assert.ok(t.ciphers.refused.includes('TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'), 'no ECDSA key: ECDSA suites refused');

  const found = findingsOf(facts({ anonymous: [], tls: t, insecurePort: { state: 'closed', endpoint: 'x', detail: '' } }));
  const by = (rule: string) => found.find((f) => f.rule === rule);
  assert.equal(by('certExpiry')?.severity, 'critical');
  assert.match(by('certExpiry')?.message ?? '', /expired on 2020-03-01/);
  assert.match(by('certSelfSigned')?.message ?? '', /CN=expired-weak\.kube-harden\.test\) is self-signed/);
  assert.match(by('certWeakKey')?.message ?? '', /rsa 1024 key/);
  assert.ok(
    found.every((f) => !f.fixable && f.manual),
    'certificates need a person',
  );
});

test('the insecure port: open when plain HTTP is answered as an API server; closed when refused or not Kubernetes', async () => {
  const open = await probeInsecurePort('127.0.0.1', port(plain));
  assert.equal(open.state, 'open', open.detail);
  const found = findingsOf(facts({ anonymous: [], insecurePort: open }));
  assert.deepEqual(
    found.map((f) => `${f.rule} ${f.severity}`),
    ['insecurePort critical'],
  );
  // A TLS port is not an insecure port; nor is a closed one.
  assert.equal((await probeInsecurePort('127.0.0.1', port(tlsServer))).state, 'closed');
  const closedPort = await new Promise<number>((resolve) => {
    const s = http.createServer().listen(0, '127.0.0.1', () => {
      const p = port(s);
      s.close(() => resolve(p));
    });
  });
  assert.equal((await probeInsecurePort('127.0.0.1', closedPort)).state, 'closed');
});
