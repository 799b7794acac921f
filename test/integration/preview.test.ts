// --preview provably writes nothing: the API server's own audit log shows no mutating request from
// kube-harden without dryRun=All, and the data directory stays empty.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { before, test } from 'node:test';
import { auditOffset, auditSince, MUTATING, runCli, seedFixture, sharedTestbed, tempHome, uniqueNs, type Testbed, BOOKINFO } from '../helpers.js';

let bed: Testbed;
before(async () => {
  bed = await sharedTestbed();
});

test('apply --preview and audit send no mutating request without dryRun and write no local state', async () => {
  const ns = uniqueNs('preview');
  await seedFixture(bed, BOOKINFO, ns);
  const home = tempHome();
  const offset = auditOffset(bed);

  const preview = await runCli(['apply', '--profile', 'restricted', '--areas', 'workloads', '--preview', '--kubeconfig', bed.kubeconfig, '--namespaces', ns], {
    home,
  });
  assert.equal(preview.code, 0, preview.stderr);
  assert.match(preview.stdout, /preview only: 7 change\(s\)/);
  assert.match(preview.stdout, /\+\s+allowPrivilegeEscalation: false/);
  const audit = await runCli(['audit', '--kubeconfig', bed.kubeconfig, '--namespaces', ns, '--output', 'json'], { home });
  assert.equal(audit.code, 0, audit.stderr);

  const ours = auditSince(bed, offset).filter((e) => e.userAgent?.startsWith('kube-harden/') && e.stage === 'ResponseComplete');
  const mutating = ours.filter((e) => MUTATING.has(e.verb));
  const dryRuns = mutating.filter((e) => /[?&]dryRun=All(&|$)/.test(e.requestURI));
  assert.ok(ours.length > 10, `expected kube-harden requests in the audit log, saw ${ours.length}`);
  assert.ok(dryRuns.length >= 7, 'the preview must have dry-run every change on the server');
  assert.deepEqual(
    mutating.filter((e) => !/[?&]dryRun=All(&|$)/.test(e.requestURI)).map((e) => `${e.verb} ${e.requestURI}`),
    [],
  );
  assert.deepEqual(readdirSync(home), [], 'preview wrote local state');
});
