/**
 * The wizard as one async script: connect, inspect, ask, plan, preview, confirm, apply, verify.
 * Prompts are promise-returning (`ui.ask`): the script shows a screen and waits for its answer.
 * No React here; use-wizard.ts turns `Ui` into component state.
 */
import type { AnswerValue, Answers, Question } from '../src/areas/types.js';
import type { AccessResult } from '../src/cluster/client.js';
import type { ContextInfo } from '../src/cluster/kubeconfig.js';
import type { ApplyEvent, ApplyResult } from '../src/engine/apply.js';
import type { Change, DryRunResult } from '../src/engine/change.js';
import type { DiffLine } from '../src/engine/diff.js';
import { confirmationFor } from '../src/engine/confirm-policy.js';
import { exitCodeFor, oneLine, SafetyError } from '../src/errors.js';
import type { ApplyProgressProps } from './ApplyProgress.js';
import { countBySeverity, type AreaOverview } from './AreasOverview.js';
import type { HeaderInfo } from './components/Header.js';
import type { WizardCore, SessionLike } from './core.js';
import { changeTitle, plural, SEVERITY_ORDER } from './format.js';
import type { LogEntry } from './Log.js';
import type { OutcomeProps } from './Outcome.js';
import type { PreviewItem } from './PreviewScreen.js';
import type { SummaryProps } from './SummaryScreen.js';

import type { HardenOptions } from '../src/cli.js';

export type { HardenOptions };

export type Screen =
  | { name: 'busy'; text: string; lines?: string[]; quittable: boolean }
  | { name: 'pick-context'; contexts: ContextInfo[]; pick: (name: string) => void }
  | { name: 'overview'; areas: AreaOverview[]; next: () => void }
  | { name: 'question'; question: Question; index: number; total: number; initial: AnswerValue; answer: (v: AnswerValue) => void }
  | { name: 'preview'; items: PreviewItem[]; diffFor: (c: Change) => DiffLine[]; next: () => void }
  | { name: 'confirm'; mode: 'ask' | 'type-the-name'; count: number; context: string; reasons: string[]; answer: (yes: boolean) => void }
  | { name: 'apply'; progress: ApplyProgressProps }
  | { name: 'summary'; summary: SummaryProps }
  | { name: 'outcome'; outcome: OutcomeProps };

/** The user left (q, Esc) while a prompt was open. */
export class Quit extends Error {
  constructor() {
    super('quit');
    this.name = 'Quit';
  }
}

export interface Ui {
  /** Show a screen (ignored once the run has finished). */
  show(screen: Screen): void;
  /** Show a prompt screen and wait for its answer; rejects with Quit when the user leaves. */
  ask<T>(make: (resolve: (value: T) => void) => Screen): Promise<T>;
  header(h: Partial<HeaderInfo>): void;
  log(entry: LogEntry): void;
  /** The session to close however the run ends. */
  session(s: SessionLike): void;
  /** From here on q/Esc no longer quit: writes are in flight. */
  writing(on: boolean): void;
  /** The last screen and the exit code. */
  finish(screen: Screen, code: number): Promise<void>;
}

export const accessLabel = (a: AccessResult): string =>
  `${a.verb} ${a.resource}${a.group ? `.${a.group}` : ''}${a.namespace ? ` in ${a.namespace}` : ''}${a.name ? ` (${a.name})` : ''}`;

const answerText = (v: AnswerValue): string => (Array.isArray(v) ? (v.length ? v.join(', ') : '(none)') : typeof v === 'boolean' ? (v ? 'yes' : 'no') : v === '' ? '(empty)' : v);

const outcome = (tone: OutcomeProps['tone'], title: string, lines?: string[]): Screen => ({ name: 'outcome', outcome: { tone, title, lines } });

let seq = 0;
const key = (): string => `log-${++seq}`;

export async function runFlow(opts: HardenOptions, core: WizardCore, ui: Ui): Promise<void> {
  try {
    await steps(opts, core, ui);
  } catch (e) {
    if (e instanceof Quit) return;
    const details = e instanceof SafetyError ? e.details : [];
    await ui.finish(outcome('error', `error: ${oneLine(e)}`, details), exitCodeFor(e));
  }
}

async function steps(opts: HardenOptions, core: WizardCore, ui: Ui): Promise<void> {
  // 1. Profile (its answers are the defaults), kubeconfig, context, connect.
  let profileAnswers: Answers = {};
  let areas = opts.areas;
  if (opts.profile) {
    ui.show({ name: 'busy', text: `loading profile ${opts.profile}…`, quittable: true });
    const p = await core.loadProfile(opts.profile);
    profileAnswers = p.answers;
    if (!areas?.length && p.areas?.length) areas = p.areas;
    ui.log({ key: key(), tone: 'ok', text: `profile ${p.name ?? opts.profile}: ${plural(Object.keys(p.answers).length, 'answer')} as defaults` });
  }
  ui.show({ name: 'busy', text: 'reading kubeconfig…', quittable: true });
  const contexts = await core.listContexts({ kubeconfig: opts.kubeconfig, context: opts.context });
  let context = opts.context;
  if (!context && contexts.length > 1) {
    context = await ui.ask<string>((pick) => ({ name: 'pick-context', contexts, pick }));
  }
  const info = contexts.find((c) => c.name === context) ?? contexts.find((c) => c.current);
  ui.header({ context: context ?? info?.name });
  ui.show({ name: 'busy', text: `connecting to ${info?.server ?? context ?? 'the cluster'}…`, quittable: true });
  const session = await core.openSession({ kubeconfig: opts.kubeconfig, context, preview: opts.preview, areas, namespaces: opts.namespaces, concurrency: opts.concurrency });
  ui.session(session);
  const ctx = session.contextName;
  ui.header({ context: ctx, version: session.version.gitVersion, user: session.identity.username });

  ui.show({ name: 'busy', text: 'checking read permissions…', quittable: true });
  const access = await session.readAccess();
  const deniedRead = access.filter((a) => !a.allowed);
  ui.log({
    key: key(),
    tone: deniedRead.length ? 'fail' : 'ok',
    text: `connected to ${ctx}${info?.server ? ` (${info.server})` : ''}: Kubernetes ${session.version.gitVersion}, as ${session.identity.username}`,
    sub: [
      { text: `groups: ${session.identity.groups.join(', ') || '(none)'}` },
      { text: `read permissions: ${access.length - deniedRead.length}/${access.length} allowed` },
      ...deniedRead.map((a) => ({ text: `✗ cannot ${accessLabel(a)}`, tone: 'fail' as const })),
    ],
  });
  if (deniedRead.length) {
    return ui.finish(outcome('error', `missing permissions: ${deniedRead.map(accessLabel).join(', ')}`, ['kube-harden reads these to inspect the cluster; nothing was written']), 4);
  }

  // 2. Inspect, then the overview.
  const progress = new Map<string, string>();
  const states = await session.inspect((area, message) => {
    progress.set(area.id, `${area.title}: ${message}`);
    ui.show({ name: 'busy', text: 'inspecting…', lines: [...progress.values()], quittable: true });
  });
  const overview: AreaOverview[] = states.map((s) => ({
    id: s.area.id,
    title: s.area.title,
    summary: s.area.summary,
    counts: countBySeverity(s.inspection.findings),
    fixable: s.inspection.findings.filter((f) => f.fixable).length,
  }));
  const all = states.flatMap((s) => s.inspection.findings);
  const counts = countBySeverity(all);
  ui.log({ key: key(), tone: 'ok', text: `inspected ${plural(states.length, 'area')}: ${plural(all.length, 'finding')} (${SEVERITY_ORDER.map((s) => `${counts[s]} ${s}`).join(', ')})` });
  await ui.ask<void>((next) => ({ name: 'overview', areas: overview, next: () => next() }));

  // 3. Questions, one per screen; each answer goes to the log.
  const questions = session.questions;
  const given: Answers = { ...profileAnswers };
  for (const [index, question] of questions.entries()) {
    const initial = profileAnswers[question.id] ?? question.default;
    const value = await ui.ask<AnswerValue>((answer) => ({ name: 'question', question, index, total: questions.length, initial, answer }));
    given[question.id] = value;
    ui.log({ key: key(), tone: 'ok', text: `${question.title} → ${answerText(value)}` });
  }
  const answers = session.resolveAnswers(given);

  // 4. Plan, server dry-run, preview.
  ui.show({ name: 'busy', text: 'planning…', quittable: true });
  const changes = session.plan(answers);
  if (changes.length === 0) return ui.finish(outcome('ok', 'nothing to change: the answers ask for nothing the cluster does not already have'), 0);
  const dry = await session.dryRun(changes, (done, total) => ui.show({ name: 'busy', text: `dry-run ${done}/${total}`, quittable: true }));
  const failedDry = changes.filter((c) => dry.get(c.id)?.ok === false);
  const warned = changes.filter((c) => dry.get(c.id)?.ok && dry.get(c.id)!.warnings.length);
  ui.log({
    key: key(),
    tone: failedDry.length ? 'fail' : warned.length ? 'warn' : 'ok',
    text: `planned ${plural(changes.length, 'change')}; server dry-run: ${changes.length - failedDry.length} ok${warned.length ? `, ${warned.length} with warnings` : ''}${failedDry.length ? `, ${failedDry.length} failed` : ''}`,
  });
  const diffChange = await core.loadDiff();
  const cache = new Map<string, DiffLine[]>();
  const diffFor = (c: Change): DiffLine[] => {
    let lines = cache.get(c.id);
    if (!lines) cache.set(c.id, (lines = diffChange(c)));
    return lines;
  };
  const items = changes.map((change) => ({ change, dry: dry.get(change.id) }));
  await ui.ask<void>((next) => ({ name: 'preview', items, diffFor, next: () => next() }));

  // 5. Confirm (or stop here).
  if (opts.preview) {
    return ui.finish(
      outcome('ok', `Preview only: ${plural(changes.length, 'change')}, nothing was written to the cluster or to disk`, [
        ...(opts.saveProfile ? [`profile "${opts.saveProfile}" not saved: preview writes nothing locally`] : []),
        'run again without --preview to apply',
      ]),
      0,
    );
  }
  if (failedDry.length) {
    return ui.finish(
      outcome('error', `refusing to apply: ${plural(failedDry.length, 'change')} failed the server dry-run; nothing was changed`, failedDry.map((c) => `${changeTitle(c)}: ${dry.get(c.id)?.error ?? 'error'}`)),
      1,
    );
  }
  ui.show({ name: 'busy', text: 'checking write permissions…', quittable: true });
  const deniedWrite = (await session.writeAccess(changes)).filter((a) => !a.allowed);
  if (deniedWrite.length) {
    return ui.finish(outcome('error', 'missing permissions to apply this plan: nothing was changed', deniedWrite.map((a) => `cannot ${accessLabel(a)}`)), 4);
  }
  const policy = confirmationFor({ changes, interactive: true });
  if (policy === 'refuse') return ui.finish(outcome('error', 'refusing to apply without confirmation'), 4);
  if (policy !== 'auto') {
    const high = changes.filter((c) => c.risk === 'high').length;
    const reasons = [...(high ? [`${high} high-risk`] : []), ...(changes.length > 25 ? [`${changes.length} changes at once`] : [])];
    const yes = await ui.ask<boolean>((answer) => ({ name: 'confirm', mode: policy, count: changes.length, context: ctx, reasons, answer }));
    if (!yes) return ui.finish(outcome('ok', 'not applied: nothing was written to the cluster'), 0);
  }

  // 6. Apply, verify, summary.
  ui.writing(true);
  const result = await apply(session, changes, dry, ui);
  let verify: SummaryProps['verify'];
  if (!result.failed) {
    ui.show({ name: 'busy', text: 'verifying…', quittable: false });
    try {
      const v = await session.verify(changes);
      verify = { fixed: v.fixed, remaining: v.remaining };
    } catch (e) {
      ui.log({ key: key(), tone: 'warn', text: `verify failed: ${oneLine(e)}` });
    }
  }
  let profile: SummaryProps['profile'];
  if (opts.saveProfile) {
    const name = opts.saveProfile;
    try {
      await core.saveProfile(name, { version: 1, name, areas: session.areas.map((a) => a.id), answers });
      profile = { name, saved: true };
    } catch (e) {
      profile = { name, saved: false, error: oneLine(e) };
    }
  }
  const summary: SummaryProps = {
    context: ctx,
    total: changes.length,
    applied: result.applied,
    snapshotId: result.snapshot.id,
    verify,
    failed: result.failed && { change: changeTitle(result.failed.change), error: result.failed.error, conflict: result.failed.conflict },
    skipped: result.skipped,
    rollback: result.rollback,
    rollbackError: result.rollbackError,
    profile,
  };
  await ui.finish({ name: 'summary', summary }, result.failed ? (result.failed.conflict ? 4 : 1) : 0);
}

async function apply(session: SessionLike, changes: Change[], dry: Map<string, DryRunResult>, ui: Ui): Promise<ApplyResult> {
  const p: ApplyProgressProps = { total: changes.length, applied: 0, failed: 0, current: [], rollingBack: false };
  const current = new Set<string>();
  const show = () => ui.show({ name: 'apply', progress: { ...p, current: [...current] } });
  show();
  const onEvent = (e: ApplyEvent) => {
    switch (e.type) {
      case 'preflight':
        break;
      case 'snapshot':
        p.snapshotId = e.id;
        ui.log({ key: key(), tone: 'ok', text: `snapshot ${e.id} saved`, sub: [{ text: `undo: kube-harden rollback ${e.id} --context ${session.contextName}` }] });
        break;
      case 'start':
        current.add(changeTitle(e.change));
        break;
      case 'done':
        current.delete(changeTitle(e.change));
        p.applied++;
        ui.log({ key: key(), tone: 'ok', text: changeTitle(e.change), sub: e.warnings.map((w) => ({ text: `⚠ ${w}`, tone: 'warn' as const })) });
        break;
      case 'failed':
        current.delete(changeTitle(e.change));
        p.failed++;
        ui.log({ key: key(), tone: 'fail', text: `${changeTitle(e.change)}: ${e.error}` });
        break;
      case 'rollback': {
        const r = e.event;
        p.rollingBack = true;
        p.rollback ??= { restored: 0, failed: 0 };
        if (r.type === 'checking') p.rollback.total = r.total;
        else if (r.type === 'restored') {
          p.rollback.restored++;
          ui.log({ key: key(), tone: 'warn', text: `rolled back ${changeTitle(r.change)} (${r.outcome})` });
        } else {
          p.rollback.failed++;
          ui.log({ key: key(), tone: 'fail', text: `rollback of ${changeTitle(r.change)} failed: ${r.error}` });
        }
        break;
      }
    }
    show();
  };
  return session.apply(changes, dry, onEvent);
}
