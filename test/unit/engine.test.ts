import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWarnings } from '../../src/cluster/warnings.js';
import { errorFromResponse } from '../../src/cluster/errors.js';
import { confirmationFor } from '../../src/engine/confirm-policy.js';
import { diffOf } from '../../src/engine/kinds/index.js';
import { normalise, sameObject } from '../../src/engine/normalise.js';
import { phasesOf, type Change, type Phase } from '../../src/engine/change.js';

test('Warning headers: joined entries with commas inside are split on the quoted parts only', () => {
  const h =
    '299 - "would violate PodSecurity \\"restricted:latest\\": allowPrivilegeEscalation != false (container \\"a\\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities", 299 - "existing pods in namespace \\"shop\\" violate the new PodSecurity enforce level \\"restricted:latest\\""';
  const w = parseWarnings(h);
  assert.equal(w.length, 2);
  assert.match(w[0], /^would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false \(container "a" must set/);
  assert.match(w[0], /, unrestricted capabilities$/);
  assert.match(w[1], /^existing pods in namespace "shop"/);
  assert.deepEqual(parseWarnings(undefined), []);
});

test('API errors become typed errors with the Status message and causes', () => {
  const e = errorFromResponse(
    422,
    JSON.stringify({ reason: 'Invalid', message: 'Deployment "x" is invalid', details: { causes: [{ field: 'spec.template', message: 'bad' }] } }),
    'update x',
  );
  assert.equal(e.kind, 'Invalid');
  assert.equal(e.causes[0].field, 'spec.template');
  assert.equal(errorFromResponse(401, '', 'list pods').kind, 'Unauthorized');
  assert.equal(errorFromResponse(409, JSON.stringify({ reason: 'AlreadyExists' }), 'create').kind, 'AlreadyExists');
  assert.equal(errorFromResponse(409, JSON.stringify({ reason: 'Conflict' }), 'update').kind, 'Conflict');
});

const dep = (extra: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'shop',
    resourceVersion: '5',
    uid: 'u',
    generation: 2,
    managedFields: [{}],
    annotations: { 'deployment.kubernetes.io/revision': '3' },
  },
  spec: { replicas: 1, ...extra },
  status: { readyReplicas: 1 },
});

test('normalise drops bookkeeping, status and controller-owned annotations, and never mutates', () => {
  const d = dep();
  const frozen = structuredClone(d);
  assert.deepEqual(normalise(d), { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' }, spec: { replicas: 1 } });
  assert.deepEqual(d, frozen);
  assert.ok(sameObject(dep(), { ...dep(), metadata: { ...dep().metadata, resourceVersion: '9' }, status: {} }));
  assert.ok(!sameObject(dep(), dep({ replicas: 2 })));
});

const change = (name: string, phase: Phase, risk: Change['risk'] = 'medium'): Change => ({
  id: name,
  kind: 'object',
  areas: ['workloads'],
  action: 'patch',
  ref: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name },
  before: dep(),
  after: dep({ replicas: 2 }),
  findingIds: [],
  reasons: [{ area: 'workloads', text: 'r' }],
  risk,
  riskNotes: [],
  phase,
});

test('phases are applied in order, grouped', () => {
  const p = phasesOf([change('a', 'after-rollout'), change('b', 'rollout'), change('c', 'after-rollout')]);
  assert.deepEqual(
    p.map((x) => x.map((c) => c.id)),
    [['b'], ['a', 'c']],
  );
});

test('the diff shows exactly the changed line', () => {
  const lines = diffOf(change('a', 'rollout'));
  assert.deepEqual(
    lines.filter((l) => l.type === 'add').map((l) => l.text),
    ['+  replicas: 2'],
  );
  assert.deepEqual(
    lines.filter((l) => l.type === 'del').map((l) => l.text),
    ['-  replicas: 1'],
  );
  assert.ok(!lines.some((l) => /resourceVersion|managedFields|readyReplicas/.test(l.text)));
});

test('confirmation policy', () => {
  assert.equal(confirmationFor({ changes: [], interactive: false }), 'auto');
  assert.equal(confirmationFor({ changes: [change('a', 'update')], interactive: false }), 'refuse');
  assert.equal(confirmationFor({ changes: [change('a', 'update')], interactive: false, yes: true }), 'auto');
  assert.equal(confirmationFor({ changes: [change('a', 'update')], interactive: true }), 'ask');
  assert.equal(confirmationFor({ changes: [change('a', 'update', 'high')], interactive: true }), 'type-the-name');
});

test('the streamed JSON report parses and equals the one-piece report', async () => {
  const { renderReport, writeReport } = await import('../../src/output/report.js');
  const f = (i: number) => ({
    id: `workloads/seccomp/Deployment/ns/app-${i}/c`,
    area: 'workloads' as const,
    rule: 'seccomp',
    severity: (['low', 'medium', 'high', 'critical'] as const)[i % 4],
    ref: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'ns', name: `app-${i}` },
    container: 'c',
    message: 'container c has no seccomp profile',
    fixable: true,
  });
  for (const n of [0, 1, 4500]) {
    const input = { context: 'ctx', server: 'https://x', version: 'v1.34.4', findings: Array.from({ length: n }, (_, i) => f(i)), rules: [] };
    let out = '';
    await writeReport('json', input, (c) => {
      out += c;
    });
    assert.deepEqual(JSON.parse(out), JSON.parse(renderReport('json', input)));
  }
});
