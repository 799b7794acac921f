// apply --out DIR: the plan as a kustomization (new manifests, JSON patches against the live objects, a
// README); the API server accepts it with `kubectl apply -k DIR --dry-run=server`, and the cluster is untouched.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { auditOffset, auditSince, MUTATING, namespaceState, runCli, seedFixture, tempHome, uniqueNs, withCluster, BOOKINFO } from '../helpers.js';

const t = withCluster();

test('apply --out writes a kustomization the API server accepts, and writes nothing to the cluster', async (tt) => {
  const ns = uniqueNs('out');
  await seedFixture(t.bed, BOOKINFO, ns);
  const before = await namespaceState(t.cluster, ns);
  const home = tempHome();
  const dir = path.join(home, 'plan');
  const offset = auditOffset(t.bed);
  const r = await runCli(['apply', '--profile', 'restricted', '--areas', 'workloads', '--out', dir, '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns], {
    home,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /the plan was written to .*\(0 new manifest\(s\), 7 patch\(es\)\); nothing was written to the cluster/);
  const writes = auditSince(t.bed, offset).filter(
    (e) => e.userAgent?.startsWith('kube-harden/') && MUTATING.has(e.verb) && e.stage === 'ResponseComplete' && !/dryRun=All/.test(e.requestURI),
  );
  assert.deepEqual(
    writes.map((w) => `${w.verb} ${w.requestURI}`),
    [],
  );
  assert.ok(!existsSync(path.join(home, 'snapshots')), 'no snapshot: nothing to undo');

  const k = parse(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'));
  assert.equal(k.kind, 'Kustomization');
  assert.equal(k.patches.length, 7);
  const patch = parse(readFileSync(path.join(dir, 'patches', `deployment-${ns}-productpage-v1.yaml`), 'utf8')) as Array<{
    op: string;
    path: string;
    value: unknown;
  }>;
  assert.ok(
    patch.some((p) => p.op === 'add' && p.path === '/spec/template/spec/containers/0/securityContext'),
    JSON.stringify(patch),
  );
  assert.match(readFileSync(path.join(dir, 'README.md'), 'utf8'), /\| patch deployment\/productpage-v1 in .* \| set allowPrivilegeEscalation=false/);
  assert.ok(readdirSync(path.join(dir, 'base')).length >= 7);

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  if (kubectl.status !== 0) return tt.skip('kubectl is not on PATH');
  const dry = spawnSync('kubectl', ['apply', '-k', dir, '--dry-run=server', '--kubeconfig', t.bed.kubeconfig], { encoding: 'utf8' });
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /deployment\.apps\/productpage-v1 configured \(server dry run\)/);
  assert.deepEqual(await namespaceState(t.cluster, ns), before, 'the cluster is untouched');
});

test('--out with --preview is a usage error', async () => {
  const r = await runCli(['apply', '--profile', 'restricted', '--areas', 'workloads', '--out', '/tmp/x', '--preview', '--kubeconfig', t.bed.kubeconfig], {
    home: tempHome(),
  });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--out writes the plan to files/);
});
