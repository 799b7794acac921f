import { structuredPatch } from 'diff';
import { stringify } from 'yaml';
import type { KubeObject } from '../cluster/types.js';
import { normalise } from './normalise.js';

export type DiffLineType = 'header' | 'hunk' | 'add' | 'del' | 'ctx';

export interface DiffLine {
  type: DiffLineType;
  text: string;
}

export const toYaml = (obj: KubeObject | undefined): string => (obj ? stringify(normalise(obj), { lineWidth: 0 }) : '');

/** A unified diff of two texts (null: the file does not exist), as typed lines ready to colour. */
export function diffTexts(label: string, before: string | null, after: string | null, context = 3): DiffLine[] {
  const patch = structuredPatch(before === null ? '/dev/null' : `a/${label}`, after === null ? '/dev/null' : `b/${label}`, before ?? '', after ?? '', '', '', {
    context,
  });
  const lines: DiffLine[] = [
    { type: 'header', text: `--- ${patch.oldFileName}` },
    { type: 'header', text: `+++ ${patch.newFileName}` },
  ];
  for (const h of patch.hunks) {
    lines.push({ type: 'hunk', text: `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@` });
    for (const l of h.lines) {
      if (l.startsWith('\\')) continue;
      lines.push({ type: l[0] === '+' ? 'add' : l[0] === '-' ? 'del' : 'ctx', text: l });
    }
  }
  return lines;
}

/** The diff of an object's normalised YAML (no managedFields, resourceVersion, status). */
export const diffObjects = (label: string, before: KubeObject | undefined, after: KubeObject | undefined, context = 3): DiffLine[] =>
  diffTexts(label, before ? toYaml(before) : null, after ? toYaml(after) : null, context);

export const diffLinesText = (lines: DiffLine[]): string => lines.map((l) => l.text).join('\n');
