// Every screen at a standard 80x24 terminal and at 200x60: the header keeps to one row, what a user
// must read (risk, reason, the question) is never cut, the diff gets at least half the rows, long lists
// are windowed, nothing is taller than the terminal, and a resize redraws to the new size.
// test/ is outside tsconfig's include, so tsx compiles this JSX with the classic runtime: React must be in scope.
import './force-color.js';
import test from 'node:test';
import assert from 'node:assert/strict';
import React from 'react';
import { Box } from 'ink';
import { AreasOverview } from '../../screens/AreasOverview.js';
import { ConfirmScreen } from '../../screens/ConfirmScreen.js';
import { Header } from '../../screens/components/Header.js';
import { PreviewScreen } from '../../screens/PreviewScreen.js';
import { QuestionScreen } from '../../screens/QuestionScreen.js';
import { RolloutFailedScreen } from '../../screens/RolloutFailedScreen.js';
import { countBySeverity, type Question } from '../../src/areas/types.js';
import type { Change } from '../../src/engine/change.js';
import { bigDiff, okDry, patchChange } from './fixtures.js';
import { renderAt, strip, waitFor } from './helpers.js';

const SIZES = [
  { columns: 80, rows: 24 },
  { columns: 200, rows: 60 },
];

/** The screen below the header, as the App lays it out. */
const framed = (screen: React.ReactElement, preview = true) => (
  <Box flexDirection="column">
    <Header context="prod-eu-west-1-payments" version="v1.34.4" user="system:serviceaccount:platform:kube-harden-operator" preview={preview} />
    {screen}
  </Box>
);

async function show(screen: React.ReactElement, size: { columns: number; rows: number }, until: string) {
  const r = renderAt(framed(screen), size);
  await waitFor(
    () => strip(r.lastFrame()).includes(until),
    () => strip(r.lastFrame()),
  );
  return r;
}

const lines = (frame: string) => strip(frame).replace(/\n+$/, '').split('\n');

function assertFits(frame: string, size: { columns: number; rows: number }, what: string) {
  const ls = lines(frame);
  assert.ok(ls.length <= size.rows, `${what}: ${ls.length} rows in a ${size.rows}-row terminal:\n${strip(frame)}`);
  for (const l of ls) assert.ok([...l].length <= size.columns, `${what}: a row wider than ${size.columns}: ${l}`);
  assert.match(ls[0], /^kube-harden {2}.*context prod-eu/, `${what}: the header is one row: ${ls[0]}`);
  if (size.columns >= 80) assert.match(ls[0], /PREVIEW/);
}

const longRisk =
  'changing the pod template rolls out new pods (followed until Ready; a stalled rollout is rolled back); runAsNonRoot: an image whose user is root will not start (CreateContainerConfigError); its rollout is watched and rolled back';

function plan(n: number): Change[] {
  return Array.from({ length: n }, (_, i) => {
    const c = patchChange(`app-${String(i).padStart(2, '0')}`, 'payments', i % 5 === 0 ? 'high' : 'medium');
    return {
      ...c,
      reasons: [{ area: 'workloads', text: 'set allowPrivilegeEscalation=false, drop ALL capabilities, seccomp RuntimeDefault, runAsNonRoot' }],
      riskNotes: [longRisk],
    };
  });
}

for (const size of SIZES) {
  test(`${size.columns}x${size.rows}: the preview with 30 changes and a 20,000-line diff: risk and reason whole, the diff at least half the rows`, async () => {
    const items = plan(30).map((change) => ({ change, dry: okDry }));
    const diff = bigDiff(20_000);
    const notes = [
      { title: 'Pod Security per namespace (v1.34)', lines: ['payments: enforce restricted: every pod it will hold passes restricted'] },
      { title: 'Left alone', lines: Array.from({ length: 12 }, (_, i) => `daemonset/agent-${i}: node agent (privileged)`), warn: true },
    ];
    const r = await show(
      <PreviewScreen title="Pod security: 30 changes" items={items} diffFor={() => diff} notes={notes} onContinue={() => {}} onQuit={() => {}} />,
      size,
      'diff · lines',
    );
    const frame = r.lastFrame();
    assertFits(frame, size, 'preview');
    const text = strip(frame).replace(/\n/g, ' ').replace(/\s+/g, ' ');
    assert.ok(text.includes(longRisk.replace(/\s+/g, ' ')), 'the risk line is whole (wrapped, not cut)');
    assert.ok(text.includes('why: set allowPrivilegeEscalation=false, drop ALL capabilities, seccomp RuntimeDefault, runAsNonRoot'));
    const ls = lines(frame);
    const top = ls.findIndex((l) => l.startsWith('diff · lines'));
    const bottom = ls.findIndex((l, i) => i > top && l.startsWith('↑/↓ change'));
    const diffRows = bottom - top;
    assert.ok(diffRows >= Math.floor(size.rows / 2), `the diff has ${diffRows} rows of ${size.rows}`);
    assert.match(strip(frame), /notes \(n\): Pod Security per namespace \(v1\.34\) \(1\) · Left alone \(12\)/);
    // The notes view, whole, and back.
    r.stdin.write('n');
    await waitFor(
      () => strip(r.lastFrame()).includes('daemonset/agent-0'),
      () => strip(r.lastFrame()),
    );
    assertFits(r.lastFrame(), size, 'notes view');
    r.stdin.write('n');
    await waitFor(
      () => strip(r.lastFrame()).includes('diff · lines'),
      () => strip(r.lastFrame()),
    );
    r.unmount();
  });

  test(`${size.columns}x${size.rows}: a question with 60 namespaces is windowed; the question and its help are whole`, async () => {
    const q: Question = {
      id: 'workloads.namespaces',
      area: 'workloads',
      title: 'Which namespaces should be hardened? (the long title of a question a user must be able to read in full before answering it)',
      help: 'System namespaces are out of scope unless named with --namespaces; namespaces that hold cluster infrastructure (CNI, CSI, ingress, monitoring agents) are never chosen by default.',
      kind: 'multiselect',
      choices: Array.from({ length: 60 }, (_, i) => ({ value: `team-${i}`, label: `team-${i}`, hint: `${i} finding(s)` })),
      default: ['team-0'],
    };
    const r = await show(
      <QuestionScreen question={q} area="Pod security" index={0} total={4} initial={['team-0']} onAnswer={() => {}} onBack={() => {}} onQuit={() => {}} />,
      size,
      'selected',
    );
    assertFits(r.lastFrame(), size, 'question');
    const text = strip(r.lastFrame()).replace(/\n/g, ' ').replace(/\s+/g, ' ');
    assert.ok(text.includes(q.title), 'title whole');
    assert.ok(text.includes(q.help), 'help whole');
    assert.match(strip(r.lastFrame()), /↓ \d+ more/);
    r.unmount();
  });

  test(`${size.columns}x${size.rows}: overview, confirm and a stalled rollout fit`, async () => {
    const areas = (['rbac', 'apiserver', 'tls', 'network', 'workloads', 'images'] as const).map((id) => ({
      id,
      title: id,
      summary: `${id} summary`,
      counts: countBySeverity([{ severity: 'high' }, { severity: 'low' }]),
      fixable: 2,
      total: 2,
      notApplicable: id === 'apiserver' ? 'managed control plane (EKS): flags cannot be changed here' : undefined,
    }));
    const o = await show(<AreasOverview areas={areas} defaults={['rbac', 'workloads']} onPick={() => {}} onQuit={() => {}} />, size, 'selected');
    assertFits(o.lastFrame(), size, 'overview');
    o.unmount();
    const c = await show(
      <ConfirmScreen
        mode="type-the-name"
        count={30}
        context="prod-eu-west-1-payments"
        reasons={['the plan removes your own access to RBAC objects', '6 high-risk change(s)', '30 changes at once']}
        onConfirm={() => {}}
        onCancel={() => {}}
      />,
      size,
      'type the context name',
    );
    assertFits(c.lastFrame(), size, 'confirm');
    assert.ok(
      strip(c.lastFrame()).replace(/\s+/g, ' ').includes('the plan removes your own access to RBAC objects; 6 high-risk change(s); 30 changes at once'),
    );
    c.unmount();
    const states = [
      {
        id: 'x',
        ref: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'payments', name: 'legacy' },
        state: 'failed' as const,
        detail: 'pod legacy-7d9f, container app: CreateContainerConfigError: container has runAsNonRoot and image will run as root',
      },
    ];
    const f = await show(<RolloutFailedScreen states={states} onChoose={() => {}} />, size, 'Keep them');
    assertFits(f.lastFrame(), size, 'rollout failed');
    assert.ok(strip(f.lastFrame()).replace(/\s+/g, ' ').includes('container has runAsNonRoot and image will run as root'));
    f.unmount();
  });
}

test('a resize redraws the preview to the new size', async () => {
  const items = plan(30).map((change) => ({ change, dry: okDry }));
  const diff = bigDiff(500);
  const r = await show(
    <PreviewScreen items={items} diffFor={() => diff} onContinue={() => {}} onQuit={() => {}} />,
    { columns: 200, rows: 60 },
    'diff · lines',
  );
  assertFits(r.lastFrame(), { columns: 200, rows: 60 }, 'before');
  r.resize(80, 24);
  await waitFor(
    () => lines(r.lastFrame()).length <= 24,
    () => strip(r.lastFrame()),
  );
  assertFits(r.lastFrame(), { columns: 80, rows: 24 }, 'after a resize to 80x24');
  r.unmount();
});
