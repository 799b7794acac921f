// The local scan with the real trivy (v0.74.0, built from the Go module proxy) on PATH and no
// vulnerability database (it cannot download one here): `audit --scan-images` reports every image as
// not scanned, with the reason, in seconds, and the audit goes on (exit 0, the other findings intact,
// trivy's summary kept for CI, the results in SARIF). Without trivy on PATH it says how to get it; and
// without --scan-images trivy is never run.
// npx node --import tsx --test --test-timeout=900000 test/integration/images-scan.test.ts
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ensureNamespace, waitForRollout } from '../cluster/kube.js';
import { ensureTool } from '../cluster/tools.js';
import { runCli, tempHome, uniqueNs, withCluster } from '../helpers.js';

const ctx = withCluster();
const ns = uniqueNs('img-scan');
const IMAGES = ['nginx:1.25', 'ghcr.io/acme/api:1.2', 'busybox:1.36'];
let trivyDir: string;

interface Finding {
  rule: string;
  ref: { kind: string; name: string };
  message: string;
  severity: string;
}

let ready: Promise<void> | undefined;
/** The namespace and its workloads, once (after withCluster's own setup). */
const setup = () => (ready ??= prepare());
async function prepare(): Promise<void> {
  trivyDir = path.dirname(await ensureTool('trivy'));
  await ensureNamespace(ctx.bed.kubeconfig, ns);
  for (const [i, image] of IMAGES.entries()) {
    await ctx.cluster.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `app${i}`, namespace: ns },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: `app${i}` } },
        template: { metadata: { labels: { app: `app${i}` } }, spec: { containers: [{ name: 'c', image }] } },
      },
    });
  }
  await waitForRollout(ctx.bed.kubeconfig, ns, 'app0');
}

const base = () => ['audit', '--areas', 'images', '--namespaces', ns, '--kubeconfig', ctx.bed.kubeconfig];
// An empty trivy cache: no database, whatever this machine has elsewhere.
const trivyEnv = () => ({ PATH: `${trivyDir}${path.delimiter}${process.env.PATH}`, TRIVY_CACHE_DIR: mkdtempSync(path.join(os.tmpdir(), 'trivy-cache-')) });

test('real trivy, no database: each image not scanned with the reason, in seconds; the audit goes on; summary kept; SARIF', async (t) => {
  await setup();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kube-harden-scan-'));
  const r = await runCli([...base(), '--scan-images', '--scan-dir', dir, '--output', 'json'], { home: tempHome(), env: trivyEnv(), timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.ms < 30_000, `took ${r.ms} ms`);
  t.diagnostic(`audit --scan-images of ${IMAGES.length} images without a database: ${r.ms} ms in all`);
  const findings = (JSON.parse(r.stdout) as { findings: Finding[] }).findings;
  const notScanned = findings.filter((f) => f.rule === 'imageNotScanned');
  assert.deepEqual(notScanned.map((f) => f.ref.name).sort(), [...IMAGES].sort());
  for (const f of notScanned) {
    assert.equal(f.ref.kind, 'Image');
    assert.match(f.message, /^not scanned: no vulnerability database: trivy could not download it/);
  }
  // The rest of the audit is intact.
  assert.ok(findings.some((f) => f.rule === 'notPinned'));
  // Progress per image on stderr.
  assert.match(r.stderr, /trivy 3\/3 /);
  const summary = JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8')) as { images: Array<{ image: string; status: string; reason: string }> };
  assert.deepEqual(
    summary.images.map((i) => [i.image, i.status]),
    [
      ['busybox:1.36', 'not-scanned'],
      ['ghcr.io/acme/api:1.2', 'not-scanned'],
      ['nginx:1.25', 'not-scanned'],
    ],
  );

  const sarif = await runCli([...base(), '--scan-images', '--output', 'sarif'], { home: tempHome(), env: trivyEnv(), timeoutMs: 120_000 });
  assert.equal(sarif.code, 0, sarif.stderr);
  const results = (JSON.parse(sarif.stdout) as { runs: Array<{ results: Array<{ ruleId: string }>; tool: { driver: { rules: Array<{ id: string }> } } }> })
    .runs[0];
  assert.equal(results.results.filter((x) => x.ruleId === 'images/imageNotScanned').length, 3);
  assert.ok(results.tool.driver.rules.some((x) => x.id === 'images/imageVulnerabilities'));
});

test('trivy missing: each image says how to get it; without --scan-images trivy is never run', async () => {
  await setup();
  const noTrivy = { PATH: '/usr/bin:/bin' };
  const r = await runCli([...base(), '--scan-images', '--output', 'json'], { home: tempHome(), env: noTrivy, timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const findings = (JSON.parse(r.stdout) as { findings: Finding[] }).findings.filter((f) => f.rule === 'imageNotScanned');
  assert.equal(findings.length, 3);
  assert.ok(findings.every((f) => /trivy is not on PATH: install it/.test(f.message)));

  // No flag: a trivy on PATH is not run (a stand-in that would leave a mark proves it).
  const standIn = mkdtempSync(path.join(os.tmpdir(), 'no-scan-'));
  const marker = path.join(standIn, 'ran');
  writeFileSync(path.join(standIn, 'trivy'), `#!/bin/sh\ntouch '${marker}'\nexit 1\n`);
  chmodSync(path.join(standIn, 'trivy'), 0o755);
  const plain = await runCli([...base(), '--output', 'json'], { home: tempHome(), env: { PATH: `${standIn}:/usr/bin:/bin` }, timeoutMs: 120_000 });
  assert.equal(plain.code, 0, plain.stderr);
  assert.deepEqual(
    (JSON.parse(plain.stdout) as { findings: Finding[] }).findings.filter((f) => f.rule === 'imageNotScanned' || f.rule === 'imageVulnerabilities'),
    [],
  );
  assert.equal(existsSync(marker), false);
});
