// test/ is outside tsconfig's include, so tsx compiles this JSX with the classic runtime: React must be in scope.
import './force-color.js';
import test from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import React from 'react';
import { ApplyProgress } from '../../screens/ApplyProgress.js';
import { ConfirmScreen } from '../../screens/ConfirmScreen.js';
import { Log, type LogEntry } from '../../screens/Log.js';
import { SummaryScreen } from '../../screens/SummaryScreen.js';
import type { ApplyResult } from '../../src/engine/apply.js';
import type { PipelineResult } from '../../src/pipeline.js';
import { patchChange } from './fixtures.js';
import { frameHas, KEY, strip, tick, waitFor } from './helpers.js';

test('confirm (type-the-name): a wrong name is rejected and nothing is confirmed; the exact name confirms', async () => {
  let confirmed = 0;
  let cancelled = 0;
  const { lastFrame, stdin, unmount } = render(
    <ConfirmScreen
      mode="type-the-name"
      count={30}
      context="prod-eu"
      reasons={['2 high-risk', '30 changes at once']}
      onConfirm={() => confirmed++}
      onCancel={() => cancelled++}
    />,
  );
  await frameHas(lastFrame, 'type the context name prod-eu');
  assert.match(strip(lastFrame()), /These changes are risky \(2 high-risk; 30 changes at once\)/);
  await tick();
  stdin.write('prod');
  await frameHas(lastFrame, '> prod');
  stdin.write(KEY.enter);
  await frameHas(lastFrame, '"prod" is not "prod-eu": nothing applied');
  assert.equal(confirmed, 0);
  stdin.write('-EU');
  stdin.write(KEY.enter);
  await frameHas(lastFrame, '"prod-EU" is not "prod-eu"');
  assert.equal(confirmed, 0);
  for (let i = 0; i < 3; i++) stdin.write(KEY.backspace);
  stdin.write('-eu');
  stdin.write(KEY.enter);
  await waitFor(() => confirmed === 1);
  assert.equal(cancelled, 0);
  unmount();
});

test('confirm (ask): Enter means no, y means yes', async () => {
  const answers: string[] = [];
  const { lastFrame, stdin, unmount } = render(
    <ConfirmScreen mode="ask" count={3} context="dev" reasons={[]} onConfirm={() => answers.push('yes')} onCancel={() => answers.push('no')} />,
  );
  await frameHas(lastFrame, 'Apply 3 changes to dev? (y/N)');
  await tick();
  stdin.write(KEY.enter);
  stdin.write('y');
  await waitFor(() => answers.length === 2);
  assert.deepEqual(answers, ['no', 'yes']);
  unmount();
});

test('apply progress: snapshot id, counter, finished changes in the log above, rollback counter', async () => {
  const entries: LogEntry[] = [
    { key: '1', tone: 'ok', text: 'snapshot 20250101-abc saved' },
    { key: '2', tone: 'ok', text: 'patch Deployment/web in shop' },
  ];
  const view = (e: LogEntry[], p: Partial<React.ComponentProps<typeof ApplyProgress>> = {}) => (
    <>
      <Log entries={e} />
      <ApplyProgress total={3} applied={1} failed={0} snapshotId="20250101-abc" current={['patch Deployment/api in shop']} rollingBack={false} {...p} />
    </>
  );
  const { lastFrame, rerender, unmount } = render(view(entries));
  await frameHas(lastFrame, 'applying 1/3');
  let t = strip(lastFrame());
  assert.match(t, /✓ snapshot 20250101-abc saved/);
  assert.match(t, /✓ patch Deployment\/web in shop/);
  assert.match(t, /→ patch Deployment\/api in shop/);
  const more = [
    ...entries,
    { key: '3', tone: 'fail' as const, text: 'patch Deployment/api in shop: changed since the preview' },
    { key: '4', tone: 'warn' as const, text: 'rolled back patch Deployment/web in shop (restored)' },
  ];
  rerender(view(more, { applied: 1, failed: 1, current: [], rollingBack: true, rollback: { restored: 1, failed: 0, total: 1 } }));
  await frameHas(lastFrame, 'rolling back: 1/1 restored');
  t = strip(lastFrame());
  assert.match(t, /✗ patch Deployment\/api in shop: changed since the preview/);
  assert.match(t, /⚠ rolled back patch Deployment\/web in shop \(restored\)/);
  // Static: every finished line is printed once.
  assert.equal(t.split('✓ patch Deployment/web in shop').length - 1, 1);
  unmount();
});

const result = ({ apply, ...o }: Partial<Omit<PipelineResult, 'apply'>> & { apply: Partial<ApplyResult> }): PipelineResult => ({
  code: 0,
  context: 'prod-eu',
  outcome: 'applied',
  changes: [patchChange('web'), patchChange('api'), patchChange('db'), patchChange('cache')],
  answers: {},
  areas: ['workloads'],
  summary: [
    {
      id: 'workloads',
      title: 'Pod security',
      changes: 4,
      fixed: 9,
      left: [{ message: 'deployment/legacy in shop: mounts a hostPath volume', why: 'needs a person' }],
    },
  ],
  undo: 'kube-harden rollback 20250101-101010-abcdef --context prod-eu --kubeconfig /home/me/.kube/prod',
  ...o,
  apply: { snapshot: { id: '20250101-101010-abcdef' } as ApplyResult['snapshot'], applied: 4, skipped: 0, rollouts: [], ...apply },
});

test('summary: applied, per area fixed and left with why, snapshot and the exact rollback command', async () => {
  const { lastFrame, unmount } = render(<SummaryScreen result={result({ apply: {} })} profile={{ name: 'mine', saved: true }} />);
  await frameHas(lastFrame, 'undo with');
  const t = strip(lastFrame());
  assert.match(t, /✓ applied 4 of 4 changes/);
  assert.match(t, /Pod security: 4 changes, 9 fixed, 1 left/);
  assert.match(t, /· deployment\/legacy in shop: mounts a hostPath volume \(needs a person\)/);
  assert.match(t, /snapshot: 20250101-101010-abcdef/);
  assert.match(t, /undo with: kube-harden rollback 20250101-101010-abcdef --context prod-eu --kubeconfig\s+\/home\/me\/\.kube\/prod/);
  assert.match(t, /answers saved as profile "mine"/);
  unmount();
});

test('summary: a failed apply says what failed and what the automatic rollback did', async () => {
  const r = result({
    outcome: 'failed',
    code: 4,
    apply: {
      applied: 1,
      skipped: 2,
      failed: { change: patchChange('api'), error: 'changed since the preview; it was not overwritten', conflict: true },
      rollback: { snapshotId: 's', restored: 1, unchanged: 0, failed: [], conflicts: [], skipped: [], notes: [] },
    },
  });
  const { lastFrame, unmount } = render(<SummaryScreen result={r} />);
  await frameHas(lastFrame, 'rollback');
  const t = strip(lastFrame());
  assert.match(t, /✗ apply failed: object:apps\/v1\/Deployment\/shop\/api: changed since the preview/);
  assert.match(t, /applied 1 of 4 before the failure, 2 not started/);
  assert.match(t, /rollback: 1 restored, 0 unchanged/);
  assert.match(t, /kube-harden rollback 20250101-101010-abcdef --context prod-eu/);
  unmount();
});
