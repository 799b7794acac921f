import { structuredPatch } from 'diff';
import { stringify } from 'yaml';
import type { KubeObject } from '../cluster/types.js';
import { afterOf, beforeOf, type Change } from './change.js';
import { normalise } from './normalise.js';

export type DiffLineType = 'header' | 'hunk' | 'add' | 'del' | 'ctx';

export interface DiffLine {
  type: DiffLineType;
  text: string;
}

export const toYaml = (obj: KubeObject | undefined): string => (obj ? stringify(normalise(obj), { lineWidth: 0 }) : '');

/** A unified diff of the normalised YAML before and after a change, as typed lines ready to colour. */
export function diffChange(change: Change, context = 3): DiffLine[] {
  const label = `${change.ref.kind}/${change.ref.name}${change.ref.namespace ? ` (${change.ref.namespace})` : ''}`;
  const before = toYaml(beforeOf(change));
  const after = toYaml(afterOf(change));
  const patch = structuredPatch(
    change.action === 'create' ? '/dev/null' : `a/${label}`,
    change.action === 'delete' ? '/dev/null' : `b/${label}`,
    before,
    after,
    '',
    '',
    { context },
  );
  const lines: DiffLine[] = [
    { type: 'header', text: `--- ${patch.oldFileName}` },
    { type: 'header', text: `+++ ${patch.newFileName}` },
  ];
  for (const h of patch.hunks) {
    lines.push({ type: 'hunk', text: `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@` });
    for (const l of h.lines) {
      const t = l[0] === '+' ? 'add' : l[0] === '-' ? 'del' : 'ctx';
      if (l.startsWith('\\')) continue;
      lines.push({ type: t, text: l });
    }
  }
  return lines;
}

export const diffText = (change: Change): string => diffChange(change).map((l) => l.text).join('\n');
