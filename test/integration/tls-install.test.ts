// The tls area on a cluster without cert-manager (a private bed, the real helm built from helm.sh/helm/v3,
// the real cert-manager v1.21.2 chart packaged from its module): `apply --profile --preview` and the
// wizard's --preview offer the install, show the exact helm command and the objects `helm template`
// renders, and run nothing that writes (helm's own calls logged by a wrapper, the API server's audit log);
// `apply --yes` installs it with helm; rollback uninstalls it and says the CRDs stay.
// The chart's webhook blocks cert-manager objects here (no webhook pod really runs on kwok), so this file
// installs the chart only; issuers and certificates are in tls-issuance.test.ts, on a bed with the CRDs
// and cert-manager's real controllers and no webhook.
// npx node --import tsx --test --test-timeout=900000 test/integration/tls-install.test.ts
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import type { TlsFacts } from '../../src/areas/tls/facts.js';
import type { Inspection } from '../../src/areas/types.js';
import { Cluster } from '../../src/cluster/client.js';
import { Session } from '../../src/session.js';
import { CERT_MANAGER_VERSION, certManagerChart, helmEnv } from '../cluster/cert-manager.js';
import { down, privateTestbed, type Testbed } from '../cluster/testbed.js';
import { ensureTool, pathWith } from '../cluster/tools.js';
import { spawnCli } from '../e2e/pty.js';
import { auditOffset, auditSince, MUTATING, runCli, tempHome } from '../helpers.js';

let bed: Testbed;
let cluster: Cluster;
let helm: string;
let chart: string;
let env: Record<string, string>;
let helmLog: string;
let profile: string;
const work = mkdtempSync(path.join(os.tmpdir(), 'kube-harden-tls-install-'));

before(async () => {
  [helm, chart] = [await ensureTool('helm'), await certManagerChart()];
  bed = await privateTestbed();
  cluster = await Cluster.connect({ kubeconfig: bed.kubeconfig });
  // A helm that logs every call, in front of the real one: what kube-harden ran, exactly.
  const bin = path.join(work, 'bin');
  helmLog = path.join(work, 'helm-calls.log');
  mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(bin, 'helm'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${helmLog}'\nexec '${helm}' "$@"\n`);
  chmodSync(path.join(bin, 'helm'), 0o755);
  env = { PATH: `${bin}:${await pathWith('helm')}`, ...helmEnv(path.join(work, 'helm')) };
  // The in-process session below finds the same helm.
  Object.assign(process.env, env);
  profile = path.join(work, 'tls-install.yaml');
  // The chart answered with the local .tgz (no network here); no issuer: the chart's webhook has no pod behind it.
  writeFileSync(profile, `version: 2\nname: tls-install\nareas: [tls]\nanswers:\n  tls.install: helm\n  tls.chart: ${chart}\n  tls.issuer: none\n`);
  writeFileSync(profile.replace(/\.yaml$/, '-defaults.yaml'), 'version: 2\nname: tls-defaults\nareas: [tls]\nanswers: {}\n');
});
after(async () => {
  await cluster?.close();
  if (bed) await down({ dir: bed.dir });
});

const helmCalls = (): string[] => {
  try {
    return readFileSync(helmLog, 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
};
const resetHelmLog = () => writeFileSync(helmLog, '');
/** Read-only helm commands (the preview guard's list), and the server-side dry-run of the install. */
const readOnlyHelm = (call: string) =>
  /^(version|list|template|status|get|history|show) /.test(call) || (/^upgrade /.test(call) && /--dry-run=server/.test(call));

function assertNothingWritten(offset: number, home: string) {
  const writers = auditSince(bed, offset).filter(
    (e) => e.stage === 'ResponseComplete' && (e.userAgent?.startsWith('kube-harden/') || e.userAgent?.startsWith('Helm/')) && MUTATING.has(e.verb),
  );
  assert.deepEqual(
    writers.filter((e) => !/[?&]dryRun=All(&|$)/.test(e.requestURI)).map((e) => `${e.userAgent} ${e.verb} ${e.requestURI}`),
    [],
  );
  assert.deepEqual(readdirSync(home), [], 'preview wrote local state');
}

async function assertNotInstalled() {
  assert.equal(await cluster.serves('cert-manager.io/v1', 'Certificate'), false);
  assert.equal(await cluster.tryGet({ apiVersion: 'v1', kind: 'Namespace', name: 'cert-manager' }), undefined);
}

const command = () =>
  `helm upgrade --install cert-manager ${chart} --namespace cert-manager --version ${CERT_MANAGER_VERSION} --create-namespace --set crds.enabled=true`;

test('without helm on PATH: the finding says how to get helm or apply the static manifest, and the install is not planned', async () => {
  const home = tempHome();
  const noHelm = { PATH: '/usr/bin:/bin' };
  const audit = await runCli(['audit', '--areas', 'tls', '--kubeconfig', bed.kubeconfig], { home, env: noHelm });
  assert.equal(audit.code, 0, audit.stderr);
  assert.match(
    audit.stdout,
    /MEDIUM +cert-manager\/cert-manager \(cert-manager\) +cert-manager is not installed \(the cert-manager\.io API is not served\) \[manual\]/,
  );
  const json = await runCli(['audit', '--areas', 'tls', '--output', 'json', '--kubeconfig', bed.kubeconfig], { home, env: noHelm });
  const missing = (JSON.parse(json.stdout) as { findings: Array<{ rule: string; fixable: boolean; manual?: string }> }).findings.find(
    (f) => f.rule === 'certManagerMissing',
  );
  assert.equal(missing?.fixable, false);
  assert.match(missing?.manual ?? '', /helm is not on PATH: install helm \(https:\/\/helm\.sh\/docs\/intro\/install\//);
  assert.match(missing?.manual ?? '', /kubectl apply -f https:\/\/github\.com\/cert-manager\/cert-manager\/releases\/download\/v1\.21\.2\/cert-manager\.yaml/);
  // The default answer is not to install; a profile that asks for helm gets the dry-run's answer: helm is missing, and how to get it.
  const dflt = await runCli(['apply', '--profile', profile.replace(/\.yaml$/, '-defaults.yaml'), '--preview', '--kubeconfig', bed.kubeconfig], {
    home,
    env: noHelm,
  });
  assert.equal(dflt.code, 0, dflt.stderr);
  assert.match(dflt.stdout, /nothing to change/);
  const asked = await runCli(['apply', '--profile', profile, '--preview', '--kubeconfig', bed.kubeconfig], { home, env: noHelm });
  assert.equal(asked.code, 1, asked.stdout);
  assert.match(asked.stdout, /✗ dry-run failed\n {4}error: helm is not on PATH: install it \(https:\/\/helm\.sh\/docs\/intro\/install\/\)/);
  await assertNotInstalled();
});

test('apply --profile --preview: the install offered as the exact helm command and the rendered chart; nothing runs that writes', async () => {
  const home = tempHome();
  resetHelmLog();
  const offset = auditOffset(bed);
  const r = await runCli(['apply', '--profile', profile, '--preview', '--diff', '--kubeconfig', bed.kubeconfig], { home, env, timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(
    r.stdout.includes(`+ helm release cert-manager in cert-manager: install cert-manager v1.21.2 with its CRDs: ${command()} [medium risk] ✓ dry-run ok\n`),
    r.stdout.slice(0, 400),
  );
  assert.ok(r.stdout.includes(`+# ${command()}\n`), 'the exact command');
  // The objects helm template renders: the six CRDs, the three Deployments, the webhooks.
  for (const crd of ['certificates', 'certificaterequests', 'issuers', 'clusterissuers', 'orders', 'challenges']) {
    assert.match(r.stdout, new RegExp(`\\+  name: "${crd}\\.(acme\\.)?cert-manager\\.io"`), crd);
  }
  for (const d of ['cert-manager', 'cert-manager-cainjector', 'cert-manager-webhook'])
    assert.match(r.stdout, new RegExp(`\\+# Source: cert-manager/templates/.*deployment\\.yaml[\\s\\S]*?\\+  name: ${d}\\n`));
  assert.match(r.stdout, /\+kind: ValidatingWebhookConfiguration/);
  assert.match(r.stdout, /preview only: 1 change\(s\), 0 failed the dry-run; nothing was written/);
  assert.match(r.stdout, /tls: cert-manager v1\.21\.2: helm release cert-manager in cert-manager\n {4}helm upgrade --install cert-manager /);
  assert.match(r.stdout, / {4}renders .*6 CustomResourceDefinition.*3 Deployment.*1 ValidatingWebhookConfiguration/);
  assert.match(r.stdout, / {4}rollback: helm uninstall removed cert-manager, but the chart keeps its six CRDs/);
  const calls = helmCalls();
  assert.ok(
    calls.some((c) => c.startsWith('template cert-manager ') && c.includes('--kube-version v1.34.4')),
    calls.join('\n'),
  );
  assert.ok(
    calls.some((c) => c.startsWith('upgrade --install cert-manager ') && c.includes('--dry-run=server')),
    calls.join('\n'),
  );
  assert.deepEqual(
    calls.filter((c) => !readOnlyHelm(c)),
    [],
    'only read-only helm commands',
  );
  assertNothingWritten(offset, home);
  await assertNotInstalled();
});

test('the wizard --preview walks the install questions and shows the command and the rendered objects; nothing written', async () => {
  const home = tempHome();
  resetHelmLog();
  const offset = auditOffset(bed);
  const term = spawnCli(['--preview', '--kubeconfig', bed.kubeconfig, '--areas', 'tls', '--profile', profile], { KUBE_HARDEN_HOME: home, ...env });
  await term.waitFor(/Which areas should the session walk\?/);
  await term.waitFor(/\[x\] TLS certificates \(tls\)/);
  await term.write('\r');
  for (const q of [
    'cert-manager is not installed: install it?',
    'cert-manager chart',
    'cert-manager version',
    'Which ClusterIssuer should issue certificates?',
  ]) {
    await term.waitFor(q);
    term.mark();
    await term.write('\r');
  }
  await term.waitFor(/TLS certificates: 1 change/, 120_000);
  const plan = await term.waitFor(/# helm upgrade --install cert-manager/);
  assert.match(plan, /install\s+helm release cert-manager in cert-manager/);
  await term.waitFor(/kind: ServiceAccount/);
  // The whole rendered chart is there to scroll: its end is the last rendered object.
  term.mark();
  await term.write('G');
  await term.waitFor(/diff · lines \d+–\d{4,} of \d{4,}/);
  term.mark();
  await term.write('\r');
  await term.waitFor(/Review: 1 change across 1 area/);
  term.mark();
  await term.write('\r');
  await term.waitFor(/Save these answers as a profile/);
  await term.write('\r');
  await term.waitFor(/Preview only/);
  const { exitCode } = await term.exit;
  assert.equal(exitCode, 0, term.text().slice(-2000));
  assert.ok(term.text().replace(/\s+/g, ' ').includes(command()), 'the exact command on screen');
  const calls = helmCalls();
  assert.ok(calls.length > 0);
  assert.deepEqual(
    calls.filter((c) => !readOnlyHelm(c)),
    [],
    'only read-only helm commands',
  );
  assertNothingWritten(offset, home);
  await assertNotInstalled();
});

test('apply --yes installs cert-manager with the real helm; audit then finds it; rollback uninstalls it and says the CRDs stay', async () => {
  const home = tempHome();
  resetHelmLog();
  const r = await runCli(['apply', '--profile', profile, '--yes', '--kubeconfig', bed.kubeconfig], { home, env, timeoutMs: 600_000 });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /applied 1 change\(s\) in [\d.]+ s; 1 finding\(s\) fixed/);
  const id = /undo with: kube-harden rollback (\S+)/.exec(r.stdout)?.[1];
  assert.ok(id, r.stdout);
  const installs = helmCalls().filter((c) => !readOnlyHelm(c));
  assert.deepEqual(
    installs.map((c) => c.replace(/ --kubeconfig .*$/, '')),
    [`upgrade --install cert-manager ${chart} --namespace cert-manager --version v1.21.2 --values - --create-namespace --wait --timeout 10m`],
  );

  const h = (...args: string[]) => execa(helm, [...args, '--kubeconfig', bed.kubeconfig], { env: helmEnv(path.join(work, 'helm')) });
  const releases = JSON.parse(String((await h('list', '-n', 'cert-manager', '-o', 'json')).stdout)) as Array<Record<string, string>>;
  assert.deepEqual(
    releases.map((x) => [x.name, x.status, x.chart]),
    [['cert-manager', 'deployed', 'cert-manager-v1.21.2']],
  );
  assert.equal(await cluster.serves('cert-manager.io/v1', 'ClusterIssuer'), true);
  const deployments = await cluster.list(await cluster.typeOf('apps/v1', 'Deployment'), { namespace: 'cert-manager' });
  assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), ['cert-manager', 'cert-manager-cainjector', 'cert-manager-webhook']);

  // The area now sees it: its controller, version and Helm release, and that it has no issuer yet.
  const session = await Session.open({ kubeconfig: bed.kubeconfig, areas: ['tls'], preview: true });
  try {
    await session.inspect();
    const ins = session.state('tls').inspection as Inspection<TlsFacts>;
    const cm = ins.facts.certManager;
    assert.equal(cm.state, 'installed');
    assert.deepEqual(
      { ...cm.controller, image: undefined },
      { namespace: 'cert-manager', name: 'cert-manager', image: undefined, version: 'v1.21.2', available: true, clusterResourceNamespace: 'cert-manager' },
    );
    assert.equal(cm.controller?.image, 'quay.io/jetstack/cert-manager-controller:v1.21.2');
    assert.deepEqual([cm.release?.name, cm.release?.revision, cm.release?.status, cm.release?.appVersion], ['cert-manager', 1, 'deployed', 'v1.21.2']);
    assert.ok(
      ins.notes?.some((n) => n.startsWith('cert-manager v1.21.2 (deployment cert-manager/cert-manager, available), helm release cert-manager revision 1')),
      ins.notes?.join('\n'),
    );
  } finally {
    await session.close();
  }
  const audit = await runCli(['audit', '--areas', 'tls', '--output', 'json', '--kubeconfig', bed.kubeconfig], { home, env });
  assert.equal(audit.code, 0, audit.stderr);
  const findings = (JSON.parse(audit.stdout) as { findings: Array<{ rule: string }> }).findings.map((f) => f.rule);
  assert.deepEqual(findings, ['noIssuer']);

  resetHelmLog();
  const rb = await runCli(['rollback', id, '--yes', '--kubeconfig', bed.kubeconfig], { home, env, timeoutMs: 300_000 });
  assert.equal(rb.code, 0, `${rb.stdout}\n${rb.stderr}`);
  assert.match(rb.stdout, /note: helm uninstall removed cert-manager, but the chart keeps its six CRDs/);
  assert.deepEqual(
    helmCalls()
      .filter((c) => !readOnlyHelm(c))
      .map((c) => c.replace(/ --kubeconfig .*$/, '')),
    ['uninstall cert-manager --namespace cert-manager --wait'],
  );
  assert.deepEqual(JSON.parse(String((await h('list', '-A', '-o', 'json')).stdout)), []);
  assert.deepEqual(await cluster.list(await cluster.typeOf('apps/v1', 'Deployment'), { namespace: 'cert-manager' }), []);
  // What the note says: the CRDs stay (and the namespace helm created).
  assert.equal(await cluster.serves('cert-manager.io/v1', 'Certificate'), true);
  assert.ok(await cluster.tryGet({ apiVersion: 'v1', kind: 'Namespace', name: 'cert-manager' }));
});

test('after that rollback (CRDs kept, no controller) the area says so and installs it again; the chart adopts its CRDs', async () => {
  const home = tempHome();
  const audit = await runCli(['audit', '--areas', 'tls', '--output', 'json', '--kubeconfig', bed.kubeconfig], { home, env });
  assert.equal(audit.code, 0, audit.stderr);
  const findings = (JSON.parse(audit.stdout) as { findings: Array<{ rule: string; fixable: boolean; message: string }> }).findings;
  assert.deepEqual(
    findings.map((f) => [f.rule, f.fixable]),
    [
      ['certManagerUnavailable', true],
      ['noIssuer', true],
    ],
  );
  assert.match(findings[0].message, /CRDs are installed \(kept by a helm uninstall\) but its controller is not/);
  const r = await runCli(['apply', '--profile', profile, '--yes', '--kubeconfig', bed.kubeconfig], { home, env, timeoutMs: 600_000 });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /applied 1 change\(s\) in [\d.]+ s; 1 finding\(s\) fixed/);
  const deployments = await cluster.list(await cluster.typeOf('apps/v1', 'Deployment'), { namespace: 'cert-manager' });
  assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), ['cert-manager', 'cert-manager-cainjector', 'cert-manager-webhook']);
  const id = /undo with: kube-harden rollback (\S+)/.exec(r.stdout)?.[1];
  const rb = await runCli(['rollback', id!, '--yes', '--kubeconfig', bed.kubeconfig], { home, env, timeoutMs: 300_000 });
  assert.equal(rb.code, 0, `${rb.stdout}\n${rb.stderr}`);
  assert.deepEqual(await cluster.list(await cluster.typeOf('apps/v1', 'Deployment'), { namespace: 'cert-manager' }), []);
});
