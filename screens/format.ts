import type { Severity } from '../src/areas/types.js';
import type { Risk } from '../src/engine/change.js';
import type { DiffLineType } from '../src/engine/diff.js';

/** Display order: worst first. */
export const SEVERITY_ORDER: Severity[] = ['critical', 'high', 'medium', 'low'];

export const severityColor: Record<Severity, string> = {
  critical: 'magenta',
  high: 'red',
  medium: 'yellow',
  low: 'blue',
};

export const riskColor: Record<Risk, string> = {
  high: 'red',
  medium: 'yellow',
  low: 'green',
};

export const diffColor: Record<DiffLineType, string | undefined> = {
  add: 'green',
  del: 'red',
  hunk: 'cyan',
  header: undefined,
  ctx: undefined,
};

/** At most `max` lines, and how many were left out. */
export function capLines(lines: string[], max = 8): { shown: string[]; more: number } {
  if (lines.length <= max) return { shown: lines, more: 0 };
  return { shown: lines.slice(0, max), more: lines.length - max };
}

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Rows a text takes when wrapped at `width` columns (words kept whole where they fit). */
export function wrappedRows(text: string, width: number): number {
  const w = Math.max(10, width);
  let rows = 0;
  for (const para of text.split('\n')) {
    let line = 0;
    rows++;
    for (const word of para.split(' ')) {
      const len = [...word].length;
      if (line === 0) line = len;
      else if (line + 1 + len <= w) line += 1 + len;
      else {
        rows++;
        line = len;
      }
      while (line > w) {
        rows++;
        line -= w;
      }
    }
  }
  return rows;
}
