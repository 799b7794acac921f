// The apiserver area's pure parts: the manifest editor (comments, order and style kept), the fixes'
// flag values, the checks' edge cases (defaults, AlwaysAllow and anonymous auth), platform detection.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { parse, stringify } from 'yaml';
import { evaluateFlags, type Flags } from '../../src/areas/apiserver/flags.js';
import { findingsOf } from '../../src/areas/apiserver/findings.js';
import { flagChanges } from '../../src/areas/apiserver/fixes.js';
import { DEFAULT_MANIFEST, readManifestFacts, serversOf } from '../../src/areas/apiserver/inspect.js';
import { editManifest, mounted, readManifest } from '../../src/areas/apiserver/manifest.js';
import { detectPlatform, notApplicableOn } from '../../src/areas/apiserver/platform.js';
import type { KubeObject } from '../../src/cluster/types.js';

/** As kubeadm writes it (go-yaml: sequences not indented under their key), with a comment of the admin's. */
const KUBEADM = `apiVersion: v1
kind: Pod
metadata:
  labels:
    component: kube-apiserver
    tier: control-plane
  name: kube-apiserver
  namespace: kube-system
spec:
  containers:
  - command:
    - kube-apiserver
    - --advertise-address=10.0.0.10
    - --authorization-mode=Node,RBAC
    - --enable-admission-plugins=NodeRestriction
    # our etcd, see TICKET-12
    - --etcd-servers=https://127.0.0.1:2379
    # on for the load tests
    - --profiling
    - true
    - --secure-port=6443
    image: registry.k8s.io/kube-apiserver:v1.34.4
    livenessProbe:
      failureThreshold: 8
      httpGet:
        host: 10.0.0.10
        path: /livez
        port: probe-port
        scheme: HTTPS
      periodSeconds: 10
    name: kube-apiserver
    volumeMounts:
    - mountPath: /etc/kubernetes/pki
      name: k8s-certs
      readOnly: true
  hostNetwork: true
  volumes:
  - hostPath:
      path: /etc/kubernetes/pki
      type: DirectoryOrCreate
    name: k8s-certs
status: {}
`;

const changedLines = (a: string, b: string) => {
  const before = a.split('\n');
  const after = b.split('\n');
  return { added: after.filter((l) => !before.includes(l)), removed: before.filter((l) => !after.includes(l)) };
};

test('readManifest: flags (both spellings), anonymous HTTP probes, mounts', () => {
  const info = readManifest(KUBEADM);
  assert.equal(info.flags.profiling, 'true', '`--profiling true` in two items');
  assert.equal(info.flags['authorization-mode'], 'Node,RBAC');
  assert.deepEqual(info.httpProbes, ['livenessProbe']);
  assert.deepEqual(info.mounts, [{ mountPath: '/etc/kubernetes/pki', hostPath: '/etc/kubernetes/pki' }]);
  assert.deepEqual(info.volumeNames, ['k8s-certs']);
  assert.ok(mounted(info, '/etc/kubernetes/pki/audit.yaml'));
  assert.ok(!mounted(info, '/etc/kubernetes/audit.yaml'));
  assert.throws(() => readManifest('kind: Pod\nspec:\n  containers:\n  - name: nginx\n    command: [nginx]\n'), /no kube-apiserver container/);
});

test('editManifest: an empty edit gives the text back byte for byte (kubeadm and indented styles)', () => {
  assert.equal(editManifest(KUBEADM, { flags: {} }), KUBEADM);
  const indented = stringify(parse(KUBEADM));
  assert.match(indented, /^ {4}- command:$/m, 'sequences indented under their key');
  assert.equal(editManifest(indented, { flags: {} }), indented);
  assert.equal(changedLines(indented, editManifest(indented, { flags: { profiling: 'false' } })).added.join(), '        - --profiling=false');
});

test('editManifest: set, add in sorted place, replace the two-item spelling, remove; comments stay with their flags', () => {
  const out = editManifest(KUBEADM, {
    flags: { profiling: 'false', 'anonymous-auth': 'false', 'tls-min-version': 'VersionTLS12', 'enable-admission-plugins': null },
  });
  const { added, removed } = changedLines(KUBEADM, out);
  assert.deepEqual(added.sort(), ['    - --anonymous-auth=false', '    - --profiling=false', '    - --tls-min-version=VersionTLS12']);
  assert.deepEqual(removed.sort(), ['    - --enable-admission-plugins=NodeRestriction', '    - --profiling', '    - true']);
  assert.match(out, /# our etcd, see TICKET-12\n {4}- --etcd-servers=/);
  assert.match(out, /# on for the load tests\n {4}- --profiling=false\n/, 'a changed flag keeps its comment');
  const command = (parse(out) as { spec: { containers: Array<{ command: string[] }> } }).spec.containers[0].command;
  assert.deepEqual(command.slice(0, 4), ['kube-apiserver', '--advertise-address=10.0.0.10', '--anonymous-auth=false', '--authorization-mode=Node,RBAC']);
  assert.equal(command.at(-1), '--tls-min-version=VersionTLS12');
  assert.deepEqual(readManifest(out).flags, {
    'advertise-address': '10.0.0.10',
    'anonymous-auth': 'false',
    'authorization-mode': 'Node,RBAC',
    'etcd-servers': 'https://127.0.0.1:2379',
    profiling: 'false',
    'secure-port': '6443',
    'tls-min-version': 'VersionTLS12',
  });
});

test('editManifest: flags in args, not sorted: appended there', () => {
  const text = `kind: Pod
spec:
  containers:
    - name: kube-apiserver
      command: [kube-apiserver]
      args:
        - --secure-port=6443
        - --advertise-address=10.0.0.1
`;
  const out = editManifest(text, { flags: { profiling: 'false' } });
  assert.deepEqual((parse(out) as { spec: { containers: Array<{ args: string[]; command: string[] }> } }).spec.containers[0], {
    name: 'kube-apiserver',
    command: ['kube-apiserver'],
    args: ['--secure-port=6443', '--advertise-address=10.0.0.1', '--profiling=false'],
  });
});

test('editManifest: HTTP probes become TCP checks of the same host and port, in place; mounts added once', () => {
  const out = editManifest(KUBEADM, {
    flags: {},
    probesToTcp: true,
    mounts: [
      { name: 'audit-policy', hostPath: '/etc/kubernetes/audit-policy.yaml', type: 'File', readOnly: true },
      { name: 'pki-file', hostPath: '/etc/kubernetes/pki/x.yaml', type: 'File', readOnly: true },
    ],
  });
  const pod = parse(out) as {
    spec: { containers: Array<{ livenessProbe: Record<string, unknown>; volumeMounts: unknown[] }>; volumes: unknown[] };
  };
  assert.deepEqual(pod.spec.containers[0].livenessProbe, { failureThreshold: 8, tcpSocket: { host: '10.0.0.10', port: 'probe-port' }, periodSeconds: 10 });
  assert.equal(Object.keys(pod.spec.containers[0].livenessProbe)[1], 'tcpSocket', 'in the place httpGet had');
  // /etc/kubernetes/pki is mounted already: only the policy file gets a volume of its own.
  assert.deepEqual(pod.spec.containers[0].volumeMounts.at(-1), { mountPath: '/etc/kubernetes/audit-policy.yaml', name: 'audit-policy', readOnly: true });
  assert.deepEqual(pod.spec.volumes.at(-1), { hostPath: { path: '/etc/kubernetes/audit-policy.yaml', type: 'File' }, name: 'audit-policy' });
  assert.equal(pod.spec.volumes.length, 2);
  assert.deepEqual(readManifest(out).httpProbes, []);
});

const opts = { auditPolicyFile: '/etc/kubernetes/audit-policy.yaml', auditLogPath: '/var/log/kubernetes/audit/audit.log' };

test('authorization fix: AlwaysAllow out, Node first, RBAC joins, a Webhook keeps its turn; config file left alone', () => {
  const mode = (m: string | undefined) =>
    flagChanges(m === undefined ? {} : { 'authorization-mode': m }, ['authorizationMode'], opts).set['authorization-mode'];
  assert.equal(mode(undefined), 'Node,RBAC', 'unset means AlwaysAllow');
  assert.equal(mode('AlwaysAllow'), 'Node,RBAC');
  assert.equal(mode('RBAC'), 'Node,RBAC');
  assert.equal(mode('Webhook'), 'Node,Webhook,RBAC');
  assert.equal(mode('Node,RBAC,AlwaysAllow'), 'Node,RBAC');
  assert.equal(mode('Node,RBAC'), undefined, 'nothing to change');
  assert.deepEqual(flagChanges({ 'authorization-config': '/etc/kubernetes/authz.yaml' }, ['authorizationMode'], opts).set, {});
});

test('admission fixes compose on one flag; defaults disabled come back; no-ops are dropped', () => {
  const f: Flags = { 'enable-admission-plugins': 'AlwaysAdmit,PodNodeSelector', 'disable-admission-plugins': 'ServiceAccount' };
  const { set, applied } = flagChanges(f, ['admissionPlugins', 'denyExternalIPs', 'alwaysPullImages'], opts);
  assert.deepEqual(set, {
    'enable-admission-plugins': 'PodNodeSelector,NodeRestriction,DenyServiceExternalIPs,AlwaysPullImages',
    'disable-admission-plugins': null,
  });
  assert.deepEqual(applied, ['admissionPlugins', 'denyExternalIPs', 'alwaysPullImages']);
  assert.deepEqual(flagChanges({ 'enable-admission-plugins': 'NodeRestriction' }, ['admissionPlugins'], opts), { set: {}, applied: [] });
});

test('audit fixes: a log and policy when missing, with retention; retention alone raises only what is low', () => {
  assert.deepEqual(flagChanges({}, ['auditLog'], opts).set, {
    'audit-log-path': opts.auditLogPath,
    'audit-policy-file': opts.auditPolicyFile,
    'audit-log-maxage': '30',
    'audit-log-maxbackup': '10',
    'audit-log-maxsize': '100',
  });
  assert.deepEqual(flagChanges({ 'audit-log-path': '/l', 'audit-log-maxage': '90', 'audit-log-maxsize': '50' }, ['auditRetention'], opts).set, {
    'audit-log-maxbackup': '10',
    'audit-log-maxsize': '100',
  });
  assert.deepEqual(flagChanges({}, ['auditRetention'], opts).set, {}, 'no log, nothing to retain');
});

test('checks: defaults count (unset profiling and anonymous auth fail); AlwaysAllow keeps anonymous off only while it is on', () => {
  const rules = (f: Flags) => evaluateFlags(f).map((x) => x.check.id);
  assert.ok(rules({}).includes('profiling'));
  assert.ok(rules({}).includes('authorizationAlwaysAllow'));
  const anon = evaluateFlags({ 'authorization-mode': 'AlwaysAllow' }).find((x) => x.check.id === 'anonymousAuth');
  assert.match(anon?.message ?? '', /off only while AlwaysAllow is on/);
  assert.ok(!rules({ 'anonymous-auth': 'false' }).includes('anonymousAuth'));
  assert.ok(!rules({ 'authentication-config': '/etc/authn.yaml' }).includes('anonymousAuth'), 'decided by the config file');
  assert.ok(rules({ 'service-account-lookup': 'false' }).includes('serviceAccountLookup'));
  assert.ok(!rules({}).includes('serviceAccountLookup'), 'the default is true');
  assert.match(
    evaluateFlags({ 'tls-cipher-suites': 'TLS_RSA_WITH_AES_128_CBC_SHA' }).find((x) => x.check.id === 'tlsCipherSuites')!.message,
    /weak suite\(s\) TLS_RSA_WITH_AES_128_CBC_SHA/,
  );
});

const node = (name: string, labels: Record<string, string> = {}, providerID = ''): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels },
  spec: { providerID },
});

test('platform detection: version strings, node labels, provider IDs, API groups, mirror pods', () => {
  const d = (gitVersion: string, nodes: KubeObject[] = [], groups: string[] = [], staticPods = false) =>
    detectPlatform({ gitVersion, nodes, groups, staticPods }).id;
  assert.equal(d('v1.30.4-eks-a737599'), 'eks');
  assert.equal(d('v1.30.5-gke.1014001'), 'gke');
  assert.equal(d('v1.31.2+k3s1'), 'k3s');
  assert.equal(d('v1.31.2+rke2r1'), 'rke2');
  assert.equal(d('v1.30.4', [node('aks-nodepool1-1', { 'kubernetes.azure.com/cluster': 'MC_rg_c_westeurope' })]), 'aks');
  assert.equal(d('v1.30.4', [], ['route.openshift.io', 'apps']), 'openshift');
  assert.equal(d('v1.34.0', [node('kind-control-plane', {}, 'kind://docker/kind/kind-control-plane')], [], true), 'kind');
  assert.equal(d('v1.34.4', [node('cp-1')], [], true), 'kubeadm');
  assert.equal(d('v1.34.4', [node('cp-1')]), 'unknown');
  const eks = detectPlatform({ gitVersion: 'v1.30.4-eks-a737599', nodes: [], groups: [], staticPods: false });
  assert.match(notApplicableOn(eks, false) ?? '', /Amazon EKS runs the API server for you/);
  assert.equal(notApplicableOn(detectPlatform({ gitVersion: 'v1.34.4', nodes: [], groups: [], staticPods: true }), false), undefined);
});

test('which manifest is ours: the mirror pod it runs (several control planes), another cluster refused, managed ignored', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kh-apiserver-'));
  const file = path.join(dir, 'kube-apiserver.yaml');
  writeFileSync(file, KUBEADM.replace('--advertise-address=10.0.0.10', '--advertise-address=10.0.0.11'));
  const mirror = (node: string, address: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `kube-apiserver-${node}`,
      namespace: 'kube-system',
      annotations: { 'kubernetes.io/config.mirror': 'x' },
      labels: { component: 'kube-apiserver' },
    },
    spec: {
      nodeName: node,
      containers: [
        {
          name: 'kube-apiserver',
          command: ['kube-apiserver', `--advertise-address=${address}`, '--etcd-servers=https://127.0.0.1:2379', '--secure-port=6443'],
        },
      ],
    },
  });
  const servers = serversOf([mirror('cp-1', '10.0.0.10'), mirror('cp-2', '10.0.0.11')]);
  const kubeadm = detectPlatform({ gitVersion: 'v1.34.4', nodes: [], groups: [], staticPods: true });
  const { manifest } = await readManifestFacts(file, servers, kubeadm);
  assert.equal(manifest?.mirrorPod, 'kube-apiserver-cp-2');
  const found = findingsOf({
    version: 'v1.34.4',
    platform: kubeadm,
    servers,
    manifest,
    probes: { anonymous: [], insecurePort: { state: 'closed', endpoint: '', detail: '' } },
  });
  const profiling = found.filter((f) => f.rule === 'profiling');
  assert.deepEqual(
    profiling.map((f) => [f.ref.name, f.fixable]),
    [
      ['kube-apiserver-cp-1', false],
      ['kube-apiserver-cp-2', true],
    ],
  );
  assert.match(profiling[0].manual ?? '', /kube-apiserver-cp-1 runs on another node: run kube-harden there/);

  const other = await readManifestFacts(file, serversOf([mirror('cp-9', '192.168.1.1')]), kubeadm);
  assert.equal(other.manifest, undefined);
  assert.match(other.note ?? '', /does not run any API server of this cluster/);
  if (!existsSync(DEFAULT_MANIFEST)) assert.deepEqual(await readManifestFacts(undefined, servers, kubeadm), {}, 'no manifest at the default path here');
  assert.equal(
    (await readManifestFacts(file, [], kubeadm)).manifest?.mirrorPod,
    undefined,
    'given explicitly, no mirror pod to match: edited, gated on /readyz alone',
  );
  const eks = detectPlatform({ gitVersion: 'v1.30.4-eks-a737599', nodes: [], groups: [], staticPods: false });
  assert.match((await readManifestFacts(file, [], eks)).note ?? '', /Amazon EKS runs the API server/);
});
