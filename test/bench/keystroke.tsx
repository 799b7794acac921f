// The redraw cost of one keystroke in the preview with a 20,000-line diff open: the real PreviewScreen
// and the real diff of a 20,000-line object, rendered by Ink (ink-testing-library's in-memory stdout).
import React from 'react';
import { render } from 'ink-testing-library';
import type { KubeObject } from '../../src/cluster/types.js';
import type { Change } from '../../src/engine/change.js';
import { diffOf } from '../../src/engine/kinds/index.js';
import { PreviewScreen } from '../../screens/PreviewScreen.js';

export async function keystrokeRedraw(lines = 20_000, presses = 40): Promise<{ diffLines: number; medianMs: number; p95Ms: number }> {
  const data = (tag: string) => Object.fromEntries(Array.from({ length: lines }, (_, i) => [`key-${String(i).padStart(5, '0')}`, `${tag}-${i}`]));
  const obj = (tag: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'big', namespace: 'bench', resourceVersion: '1' },
    data: data(tag),
  });
  const change: Change = {
    id: 'bench',
    kind: 'object',
    areas: ['workloads'],
    action: 'patch',
    ref: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'bench', name: 'big' },
    before: obj('old'),
    after: obj('new'),
    findingIds: [],
    reasons: [{ area: 'workloads', text: 'bench' }],
    risk: 'low',
    riskNotes: [],
    phase: 'update',
  };
  const diff = diffOf(change);
  const { lastFrame, stdin, stdout, unmount } = render(
    <PreviewScreen
      items={[{ change, dry: { ok: true, warnings: [] } }]}
      diffFor={() => diff}
      viewportHeight={30}
      onContinue={() => undefined}
      onQuit={() => undefined}
    />,
  );
  // ink-testing-library's stdout has columns but no rows, and Ink then asks `tput` for the size on every
  // frame (a process per keystroke); a terminal has both.
  Object.defineProperty(stdout, 'rows', { value: 40 });
  const until = async (cond: () => boolean) => {
    const deadline = Date.now() + 5000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`no redraw: ${lastFrame()}`);
      await new Promise((r) => setImmediate(r));
    }
  };
  await until(() => (lastFrame() ?? '').includes('lines 1–'));
  await new Promise((r) => setTimeout(r, 50));
  const times: number[] = [];
  for (let i = 0; i < presses; i++) {
    const before = lastFrame();
    const t0 = performance.now();
    stdin.write(i % 10 === 9 ? 'G' : 'j');
    await until(() => lastFrame() !== before);
    times.push(performance.now() - t0);
    if (i % 10 === 9) {
      const b2 = lastFrame();
      stdin.write('g');
      await until(() => lastFrame() !== b2);
    }
  }
  unmount();
  times.sort((a, b) => a - b);
  return { diffLines: diff.length, medianMs: times[Math.floor(times.length / 2)], p95Ms: times[Math.floor(times.length * 0.95)] };
}
