import type { Change, DryRunResult } from '../engine/change.js';
import { diffText } from '../engine/diff.js';

const SIGN = { create: '+', patch: '~', delete: '-' } as const;

/** The plan as plain text for logs and CI: one line per change, its dry-run verdict, and (optionally) the diff. */
export function planText(changes: Change[], dry: Map<string, DryRunResult>, withDiff: boolean): string {
  const out: string[] = [];
  for (const c of changes) {
    const d = dry.get(c.id);
    const verdict = !d ? '' : d.ok ? (d.warnings.length ? ` ⚠ ${d.warnings.length} warning(s)` : ' ✓ dry-run ok') : ' ✗ dry-run failed';
    out.push(`${SIGN[c.action]} ${c.ref.kind.toLowerCase()}/${c.ref.name}${c.ref.namespace ? ` (${c.ref.namespace})` : ''}: ${c.reason} [${c.risk} risk]${verdict}`);
    for (const w of d?.warnings ?? []) out.push(`    warning: ${w}`);
    if (d?.error) out.push(`    error: ${d.error}`);
    if (withDiff) out.push(diffText(c).replace(/^/gm, '    '));
  }
  return out.join('\n') + (out.length ? '\n' : '');
}
