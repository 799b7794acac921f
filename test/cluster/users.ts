// Credentials for arbitrary users of a test bed, minted the way a cluster admin would: a key pair and a
// PKCS#10 certificate signing request (built here, no openssl needed), a CertificateSigningRequest for
// the kubernetes.io/kube-apiserver-client signer, approved with the admin kubeconfig and signed by the
// bed's controller-manager (csrsigning, with the cluster CA). The certificate's CN is the user name and
// each O a group, exactly as the API server's x509 authenticator reads them.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'yaml';
import { Cluster } from '../../src/cluster/client.js';
import type { Testbed } from './testbed.js';

// A minimal DER writer: enough for a certification request.
function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let x = n; x > 0; x >>= 8) bytes.unshift(x & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, body: Buffer) => Buffer.concat([Buffer.from([tag]), len(body.length), body]);
const seq = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => tlv(0x31, Buffer.concat(parts));
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const chunk: number[] = [n & 0x7f];
    for (let x = n >> 7; x > 0; x >>= 7) chunk.unshift((x & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const OID_O = '2.5.4.10';
const OID_CN = '2.5.4.3';
const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';

/** A PEM certificate request for CN=user, O=each group, and its private key (PEM, PKCS#8). */
export function certificateRequest(user: string, groups: string[]): { csr: string; key: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const rdn = (type: string, value: string) => set(seq(oid(type), utf8(value)));
  const subject = seq(...groups.map((g) => rdn(OID_O, g)), rdn(OID_CN, user));
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const info = seq(Buffer.from([0x02, 0x01, 0x00]), subject, spki, Buffer.from([0xa0, 0x00]));
  const signature = sign('sha256', info, privateKey);
  const der = seq(info, seq(oid(OID_ECDSA_SHA256)), tlv(0x03, Buffer.concat([Buffer.from([0x00]), signature])));
  const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
  return { csr: pem, key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

interface Csr {
  metadata: { name: string };
  status?: { certificate?: string; conditions?: Array<{ type: string; status: string; message?: string }> };
}

/**
 * A kubeconfig (a file in a new temp dir) for `user` in `groups` on the bed: same server and CA as the
 * admin kubeconfig, a client certificate signed by the cluster CA. Its context is
 * `kube-harden-testbed-<user>`. The user has no grants but those RBAC gives it.
 */
export async function kubeconfigFor(bed: Testbed, user: string, groups: string[] = [], opts: { timeoutMs?: number } = {}): Promise<string> {
  const { csr, key } = certificateRequest(user, groups);
  const admin = await Cluster.connect({ kubeconfig: bed.kubeconfig });
  const name = `kube-harden-test-${user.replace(/[^a-z0-9-]/gi, '-').toLowerCase()}-${randomBytes(3).toString('hex')}`;
  const base = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
  try {
    const created = await admin.rest.request<Csr>({
      method: 'POST',
      path: base,
      body: {
        apiVersion: 'certificates.k8s.io/v1',
        kind: 'CertificateSigningRequest',
        metadata: { name },
        spec: {
          request: Buffer.from(csr).toString('base64'),
          signerName: 'kubernetes.io/kube-apiserver-client',
          usages: ['client auth'],
          expirationSeconds: 24 * 3600,
        },
      },
      what: `create the CSR of ${user}`,
    });
    await admin.rest.request({
      method: 'PUT',
      path: `${base}/${name}/approval`,
      body: {
        ...created.body,
        status: { conditions: [{ type: 'Approved', status: 'True', reason: 'KubeHardenTest', message: 'approved by the kube-harden tests' }] },
      },
      what: `approve the CSR of ${user}`,
    });
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    let cert: string | undefined;
    for (;;) {
      const r = await admin.rest.request<Csr>({ method: 'GET', path: `${base}/${name}`, what: `read the CSR of ${user}` });
      cert = r.body.status?.certificate;
      if (cert) break;
      const failed = r.body.status?.conditions?.find((c) => c.type === 'Failed' || c.type === 'Denied');
      if (failed) throw new Error(`the CSR of ${user} was not signed: ${failed.type}: ${failed.message}`);
      if (Date.now() > deadline) throw new Error(`the CSR of ${user} was approved but not signed within the time-out (is csrsigning running?)`);
      await sleep(200);
    }
    const kc = parse(await readFile(bed.kubeconfig, 'utf8')) as {
      clusters: Array<{ name: string; cluster: Record<string, string> }>;
    };
    const context = `kube-harden-testbed-${user.replace(/[^a-z0-9-]/gi, '-').toLowerCase()}`;
    const out = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: kc.clusters,
      contexts: [{ name: context, context: { cluster: kc.clusters[0].name, user } }],
      'current-context': context,
      users: [{ name: user, user: { 'client-certificate-data': cert, 'client-key-data': Buffer.from(key).toString('base64') } }],
    };
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kube-harden-user-'));
    const file = path.join(dir, 'kubeconfig');
    await writeFile(file, stringify(out), { mode: 0o600 });
    return file;
  } finally {
    await admin.close();
  }
}
