// test/ is outside tsconfig's include, so tsx compiles this JSX with the classic runtime: React must be in scope.
import './force-color.js';
import test from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import React from 'react';
import { PreviewScreen, type PreviewItem } from '../../screens/PreviewScreen.js';
import type { Change } from '../../src/engine/change.js';
import type { DiffLine } from '../../src/engine/diff.js';
import { diffOf } from '../../src/engine/kinds/index.js';
import { bigDiff, okDry, patchChange } from './fixtures.js';
import { frameHas, KEY, strip, tick, waitFor } from './helpers.js';

const ESC = '\u001B[';

test('preview: the list shows action, object, namespace, risk and dry-run status; the diff is coloured', async () => {
  const items: PreviewItem[] = [
    { change: patchChange('web'), dry: okDry },
    { change: patchChange('api', 'shop', 'high'), dry: { ok: true, warnings: ['would violate PodSecurity "restricted:latest"'] } },
    { change: patchChange('db'), dry: { ok: false, warnings: [], error: 'spec.replicas: Invalid value' } },
  ];
  const calls: string[] = [];
  const diffFor = (c: Change) => {
    calls.push(c.id);
    return diffOf(c);
  };
  const { lastFrame, stdin, unmount } = render(<PreviewScreen items={items} diffFor={diffFor} viewportHeight={20} onContinue={() => {}} onQuit={() => {}} />);
  await frameHas(lastFrame, 'deployment/db');
  const raw = lastFrame() ?? '';
  // Colours before stripping: the added line green (32), the removed one absent here, the hunk cyan (36).
  const addLine = raw.split('\n').find((l) => strip(l).startsWith('+  paused: false'));
  assert.ok(addLine, strip(raw));
  assert.ok(addLine.includes(`${ESC}32m`), `add line is green: ${JSON.stringify(addLine)}`);
  const hunk = raw.split('\n').find((l) => strip(l).startsWith('@@'));
  assert.ok(hunk?.includes(`${ESC}36m`), 'hunk is cyan');
  const text = strip(raw);
  assert.match(text, /Plan: 3 changes {2}1 failed the dry-run {2}1 with warnings/);
  assert.match(text, /❯ patch {3}deployment\/web in shop {2}medium risk {2}✓ dry-run ok/);
  assert.match(text, /patch {3}deployment\/api in shop {2}high risk {2}⚠ 1 warning/);
  assert.match(text, /patch {3}deployment\/db in shop {2}medium risk {2}✗ dry-run error/);
  assert.match(text, /why: harden the security context of web/);
  assert.match(text, /--- a\/deployment\/web in shop\n\+\+\+ b\/deployment\/web in shop/);

  await tick();
  stdin.write(KEY.down);
  await frameHas(lastFrame, 'why: harden the security context of api');
  assert.match(strip(lastFrame()), /risk: rolls out new pods/);
  assert.match(strip(lastFrame()), /⚠ would violate PodSecurity "restricted:latest"/);
  const warn = (lastFrame() ?? '').split('\n').find((l) => l.includes('would violate'));
  assert.ok(warn?.includes(`${ESC}33m`), 'warnings are yellow');
  stdin.write(KEY.down);
  await frameHas(lastFrame, '✗ spec.replicas: Invalid value');
  stdin.write(KEY.up);
  await frameHas(lastFrame, 'why: harden the security context of api');
  assert.deepEqual(calls, [items[0].change.id, items[1].change.id, items[2].change.id, items[1].change.id], 'diffFor is asked once per selection');
  unmount();
});

test('preview: a 20,000-line diff renders only the viewport, and j/k, PgDn/PgUp, space, g/G scroll it', async () => {
  const diff = bigDiff(20_000);
  const diffFor = (): DiffLine[] => diff;
  let next = false;
  let quit = false;
  const { lastFrame, stdin, unmount } = render(
    <PreviewScreen
      items={[{ change: patchChange('web'), dry: okDry }]}
      diffFor={diffFor}
      viewportHeight={20}
      onContinue={() => (next = true)}
      onQuit={() => (quit = true)}
    />,
  );
  await frameHas(lastFrame, 'lines 1–20 of 20003');
  const frame = strip(lastFrame());
  assert.ok(frame.split('\n').length < 100, `frame has ${frame.split('\n').length} lines`);
  assert.match(frame, /\+ line-0\n- line-1/);
  assert.match(frame, /line-16\n/);
  assert.doesNotMatch(frame, /line-17\b/);

  await tick();
  stdin.write('j');
  await frameHas(lastFrame, 'lines 2–21 of 20003');
  stdin.write('k');
  await frameHas(lastFrame, 'lines 1–20 of 20003');
  stdin.write(KEY.pageDown);
  await frameHas(lastFrame, 'lines 20–39 of 20003');
  stdin.write(' ');
  await frameHas(lastFrame, 'lines 39–58 of 20003');
  assert.match(strip(lastFrame()), /line-35\n/);
  stdin.write(KEY.pageUp);
  await frameHas(lastFrame, 'lines 20–39 of 20003');
  stdin.write('G');
  await frameHas(lastFrame, 'lines 19984–20003 of 20003');
  assert.match(strip(lastFrame()), /line-19999\n/);
  assert.ok(strip(lastFrame()).split('\n').length < 100);
  stdin.write('j'); // at the bottom: stays
  await tick();
  assert.match(strip(lastFrame()), /lines 19984–20003 of 20003/);
  stdin.write('g');
  await frameHas(lastFrame, 'lines 1–20 of 20003');
  stdin.write(KEY.enter);
  await waitFor(() => next);
  stdin.write('q');
  await waitFor(() => quit);
  unmount();
});

test('preview: a long change list is windowed around the selection', async () => {
  const items = Array.from({ length: 40 }, (_, i) => ({ change: patchChange(`app-${i}`), dry: okDry }));
  const { lastFrame, stdin, unmount } = render(<PreviewScreen items={items} diffFor={() => []} viewportHeight={10} onContinue={() => {}} onQuit={() => {}} />);
  await frameHas(lastFrame, '↓ 33 more');
  await tick();
  for (let i = 0; i < 20; i++) stdin.write(KEY.down);
  await frameHas(lastFrame, '❯ patch   deployment/app-20');
  const t = strip(lastFrame());
  assert.match(t, /↑ 17 more/);
  assert.match(t, /↓ 16 more/);
  assert.ok(t.split('\n').length < 40);
  unmount();
});
