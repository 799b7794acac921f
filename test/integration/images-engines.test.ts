// When Kyverno or Gatekeeper is installed (their real CRDs, and a controller Deployment of theirs), the
// images area says so and offers the rule in their form rather than a second policy engine: the Kyverno
// ClusterPolicy (validate.cel) and the Gatekeeper ConstraintTemplate pass the API server's validation
// against the real CRD schemas (Kyverno v1.18.2, Gatekeeper v3.22.2) in the preview, and the ClusterPolicy
// is created and rolled back. No Kyverno or Gatekeeper controller really runs here (the nodes are
// simulated): what they do with the rule at admission is not tested.
// npx node --import tsx --test --test-timeout=900000 test/integration/images-engines.test.ts
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/cluster/client.js';
import type { ImageFacts } from '../../src/areas/images/inspect.js';
import { Session } from '../../src/session.js';
import { ensureNamespace, loadCrds } from '../cluster/kube.js';
import { down, privateTestbed, type Testbed } from '../cluster/testbed.js';
import { runCli, tempHome } from '../helpers.js';

let bed: Testbed;
let cluster: Cluster;
const work = mkdtempSync(path.join(os.tmpdir(), 'kube-harden-engines-'));

const controller = (ns: string, name: string, image: string, labels: Record<string, string>) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns, labels },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } },
  },
});

before(async () => {
  bed = await privateTestbed();
  cluster = await Cluster.connect({ kubeconfig: bed.kubeconfig });
  await ensureNamespace(bed.kubeconfig, 'shop');
  await cluster.create(controller('shop', 'web', 'nginx:1.27', {}));
});
after(async () => {
  await cluster?.close();
  if (bed) await down({ dir: bed.dir });
});

async function facts(): Promise<{ facts: ImageFacts; questions: string[]; notes: string[] }> {
  const s = await Session.open({ kubeconfig: bed.kubeconfig, areas: ['images'], preview: true });
  try {
    await s.inspect();
    const st = s.state('images');
    return {
      facts: st.inspection.facts as ImageFacts,
      questions: st.questions.map((q) => `${q.id}=${JSON.stringify(q.default)}`),
      notes: st.inspection.notes ?? [],
    };
  } finally {
    await s.close();
  }
}

const profile = (name: string, answers: Record<string, unknown>) => {
  const file = path.join(work, `${name}.yaml`);
  writeFileSync(file, JSON.stringify({ version: 2, name, areas: ['images'], answers: { 'images.policy': true, 'images.mode': 'warn', ...answers } }));
  return file;
};

test('Kyverno: CRDs alone are not "installed"; with its controller the rule is offered as a ClusterPolicy, validated by the real CRD schema, created and rolled back', async () => {
  await loadCrds(bed.kubeconfig, 'kyverno-v1.18.2');
  assert.equal((await facts()).facts.engines.kyverno.presence, 'crds-only');
  await ensureNamespace(bed.kubeconfig, 'kyverno');
  await cluster.create(
    controller('kyverno', 'kyverno-admission-controller', 'reg.kyverno.io/kyverno/kyverno:v1.18.2', {
      'app.kubernetes.io/part-of': 'kyverno',
      'app.kubernetes.io/component': 'admission-controller',
    }),
  );
  const f = await facts();
  assert.equal(f.facts.engines.kyverno.presence, 'installed');
  assert.ok(f.questions.includes('images.engine="kyverno"'), f.questions.join('\n'));
  assert.ok(f.notes.some((n) => /Kyverno is installed \(kyverno\/kyverno-admission-controller\): the image rule is offered as a ClusterPolicy/.test(n)));

  const home = tempHome();
  const file = profile('kyverno', { 'images.engine': 'kyverno' });
  const pre = await runCli(['apply', '--profile', file, '--preview', '--kubeconfig', bed.kubeconfig], { home });
  assert.equal(pre.code, 0, `${pre.stdout}\n${pre.stderr}`);
  assert.match(pre.stdout, /clusterpolicy\/kube-harden-images.*✓ dry-run ok/);
  assert.doesNotMatch(pre.stdout, /validatingadmissionpolicy/, 'no second policy engine');

  const r = await runCli(['apply', '--profile', file, '--yes', '--kubeconfig', bed.kubeconfig], { home });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const cp = await cluster.get({ apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', name: 'kube-harden-images' });
  const rule = (cp.spec as { rules: Array<{ validate: { cel: { expressions: Array<{ messageExpression: string }> } } }> }).rules[0];
  assert.match(rule.validate.cel.expressions[0].messageExpression, /kube-harden\/images allowedRegistries: /);
  // Installed in its own form, the policy is recognised: nothing more to plan.
  const again = await runCli(['apply', '--profile', file, '--preview', '--kubeconfig', bed.kubeconfig], { home });
  assert.match(again.stdout, /nothing to change/);

  const rb = await runCli(['rollback', '--yes', '--kubeconfig', bed.kubeconfig], { home });
  assert.equal(rb.code, 0, `${rb.stdout}\n${rb.stderr}`);
  assert.equal(await cluster.tryGet({ apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', name: 'kube-harden-images' }), undefined);
});

test('Gatekeeper: with its controller the rule is offered as a ConstraintTemplate (K8sNativeValidation), validated by the real CRD', async () => {
  await loadCrds(bed.kubeconfig, 'gatekeeper-v3.22.2');
  await ensureNamespace(bed.kubeconfig, 'gatekeeper-system');
  await cluster.create(
    controller('gatekeeper-system', 'gatekeeper-controller-manager', 'openpolicyagent/gatekeeper:v3.22.2', { 'control-plane': 'controller-manager' }),
  );
  const f = await facts();
  assert.equal(f.facts.engines.gatekeeper.presence, 'installed');
  assert.ok(f.questions.some((q) => q.startsWith('images.engine=')));
  const pre = await runCli(['apply', '--profile', profile('gatekeeper', { 'images.engine': 'gatekeeper' }), '--preview', '--kubeconfig', bed.kubeconfig], {
    home: tempHome(),
  });
  assert.equal(pre.code, 0, `${pre.stdout}\n${pre.stderr}`);
  assert.match(pre.stdout, /constrainttemplate\/k8shardenimages.*✓ dry-run ok/);
});
