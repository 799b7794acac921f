// Diffs of very different texts (a 20,000-line object rewritten whole) fall back to one hunk that keeps
// the common head and tail: still a correct unified diff (jsdiff applies it back), without Myers' search.
import assert from 'node:assert/strict';
import test from 'node:test';
import { applyPatch } from 'diff';
import { diffLinesText, diffTexts } from '../../src/engine/diff.js';

const text = (n: number, tag: string, head = 0, tail = 0) =>
  Array.from({ length: n }, (_, i) => (i < head || i >= n - tail ? `same-${i}` : `${tag}-${i}`)).join('\n') + '\n';

for (const [name, before, after] of [
  ['20,000 lines, every one changed', text(20_000, 'old'), text(20_000, 'new')],
  ['a common head and tail kept as context', text(9_000, 'old', 10, 7), text(9_000, 'new', 10, 7)],
  ['a file created', '', text(3_000, 'new')],
  ['a small change (the minimal diff)', text(50, 'x', 20, 20), text(50, 'y', 20, 20)],
] as const) {
  test(`diffTexts: ${name} applies back to the new text`, () => {
    const lines = diffTexts('big.yaml', before === '' ? null : before, after);
    assert.equal(applyPatch(before, diffLinesText(lines) + '\n'), after);
    const adds = lines.filter((l) => l.type === 'add').length;
    const dels = lines.filter((l) => l.type === 'del').length;
    const changed = after.split('\n').filter((l) => l && !l.startsWith('same-')).length;
    assert.equal(adds, changed);
    assert.equal(dels, before.split('\n').filter((l) => l && !l.startsWith('same-')).length);
    assert.ok(lines.filter((l) => l.type === 'ctx').length <= 6 * lines.filter((l) => l.type === 'hunk').length, 'context is at most 3 lines each side');
  });
}
