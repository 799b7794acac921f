/**
 * The wizard's side of the pipeline: a Port whose prompts are screens. The sequence itself lives in the
 * core (src/pipeline.ts); this file only turns its questions and events into screens and log lines.
 * No React here; use-wizard.ts turns `Ui` into component state.
 */
import type { AnswerValue, AreaId, Question } from '../src/areas/types.js';
import type { ContextInfo } from '../src/cluster/kubeconfig.js';
import type { RolloutDecision } from '../src/engine/apply.js';
import { changeLabel, type Change, type DryRunResult } from '../src/engine/change.js';
import type { DiffLine } from '../src/engine/diff.js';
import type { RolloutState } from '../src/engine/rollout.js';
import { exitCodeFor, oneLine, SafetyError } from '../src/errors.js';
import type { HardenOptions } from '../src/harden.js';
import type { PipelineResult } from '../src/pipeline.js';
import { BACK, type AreaOverview, type AreaPlan, type Back, type PipelineEvent, type Port, type Review } from '../src/port.js';
import type { ApplyProgressProps } from './ApplyProgress.js';
import type { HeaderInfo } from './components/Header.js';
import type { WizardCore } from './core.js';
import { plural, SEVERITY_ORDER } from './format.js';
import type { LogEntry } from './Log.js';
import type { OutcomeProps } from './Outcome.js';
import type { PreviewItem } from './PreviewScreen.js';

export type { HardenOptions };

export interface PlanView {
  /** "bookinfo: pod security" for an area's part, "Review" for the whole plan. */
  title: string;
  items: PreviewItem[];
  diffFor: (c: Change, dry?: DryRunResult) => DiffLine[];
  /** Impact tables, guards, findings left: lines shown above the changes. */
  notes: Array<{ title: string; lines: string[]; warn?: boolean }>;
  final: boolean;
}

export type Screen =
  | { name: 'busy'; text: string; lines?: string[]; quittable: boolean }
  | { name: 'pick-context'; contexts: ContextInfo[]; pick: (name: string) => void }
  | { name: 'overview'; areas: AreaOverview[]; defaults: AreaId[]; pick: (ids: AreaId[]) => void }
  | {
      name: 'question';
      question: Question;
      area: string;
      index: number;
      total: number;
      initial: AnswerValue;
      fromProfile: boolean;
      answer: (v: AnswerValue) => void;
      back: () => void;
    }
  | { name: 'preview'; view: PlanView; next: () => void; back?: () => void }
  | { name: 'confirm'; mode: 'ask' | 'type-the-name'; count: number; context: string; reasons: string[]; answer: (yes: boolean | { out: string }) => void }
  | { name: 'rollout-failed'; states: RolloutState[]; choose: (d: RolloutDecision) => void }
  | { name: 'save-profile'; save: (name: string | undefined) => void; error?: string }
  | { name: 'apply'; progress: ApplyProgressProps }
  | { name: 'summary'; result: PipelineResult; profile?: { name: string; saved: boolean; error?: string } }
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
  /** From here on q/Esc no longer quit: writes are in flight. */
  writing(on: boolean): void;
  /** The last screen and the exit code. */
  finish(screen: Screen, code: number): Promise<void>;
}

const answerText = (v: AnswerValue): string =>
  Array.isArray(v)
    ? v.length
      ? v.join(', ')
      : '(none)'
    : typeof v === 'boolean'
      ? v
        ? 'yes'
        : 'no'
      : typeof v === 'object'
        ? Object.entries(v)
            .map(([k, x]) => `${k}=${x}`)
            .join(', ') || '(none)'
        : v === ''
          ? '(empty)'
          : String(v);

const outcome = (tone: OutcomeProps['tone'], title: string, lines?: string[]): Screen => ({ name: 'outcome', outcome: { tone, title, lines } });

let seq = 0;
const key = (): string => `log-${++seq}`;

function planView(
  title: string,
  changes: Change[],
  dry: Map<string, DryRunResult>,
  diffFor: PlanView['diffFor'],
  notes: PlanView['notes'],
  final: boolean,
): PlanView {
  return { title, items: changes.map((change) => ({ change, dry: dry.get(change.id) })), diffFor, notes, final };
}

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
  // 1. Profile (its answers are the defaults), kubeconfig, context.
  let answers = {};
  let areas = opts.areas;
  if (opts.profile) {
    ui.show({ name: 'busy', text: `loading profile ${opts.profile}…`, quittable: true });
    const p = await core.loadProfile(opts.profile);
    answers = p.answers;
    if (!areas?.length && p.areas?.length) areas = p.areas;
    ui.log({ key: key(), tone: 'ok', text: `profile ${p.name ?? opts.profile}: ${plural(Object.keys(p.answers).length, 'answer')} as defaults` });
  }
  ui.show({ name: 'busy', text: 'reading kubeconfig…', quittable: true });
  const contexts = await core.listContexts({ kubeconfig: opts.kubeconfig, context: opts.context });
  let context = opts.context;
  if (!context && contexts.length > 1) context = await ui.ask<string>((pick) => ({ name: 'pick-context', contexts, pick }));
  const info = contexts.find((c) => c.name === context) ?? contexts.find((c) => c.current);
  ui.header({ context: context ?? info?.name });

  const diffOf = await core.loadDiff();
  const cache = new Map<string, DiffLine[]>();
  const diffFor = (c: Change, dry?: DryRunResult): DiffLine[] => {
    const k = `${c.id}\0${dry?.rendered ? 'r' : ''}`;
    let lines = cache.get(k);
    if (!lines) cache.set(k, (lines = diffOf(c, dry)));
    return lines;
  };
  const inspecting = new Map<string, string>();
  const apply: ApplyProgressProps = { total: 0, applied: 0, failed: 0, current: [], rollingBack: false };
  const current = new Set<string>();
  const showApply = () => ui.show({ name: 'apply', progress: { ...apply, current: [...current] } });
  let ctxName = context ?? info?.name ?? '';

  const event = (e: PipelineEvent) => {
    switch (e.type) {
      case 'connecting':
        ui.show({ name: 'busy', text: `connecting to ${info?.server ?? context ?? 'the cluster'}…`, quittable: true });
        break;
      case 'connected': {
        ctxName = e.context;
        ui.header({ context: e.context, version: e.version.gitVersion, user: e.identity.username });
        const denied = e.access.filter((a) => !a.allowed);
        ui.log({
          key: key(),
          tone: denied.length ? 'fail' : 'ok',
          text: `connected to ${e.context} (${e.server}): Kubernetes ${e.version.gitVersion}, as ${e.identity.username}`,
          sub: [
            { text: `groups: ${e.identity.groups.join(', ') || '(none)'}` },
            { text: `read permissions: ${e.access.length - denied.length}/${e.access.length} allowed` },
          ],
        });
        ui.show({ name: 'busy', text: 'inspecting…', quittable: true });
        break;
      }
      case 'inspecting':
        inspecting.set(e.area ?? 'read', `${e.area ?? 'reading'}: ${e.message}`);
        ui.show({ name: 'busy', text: 'inspecting…', lines: [...inspecting.values()], quittable: true });
        break;
      case 'inspected': {
        const counts = SEVERITY_ORDER.map((s) => `${e.overview.reduce((n, o) => n + o.counts[s], 0)} ${s}`).join(', ');
        ui.log({
          key: key(),
          tone: 'ok',
          text: `inspected ${plural(e.overview.length, 'area')}: ${plural(
            e.overview.reduce((n, o) => n + o.total, 0),
            'finding',
          )} (${counts})`,
        });
        break;
      }
      case 'answered':
        ui.log({ key: key(), tone: 'ok', text: `${e.question.title} → ${answerText(e.value)}${e.fromProfile ? ' (from the profile)' : ''}` });
        break;
      case 'dry-run':
        ui.show({ name: 'busy', text: `server dry-run ${e.done}/${e.total}`, quittable: true });
        break;
      case 'planned':
        ui.log({
          key: key(),
          tone: e.failed ? 'fail' : e.warned ? 'warn' : 'ok',
          text: `planned ${plural(e.changes, 'change')}; server dry-run: ${e.changes - e.failed} ok${e.warned ? `, ${e.warned} with warnings` : ''}${e.failed ? `, ${e.failed} failed` : ''}${e.deferred ? `, ${e.deferred} when applied` : ''}`,
        });
        break;
      case 'preflight':
        ui.show({ name: 'busy', text: 'checking permissions…', quittable: true });
        break;
      case 'note':
        ui.log({ key: key(), tone: 'info', text: e.text });
        break;
      case 'verifying':
        ui.show({ name: 'busy', text: 'verifying: inspecting the changed areas again…', quittable: false });
        break;
      case 'profile-saved':
        break;
      case 'apply': {
        const a = e.event;
        if (a.type === 'preflight') {
          ui.writing(true);
          showApply();
        } else if (a.type === 'snapshot') {
          apply.snapshotId = a.id;
          ui.log({ key: key(), tone: 'ok', text: `snapshot ${a.id} saved`, sub: [{ text: 'undo: kube-harden rollback (the command is in the summary)' }] });
        } else if (a.type === 'start') current.add(changeLabel(a.change));
        else if (a.type === 'done') {
          current.delete(changeLabel(a.change));
          apply.applied++;
          ui.log({
            key: key(),
            tone: 'ok',
            text: `${a.change.kind === 'object' ? a.change.action : 'apply'} ${changeLabel(a.change)}`,
            sub: a.warnings.map((w) => ({ text: `⚠ ${w}`, tone: 'warn' as const })),
          });
        } else if (a.type === 'failed') {
          current.delete(changeLabel(a.change));
          apply.failed++;
          ui.log({ key: key(), tone: 'fail', text: `${changeLabel(a.change)}: ${a.error}` });
        } else if (a.type === 'wave') {
          apply.wave = { index: a.index, total: a.total, size: a.size };
        } else if (a.type === 'rollout') {
          apply.rollouts = a.states;
        } else if (a.type === 'note') ui.log({ key: key(), tone: 'info', text: a.text });
        else if (a.type === 'rollback') {
          const r = a.event;
          apply.rollingBack = true;
          apply.rollback ??= { restored: 0, failed: 0 };
          if (r.type === 'checking') apply.rollback.total = r.total;
          else if (r.type === 'restored') {
            apply.rollback.restored++;
            ui.log({
              key: key(),
              tone: 'warn',
              text: `rolled back ${r.change.kind === 'object' ? `${r.change.ref.kind.toLowerCase()}/${r.change.ref.name}` : r.change.id} (${r.outcome})`,
            });
          } else if (r.type === 'failed' || r.type === 'conflict') {
            apply.rollback.failed++;
            ui.log({ key: key(), tone: 'fail', text: `not rolled back: ${r.type === 'failed' ? r.error : r.detail}` });
          }
        }
        if (apply.snapshotId || a.type === 'preflight') showApply();
        break;
      }
    }
  };

  let saved: { name: string; saved: boolean; error?: string } | undefined;
  const port: Port = {
    interactive: true,
    canConfirm: true,
    event,
    chooseAreas: (overview, defaults) => ui.ask<AreaId[]>((pick) => ({ name: 'overview', areas: overview, defaults, pick })),
    ask: (q, c) =>
      ui.ask<AnswerValue | Back>((resolve) => ({
        name: 'question',
        question: q,
        area: c.area.title,
        index: c.index,
        total: c.total,
        initial: c.initial,
        fromProfile: c.fromProfile,
        answer: resolve,
        back: () => resolve(BACK),
      })),
    areaPlan: (p: AreaPlan) =>
      ui.ask<'next' | Back>((resolve) => ({
        name: 'preview',
        view: planView(
          `${p.area.title}: ${plural(p.changes.length, 'change')}`,
          p.changes,
          p.dry,
          diffFor,
          [
            ...p.sections.map((s) => ({ title: s.title, lines: s.lines, warn: s.warn })),
            ...(p.left.length
              ? [
                  {
                    title: `left as they are: ${plural(p.left.length, 'finding')}`,
                    lines: p.left.slice(0, 6).map((f) => `${f.ref.name}: ${f.message}${f.manual ? ` (${f.manual})` : ''}`),
                  },
                ]
              : []),
          ],
          false,
        ),
        next: () => resolve('next'),
        back: () => resolve(BACK),
      })),
    review: (r: Review) =>
      ui.ask<void>((resolve) => ({
        name: 'preview',
        view: planView(
          `Review: ${plural(r.changes.length, 'change')} across ${plural(new Set(r.changes.flatMap((c) => c.areas)).size, 'area')}${r.preview ? ' (preview: nothing will be written)' : ''}`,
          r.changes,
          r.dry,
          diffFor,
          [
            ...r.guards.map((g) => ({ title: g.message, lines: g.details, warn: true })),
            ...r.sections.map((s) => ({ title: `${s.area}: ${s.title}`, lines: s.lines, warn: s.warn })),
          ],
          true,
        ),
        next: () => resolve(),
      })),
    confirm: (c) => ui.ask<boolean | { out: string }>((answer) => ({ name: 'confirm', ...c, answer })),
    rolloutFailed: (states) => ui.ask<RolloutDecision>((choose) => ({ name: 'rollout-failed', states, choose })),
    offerProfile: async (ans, chosen) => {
      ui.writing(false);
      let name = opts.saveProfile;
      let error: string | undefined;
      for (;;) {
        if (!name) {
          const asked = await ui.ask<string | undefined>((save) => ({ name: 'save-profile', save, error }));
          if (!asked) return;
          name = asked;
        }
        try {
          await core.saveProfile(name, { version: 2, name, areas: chosen, answers: ans });
          saved = { name, saved: true };
          ui.log({ key: key(), tone: 'ok', text: `answers saved as profile "${name}": kube-harden apply --profile ${name}` });
          return;
        } catch (e) {
          error = oneLine(e);
          if (opts.saveProfile) {
            saved = { name, saved: false, error };
            return;
          }
          name = undefined;
        }
      }
    },
  };

  const result = await core.runPipeline(
    {
      kubeconfig: opts.kubeconfig,
      context,
      preview: opts.preview,
      areas,
      namespaces: opts.namespaces,
      concurrency: opts.concurrency,
      answers,
      apiserverManifest: opts.apiserverManifest,
      rolloutTimeoutMs: opts.rolloutTimeout ? opts.rolloutTimeout * 1000 : undefined,
      scanImages: opts.scanImages ? {} : undefined,
    },
    port,
  );
  void ctxName;
  switch (result.outcome) {
    case 'nothing-to-do':
      return ui.finish(
        outcome(
          'ok',
          'nothing to change: the answers ask for nothing the cluster does not already have',
          saved?.saved ? [`answers saved as profile "${saved.name}"`] : [],
        ),
        0,
      );
    case 'preview':
      return ui.finish(
        outcome(
          result.code ? 'warn' : 'ok',
          `Preview only: ${plural(result.changes.length, 'change')}; nothing was written to the cluster${saved?.saved ? ` (the answers were saved as profile "${saved.name}", as asked)` : ' or to disk'}`,
          [...(result.code ? ['some changes failed the server dry-run: see the review'] : []), 'run again without --preview to apply'],
        ),
        result.code,
      );
    case 'declined':
      return ui.finish(outcome('ok', 'not applied: nothing was written to the cluster', saved?.saved ? [`answers saved as profile "${saved.name}"`] : []), 0);
    case 'written': {
      const w = result.written!;
      return ui.finish(
        outcome('ok', `The plan was written to ${w.dir}: nothing was written to the cluster`, [
          `${w.manifests} new manifest(s), ${w.patches} patch(es) against the live objects${w.manual ? `, ${w.manual} step(s) described in its README` : ''}`,
          `try it: kubectl apply -k ${w.dir} --dry-run=server`,
        ]),
        result.code,
      );
    }
    default:
      return ui.finish({ name: 'summary', result, profile: saved }, result.code);
  }
}
