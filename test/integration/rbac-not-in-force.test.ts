// "Is RBAC in force?" probes behaviour, not configuration: on a test bed whose API server authorizes
// with AlwaysAllow and does not serve rbac.authorization.k8s.io, the rbac area reports that the RBAC API
// is not served and that a made-up user and system:anonymous are allowed secrets, pods/exec and *, with
// no binding to explain it (so nothing a binding change could fix), instead of crashing on the missing API.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Finding } from '../../src/areas/types.js';
import { down, privateTestbed, type Testbed } from '../cluster/testbed.js';
import { runCli, tempHome } from '../helpers.js';

let bed: Testbed;
before(async () => {
  bed = await privateTestbed({
    apiserverArgs: ['--authorization-mode=AlwaysAllow', '--runtime-config=rbac.authorization.k8s.io/v1=false'],
  });
});
after(() => (bed ? down({ dir: bed.dir }) : undefined));

test('AlwaysAllow without the RBAC API: rbacApiServed, unknownUserAllowed and anonymousAllowed, each needing a person', async () => {
  const r = await runCli(['audit', '--output', 'json', '--areas', 'rbac', '--kubeconfig', bed.kubeconfig, '--namespaces', 'default'], { home: tempHome() });
  assert.equal(r.code, 0, r.stderr);
  const findings = (JSON.parse(r.stdout) as { findings: Finding[] }).findings;
  const rules = (rule: string) => findings.filter((f) => f.rule === rule);
  assert.equal(rules('rbacApiServed').length, 1);
  assert.equal(rules('unknownUserAllowed').length, 3);
  assert.equal(rules('anonymousAllowed').length, 3);
  for (const f of [...rules('rbacApiServed'), ...rules('unknownUserAllowed'), ...rules('anonymousAllowed')]) {
    assert.equal(f.fixable, false, f.message);
    assert.ok(f.manual, f.message);
  }
  assert.match(rules('anonymousAllowed').find((f) => /get secrets/.test(f.message))!.message, /no RBAC binding explains it: another authorizer allows it/);
  // Nothing else: no grant findings from a cluster without roles and bindings.
  assert.deepEqual(
    findings.filter((f) => !['rbacApiServed', 'unknownUserAllowed', 'anonymousAllowed', 'defaultServiceAccountAutomount'].includes(f.rule)),
    [],
  );
});
