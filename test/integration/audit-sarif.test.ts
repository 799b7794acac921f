// `audit --output sarif` through the real CLI against the real API server (bookinfo, unhardened): the
// log validates against the official SARIF 2.1.0 JSON schema (test/fixtures/sarif/), every result's rule
// is declared with help, every result has a location.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { explainSarif, sarifValidator } from '../sarif-schema.js';
import { runCli, seedFixture, tempHome, uniqueNs, withCluster, BOOKINFO } from '../helpers.js';

const t = withCluster();
const namespaces: string[] = [];
after(async () => {
  for (const name of namespaces) await t.cluster?.delete({ apiVersion: 'v1', kind: 'Namespace', name }).catch(() => undefined);
});

interface SarifLog {
  version: string;
  runs: Array<{
    tool: { driver: { name: string; rules: Array<{ id: string; help?: { text?: string } }> } };
    results: Array<{
      ruleId: string;
      level: string;
      message: { text: string };
      locations?: Array<{ logicalLocations?: Array<{ fullyQualifiedName?: string }>; physicalLocation?: unknown }>;
    }>;
  }>;
}

test('audit --output sarif on bookinfo: valid SARIF 2.1.0, every result declared, with help and a location', async () => {
  const ns = uniqueNs('sarif');
  namespaces.push(ns);
  await seedFixture(t.bed, BOOKINFO, ns);

  const r = await runCli(['audit', '--output', 'sarif', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns], { home: tempHome() });
  assert.equal(r.code, 0, r.stderr);
  const log = JSON.parse(r.stdout) as SarifLog;

  const errors = sarifValidator()(log);
  assert.deepEqual(errors, [], explainSarif(errors));

  assert.equal(log.version, '2.1.0');
  assert.equal(log.runs.length, 1);
  const run = log.runs[0];
  assert.equal(run.tool.driver.name, 'kube-harden');
  const ids = run.tool.driver.rules.map((x) => x.id);
  assert.equal(new Set(ids).size, ids.length, 'rule ids are unique');
  assert.ok(new Set(ids.map((id) => id.split('/')[0])).size >= 3, `rules of several areas: ${ids.join(', ')}`);
  for (const rule of run.tool.driver.rules) assert.ok(rule.help?.text?.trim(), `rule ${rule.id} has help text`);
  assert.ok(run.results.length > 0, 'bookinfo is unhardened: there are findings');
  for (const res of run.results) {
    assert.ok(ids.includes(res.ruleId), `result's rule ${res.ruleId} is declared in tool.driver.rules`);
    assert.ok(res.locations?.length, `result ${res.ruleId} (${res.message.text}) has a location`);
    for (const l of res.locations!) assert.ok(l.physicalLocation || l.logicalLocations?.length, `result ${res.ruleId} names where`);
  }
  // bookinfo's own deployments are among the results, named by namespace, kind and name.
  const where = run.results.flatMap((res) => res.locations!.flatMap((l) => l.logicalLocations?.map((x) => x.fullyQualifiedName) ?? []));
  for (const d of ['productpage-v1', 'details-v1', 'ratings-v1']) {
    assert.ok(
      where.some((w) => w?.includes(`/${ns}/Deployment/${d}`)),
      `a result for deployment ${d}: ${where.slice(0, 5).join(', ')}…`,
    );
  }
});
