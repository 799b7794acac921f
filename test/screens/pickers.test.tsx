// test/ is outside tsconfig's include, so tsx compiles this JSX with the classic runtime: React must be in scope.
import './force-color.js';
import test from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import React from 'react';
import { AreasOverview, countBySeverity } from '../../screens/AreasOverview.js';
import { ContextPicker } from '../../screens/ContextPicker.js';
import type { ContextInfo } from '../../src/cluster/kubeconfig.js';
import { frameHas, KEY, strip, tick, waitFor } from './helpers.js';

const contexts: ContextInfo[] = [
  { name: 'dev', cluster: 'dev', user: 'alice', server: 'https://dev:6443', current: false },
  { name: 'prod', cluster: 'prod', user: 'admin', server: 'https://prod:6443', current: true },
  { name: 'staging', cluster: 'staging', user: 'bob', server: 'https://staging:6443', current: false },
];

test('context picker: the current context comes first and Enter picks it', async () => {
  let picked: string | undefined;
  const { lastFrame, stdin, unmount } = render(<ContextPicker contexts={contexts} onPick={(n) => (picked = n)} onQuit={() => {}} />);
  await frameHas(lastFrame, 'prod (current)');
  const rows = strip(lastFrame()).split('\n');
  const order = ['prod', 'dev', 'staging'].map((n) => rows.findIndex((r) => r.includes(`${n}`) && r.includes(`https://${n}`)));
  assert.ok(order[0] < order[1] && order[1] < order[2], `order: ${order}`);
  assert.match(strip(lastFrame()), /q\/esc quit/);
  await tick();
  stdin.write(KEY.enter);
  await waitFor(() => picked !== undefined);
  assert.equal(picked, 'prod');
  unmount();
});

test('context picker: arrow down then Enter picks the next one; q quits', async () => {
  let picked: string | undefined;
  let quit = false;
  const { lastFrame, stdin, unmount } = render(<ContextPicker contexts={contexts} onPick={(n) => (picked = n)} onQuit={() => (quit = true)} />);
  await frameHas(lastFrame, 'staging');
  await tick();
  stdin.write(KEY.down);
  await tick();
  stdin.write(KEY.enter);
  await waitFor(() => picked !== undefined);
  assert.equal(picked, 'dev');
  stdin.write('q');
  await waitFor(() => quit);
  unmount();
});

test('areas overview: counts by severity per area; the areas with something fixable are preselected; Enter walks the chosen ones', async () => {
  const counts = countBySeverity([{ severity: 'critical' }, { severity: 'high' }, { severity: 'high' }, { severity: 'low' }]);
  assert.deepEqual(counts, { critical: 1, high: 2, medium: 0, low: 1 });
  let picked: string[] | undefined;
  const { lastFrame, stdin, unmount } = render(
    <AreasOverview
      areas={[
        { id: 'rbac', title: 'RBAC', summary: 'Who may do what.', counts: countBySeverity([{ severity: 'medium' }]), fixable: 0, total: 1 },
        {
          id: 'apiserver',
          title: 'API server',
          summary: 'Flags.',
          counts: countBySeverity([]),
          fixable: 0,
          total: 0,
          notApplicable: 'managed control plane: flags cannot be changed',
        },
        { id: 'workloads', title: 'Pod security', summary: 'Security contexts of workloads.', counts, fixable: 3, total: 4 },
      ]}
      defaults={['workloads']}
      onPick={(ids) => (picked = ids)}
      onQuit={() => {}}
    />,
  );
  await frameHas(lastFrame, 'RBAC');
  const raw = lastFrame() ?? '';
  assert.notEqual(raw, strip(raw), 'coloured');
  const text = strip(raw);
  assert.match(text, /Findings: 5 in 3 area\(s\)/);
  assert.match(text, /\[ \] RBAC \(rbac\)\s+1 finding\(s\), 0 fixable/);
  assert.match(text, /\[ \] API server \(apiserver\)\s+cannot change here: managed control plane/);
  assert.match(text, /\[x\] Pod security \(workloads\)\s+4 finding\(s\), 3 fixable/);
  assert.match(text, /workloads\s+critical 1\s+high 2\s+medium 0\s+low 1\s+fixable 3/);
  await tick();
  stdin.write(' '); // rbac on
  await frameHas(lastFrame, '2 of 3 selected');
  stdin.write(KEY.enter);
  await waitFor(() => picked !== undefined);
  assert.deepEqual(picked, ['rbac', 'workloads']);
  unmount();
});
