import { AREAS } from '../areas/registry.js';
import type { Answers } from '../areas/types.js';
import { confirmationFor } from '../engine/confirm-policy.js';
import { describeAccess } from '../engine/preview.js';
import { ApplyError, EXIT, SafetyError, UsageError } from '../errors.js';
import { ProfileStore } from '../profiles/profile.js';
import { Session } from '../session.js';
import { ask, interactive, progress, type GlobalOptions } from './io.js';
import { planText } from './plan-text.js';

export interface ApplyCommandOptions extends Omit<GlobalOptions, 'context'> {
  profile?: string;
  yes?: boolean;
  preview?: boolean;
  areas?: string[];
  contexts?: string[];
  diff?: boolean;
}

/** Replay an answer profile on one or more contexts, non-interactively when --yes is given. */
export async function applyProfile(opts: ApplyCommandOptions): Promise<number> {
  if (!opts.profile) throw new UsageError('apply needs --profile NAME|FILE');
  const profile = new ProfileStore().get(opts.profile);
  const areas = opts.areas ?? profile.areas;
  const contexts = opts.contexts?.length ? opts.contexts : [undefined];
  let code: number = EXIT.ok;
  for (const context of contexts) {
    const c = await applyOne({ ...opts, areas }, profile.answers, context);
    code = Math.max(code, c);
    if (c !== EXIT.ok) break; // a fleet stops at the first cluster that did not go well
  }
  return code;
}

async function applyOne(opts: ApplyCommandOptions, given: Answers, context: string | undefined): Promise<number> {
  const session = await Session.open({ ...opts, context, preview: opts.preview });
  const ctx = session.contextName;
  try {
    progress(`${ctx}: ${session.cluster.server} (${session.version.gitVersion}) as ${session.identity.username}${opts.preview ? ' [preview: nothing will be written]' : ''}`);
    const denied = (await session.readAccess()).filter((a) => !a.allowed);
    if (denied.length) throw new SafetyError(`missing permissions (nothing was changed): ${denied.map(describeAccess).join(', ')}`);
    await session.inspect((area, m) => progress(`${area.id}: ${m}`));
    const areaIds = new Set(session.areas.map((a) => a.id));
    const relevant = Object.fromEntries(Object.entries(given).filter(([k]) => areaIds.has(k.split('.')[0])));
    const unknownAreas = Object.keys(given).map((k) => k.split('.')[0]).filter((a) => !AREAS.some((x) => x.id === a));
    if (unknownAreas.length) throw new UsageError(`profile answers unknown area(s): ${[...new Set(unknownAreas)].join(', ')}`);
    const answers = session.resolveAnswers(relevant);
    const changes = session.plan(answers);
    progress(`${session.findings.length} finding(s); ${changes.length} change(s) planned`);
    if (changes.length === 0) {
      process.stdout.write(`${ctx}: nothing to change\n`);
      return EXIT.ok;
    }
    // Permissions before anything else: a dry-run is authorised like the real write, so check them first and name them.
    const missing = (await session.writeAccess(changes)).filter((a) => !a.allowed);
    if (missing.length) throw new SafetyError(`missing permissions (nothing was changed): ${missing.map(describeAccess).join(', ')}`);
    const dry = await session.dryRun(changes, (d, t) => {
      if (d === t || d % 100 === 0) progress(`dry-run ${d}/${t}`);
    });
    process.stdout.write(planText(changes, dry, !!opts.preview || !!opts.diff));
    const failed = changes.filter((c) => !dry.get(c.id)?.ok);
    if (opts.preview) {
      process.stdout.write(`${ctx}: preview only: ${changes.length} change(s), ${failed.length} failed the dry-run; nothing was written\n`);
      return failed.length ? EXIT.changeFailed : EXIT.ok;
    }
    if (failed.length) throw new ApplyError(`${failed.length} change(s) failed the server dry-run; nothing was written`);
    const policy = confirmationFor({ changes, interactive: interactive(), yes: opts.yes });
    if (policy === 'refuse') throw new UsageError(`refusing to apply ${changes.length} change(s) to ${ctx} without --yes (not a terminal)`);
    if (policy === 'ask' && !/^y(es)?$/i.test(await ask(`Apply ${changes.length} change(s) to ${ctx}? (y/N) `))) return EXIT.ok;
    if (policy === 'type-the-name' && (await ask(`Risky changes. Type the context name (${ctx}) to apply: `)) !== ctx) {
      progress('not confirmed: nothing was written');
      return EXIT.ok;
    }

    const t0 = Date.now();
    let done = 0;
    const result = await session.apply(changes, dry, (e) => {
      if (e.type === 'snapshot') progress(`snapshot ${e.id} saved; applying`);
      if (e.type === 'done') progress(`applied ${++done}/${changes.length} ${e.change.ref.kind.toLowerCase()}/${e.change.ref.name}`);
      if (e.type === 'failed') progress(`failed: ${e.error}`);
      if (e.type === 'rollback' && e.event.type === 'restored') progress(`rolled back ${e.event.change.ref.kind.toLowerCase()}/${e.event.change.ref.name}`);
    });
    const id = result.snapshot.id;
    if (result.failed) {
      const undone = result.rollback
        ? `the ${result.rollback.restored} change(s) already applied were rolled back`
        : `automatic rollback failed (${result.rollbackError}); run: kube-harden rollback ${id} --context ${ctx}`;
      process.stdout.write(`${ctx}: ${result.failed.error}; ${undone}\n`);
      return result.failed.conflict ? EXIT.safety : EXIT.changeFailed;
    }
    const v = await session.verify(changes);
    process.stdout.write(
      `${ctx}: applied ${result.applied} change(s) in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${v.fixed} finding(s) fixed, ${v.remaining} remain on the touched objects\n` +
        `snapshot ${id}; undo with: kube-harden rollback ${id} --context ${ctx}\n`,
    );
    return EXIT.ok;
  } finally {
    await session.close();
  }
}
