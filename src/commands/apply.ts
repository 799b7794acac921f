import { changeLabel } from '../engine/change.js';
import { storedLabel } from '../engine/stored.js';
import { EXIT, exitCodeFor, oneLine, UsageError } from '../errors.js';
import { runPipeline, type PipelineEvent, type PipelineOptions, type PipelineResult, type Port } from '../pipeline.js';
import { ProfileStore, profileAreas } from '../profiles/profile.js';
import { Session } from '../session.js';
import { ask, interactive, progress, type GlobalOptions } from './io.js';
import { reviewText } from './plan-text.js';

export interface ApplyCommandOptions extends Omit<GlobalOptions, 'context'> {
  profile?: string;
  yes?: boolean;
  preview?: boolean;
  areas?: string[];
  contexts?: string[];
  diff?: boolean;
  allowLockout?: boolean;
  keepFailed?: boolean;
  rolloutTimeout?: number;
  apiserverManifest?: string;
  out?: string;
  allContexts?: boolean;
  continueOnError?: boolean;
}

/** Progress lines on stderr, for a person watching or a CI log. */
export function logEvent(ctx: () => string, e: PipelineEvent): void {
  switch (e.type) {
    case 'connected':
      progress(`${e.context}: ${e.server} (${e.version.gitVersion}) as ${e.identity.username}`);
      break;
    case 'inspecting':
      progress(`${e.area ?? 'read'}: ${e.message}`);
      break;
    case 'inspected':
      progress(`${e.overview.map((o) => `${o.id}: ${o.total} finding(s)${o.notApplicable ? ` (${o.notApplicable})` : ''}`).join(', ')}`);
      break;
    case 'dry-run':
      if (e.done === e.total || e.done % 200 === 0) progress(`dry-run ${e.done}/${e.total}`);
      break;
    case 'planned':
      progress(
        `${e.changes} change(s) planned; server dry-run: ${e.changes - e.failed} ok${e.warned ? `, ${e.warned} with warnings` : ''}${e.failed ? `, ${e.failed} failed` : ''}${e.deferred ? `, ${e.deferred} validated when applied` : ''}`,
      );
      break;
    case 'note':
      progress(e.text);
      break;
    case 'verifying':
      progress('verifying: inspecting the changed areas again');
      break;
    case 'apply': {
      const a = e.event;
      if (a.type === 'snapshot') progress(`snapshot ${a.id} saved; applying`);
      if (a.type === 'wave') progress(`rollout wave ${a.index}/${a.total} (${a.size} workload(s))`);
      if (a.type === 'done') progress(`applied ${changeLabel(a.change)}`);
      if (a.type === 'failed') progress(`failed: ${a.error}`);
      if (a.type === 'rollout') {
        const failed = a.states.filter((s) => s.state === 'failed');
        const ready = a.states.filter((s) => s.state === 'ready').length;
        progress(
          `rollouts: ${ready}/${a.states.length} ready${failed.length ? `, ${failed.length} failed: ${failed.map((f) => `${f.ref.kind.toLowerCase()}/${f.ref.name}: ${f.detail}`).join('; ')}` : ''}`,
        );
      }
      if (a.type === 'rollback' && a.event.type === 'restored') progress(`rolled back ${storedLabel(a.event.change)} (${a.event.outcome})`);
      if (a.type === 'rollback' && a.event.type === 'conflict') progress(`not rolled back (changed since): ${storedLabel(a.event.change)}: ${a.event.detail}`);
      break;
    }
    default:
      void ctx;
  }
}

/** The non-interactive driver of the pipeline: the answers come from the profile. */
function profilePort(opts: ApplyCommandOptions, context: () => string): Port {
  const tty = interactive();
  return {
    interactive: false,
    canConfirm: tty,
    event: (e) => logEvent(context, e),
    // Every area of the session (those named by --areas or the profile): the plan only changes what needs it.
    chooseAreas: async (overview) => overview.filter((o) => !o.notApplicable).map((o) => o.id),
    ask: async (_q, a) => a.initial,
    review: async (r) => {
      process.stdout.write(reviewText(r, !!opts.preview || !!opts.diff));
    },
    confirm: async (c) => {
      // Only reached on a terminal without --yes: a plain prompt.
      if (!tty) return false;
      if (c.mode === 'type-the-name')
        return (await ask(`${c.reasons.join('; ') || 'Risky changes'}. Type the context name (${c.context}) to apply: `)) === c.context;
      return /^y(es)?$/i.test(await ask(`Apply ${c.count} change(s) to ${c.context}? (y/N) `));
    },
    rolloutFailed: async () => (opts.keepFailed ? 'keep' : 'rollback-failed'),
  };
}

function report(r: PipelineResult, opts: ApplyCommandOptions, ms: number): void {
  const ctx = r.context;
  const out = (s: string) => process.stdout.write(`${s}\n`);
  switch (r.outcome) {
    case 'nothing-to-do':
      out(`${ctx}: nothing to change`);
      break;
    case 'preview':
      out(
        `${ctx}: preview only: ${r.changes.length} change(s), ${r.changes.filter((c) => r.dry?.get(c.id)?.ok === false).length} failed the dry-run; nothing was written`,
      );
      break;
    case 'declined':
      out(`${ctx}: not applied: nothing was written`);
      break;
    case 'written': {
      const w = r.written!;
      out(
        `${ctx}: the plan was written to ${w.dir} (${w.manifests} new manifest(s), ${w.patches} patch(es)${w.manual ? `, ${w.manual} step(s) described in its README` : ''}); nothing was written to the cluster`,
      );
      out(`try it with: kubectl apply -k ${w.dir} --dry-run=server`);
      break;
    }
    case 'failed': {
      const a = r.apply!;
      if (a.rolloutFailures) {
        const what = a.rolloutFailures.states.map((s) => `${s.ref.kind.toLowerCase()}/${s.ref.name} in ${s.ref.namespace}: ${s.detail}`).join('; ');
        const done =
          a.rolloutFailures.decision === 'keep' ? 'kept as they are (--keep-failed)' : a.rollback ? 'rolled back' : `not rolled back (${a.rollbackError})`;
        out(`${ctx}: rollout failed: ${what}; ${done}. ${a.skipped} change(s) after it were not applied.`);
      } else {
        const why = a.journalError ? `the journal could not be written (${a.journalError})` : a.failed!.error;
        const undone = a.rollback
          ? `the ${a.rollback.restored} change(s) already applied were rolled back${a.rollback.conflicts.length ? ` (${a.rollback.conflicts.length} left: changed since)` : ''}`
          : `automatic rollback failed (${a.rollbackError})`;
        out(`${ctx}: ${why}; ${undone}`);
      }
      out(`snapshot ${a.snapshot.id}; undo what remains with: ${r.undo}`);
      break;
    }
    case 'applied': {
      const v = r.verify;
      out(
        `${ctx}: applied ${r.apply!.applied} change(s) in ${(ms / 1000).toFixed(1)} s${v ? `; ${v.fixed} finding(s) fixed, ${v.remaining} remain on the touched objects` : ''}`,
      );
      for (const a of r.summary)
        out(`  ${a.id}: ${a.changes} change(s)${a.fixed !== undefined ? `, ${a.fixed} fixed` : ''}${a.left.length ? `, ${a.left.length} left` : ''}`);
      out(`snapshot ${r.apply!.snapshot.id}; undo with: ${r.undo}`);
      break;
    }
  }
  void opts;
}

interface FleetRow {
  context: string;
  outcome: string;
  changes: number;
  applied: number;
  snapshot?: string;
  code: number;
}

function fleetTable(rows: FleetRow[]): string {
  const head = ['CONTEXT', 'OUTCOME', 'CHANGES', 'APPLIED', 'SNAPSHOT', 'EXIT'];
  const cells = rows.map((r) => [r.context, r.outcome, String(r.changes), String(r.applied), r.snapshot ?? '-', String(r.code)]);
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    c
      .map((x, i) => x.padEnd(w[i]))
      .join('  ')
      .trimEnd();
  return [line(head), ...cells.map(line)].join('\n') + '\n';
}

/** Replay an answer profile on one or more contexts, non-interactively when --yes is given. */
export async function applyProfile(opts: ApplyCommandOptions): Promise<number> {
  if (!opts.profile) throw new UsageError('apply needs --profile NAME|FILE');
  if (opts.out && opts.preview)
    throw new UsageError('--out writes the plan to files and nothing to the cluster; --preview would forbid the files too: use one of them');
  if (opts.allContexts && opts.contexts?.length) throw new UsageError('--all-contexts and --context: use one of them');
  let contexts: Array<string | undefined> = opts.contexts?.length ? opts.contexts : [undefined];
  if (opts.allContexts) {
    const { listContexts } = await import('../cluster/kubeconfig.js');
    const all = listContexts({ kubeconfig: opts.kubeconfig });
    if (!all.length) throw new UsageError('the kubeconfig has no contexts');
    contexts = all.map((c) => c.name);
    process.stderr.write(`--all-contexts: ${all.length} cluster(s):\n${all.map((c) => `  ${c.name}  ${c.server ?? ''}`).join('\n')}\n`);
    if (!opts.yes && !opts.preview) {
      if (!interactive()) throw new UsageError(`refusing to apply to ${all.length} cluster(s) without --yes (not a terminal)`);
      if (!/^y(es)?$/i.test(await ask(`Apply the profile to these ${all.length} cluster(s), one after the other? (y/N) `))) return EXIT.ok;
    }
  }
  if (opts.out && contexts.length > 1) throw new UsageError('--out writes one plan: name one --context');
  const profile = new ProfileStore().get(opts.profile);
  const areas = opts.areas ?? profileAreas(profile);
  let code: number = EXIT.ok;
  const rows: FleetRow[] = [];
  for (const context of contexts) {
    let name = context ?? '';
    const t0 = Date.now();
    const pipelineOpts: PipelineOptions = {
      kubeconfig: opts.kubeconfig,
      context,
      namespaces: opts.namespaces,
      concurrency: opts.concurrency,
      preview: opts.preview,
      areas,
      answers: profile.answers,
      yes: opts.yes || (opts.allContexts && !opts.preview),
      allowLockout: opts.allowLockout,
      keepFailed: opts.keepFailed,
      rolloutTimeoutMs: opts.rolloutTimeout ? opts.rolloutTimeout * 1000 : undefined,
      apiserverManifest: opts.apiserverManifest,
      out: opts.out,
    };
    let r: PipelineResult | undefined;
    let c: number;
    try {
      r = await runPipeline(
        pipelineOpts,
        profilePort({ ...opts, areas }, () => name),
        async (o) => {
          const s = await Session.open(o);
          name = s.contextName;
          return s;
        },
      );
      report(r, opts, Date.now() - t0);
      c = r.code;
    } catch (e) {
      // One cluster's error is that cluster's row in a fleet; alone, it is the command's error.
      if (contexts.length === 1) throw e;
      c = exitCodeFor(e);
      process.stderr.write(`kube-harden: ${name || context}: ${oneLine(e)}\n`);
    }
    rows.push({
      context: name || context || '(current)',
      outcome: r?.outcome ?? 'error',
      changes: r?.changes.length ?? 0,
      applied: r?.apply?.applied ?? 0,
      snapshot: r?.apply?.snapshot.id,
      code: c,
    });
    code = Math.max(code, c);
    if (c !== EXIT.ok && !opts.continueOnError) {
      const rest = contexts.slice(contexts.indexOf(context) + 1);
      for (const x of rest) rows.push({ context: x ?? '', outcome: 'not started', changes: 0, applied: 0, code: 0 });
      break; // a fleet stops at the first cluster that did not go well
    }
  }
  if (contexts.length > 1) process.stdout.write(`\n${fleetTable(rows)}`);
  return code;
}
