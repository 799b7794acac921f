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

/**
 * Past this many added plus removed lines the minimal diff is not searched for (Myers' algorithm costs
 * the product of the length and the edit count: minutes for a 20,000-line object rewritten whole).
 */
const MAX_EDIT_LENGTH = 2000;

/** A unified diff of two texts (null: the file does not exist), as typed lines ready to colour. */
export function diffTexts(label: string, before: string | null, after: string | null, context = 3): DiffLine[] {
  const oldName = before === null ? '/dev/null' : `a/${label}`;
  const newName = after === null ? '/dev/null' : `b/${label}`;
  const patch = structuredPatch(oldName, newName, before ?? '', after ?? '', '', '', { context, maxEditLength: MAX_EDIT_LENGTH });
  const lines: DiffLine[] = [
    { type: 'header', text: `--- ${oldName}` },
    { type: 'header', text: `+++ ${newName}` },
  ];
  if (!patch) return [...lines, ...wholeHunk(before ?? '', after ?? '', context)];
  for (const h of patch.hunks) {
    lines.push({ type: 'hunk', text: `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@` });
    for (const l of h.lines) {
      if (l.startsWith('\\')) continue;
      lines.push({ type: l[0] === '+' ? 'add' : l[0] === '-' ? 'del' : 'ctx', text: l });
    }
  }
  return lines;
}

/** A correct but not minimal diff for very different texts: the common head and tail kept, the middle replaced. */
function wholeHunk(before: string, after: string, context: number): DiffLine[] {
  const split = (t: string) => (t === '' ? [] : t.replace(/\n$/, '').split('\n'));
  const a = split(before);
  const b = split(after);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const from = Math.max(0, head - context);
  const lead = a.slice(from, head);
  const trail = a.slice(a.length - tail, a.length - tail + Math.min(tail, context));
  const dels = a.slice(head, a.length - tail);
  const adds = b.slice(head, b.length - tail);
  const oldLines = lead.length + dels.length + trail.length;
  const newLines = lead.length + adds.length + trail.length;
  return [
    { type: 'hunk', text: `@@ -${oldLines ? from + 1 : 0},${oldLines} +${newLines ? from + 1 : 0},${newLines} @@` },
    ...lead.map((t): DiffLine => ({ type: 'ctx', text: ` ${t}` })),
    ...dels.map((t): DiffLine => ({ type: 'del', text: `-${t}` })),
    ...adds.map((t): DiffLine => ({ type: 'add', text: `+${t}` })),
    ...trail.map((t): DiffLine => ({ type: 'ctx', text: ` ${t}` })),
  ];
}

/** The diff of an object's normalised YAML (no managedFields, resourceVersion, status). */
export const diffObjects = (label: string, before: KubeObject | undefined, after: KubeObject | undefined, context = 3): DiffLine[] =>
  diffTexts(label, before ? toYaml(before) : null, after ? toYaml(after) : null, context);

export const diffLinesText = (lines: DiffLine[]): string => lines.map((l) => l.text).join('\n');
