// `audit --output sarif` against the official SARIF 2.1.0 JSON schema (OASIS SARIF TC, test/fixtures/sarif/),
// plus what the schema cannot say: every result's rule is declared, every rule has help, every result a location.
import assert from 'node:assert/strict';
import test from 'node:test';
import { AREAS } from '../../src/areas/registry.js';
import type { Finding, Rule } from '../../src/areas/types.js';
import { renderReport, type ReportInput } from '../../src/output/report.js';
import { explainSarif as explain, sarifValidator } from '../sarif-schema.js';

interface SarifLog {
  $schema: string;
  version: string;
  runs: Array<{
    tool: { driver: { name: string; rules: Array<{ id: string; help?: { text?: string }; helpUri?: string; properties?: Record<string, unknown> }> } };
    results: Array<{
      ruleId: string;
      ruleIndex?: number;
      level: string;
      message: { text: string };
      locations?: Array<{ logicalLocations?: Array<{ fullyQualifiedName?: string; kind?: string }>; physicalLocation?: unknown }>;
      properties?: Record<string, unknown>;
    }>;
  }>;
}

/** Invariants beyond the schema, for the unit and the integration test alike. */
function assertSarifInvariants(log: SarifLog) {
  assert.equal(log.version, '2.1.0');
  assert.equal(log.runs.length, 1);
  const run = log.runs[0];
  const ids = run.tool.driver.rules.map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length, 'rule ids are unique');
  for (const rule of run.tool.driver.rules) assert.ok(rule.help?.text?.trim(), `rule ${rule.id} has help text`);
  for (const r of run.results) {
    assert.ok(ids.includes(r.ruleId), `result's rule ${r.ruleId} is declared in tool.driver.rules`);
    if (r.ruleIndex !== undefined) assert.equal(ids[r.ruleIndex], r.ruleId, `ruleIndex of ${r.ruleId}`);
    assert.ok(r.locations?.length, `result ${r.ruleId} (${r.message.text}) has a location`);
    for (const l of r.locations!) assert.ok(l.physicalLocation || l.logicalLocations?.length, `result ${r.ruleId} names where`);
  }
}

const rules: Array<Rule & { area: string }> = [
  {
    area: 'workloads',
    id: 'privileged',
    severity: 'critical',
    title: 'Privileged containers',
    why: 'A privileged container has every capability and the devices of its node: escaping it is trivial.',
    fix: 'securityContext.privileged: false',
    references: [
      { title: 'Pod Security Standards: baseline', url: 'https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline' },
      { title: 'CIS Kubernetes Benchmark 5.2.2' },
    ],
  },
  {
    area: 'workloads',
    id: 'runAsNonRoot',
    severity: 'medium',
    title: 'Containers may run as root',
    why: 'A process running as root in a container is root on the node once it escapes.',
    fix: 'securityContext.runAsNonRoot: true, with a non-zero runAsUser when the image has no USER',
    references: [{ title: 'Pod Security Standards: restricted', url: 'https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted' }],
  },
  {
    area: 'rbac',
    id: 'clusterAdminBinding',
    severity: 'high',
    title: 'cluster-admin granted beyond the administrators',
    why: 'cluster-admin can do anything to anything, including granting itself to others.',
    fix: 'Remove the binding, or bind a narrower role.',
    references: [
      { title: 'CIS Kubernetes Benchmark 5.1.1' },
      { title: 'RBAC good practices', url: 'https://kubernetes.io/docs/concepts/security/rbac-good-practices/' },
    ],
  },
  {
    area: 'apiserver',
    id: 'anonymousAuth',
    severity: 'high',
    title: 'Anonymous requests are allowed',
    why: 'Anyone who can reach the API server is system:anonymous, and RBAC mistakes become public.',
    fix: '--anonymous-auth=false on the API server (a manifest edit with a health gate)',
    references: [{ title: 'CIS Kubernetes Benchmark v1.10.0 1.2.1', url: 'https://www.cisecurity.org/benchmark/kubernetes' }],
  },
  {
    area: 'network',
    id: 'defaultDeny',
    severity: 'medium',
    title: 'Namespaces without a default-deny policy',
    why: 'Without a NetworkPolicy every pod accepts traffic from every other pod in the cluster.',
    fix: 'A default-deny ingress policy, with allow rules for the traffic seen.',
    references: [
      { title: 'Network policies: default policies', url: 'https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-policies' },
    ],
  },
  {
    area: 'tls',
    id: 'ingressWithoutTls',
    severity: 'low',
    title: 'Ingresses served without TLS',
    why: 'Plain HTTP can be read and changed on the way.',
    fix: 'A cert-manager Certificate through the ingress-shim annotation.',
    references: [{ title: 'NIST SP 800-57' }],
  },
  {
    area: 'images',
    id: 'latestTag',
    severity: 'low',
    title: 'Images by a moving tag',
    why: 'A tag such as latest can point to another image tomorrow; what runs is not what was reviewed.',
    fix: 'Pin the image by digest.',
  },
];

const findings: Finding[] = [
  {
    id: 'workloads/privileged/Deployment/shop/payments/app',
    area: 'workloads',
    rule: 'privileged',
    severity: 'critical',
    ref: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'payments' },
    container: 'app',
    message: 'container app is privileged',
    fixable: true,
  },
  {
    id: 'workloads/runAsNonRoot/DaemonSet/monitoring/node-exporter/exporter',
    area: 'workloads',
    rule: 'runAsNonRoot',
    severity: 'medium',
    ref: { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'monitoring', name: 'node-exporter' },
    container: 'exporter',
    message: 'container exporter may run as root (the image runs as UID 0)',
    fixable: false,
    manual: 'a node agent: owned by the prometheus-operator, change it in its Helm values',
  },
  {
    id: 'rbac/clusterAdminBinding/ClusterRoleBinding//ci-deployer',
    area: 'rbac',
    rule: 'clusterAdminBinding',
    severity: 'high',
    ref: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', name: 'ci-deployer' },
    message: 'ServiceAccount ci/deployer has cluster-admin',
    fixable: true,
    path: ['ClusterRoleBinding ci-deployer', 'ClusterRole cluster-admin', '*/* verbs *'],
  },
  {
    id: 'apiserver/anonymousAuth/Flag//--anonymous-auth',
    area: 'apiserver',
    rule: 'anonymousAuth',
    severity: 'high',
    ref: { apiVersion: '', kind: 'Flag', name: '--anonymous-auth' },
    message: 'GET /version as system:anonymous answered 200',
    fixable: false,
    manual: 'a managed control plane: the provider sets the API server flags',
  },
  {
    id: 'apiserver/anonymousAuth/Endpoint//https:__10.0.0.1:6443',
    area: 'apiserver',
    rule: 'anonymousAuth',
    severity: 'high',
    ref: { apiVersion: '', kind: 'Endpoint', name: 'https://10.0.0.1:6443' },
    message: 'anonymous requests reach /apis with "quotes" & <brackets>',
    fixable: false,
  },
  {
    id: 'network/defaultDeny/Namespace//shop',
    area: 'network',
    rule: 'defaultDeny',
    severity: 'medium',
    ref: { apiVersion: 'v1', kind: 'Namespace', name: 'shop' },
    message: 'namespace shop has no default-deny ingress policy',
    fixable: true,
  },
  {
    id: 'tls/ingressWithoutTls/Ingress/shop/storefront',
    area: 'tls',
    rule: 'ingressWithoutTls',
    severity: 'low',
    ref: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: 'shop', name: 'storefront' },
    message: 'ingress storefront serves shop.example.com over plain HTTP',
    fixable: true,
  },
  {
    id: 'images/latestTag/Deployment/shop/storefront/web',
    area: 'images',
    rule: 'latestTag',
    severity: 'low',
    ref: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'storefront' },
    container: 'web',
    message: 'image nginx:latest is not pinned',
    fixable: false,
  },
];

const input: ReportInput = { context: 'prod-eu', server: 'https://10.0.0.1:6443', version: 'v1.34.4', findings, rules };

test('sarif: a report over several areas validates against the SARIF 2.1.0 schema', () => {
  const log = JSON.parse(renderReport('sarif', input)) as SarifLog;
  const errors = sarifValidator()(log);
  assert.deepEqual(errors, [], explain(errors));
  assertSarifInvariants(log);
  const run = log.runs[0];
  assert.equal(run.results.length, findings.length);
  assert.equal(run.tool.driver.rules.length, rules.length);
});

test('sarif: rules keep their help, references and severity', () => {
  const log = JSON.parse(renderReport('sarif', input)) as SarifLog;
  const byId = new Map(log.runs[0].tool.driver.rules.map((r) => [r.id, r]));
  const privileged = byId.get('workloads/privileged')!;
  assert.equal(privileged.helpUri, 'https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline');
  assert.match(privileged.help!.text!, /Fix: securityContext\.privileged: false/);
  assert.match(privileged.help!.text!, /CIS Kubernetes Benchmark 5\.2\.2/);
  // The first reference with a URL, even when one without comes first.
  assert.equal(byId.get('rbac/clusterAdminBinding')!.helpUri, 'https://kubernetes.io/docs/concepts/security/rbac-good-practices/');
  // References without any URL, or no references: help text, no helpUri.
  assert.equal(byId.get('tls/ingressWithoutTls')!.helpUri, undefined);
  assert.match(byId.get('tls/ingressWithoutTls')!.help!.text!, /References: NIST SP 800-57/);
  assert.equal(byId.get('images/latestTag')!.helpUri, undefined);
  assert.match(byId.get('images/latestTag')!.help!.text!, /Fix: Pin the image by digest\./);
  assert.equal(privileged.properties?.severity, 'critical');
});

test('sarif: results carry the level, the object, manual and path', () => {
  const log = JSON.parse(renderReport('sarif', input)) as SarifLog;
  const results = log.runs[0].results;
  // Most severe first, as in every format.
  assert.deepEqual(
    results.map((r) => r.level),
    ['error', 'error', 'error', 'error', 'warning', 'warning', 'note', 'note'],
  );
  const node = results.find((r) => r.ruleId === 'workloads/runAsNonRoot')!;
  assert.equal(node.properties?.manual, 'a node agent: owned by the prometheus-operator, change it in its Helm values');
  assert.equal(node.locations![0].logicalLocations![0].fullyQualifiedName, 'prod-eu/monitoring/DaemonSet/node-exporter/exporter');
  const binding = results.find((r) => r.ruleId === 'rbac/clusterAdminBinding')!;
  assert.deepEqual(binding.properties?.path, ['ClusterRoleBinding ci-deployer', 'ClusterRole cluster-admin', '*/* verbs *']);
  const flag = results.find((r) => r.message.text.includes('system:anonymous'))!;
  assert.equal(flag.ruleId, 'apiserver/anonymousAuth');
  assert.equal(flag.properties?.fixable, false);
  assert.ok(flag.locations![0].logicalLocations![0].fullyQualifiedName!.includes('--anonymous-auth'));
});

test('sarif: no findings is a valid log with an empty results array', () => {
  const log = JSON.parse(renderReport('sarif', { ...input, findings: [] })) as SarifLog;
  const errors = sarifValidator()(log);
  assert.deepEqual(errors, [], explain(errors));
  assert.deepEqual(log.runs[0].results, []);
});

test('sarif: every registered area rule, each with a finding, validates', () => {
  const all = AREAS.flatMap((a) => a.rules.map((rule) => ({ ...rule, area: a.id })));
  const some: Finding[] = all.map((r, i) => ({
    id: `${r.area}/${r.id}/Thing/ns/x${i}`,
    area: r.area,
    rule: r.id,
    severity: r.severity,
    ref: i % 2 ? { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: `x${i}` } : { apiVersion: '', kind: 'Setting', name: `x${i}` },
    message: r.title,
    fixable: i % 3 === 0,
  }));
  const log = JSON.parse(renderReport('sarif', { ...input, rules: all, findings: some })) as SarifLog;
  const errors = sarifValidator()(log);
  assert.deepEqual(errors, [], explain(errors));
  assertSarifInvariants(log);
});

test('sarif: the validator does reject a broken log', () => {
  const log = JSON.parse(renderReport('sarif', input)) as SarifLog;
  const broken = structuredClone(log) as unknown as { runs: Array<{ results: Array<Record<string, unknown>>; tool: { driver: Record<string, unknown> } }> };
  broken.runs[0].results[0].level = 'critical';
  delete broken.runs[0].results[1].message;
  broken.runs[0].tool.driver.informationUri = 'not a uri';
  const messages = sarifValidator()(broken).map((e) => `${e.instancePath} ${e.message}`);
  assert.ok(
    messages.some((m) => m.startsWith('/runs/0/results/0/level must be equal to one of the allowed values')),
    messages.join('\n'),
  );
  assert.ok(
    messages.some((m) => m.startsWith("/runs/0/results/1 must have required property 'message'")),
    messages.join('\n'),
  );
  assert.ok(
    messages.some((m) => m.startsWith('/runs/0/tool/driver/informationUri must match format "uri"')),
    messages.join('\n'),
  );
});
