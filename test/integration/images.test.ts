// The images area end to end on a private bed: what runs (the inventory, no scanner found), the policy
// applied through the CLI in Warn mode (a workload change is then previewed with the policy's warning;
// the inspection's dry-run confirmation agrees with the preview; Deny is refused while something breaks
// the policy and offered once nothing does; Deny then refuses a Pod), trivy-operator's reports summarised
// per workload and per image, trivy-operator installed from its real chart with the real helm, and every
// rollback: the binding's mode back, then the policy and its binding gone exactly, the release uninstalled.
// npx node --import tsx --test --test-timeout=900000 test/integration/images.test.ts
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { Cluster } from '../../src/cluster/client.js';
import type { KubeObject } from '../../src/cluster/types.js';
import type { ImageFacts } from '../../src/areas/images/inspect.js';
import { Session } from '../../src/session.js';
import { helmEnv } from '../cluster/cert-manager.js';
import { ensureNamespace, loadCrds, pollUntil, waitForRollout } from '../cluster/kube.js';
import { down, privateTestbed, type Testbed } from '../cluster/testbed.js';
import { ensureTool, pathWith } from '../cluster/tools.js';
import { spawnCli } from '../e2e/pty.js';
import { repo, runCli, tempHome } from '../helpers.js';

let bed: Testbed;
let cluster: Cluster;
let env: Record<string, string>;
let helm: string;
const work = mkdtempSync(path.join(os.tmpdir(), 'kube-harden-images-'));
const NS = 'shop';
const ADM = 'admissionregistration.k8s.io/v1';
const CHART = path.join(repo, 'test/fixtures/charts/trivy-operator-0.34.0');

const deployment = (name: string, image: string, pullPolicy?: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: NS },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image, ...(pullPolicy ? { imagePullPolicy: pullPolicy } : {}) }] } },
  },
});

before(async () => {
  helm = await ensureTool('helm');
  bed = await privateTestbed();
  cluster = await Cluster.connect({ kubeconfig: bed.kubeconfig });
  env = { PATH: await pathWith('helm'), ...helmEnv(path.join(work, 'helm')) };
  await ensureNamespace(bed.kubeconfig, NS);
  await cluster.create(deployment('web', 'nginx:latest', 'IfNotPresent'));
  await cluster.create(deployment('api', 'ghcr.io/acme/api:1.2'));
  await cluster.create({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'report', namespace: NS },
    spec: {
      schedule: '0 3 * * *',
      jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'job', image: 'ghcr.io/acme/api:1.2' }] } } } },
    },
  });
  await waitForRollout(bed.kubeconfig, NS, 'web');
  await waitForRollout(bed.kubeconfig, NS, 'api');
});
after(async () => {
  await cluster?.close();
  if (bed) await down({ dir: bed.dir });
});

async function inspect(): Promise<{ facts: ImageFacts; rules: string[]; notes: string[] }> {
  const s = await Session.open({ kubeconfig: bed.kubeconfig, areas: ['images'], namespaces: [NS], preview: true });
  try {
    await s.inspect();
    const ins = s.state('images').inspection;
    return { facts: ins.facts as ImageFacts, rules: ins.findings.map((f) => `${f.rule} ${f.ref.kind}/${f.ref.name}`).sort(), notes: ins.notes ?? [] };
  } finally {
    await s.close();
  }
}

const profile = (name: string, answers: Record<string, unknown>) => {
  const file = path.join(work, `${name}.yaml`);
  writeFileSync(file, JSON.stringify({ version: 2, name, areas: ['images'], answers }));
  return file;
};
const POLICY = {
  'images.policy': true,
  'images.allowedRegistries': ['docker.io', 'ghcr.io/acme'],
  'images.forbidLatest': true,
  'images.requireDigest': false,
  'images.namespaces': 'chosen',
  'images.namespaceList': [NS],
  'images.fixes': [],
  'images.installTrivyOperator': false,
};
const get = (kind: string) => cluster.tryGet({ apiVersion: ADM, kind, name: 'kube-harden-images' });
const actions = async () => ((await get('ValidatingAdmissionPolicyBinding'))?.spec as { validationActions?: string[] } | undefined)?.validationActions;

test('what runs: images, tags, pull policies and users; no admission policy and no scanner found', async () => {
  const { facts, rules, notes } = await inspect();
  assert.deepEqual(
    facts.images.map((i) => [i.raw, i.registry, i.tag, i.latest, i.uses.map((u) => `${u.workload.kind}/${u.workload.name}:${u.pullPolicy}`).sort()]),
    [
      ['ghcr.io/acme/api:1.2', 'ghcr.io', '1.2', false, ['CronJob/report:IfNotPresent', 'Deployment/api:IfNotPresent']],
      ['nginx:latest', 'docker.io', 'latest', true, ['Deployment/web:IfNotPresent']],
    ],
  );
  assert.deepEqual(facts.registries, ['ghcr.io', 'docker.io']);
  assert.equal(facts.trivyOperator.presence, 'absent');
  assert.deepEqual(rules, [
    'latestTag Deployment/web',
    'noImagePolicy ValidatingAdmissionPolicy/kube-harden-images',
    'noScanner Deployment/trivy-operator',
    'notPinned CronJob/report',
    'notPinned Deployment/api',
    'notPinned Deployment/web',
    'pullPolicy CronJob/report',
    'pullPolicy Deployment/api',
    'pullPolicy Deployment/web',
  ]);
  assert.ok(notes.some((n) => /2 image\(s\) in use from ghcr.io, docker.io/.test(n)));
});

test('the policy through the CLI: Warn first, the server confirms the preview, Deny refused then offered, Deny refuses, rollbacks exact', async () => {
  const home = tempHome();
  // Someone else's policy, which a rollback must leave alone.
  await cluster.create({
    apiVersion: ADM,
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: 'someone-elses' },
    spec: {
      matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] }] },
      validations: [{ expression: 'true' }],
    },
  });
  const warn = await runCli(['apply', '--profile', profile('warn', { ...POLICY, 'images.mode': 'warn' }), '--yes', '--kubeconfig', bed.kubeconfig], {
    home,
    env,
  });
  assert.equal(warn.code, 0, `${warn.stdout}\n${warn.stderr}`);
  const firstUndo = /undo with: kube-harden rollback (\S+)/.exec(warn.stdout)?.[1];
  assert.ok(firstUndo, warn.stdout);
  assert.deepEqual(await actions(), ['Warn', 'Audit']);
  assert.ok(await get('ValidatingAdmissionPolicy'));

  // The API server confirms the preview: its warnings on dry-run updates are the ones evaluated here.
  const confirmed = await pollUntil('the Warn policy to be in force and confirmed', async () => {
    const { facts } = await inspect();
    return facts.serverCheck.state === 'agree' && facts.serverCheck.server.length > 0 && facts;
  });
  assert.deepEqual([...new Set(confirmed.serverCheck.server.map((s) => s.split('\t')[0].replace(/-[a-z0-9]+(-[a-z0-9]+)?( in shop)$/, '-*$2')))].sort(), [
    'deployment/web in shop',
    'pod/web-* in shop',
    'replicaset/web-* in shop',
  ]);

  // A change to a workload that breaks the policy is previewed with the policy's warning.
  const fix = await runCli(
    ['apply', '--profile', profile('fix', { ...POLICY, 'images.mode': 'warn', 'images.fixes': ['pullAlways'] }), '--preview', '--kubeconfig', bed.kubeconfig],
    {
      home,
      env,
    },
  );
  assert.equal(fix.code, 0, `${fix.stdout}\n${fix.stderr}`);
  assert.match(
    fix.stdout,
    /warning: Validation failed for ValidatingAdmissionPolicy 'kube-harden-images' with binding 'kube-harden-images': kube-harden\/images noLatest: nginx:latest tagged :latest or untagged/,
  );

  // The wizard shows it too: the area's plan counts the warned change and its notes quote the policy.
  const term = spawnCli(
    [
      '--preview',
      '--kubeconfig',
      bed.kubeconfig,
      '--areas',
      'images',
      '--profile',
      profile('fix-wizard', { ...POLICY, 'images.mode': 'warn', 'images.fixes': ['pullAlways'] }),
    ],
    {
      KUBE_HARDEN_HOME: home,
      ...env,
    },
  );
  await term.waitFor(/Which areas should the session walk\?/);
  for (let i = 0; i < 40 && !/Images: \d+ changes?/.test(term.text()); i++) {
    await term.write('\r');
    await new Promise((res) => setTimeout(res, 700));
  }
  await term.waitFor(/Images: 3 changes/);
  await term.waitFor(/1 with warnings/);
  await term.write('n');
  await term.waitFor(/The installed image policy warns about these changes/);
  await term.waitFor(/kube-harden\/images noLatest: nginx:latest tagged :latest or untagged/);
  term.kill();

  // Deny is not offered while something running breaks the policy.
  const early = await runCli(['apply', '--profile', profile('deny', { ...POLICY, 'images.mode': 'deny' }), '--preview', '--kubeconfig', bed.kubeconfig], {
    home,
    env,
  });
  assert.equal(early.code, 2, early.stdout + early.stderr);
  assert.match(early.stderr, /images\.mode: Deny is offered once nothing running would be refused: \d+ object\(s\) would be/);

  // Once the workload is fixed (by its owner), auto gives Deny.
  await cluster.replace({
    ...(await cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: NS, name: 'web' })),
    spec: deployment('web', 'nginx:1.27').spec,
  });
  await waitForRollout(bed.kubeconfig, NS, 'web');
  // The old ReplicaSet keeps nginx:latest as rollout history (scaled to zero): it does not hold Deny back.
  const { rules } = await pollUntil('the old pods gone and Deny offered', async () => {
    const r = await inspect();
    return r.rules.includes('policyWarnOnly ValidatingAdmissionPolicyBinding/kube-harden-images') && r;
  });
  assert.ok(!rules.some((r) => r.startsWith('latestTag')), rules.join('\n'));
  const deny = await runCli(['apply', '--profile', profile('auto', { ...POLICY, 'images.mode': 'auto' }), '--yes', '--kubeconfig', bed.kubeconfig], {
    home,
    env,
  });
  assert.equal(deny.code, 0, `${deny.stdout}\n${deny.stderr}`);
  assert.deepEqual(await actions(), ['Deny', 'Audit']);
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'latest', namespace: NS }, spec: { containers: [{ name: 'a', image: 'nginx:latest' }] } };
  await pollUntil('Deny in force', async () => {
    try {
      await cluster.create(pod, { dryRun: true });
      return false;
    } catch (e) {
      return /denied request: kube-harden\/images noLatest: nginx:latest/.test((e as Error).message);
    }
  });

  // Rollback of the Deny switch: Warn again; rollback of the first apply: policy and binding gone, nothing else.
  const rb1 = await runCli(['rollback', '--yes', '--kubeconfig', bed.kubeconfig], { home, env });
  assert.equal(rb1.code, 0, `${rb1.stdout}\n${rb1.stderr}`);
  assert.deepEqual(await actions(), ['Warn', 'Audit']);
  const rb2 = await runCli(['rollback', firstUndo, '--yes', '--kubeconfig', bed.kubeconfig], { home, env });
  assert.equal(rb2.code, 0, `${rb2.stdout}\n${rb2.stderr}`);
  assert.equal(await get('ValidatingAdmissionPolicy'), undefined);
  assert.equal(await get('ValidatingAdmissionPolicyBinding'), undefined);
  const left = await cluster.list(await cluster.typeOf(ADM, 'ValidatingAdmissionPolicy'));
  assert.deepEqual(
    left.map((v) => v.metadata.name),
    ['someone-elses'],
  );
});

test('trivy-operator installed from its real chart with the real helm (preview first), found, and uninstalled by rollback', async () => {
  const home = tempHome();
  const answers = {
    'images.policy': false,
    'images.fixes': [],
    'images.installTrivyOperator': true,
    'images.trivyOperatorChart': CHART,
    'images.trivyOperatorRepo': '',
  };
  const file = profile('scanner', answers);
  const pre = await runCli(['apply', '--profile', file, '--preview', '--diff', '--kubeconfig', bed.kubeconfig], { home, env, timeoutMs: 300_000 });
  assert.equal(pre.code, 0, `${pre.stdout}\n${pre.stderr}`);
  assert.ok(pre.stdout.includes(`helm upgrade --install trivy-operator ${CHART} --namespace trivy-system --version 0.34.0 --create-namespace`), pre.stdout);
  // The chart renders ClusterComplianceReports, whose CRD it brings itself: helm's server dry-run cannot
  // check them before the install; the release handler says so instead of failing the preview.
  assert.match(pre.stdout, /rendered, not validated by the API server: helm's server dry-run stops at the chart's ClusterComplianceReport objects/);
  const h = (...args: string[]) => execa(helm, [...args, '--kubeconfig', bed.kubeconfig], { env: helmEnv(path.join(work, 'helm')) });
  assert.deepEqual(JSON.parse(String((await h('list', '-A', '-o', 'json')).stdout)), [], 'the preview installed nothing');

  const r = await runCli(['apply', '--profile', file, '--yes', '--kubeconfig', bed.kubeconfig], { home, env, timeoutMs: 600_000 });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const releases = JSON.parse(String((await h('list', '-n', 'trivy-system', '-o', 'json')).stdout)) as Array<Record<string, string>>;
  assert.deepEqual(
    releases.map((x) => [x.name, x.status, x.chart, x.app_version]),
    [['trivy-operator', 'deployed', 'trivy-operator-0.34.0', '0.32.0']],
  );
  const s = await Session.open({ kubeconfig: bed.kubeconfig, areas: ['images'], preview: true });
  try {
    await s.inspect();
    const facts = s.state('images').inspection.facts as ImageFacts;
    assert.equal(facts.trivyOperator.presence, 'installed');
    assert.equal(facts.trivyOperator.version, '0.32.0');
  } finally {
    await s.close();
  }

  const rb = await runCli(['rollback', '--yes', '--kubeconfig', bed.kubeconfig], { home, env, timeoutMs: 300_000 });
  assert.equal(rb.code, 0, `${rb.stdout}\n${rb.stderr}`);
  assert.match(rb.stdout, /CRDs stay/);
  assert.deepEqual(JSON.parse(String((await h('list', '-A', '-o', 'json')).stdout)), []);
  assert.deepEqual(await cluster.list(await cluster.typeOf('apps/v1', 'Deployment'), { namespace: 'trivy-system' }), []);
});

test('trivy-operator reports (its real CRDs): summary per workload and per image, worst first; config audits beside our findings', async () => {
  await loadCrds(bed.kubeconfig, 'trivy-operator-v0.32.0');
  const rsOf = async (app: string) =>
    (await cluster.list(await cluster.typeOf('apps/v1', 'ReplicaSet'), { namespace: NS, labelSelector: `app=${app}` })).find(
      (r) => (r.spec as { replicas?: number }).replicas,
    )!;
  const report = (kind: string, rs: KubeObject | { kind: string; name: string }, container: string, data: Record<string, unknown>): KubeObject => {
    const name = 'metadata' in rs ? rs.metadata.name : rs.name;
    return {
      apiVersion: 'aquasecurity.github.io/v1alpha1',
      kind,
      metadata: {
        name: `${rs.kind.toLowerCase()}-${name}-${container}`.replace(/-+$/, ''),
        namespace: NS,
        labels: {
          'trivy-operator.resource.kind': rs.kind,
          'trivy-operator.resource.name': name,
          'trivy-operator.resource.namespace': NS,
          'trivy-operator.container.name': container,
        },
      },
      report: data,
    };
  };
  const scanner = { name: 'Trivy', vendor: 'Aqua Security', version: '0.68.1' };
  const v = (id: string, severity: string, fixedVersion: string, score: number) => ({
    vulnerabilityID: id,
    resource: 'openssl',
    installedVersion: '3.0.1',
    fixedVersion,
    severity,
    title: id,
    score,
    links: [],
    primaryLink: '',
    target: '',
    publishedDate: '',
    lastModifiedDate: '',
  });
  const data = (repository: string, tag: string, vulns: ReturnType<typeof v>[]) => ({
    updateTimestamp: new Date().toISOString(),
    scanner,
    registry: { server: repository.startsWith('library/') ? 'index.docker.io' : 'ghcr.io' },
    artifact: { repository, tag },
    os: { family: 'debian' },
    summary: {
      criticalCount: vulns.filter((x) => x.severity === 'CRITICAL').length,
      highCount: vulns.filter((x) => x.severity === 'HIGH').length,
      mediumCount: vulns.filter((x) => x.severity === 'MEDIUM').length,
      lowCount: vulns.filter((x) => x.severity === 'LOW').length,
      unknownCount: 0,
      noneCount: 0,
    },
    vulnerabilities: vulns,
  });
  const web = await rsOf('web');
  const api = await rsOf('api');
  const apiVulns = [
    v('CVE-2024-3', 'HIGH', '', 7.5),
    v('CVE-2024-1', 'CRITICAL', '3.0.9', 9.8),
    v('CVE-2024-2', 'HIGH', '3.0.9', 7.1),
    v('CVE-2024-4', 'LOW', '', 2),
  ];
  for (const r of [
    report('VulnerabilityReport', web, 'app', data('library/nginx', '1.27', [v('CVE-2023-9', 'MEDIUM', '1.27.1', 5)])),
    report('VulnerabilityReport', api, 'app', data('acme/api', '1.2', apiVulns)),
    report('VulnerabilityReport', { kind: 'CronJob', name: 'report' }, 'job', data('acme/api', '1.2', apiVulns)),
    report('ConfigAuditReport', web, '', {
      updateTimestamp: new Date().toISOString(),
      scanner,
      summary: { criticalCount: 0, highCount: 1, mediumCount: 0, lowCount: 0 },
      checks: [{ checkID: 'KSV014', title: 'Root file system is not read-only', severity: 'HIGH', category: 'Kubernetes Security Check', success: false }],
    }),
  ]) {
    await cluster.create(r);
  }
  const { facts, rules } = await inspect();
  assert.equal(facts.trivyOperator.presence, 'crds-only', 'CRDs served, no controller running');
  const w = facts.vulnerabilities.byWorkload.map((x) => [
    `${x.workload.kind}/${x.workload.name}`,
    x.summary.counts.CRITICAL,
    x.summary.counts.HIGH,
    x.summary.counts.MEDIUM,
    x.summary.fixable,
    x.summary.cves[0].id,
  ]);
  assert.deepEqual(w, [
    ['Deployment/api', 1, 2, 0, 2, 'CVE-2024-1'],
    ['CronJob/report', 1, 2, 0, 2, 'CVE-2024-1'],
    ['Deployment/web', 0, 0, 1, 1, 'CVE-2023-9'],
  ]);
  assert.deepEqual(
    facts.vulnerabilities.byWorkload[0].summary.cves.map((c) => c.id),
    ['CVE-2024-1', 'CVE-2024-2', 'CVE-2024-3', 'CVE-2024-4'],
    'critical, then the fixable high before the unfixed one, then low',
  );
  assert.deepEqual(
    facts.vulnerabilities.byImage.map((i) => [i.image, i.workloads.map((x) => x.name).sort(), i.summary.counts.CRITICAL]),
    [
      ['ghcr.io/acme/api:1.2', ['api', 'report'], 1],
      ['docker.io/library/nginx:1.27', ['web'], 0],
    ],
  );
  assert.ok(
    rules.includes('vulnerabilities Deployment/api') && rules.includes('vulnerabilities Deployment/web') && rules.includes('configAudit Deployment/web'),
    rules.join('\n'),
  );
  assert.ok(!rules.some((r) => r.startsWith('noScanner')), 'its CRDs are served: not "no scanner"');
});

test('pin to the digest running now: the digest the pods report (containerStatuses imageID) replaces the tag; rollback puts the tag back', async () => {
  const DIGEST = `sha256:${'c3'.repeat(32)}`;
  await cluster.create(deployment('pinme', 'redis:7', 'IfNotPresent'));
  await waitForRollout(bed.kubeconfig, NS, 'pinme');
  // kwok's simulated kubelet reports no image ids: write the one a real kubelet would.
  for (const p of await cluster.list(await cluster.typeOf('v1', 'Pod'), { namespace: NS, labelSelector: 'app=pinme' })) {
    const status = p.status as { containerStatuses: Array<{ imageID?: string }> };
    status.containerStatuses[0].imageID = `docker.io/library/redis@${DIGEST}`;
    await cluster.rest.request({ method: 'PUT', path: `/api/v1/namespaces/${NS}/pods/${p.metadata.name}/status`, body: p, what: 'set the image id' });
  }
  const { facts } = await inspect();
  assert.deepEqual(facts.images.find((i) => i.raw === 'redis:7')?.running, [DIGEST]);
  const home = tempHome();
  const file = profile('pin', { 'images.policy': false, 'images.fixes': ['pinDigests'], 'images.installTrivyOperator': false });
  const r = await runCli(['apply', '--profile', file, '--yes', '--kubeconfig', bed.kubeconfig], { home, env, timeoutMs: 300_000 });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /deployment\/pinme in shop: pin app to the digest running now/);
  const image = async () =>
    (
      (await cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: NS, name: 'pinme' })).spec as {
        template: { spec: { containers: Array<{ image: string }> } };
      }
    ).template.spec.containers[0].image;
  assert.equal(await image(), `redis:7@${DIGEST}`);
  await waitForRollout(bed.kubeconfig, NS, 'pinme');
  const rb = await runCli(['rollback', '--yes', '--kubeconfig', bed.kubeconfig], { home, env, timeoutMs: 300_000 });
  assert.equal(rb.code, 0, `${rb.stdout}\n${rb.stderr}`);
  assert.equal(await image(), 'redis:7');
});
