// The images area's pure parts: the image reference parser (on distribution/reference's own cases),
// the policy evaluator, the pod-template fixes, and the vulnerability parsers on trivy's real JSON
// reports (test/fixtures/trivy, from trivy v0.74.0's golden files) and trivy-operator's report shape.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import type { KubeObject } from '../../src/cluster/types.js';
import { containerEdits, mutateContainers } from '../../src/areas/images/fixes.js';
import { normaliseAllowed, parseImage, pinnedReference, registryAllowed, runningDigest } from '../../src/areas/images/image-ref.js';
import { buildInventory } from '../../src/areas/images/inventory.js';
import { failureReason } from '../../src/areas/images/local-scan.js';
import { canonicalImage, summariseConfigAudits, summariseVulnerabilityReports } from '../../src/areas/images/operator-reports.js';
import { admissionBinding, admissionPolicy, celString, kyvernoPolicy, gatekeeperTemplate } from '../../src/areas/images/policy-cel.js';
import { preview, violations, type ImagePolicy } from '../../src/areas/images/policy.js';
import { policyWarning } from '../../src/areas/images/server-check.js';
import { countsText, parseTrivyReport, type TrivyReport } from '../../src/areas/images/vulns.js';
import { repo } from '../helpers.js';

// distribution/reference v0.6.0, normalize_test.go TestNormalizedSplitHostname-style cases: every
// spelling of a name (familiar, full, ambiguous) parses to the same domain and path.
const DISTRIBUTION_CASES: Array<{ remote: string; names: string[]; domain: string }> = [
  { remote: 'fooo', names: ['localhost/fooo'], domain: 'localhost' },
  { remote: 'fooo/bar', names: ['localhost/fooo/bar'], domain: 'localhost' },
  { remote: 'fooo', names: ['LOCALDOMAIN/fooo'], domain: 'LOCALDOMAIN' },
  { remote: 'fooo/bar', names: ['LOCALDOMAIN/fooo/bar'], domain: 'LOCALDOMAIN' },
  { remote: 'fooo/bar', names: ['fooo/bar', 'docker.io/fooo/bar', 'index.docker.io/fooo/bar'], domain: 'docker.io' },
  { remote: 'library/ubuntu', names: ['ubuntu', 'docker.io/library/ubuntu', 'library/ubuntu'], domain: 'docker.io' },
  { remote: 'nonlibrary/ubuntu', names: ['nonlibrary/ubuntu', 'docker.io/nonlibrary/ubuntu'], domain: 'docker.io' },
  { remote: 'other/library', names: ['other/library', 'docker.io/other/library'], domain: 'docker.io' },
  { remote: 'private/moonbase', names: ['127.0.0.1:8000/private/moonbase'], domain: '127.0.0.1:8000' },
  { remote: 'privatebase', names: ['127.0.0.1:8000/privatebase'], domain: '127.0.0.1:8000' },
  { remote: 'private/moonbase', names: ['example.com/private/moonbase'], domain: 'example.com' },
  { remote: 'privatebase', names: ['example.com/privatebase'], domain: 'example.com' },
  { remote: 'private/moonbase', names: ['example.com:8000/private/moonbase'], domain: 'example.com:8000' },
  { remote: 'privatebasee', names: ['example.com:8000/privatebasee'], domain: 'example.com:8000' },
  {
    remote: 'library/ubuntu-12.04-base',
    names: ['ubuntu-12.04-base', 'docker.io/library/ubuntu-12.04-base', 'index.docker.io/library/ubuntu-12.04-base'],
    domain: 'docker.io',
  },
  { remote: 'library/foo', names: ['foo', 'docker.io/library/foo', 'docker.io/foo'], domain: 'docker.io' },
  { remote: 'library/foo/bar', names: ['library/foo/bar', 'docker.io/library/foo/bar'], domain: 'docker.io' },
  { remote: 'store/foo/bar', names: ['store/foo/bar', 'docker.io/store/foo/bar'], domain: 'docker.io' },
  { remote: 'bar', names: ['Foo/bar'], domain: 'Foo' },
  { remote: 'bar', names: ['FOO/bar'], domain: 'FOO' },
];

const D = `sha256:${'ab'.repeat(32)}`;

test('image references: distribution/reference normalisation, with tags, digests and IPv6 hosts', () => {
  for (const c of DISTRIBUTION_CASES) {
    for (const n of c.names) {
      for (const suffix of ['', ':1.2', `@${D}`, `:v1@${D}`]) {
        const r = parseImage(n + suffix);
        assert.equal(r.registry, c.domain, n + suffix);
        assert.equal(r.repository, c.remote, n + suffix);
      }
    }
  }
  assert.deepEqual(
    (({ registry, repository, tag, digest, latest, pinned, untagged }) => ({ registry, repository, tag, digest, latest, pinned, untagged }))(
      parseImage('nginx'),
    ),
    { registry: 'docker.io', repository: 'library/nginx', tag: '', digest: '', latest: true, pinned: false, untagged: true },
  );
  assert.equal(parseImage('nginx:latest').latest, true);
  assert.equal(parseImage('nginx:1.25').latest, false);
  assert.equal(parseImage(`nginx@${D}`).latest, false, 'a digest without a tag is not latest');
  assert.equal(parseImage(`nginx:latest@${D}`).latest, true, 'an explicit :latest stays latest even when pinned');
  const port = parseImage('registry.local:5000/team/app');
  assert.equal(port.registry, 'registry.local:5000');
  assert.equal(port.tag, '', 'a port is not a tag');
  assert.equal(port.latest, true);
  const v6 = parseImage('[fc00::1]:5000/docker/docker:v2');
  assert.equal(v6.registry, '[fc00::1]:5000');
  assert.equal(v6.repository, 'docker/docker');
  assert.equal(v6.tag, 'v2');
  assert.equal(parseImage('localhost:5000').repository, 'library/localhost', 'no slash: a familiar name with a tag, as distribution reads it');
});

test('allow-lists: hosts and host/path prefixes, docker.io spellings normalised', () => {
  assert.equal(normaliseAllowed(' index.docker.io/ '), 'docker.io');
  assert.equal(normaliseAllowed('ghcr.io/org/'), 'ghcr.io/org');
  const allowed = ['docker.io', 'ghcr.io/org', 'registry.local:5000'];
  assert.ok(registryAllowed(parseImage('nginx'), allowed));
  assert.ok(registryAllowed(parseImage('index.docker.io/bitnami/redis:7'), allowed));
  assert.ok(registryAllowed(parseImage('ghcr.io/org/app:1'), allowed));
  assert.ok(!registryAllowed(parseImage('ghcr.io/orgx/app:1'), allowed), 'a prefix matches whole path components');
  assert.ok(!registryAllowed(parseImage('ghcr.io/app'), allowed));
  assert.ok(registryAllowed(parseImage('registry.local:5000/a/b'), allowed));
  assert.ok(!registryAllowed(parseImage('registry.local/a'), allowed), 'the port is part of the host');
});

test('running digests and pinning', () => {
  assert.equal(runningDigest(`docker.io/library/nginx@${D}`), D);
  assert.equal(runningDigest(`docker-pullable://nginx@${D}`), D);
  assert.equal(runningDigest(D), undefined, 'a bare image id is not a repository digest');
  assert.equal(pinnedReference(parseImage('nginx:latest'), D), `nginx@${D}`);
  assert.equal(pinnedReference(parseImage('ghcr.io/o/a:1.2'), D), `ghcr.io/o/a:1.2@${D}`);
  assert.equal(pinnedReference(parseImage('registry:5000/a'), D), `registry:5000/a@${D}`);
});

const pol = (p: Partial<ImagePolicy> = {}): ImagePolicy => ({
  allowedRegistries: [],
  forbidLatest: true,
  requireDigest: false,
  namespaces: { operator: 'NotIn', values: ['kube-system'] },
  mode: 'warn',
  ...p,
});

const deploy = (ns: string, images: string[], init: string[] = [], name = 'web'): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns, resourceVersion: '1' },
  spec: {
    template: {
      spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })), initContainers: init.map((image, i) => ({ name: `i${i}`, image })) },
    },
  },
});

test('policy evaluator: rules, messages naming rule and images in container order, namespaces', () => {
  const p = pol({ allowedRegistries: ['docker.io'], requireDigest: true });
  const v = violations(deploy('shop', ['nginx', 'ghcr.io/x/y:1'], ['busybox:1']), p);
  assert.deepEqual(
    v.map((x) => x.message),
    [
      'kube-harden/images allowedRegistries: ghcr.io/x/y:1 not from an allowed registry (docker.io)',
      'kube-harden/images noLatest: nginx tagged :latest or untagged: pin a version tag or a digest',
      'kube-harden/images requireDigest: nginx, ghcr.io/x/y:1, busybox:1 not pinned by digest (@sha256:...)',
    ],
  );
  const cron: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'c', namespace: 'shop' },
    spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'a', image: 'alpine' }] } } } } },
  };
  assert.deepEqual(
    violations(cron, pol()).map((x) => x.rule),
    ['noLatest'],
  );
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'shop' },
    spec: { containers: [{ name: 'a', image: 'nginx:1' }], ephemeralContainers: [{ name: 'debug', image: 'busybox' }] },
  };
  assert.deepEqual(
    violations(pod, pol()).map((x) => x.images),
    [['busybox']],
    'ephemeral containers are judged',
  );
  assert.equal(preview([deploy('kube-system', ['nginx'])], pol()).length, 0, 'namespaces outside the selector are not judged');
  assert.equal(preview([deploy('shop', ['nginx'])], pol({ namespaces: { operator: 'In', values: ['other'] } })).length, 0);
  assert.equal(violations({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }, pol()).length, 0);
});

test('admission objects: policy, binding modes, CEL literals, engine forms carry the same CEL', () => {
  const p = pol({ allowedRegistries: ['docker.io', 'ghcr.io/o'] });
  const vap = admissionPolicy(p) as any;
  assert.equal(vap.spec.failurePolicy, 'Fail');
  assert.deepEqual(
    vap.spec.validations.map((v: { message: string }) => v.message.split(':')[0]),
    ['kube-harden/images allowedRegistries', 'kube-harden/images noLatest'],
  );
  assert.deepEqual((admissionBinding(p) as any).spec.validationActions, ['Warn', 'Audit']);
  assert.deepEqual((admissionBinding({ ...p, mode: 'deny' }) as any).spec.validationActions, ['Deny', 'Audit']);
  assert.equal(celString('a"b\\c'), '"a\\"b\\\\c"');
  const ky = kyvernoPolicy(p) as any;
  assert.deepEqual(ky.spec.rules[0].validate.cel.variables, vap.spec.variables);
  assert.equal(ky.spec.validationFailureAction, 'Audit');
  const gk = gatekeeperTemplate(p) as any;
  assert.deepEqual(gk.spec.targets[0].code[0].source.variables, vap.spec.variables);
  assert.equal(
    policyWarning(
      "Validation failed for ValidatingAdmissionPolicy 'kube-harden-images' with binding 'kube-harden-images': kube-harden/images noLatest: nginx x",
    ),
    'kube-harden/images noLatest: nginx x',
  );
  assert.equal(policyWarning("Validation failed for ValidatingAdmissionPolicy 'other' with binding 'b': kube-harden/images noLatest: x"), undefined);
});

test('fixes: pin to the running digest and pull Always, only the named containers, pure', () => {
  const spec = {
    containers: [
      { name: 'a', image: 'nginx:latest' },
      { name: 'b', image: 'redis:7', imagePullPolicy: 'IfNotPresent' },
      { name: 'c', image: `x@${D}` },
    ],
  };
  const edits = containerEdits(spec, { pinDigests: true, pullAlways: true, digestOf: (c) => (c === 'a' ? D : undefined) });
  assert.deepEqual(edits, { a: { image: `nginx@${D}` }, b: { imagePullPolicy: 'Always' } });
  const obj = Object.freeze(deploy('shop', ['nginx:latest']));
  const after = mutateContainers({ c0: { image: `nginx@${D}` } })(obj);
  assert.equal((after.spec as any).template.spec.containers[0].image, `nginx@${D}`);
  assert.equal((obj.spec as any).template.spec.containers[0].image, 'nginx:latest');
});

test('inventory: uses per workload, pods traced to their Deployment, running digests', () => {
  const d = deploy('shop', ['nginx:1.25']);
  d.metadata.uid = 'u1';
  const rs: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web-1', namespace: 'shop', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u1', controller: true }] },
    spec: d.spec,
  };
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web-1-a',
      namespace: 'shop',
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'u2', controller: true }],
    },
    spec: { containers: [{ name: 'c0', image: 'nginx:1.25' }] },
    status: { containerStatuses: [{ name: 'c0', imageID: `docker.io/library/nginx@${D}` }] },
  };
  const inv = buildInventory([pod, rs, d]);
  assert.equal(inv.images.length, 1);
  assert.deepEqual(inv.images[0].running, [D]);
  assert.deepEqual(
    inv.images[0].uses.map((u) => `${u.workload.kind}/${u.workload.name}/${u.container}/${u.pullPolicy}`),
    ['Deployment/web/c0/IfNotPresent'],
  );
  assert.deepEqual(inv.runningDigests.get('apps/v1/Deployment/shop/web')?.get('c0'), [D]);
});

const golden = (f: string) => JSON.parse(readFileSync(path.join(repo, 'test/fixtures/trivy', f), 'utf8')) as TrivyReport;

test("trivy's JSON (real golden reports): counts, fixable, worst first", () => {
  const debian = parseTrivyReport(golden('debian-buster.json.golden'));
  assert.deepEqual(debian.counts, { CRITICAL: 1, HIGH: 0, MEDIUM: 0, LOW: 1, UNKNOWN: 0 });
  assert.equal(debian.fixable, 1);
  assert.equal(debian.cves[0].id, 'CVE-2019-18224');
  assert.equal(debian.cves[0].fixed, '2.0.5-1+deb10u1');
  const centos = parseTrivyReport(golden('centos-7.json.golden'));
  assert.deepEqual(centos.counts, { CRITICAL: 0, HIGH: 0, MEDIUM: 1, LOW: 2, UNKNOWN: 0 });
  assert.deepEqual(
    centos.cves.map((c) => c.id),
    ['CVE-2019-1559', 'CVE-2018-0734', 'CVE-2019-18276'],
    'medium first, then the fixable low before the unfixed one',
  );
  const alpine = parseTrivyReport(golden('alpine-310.json.golden'));
  assert.deepEqual(alpine.counts.MEDIUM, 4);
  assert.equal(alpine.fixable, 4);
  assert.equal(countsText(alpine), '4 medium (4 fixable)');
  assert.equal(parseTrivyReport(golden('distroless-base.json.golden')).fixable, 2);
  assert.equal(countsText(parseTrivyReport({ Results: [{ Target: 'x', Vulnerabilities: null }] })), 'no known vulnerabilities');
});

test('trivy failures become one-line reasons', () => {
  assert.match(
    failureReason('2026-11-29T06:00:00Z\tFATAL\tFatal error\trun error: init error: DB error: failed to download vulnerability DB', 1),
    /^no vulnerability database/,
  );
  assert.match(
    failureReason('unable to find the specified image "x" in ["docker" "remote"]: ... dial tcp: lookup registry-1.docker.io on 1.1.1.1:53: no such host', 1),
    /unreachable|not found/,
  );
  assert.match(failureReason('something odd happened', 3), /trivy failed: something odd happened/);
});

test('trivy-operator reports: per workload through the ReplicaSet, per image, worst first; config audits', () => {
  const d = deploy('shop', ['nginx:1.25']);
  d.metadata.uid = 'u1';
  const rs = (name: string, owner: string): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'shop', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: owner, uid: 'x', controller: true }] },
  });
  const report = (kind: string, name: string, container: string, data: Record<string, unknown>): KubeObject => ({
    apiVersion: 'aquasecurity.github.io/v1alpha1',
    kind,
    metadata: {
      name: `replicaset-${name}-${container}`,
      namespace: 'shop',
      labels: {
        'trivy-operator.resource.kind': 'ReplicaSet',
        'trivy-operator.resource.name': name,
        'trivy-operator.resource.namespace': 'shop',
        'trivy-operator.container.name': container,
      },
    },
    report: data,
  });
  const v = (id: string, severity: string, fixed = '') => ({
    vulnerabilityID: id,
    severity,
    resource: 'pkg',
    installedVersion: '1',
    fixedVersion: fixed,
    title: id,
  });
  const objects = [d, deploy('shop', ['redis:7'], [], 'cache'), rs('web-1', 'web'), rs('cache-1', 'cache')];
  const reports = [
    report('VulnerabilityReport', 'web-1', 'c0', {
      registry: { server: 'index.docker.io' },
      artifact: { repository: 'library/nginx', tag: '1.25' },
      summary: { criticalCount: 0, highCount: 2, mediumCount: 0, lowCount: 0, unknownCount: 0 },
      vulnerabilities: [v('CVE-B', 'HIGH'), v('CVE-A', 'HIGH', '2')],
    }),
    report('VulnerabilityReport', 'cache-1', 'c0', {
      registry: { server: 'index.docker.io' },
      artifact: { repository: 'library/redis', tag: '7' },
      summary: { criticalCount: 1, highCount: 0, mediumCount: 0, lowCount: 0, unknownCount: 0 },
      vulnerabilities: [v('CVE-C', 'CRITICAL', '7.1')],
    }),
  ];
  const o = summariseVulnerabilityReports(reports, objects, () => true);
  assert.equal(o.reports, 2);
  assert.deepEqual(
    o.byWorkload.map((w) => `${w.workload.kind}/${w.workload.name}`),
    ['Deployment/cache', 'Deployment/web'],
  );
  assert.deepEqual(
    o.byImage.map((i) => i.image),
    ['docker.io/library/redis:7', 'docker.io/library/nginx:1.25'],
  );
  assert.deepEqual(
    o.byWorkload[1].summary.cves.map((c) => c.id),
    ['CVE-A', 'CVE-B'],
    'fixable first within a severity',
  );
  assert.equal(canonicalImage('index.docker.io/library/nginx:1.25'), 'docker.io/library/nginx:1.25');
  const audits = summariseConfigAudits(
    [
      report('ConfigAuditReport', 'web-1', '', {
        checks: [
          { checkID: 'KSV003', title: 'drop all', severity: 'LOW', success: false },
          { checkID: 'KSV001', title: 'escalation', severity: 'MEDIUM', success: false },
          { checkID: 'KSV012', title: 'root', severity: 'MEDIUM', success: true },
        ],
      }),
    ],
    objects,
    () => true,
  );
  assert.deepEqual(
    audits.map((a) => [a.workload.name, a.severity, a.failed.map((f) => f.id)]),
    [['web', 'medium', ['KSV001', 'KSV003']]],
  );
});
