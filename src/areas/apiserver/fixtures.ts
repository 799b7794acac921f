/** The apiserver area's rule fixtures, for the contract test (not shipped: nothing in the tool imports it). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import type { KubeObject } from '../../cluster/types.js';
import type { AreaFixtures, Answers, RuleFixture } from '../types.js';
import { STRONG_CIPHERS } from './flags.js';

const MANIFEST = 'manifests/kube-apiserver.yaml';
const NODE = 'cp-1';

/** Flags that pass every check. */
const GOOD: Record<string, string> = {
  'advertise-address': '10.0.0.10',
  'admission-control-config-file': '/etc/kubernetes/admission.yaml',
  'anonymous-auth': 'false',
  'audit-log-maxage': '30',
  'audit-log-maxbackup': '10',
  'audit-log-maxsize': '100',
  'audit-log-path': '/var/log/kubernetes/audit/audit.log',
  'audit-policy-file': '/etc/kubernetes/audit-policy.yaml',
  'authorization-mode': 'Node,RBAC',
  'client-ca-file': '/etc/kubernetes/pki/ca.crt',
  'enable-admission-plugins': 'NodeRestriction,DenyServiceExternalIPs,AlwaysPullImages,EventRateLimit',
  'encryption-provider-config': '/etc/kubernetes/encryption.yaml',
  'etcd-cafile': '/etc/kubernetes/pki/etcd/ca.crt',
  'etcd-certfile': '/etc/kubernetes/pki/apiserver-etcd-client.crt',
  'etcd-keyfile': '/etc/kubernetes/pki/apiserver-etcd-client.key',
  'etcd-servers': 'https://127.0.0.1:2379',
  'kubelet-certificate-authority': '/etc/kubernetes/pki/kubelet-ca.crt',
  'kubelet-client-certificate': '/etc/kubernetes/pki/apiserver-kubelet-client.crt',
  'kubelet-client-key': '/etc/kubernetes/pki/apiserver-kubelet-client.key',
  profiling: 'false',
  'secure-port': '6443',
  'service-account-extend-token-expiration': 'false',
  'service-account-issuer': 'https://kubernetes.default.svc.cluster.local',
  'service-account-key-file': '/etc/kubernetes/pki/sa.pub',
  'service-account-signing-key-file': '/etc/kubernetes/pki/sa.key',
  'service-cluster-ip-range': '10.96.0.0/12',
  'tls-cert-file': '/etc/kubernetes/pki/apiserver.crt',
  'tls-cipher-suites': STRONG_CIPHERS.join(','),
  'tls-min-version': 'VersionTLS12',
  'tls-private-key-file': '/etc/kubernetes/pki/apiserver.key',
};

type Edit = Record<string, string | null>;
const flags = (edit: Edit = {}): string[] => {
  const all: Record<string, string | null> = { ...GOOD, ...edit };
  return Object.keys(all)
    .sort()
    .filter((k) => all[k] !== null)
    .map((k) => `--${k}=${all[k]}`);
};

/** A kubeadm-style static pod of the API server with these flags. */
function staticPod(command: string[]): KubeObject {
  const probe = (p: string) => ({ httpGet: { host: '10.0.0.10', path: p, port: 6443, scheme: 'HTTPS' }, periodSeconds: 10 });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'kube-apiserver', namespace: 'kube-system', labels: { component: 'kube-apiserver', tier: 'control-plane' } },
    spec: {
      hostNetwork: true,
      containers: [
        { name: 'kube-apiserver', image: 'registry.k8s.io/kube-apiserver:v1.34.4', command, livenessProbe: probe('/livez'), readinessProbe: probe('/readyz') },
      ],
    },
  };
}

/** The mirror pod the kubelet shows for that static pod on node cp-1. */
function mirror(command: string[]): KubeObject {
  const pod = staticPod(command);
  return {
    ...pod,
    metadata: {
      ...pod.metadata,
      name: `kube-apiserver-${NODE}`,
      resourceVersion: '1',
      annotations: { 'kubernetes.io/config.mirror': 'h', 'kubernetes.io/config.source': 'file' },
    },
    spec: { ...(pod.spec as object), nodeName: NODE },
  };
}

const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

/** A cluster whose API server runs with `edit` over the good flags, its manifest readable here. */
function fixture(edit: Edit, fix?: Answers): RuleFixture {
  const command = ['kube-apiserver', ...flags(edit)];
  return {
    failing: [ns('kube-system'), mirror(command)],
    passing: [ns('kube-system'), mirror(['kube-apiserver', ...flags()])],
    files: { [MANIFEST]: stringify(staticPod(command)) },
    ...(fix ? { fix } : {}),
  };
}
const fixWith = (...fixes: string[]): Answers => ({ 'apiserver.fixes': fixes });

export const fixtures: AreaFixtures = {
  answers: { 'apiserver.fixes': [] },
  local: {
    options: (dir) => ({ apiserverManifest: path.join(dir, MANIFEST) }),
    // The kubelet restarts the API server from the new manifest: the mirror pod shows its command.
    settle: (objects, dir) => {
      const pod = parse(readFileSync(path.join(dir, MANIFEST), 'utf8')) as KubeObject;
      const command = (pod.spec as { containers: Array<{ command: string[] }> }).containers[0].command;
      return objects.map((o) => (o.kind === 'Pod' && o.metadata.annotations?.['kubernetes.io/config.mirror'] ? mirror(command) : o));
    },
  },
  rules: {
    anonymousAuth: fixture({ 'anonymous-auth': null }, fixWith('anonymousAuth')),
    tokenAuthFile: fixture({ 'token-auth-file': '/etc/kubernetes/tokens.csv' }),
    authorizationAlwaysAllow: fixture({ 'authorization-mode': 'AlwaysAllow' }, fixWith('authorizationMode')),
    authorizationNode: fixture({ 'authorization-mode': 'RBAC' }, fixWith('authorizationMode')),
    authorizationRbac: fixture({ 'authorization-mode': 'Node,Webhook' }, fixWith('authorizationMode')),
    admissionAlwaysAdmit: fixture(
      { 'enable-admission-plugins': 'NodeRestriction,AlwaysAdmit,DenyServiceExternalIPs,AlwaysPullImages,EventRateLimit' },
      fixWith('admissionPlugins'),
    ),
    admissionNodeRestriction: fixture({ 'enable-admission-plugins': 'DenyServiceExternalIPs,AlwaysPullImages,EventRateLimit' }, fixWith('admissionPlugins')),
    admissionDisabledDefaults: fixture({ 'disable-admission-plugins': 'ServiceAccount,DefaultStorageClass' }, fixWith('admissionPlugins')),
    admissionDenyExternalIPs: fixture({ 'enable-admission-plugins': 'NodeRestriction,AlwaysPullImages,EventRateLimit' }, fixWith('denyExternalIPs')),
    admissionAlwaysPullImages: fixture({ 'enable-admission-plugins': 'NodeRestriction,DenyServiceExternalIPs,EventRateLimit' }, fixWith('alwaysPullImages')),
    eventRateLimit: fixture({ 'enable-admission-plugins': 'NodeRestriction,DenyServiceExternalIPs,AlwaysPullImages' }),
    profiling: fixture({ profiling: null }, fixWith('profiling')),
    auditLog: fixture({ 'audit-log-path': null, 'audit-policy-file': null }, fixWith('auditLog')),
    auditRetention: fixture({ 'audit-log-maxage': '7', 'audit-log-maxbackup': null }, fixWith('auditRetention')),
    tlsMinVersion: fixture({ 'tls-min-version': 'VersionTLS10' }, fixWith('tlsMinVersion')),
    tlsCipherSuites: fixture({ 'tls-cipher-suites': 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_128_CBC_SHA' }, fixWith('tlsCipherSuites')),
    kubeletCertificateAuthority: fixture({ 'kubelet-certificate-authority': null }),
    kubeletClientCertificate: fixture({ 'kubelet-client-key': null }),
    etcdTls: fixture({ 'etcd-certfile': null, 'etcd-keyfile': null }),
    encryptionAtRest: fixture({ 'encryption-provider-config': null }),
    serviceAccountLookup: fixture({ 'service-account-lookup': 'false' }, fixWith('serviceAccountLookup')),
    serviceAccountKeys: fixture({ 'service-account-issuer': null }),
    serviceAccountTokenExpiration: fixture({ 'service-account-extend-token-expiration': 'true' }, fixWith('extendTokenExpiration')),
  },
  probed: {
    anonymousEndpoints:
      'an anonymous HTTPS request to /api, /apis, /metrics or /debug/pprof/ (test/integration/apiserver-probes.test.ts, beds with anonymous auth on and off)',
    anonymousHealthInfo: 'an anonymous HTTPS request to /version, /healthz, /readyz or /livez (test/integration/apiserver-probes.test.ts)',
    insecurePort:
      'a plain HTTP request to the insecure port (test/unit/apiserver-tls.test.ts: open on a server answering as an API server; test/integration/apiserver-probes.test.ts: closed on the bed)',
    tlsLegacyVersions: 'TLS handshakes with the version forced (test/integration/apiserver-probes.test.ts, a bed with --tls-min-version=VersionTLS10)',
    tlsWeakCiphers: 'TLS 1.2 handshakes with one suite offered (test/integration/apiserver-probes.test.ts)',
    certExpiry: "the serving certificate's expiry, from a TLS handshake (test/unit/apiserver-tls.test.ts: an expired one; the bed's passes)",
    certSelfSigned: "the serving certificate, from a TLS handshake (test/unit/apiserver-tls.test.ts: a self-signed one; the bed's passes)",
    certWeakKey: "the serving certificate's key, from a TLS handshake (test/unit/apiserver-tls.test.ts: RSA 1024; the bed's P-256 passes)",
  },
};
