import { changeAction, changeLabel, reasonText, type Change, type DryRunResult } from '../engine/change.js';
import { diffLinesText } from '../engine/diff.js';
import { diffOf } from '../engine/kinds/index.js';
import type { Review } from '../pipeline.js';

const SIGN: Record<string, string> = { create: '+', patch: '~', edit: '~', upgrade: '~', install: '+', delete: '-' };

/** The plan as plain text for logs and CI: one line per change, its dry-run verdict, and (optionally) the diff. */
export function planText(changes: Change[], dry: Map<string, DryRunResult>, withDiff: boolean): string {
  const out: string[] = [];
  for (const c of changes) {
    const d = dry.get(c.id);
    const verdict = !d
      ? ''
      : d.deferred
        ? ' … dry-run when applied'
        : d.ok
          ? d.warnings.length
            ? ` ⚠ ${d.warnings.length} warning(s)`
            : ' ✓ dry-run ok'
          : ' ✗ dry-run failed';
    out.push(`${SIGN[changeAction(c)] ?? '~'} ${changeLabel(c)}: ${reasonText(c)} [${c.risk} risk]${verdict}`);
    for (const w of d?.warnings ?? []) out.push(`    warning: ${w}`);
    if (d?.error) out.push(`    error: ${d.error}`);
    if (d?.deferred) out.push(`    ${d.deferred}`);
    if (withDiff) out.push(diffLinesText(diffOf(c, d)).replace(/^/gm, '    '));
  }
  return out.join('\n') + (out.length ? '\n' : '');
}

/** The review as text: the plan, then the areas' impact tables, guards, and what is left for a person. */
export function reviewText(r: Review, withDiff: boolean): string {
  const out = [planText(r.changes, r.dry, withDiff)];
  for (const s of r.sections) out.push(`${s.area}: ${s.title}\n${s.lines.map((l) => `    ${l}`).join('\n')}\n`);
  for (const g of r.guards)
    out.push(`${g.level === 'refuse' ? 'refused' : 'needs confirmation'}: ${g.message}\n${g.details.map((d) => `    ${d}`).join('\n')}\n`);
  if (r.left.length) {
    const shown = r.left
      .slice(0, 10)
      .map(
        (f) =>
          `    ${f.severity.padEnd(8)} ${f.ref.kind.toLowerCase()}/${f.ref.name}${f.ref.namespace ? ` in ${f.ref.namespace}` : ''}: ${f.message}${f.manual ? ` (${f.manual})` : ''}`,
      );
    out.push(
      `left as they are: ${r.left.length} finding(s)\n${shown.join('\n')}${r.left.length > 10 ? `\n    … and ${r.left.length - 10} more (kube-harden audit lists them all)` : ''}\n`,
    );
  }
  return out.join('');
}
