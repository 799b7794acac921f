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
