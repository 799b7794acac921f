// audit --fail-on as a CI gate: exit 1 while kube-harden can fix something at that severity, 0 once a
// hardening run left only findings that need a person (which --include-manual counts too).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli, tempHome, uniqueNs, withCluster } from '../helpers.js';

const t = withCluster();

test('audit --fail-on high: 1 before hardening, 0 after apply --profile restricted where only findings needing a person remain', async () => {
  const ns = uniqueNs('gate');
  await t.cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await t.cluster.create({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'logs', namespace: ns },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'logs' } },
      template: {
        metadata: { labels: { app: 'logs' } },
        spec: {
          containers: [{ name: 'app', image: 'registry.example/app:1', volumeMounts: [{ name: 'v', mountPath: '/v' }] }],
          volumes: [{ name: 'v', hostPath: { path: '/var/log' } }],
        },
      },
    },
  });
  const home = tempHome();
  const args = ['audit', '--fail-on', 'high', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns, '--areas', 'workloads'];
  const before = await runCli(args, { home });
  assert.equal(before.code, 1, before.stderr);
  assert.match(before.stderr, /--fail-on high: \d+ finding\(s\) fail the run \(1 more need a person/);

  const applied = await runCli(['apply', '--profile', 'restricted', '--yes', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns, '--areas', 'workloads'], {
    home,
    timeoutMs: 300_000,
  });
  assert.equal(applied.code, 0, applied.stderr);
  const after = await runCli([...args, '--output', 'json'], { home });
  assert.equal(after.code, 0, after.stderr);
  const high = (JSON.parse(after.stdout) as { findings: Array<{ severity: string; fixable: boolean; manual?: string }> }).findings.filter(
    (f) => f.severity === 'high' || f.severity === 'critical',
  );
  assert.ok(high.length > 0 && high.every((f) => !f.fixable && f.manual), JSON.stringify(high));
  const strict = await runCli([...args, '--include-manual'], { home });
  assert.equal(strict.code, 1);
});
