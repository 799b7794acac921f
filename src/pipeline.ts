/**
 * The one pipeline: connect, inspect, choose the areas, walk them (questions, then that area's part of
 * the plan), compose, preflight (permissions and guards), dry-run, review, confirm, snapshot, apply,
 * follow the rollouts, verify. It lives here once; the Ink wizard and the non-interactive `apply` are
 * two drivers of it, through a small port (answer a question, confirm, report progress).
 */
import { countBySeverity, severityRank, type Answers, type AreaId, type Finding } from './areas/types.js';
import { BACK, type AreaOverview, type AreaPlan, type Port } from './port.js';
import { activeQuestions, validateAnswer, withDefaults } from './areas/types.js';
import type { ApplyResult } from './engine/apply.js';
import { writePlanAsFiles, type OutSummary } from './output/kustomize.js';
import { changeLabel, type Change, type DryRunResult } from './engine/change.js';
import { confirmationFor } from './engine/confirm-policy.js';
import { assertPreflight, describeAccess } from './engine/preview.js';
import { ApplyError, SafetyError, UsageError } from './errors.js';
import type { Session, SessionOptions, VerifyResult } from './session.js';

export { BACK, type AreaOverview, type AreaPlan, type AskContext, type Back, type ConfirmRequest, type PipelineEvent, type Port, type Review } from './port.js';

export interface PipelineOptions extends SessionOptions {
  /** Answers given up front (a profile): defaults in the wizard, the answers in `apply`. */
  answers?: Answers;
  /** --yes: apply without asking (needed when not interactive). */
  yes?: boolean;
  /** Accept a guard's "confirm" verdict without typing (the rbac lock-out) when not interactive. */
  allowLockout?: boolean;
  /** Keep workloads whose rollout stalled instead of rolling them back (non-interactive). */
  keepFailed?: boolean;
  /** Write the plan to this folder as a kustomization instead of applying it. */
  out?: string;
}

export interface AreaSummary {
  id: AreaId;
  title: string;
  changes: number;
  fixed?: number;
  remaining?: number;
  /** Findings left, with why (needs a person, not chosen, cannot apply here). */
  left: Array<{ message: string; why: string }>;
}

export interface PipelineResult {
  code: number;
  context: string;
  outcome: 'nothing-to-do' | 'preview' | 'declined' | 'written' | 'applied' | 'failed';
  /** --out: where the plan was written, and what. */
  written?: OutSummary;
  changes: Change[];
  dry?: Map<string, DryRunResult>;
  answers: Answers;
  areas: AreaId[];
  apply?: ApplyResult;
  verify?: VerifyResult;
  summary: AreaSummary[];
  /** The command that undoes this apply, exactly as it can be pasted. */
  undo?: string;
}

/** The rollback command for a snapshot, with the kubeconfig and context the session used. */
export function undoCommand(snapshotId: string, opts: { context: string; kubeconfig?: string }): string {
  const q = (s: string) => (/^[\w./:@=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return `kube-harden rollback ${snapshotId} --context ${q(opts.context)}${opts.kubeconfig ? ` --kubeconfig ${q(opts.kubeconfig)}` : ''}`;
}

function leftFindings(findings: Finding[], changes: Change[]): Finding[] {
  const fixed = new Set(changes.flatMap((c) => c.findingIds));
  return findings.filter((f) => !fixed.has(f.id)).sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
}

const whyLeft = (f: Finding, notApplicable?: string) => notApplicable ?? f.manual ?? (f.fixable ? 'not chosen in this session' : 'needs a person');

/**
 * Run the whole session on one cluster. Errors (bad input, unreachable cluster, refused for safety)
 * are thrown as typed errors for the driver to map to an exit code; every other ending is a result.
 */
export async function runPipeline(opts: PipelineOptions, port: Port, open: (o: SessionOptions) => Promise<Session>): Promise<PipelineResult> {
  port.event({ type: 'connecting', context: opts.context });
  const session = await open({ ...opts, preview: opts.preview || !!opts.out });
  try {
    return await steps(session, opts, port);
  } finally {
    await session.close();
  }
}

async function steps(session: Session, opts: PipelineOptions, port: Port): Promise<PipelineResult> {
  const ctx = session.contextName;
  const access = await session.readAccess();
  port.event({ type: 'connected', context: ctx, server: session.cluster.server, version: session.version, identity: session.identity, access });
  const deniedRead = access.filter((a) => !a.allowed);
  if (deniedRead.length)
    throw new SafetyError(
      `missing permissions to inspect the cluster (nothing was changed): ${deniedRead.map(describeAccess).join(', ')}`,
      deniedRead.map(describeAccess),
    );

  // Inspect, then the areas to walk.
  const states = await session.inspect((area, message) => port.event({ type: 'inspecting', area: area?.id, message }));
  const given = opts.answers ?? {};
  session.checkAnswerKeys(given);
  const overview: AreaOverview[] = states.map((s) => ({
    id: s.area.id,
    title: s.area.title,
    summary: s.area.summary,
    counts: countBySeverity(s.inspection.findings),
    fixable: s.inspection.findings.filter((f) => f.fixable).length,
    total: s.inspection.findings.length,
    notApplicable: s.inspection.notApplicable,
    notes: s.inspection.notes,
  }));
  port.event({ type: 'inspected', overview });
  const defaults = overview.filter((o) => o.fixable > 0 && !o.notApplicable).map((o) => o.id);
  const chosen = await port.chooseAreas(overview, defaults);

  // Walk: each area's questions, then its part of the plan; BACK goes one step back, answers kept.
  const answers: Answers = {};
  const answered = new Set<string>();
  const plans = new Map<AreaId, AreaPlan>();
  let i = 0;
  let resumeAtEnd = false;
  while (i < chosen.length) {
    const id = chosen[i];
    const state = session.state(id);
    const view = overview.find((o) => o.id === id)!;
    // Coming back into an area lands on its last question.
    let j = resumeAtEnd ? -1 : 0;
    resumeAtEnd = false;
    let wentBack = false;
    for (;;) {
      const current = { ...withDefaults(state.questions, { ...given, ...answers }), ...answers };
      const qs = activeQuestions(state.questions, current);
      if (j < 0) j = Math.max(0, qs.length - 1);
      if (j >= qs.length) break;
      const q = qs[j];
      const fromProfile = q.id in given && !answered.has(q.id);
      const initial = answers[q.id] ?? given[q.id] ?? q.default;
      const v = await port.ask(q, { area: view, index: j, total: qs.length, initial, fromProfile });
      if (v === BACK) {
        if (j > 0) j--;
        else if (i > 0) {
          wentBack = true;
          break;
        }
        continue;
      }
      const err = validateAnswer(q, v, current);
      if (err) {
        if (!port.interactive) throw new UsageError(`bad answer: ${q.id}: ${err}`);
        continue;
      }
      answers[q.id] = v;
      answered.add(q.id);
      port.event({ type: 'answered', question: q, value: v, fromProfile: fromProfile && v === given[q.id] });
      j++;
    }
    if (wentBack) {
      i--;
      resumeAtEnd = true;
      // Back from an area's first question lands on the previous area's plan view.
      const prev = plans.get(chosen[i]);
      if (prev && port.areaPlan && (await port.areaPlan(prev)) === 'next') {
        resumeAtEnd = false;
        i++;
      }
      continue;
    }
    // That area's part of the plan, with its dry-run: the consequence of each answer while it is fresh.
    const areaAnswers = withDefaults(state.questions, { ...given, ...answers });
    Object.assign(answers, areaAnswers);
    if (!port.areaPlan) {
      i++;
      continue;
    }
    const changes = session.plan(answers, [id]);
    const dry = await session.dryRun(changes, (done, total) => port.event({ type: 'dry-run', done, total }));
    const plan: AreaPlan = {
      area: view,
      findings: state.inspection.findings,
      changes,
      dry,
      left: leftFindings(state.inspection.findings, changes),
      sections: session.review(changes, dry, answers).filter((s) => s.area === id),
    };
    plans.set(id, plan);
    if ((await port.areaPlan(plan)) === BACK) {
      resumeAtEnd = true;
      continue;
    }
    i++;
  }

  // The whole plan: composed across areas, checked, dry-run once (the areas' answers are cached).
  const changes = session.plan(answers, chosen);
  const result: PipelineResult = { code: 0, context: ctx, outcome: 'nothing-to-do', changes, answers, areas: chosen, summary: [] };
  const summarise = (verify?: VerifyResult) =>
    chosen.map((id): AreaSummary => {
      const s = session.state(id);
      const mine = changes.filter((c) => c.areas.includes(id));
      const left = leftFindings(s.inspection.findings, mine);
      return {
        id,
        title: s.area.title,
        changes: mine.length,
        fixed: verify?.perArea[id]?.fixed,
        remaining: verify?.perArea[id]?.remaining,
        left: left.map((f) => ({
          message: `${f.ref.kind.toLowerCase()}/${f.ref.name}${f.ref.namespace ? ` in ${f.ref.namespace}` : ''}: ${f.message}`,
          why: whyLeft(f, s.inspection.notApplicable),
        })),
      };
    });
  const finish = async (r: Partial<PipelineResult>): Promise<PipelineResult> => {
    Object.assign(result, r);
    result.summary = summarise(result.verify);
    await port.offerProfile?.(answers, chosen);
    return result;
  };
  if (changes.length === 0) return finish({ outcome: 'nothing-to-do' });

  // Permissions and guards before the dry-run (a dry-run is authorised like the write), in every mode.
  port.event({ type: 'preflight' });
  assertPreflight(await session.preflight(changes));
  const guards = await session.guards(changes);
  const refused = guards.filter((g) => g.level === 'refuse');
  if (refused.length)
    throw new SafetyError(
      `refused for safety (nothing was changed): ${refused.map((g) => g.message).join('; ')}`,
      refused.flatMap((g) => g.details),
    );

  const dry = await session.dryRun(changes, (done, total) => port.event({ type: 'dry-run', done, total }));
  result.dry = dry;
  const failedDry = changes.filter((c) => dry.get(c.id)?.ok === false);
  port.event({
    type: 'planned',
    changes: changes.length,
    failed: failedDry.length,
    warned: changes.filter((c) => dry.get(c.id)?.ok && dry.get(c.id)!.warnings.length).length,
    deferred: changes.filter((c) => dry.get(c.id)?.deferred).length,
  });
  const left = chosen.flatMap((id) => leftFindings(session.state(id).inspection.findings, changes));
  await port.review({ context: ctx, preview: session.preview, changes, dry, sections: session.review(changes, dry, answers), guards, left });

  const writeOut = async (dir: string) =>
    finish({ outcome: 'written', written: await writePlanAsFiles(dir, changes, dry, ctx), code: failedDry.length ? 1 : 0 });
  // --out: the session was opened read-only (nothing can be written to the cluster), the plan goes to files.
  if (opts.out) return writeOut(opts.out);
  if (session.preview) return finish({ outcome: 'preview', code: failedDry.length ? 1 : 0 });
  if (failedDry.length) {
    const first = failedDry[0];
    throw new ApplyError(
      `refusing to apply: ${failedDry.length} change(s) failed the server dry-run (${changeLabel(first)}: ${dry.get(first.id)?.error}); nothing was changed`,
    );
  }

  // Confirm: the policy, and any guard that asks for more than a yes.
  const confirmGuards = guards.filter((g) => g.level === 'confirm');
  if (confirmGuards.length && !port.canConfirm && !opts.allowLockout) {
    throw new SafetyError(
      `refused for safety: ${confirmGuards.map((g) => g.message).join('; ')} (pass ${confirmGuards[0].flag ?? '--allow-lockout'} to apply anyway)`,
      confirmGuards.flatMap((g) => g.details),
    );
  }
  let policy = confirmationFor({ changes, interactive: port.canConfirm, yes: opts.yes });
  if (confirmGuards.length && port.canConfirm && !opts.allowLockout) policy = 'type-the-name';
  if (policy === 'refuse') throw new UsageError(`refusing to apply ${changes.length} change(s) to ${ctx} without --yes (not a terminal)`);
  if (policy !== 'auto') {
    const high = changes.filter((c) => c.risk === 'high').length;
    const reasons = [
      ...confirmGuards.map((g) => g.message),
      ...(high ? [`${high} high-risk change(s)`] : []),
      ...(changes.length > 25 ? [`${changes.length} changes at once`] : []),
    ];
    const answer = await port.confirm({ mode: policy, context: ctx, count: changes.length, reasons });
    if (typeof answer === 'object') return writeOut(answer.out);
    if (!answer) return finish({ outcome: 'declined' });
  }

  // Snapshot, apply (rollouts followed wave by wave), verify.
  const apply = await session.apply(changes, dry, {
    onEvent: (event) => port.event({ type: 'apply', event }),
    onRolloutFailure: (states) => (port.interactive ? port.rolloutFailed(states) : Promise.resolve(opts.keepFailed ? 'keep' : 'rollback-failed')),
    note: (text) => port.event({ type: 'note', text }),
  });
  const undo = undoCommand(apply.snapshot.id, { context: ctx, kubeconfig: opts.kubeconfig });
  if (apply.failed || apply.journalError) {
    return finish({ outcome: 'failed', apply, undo, code: apply.failed?.conflict ? 4 : 1 });
  }
  port.event({ type: 'verifying' });
  let verify: VerifyResult | undefined;
  try {
    verify = await session.verify(changes);
  } catch (e) {
    port.event({ type: 'note', text: `verify failed: ${(e as Error).message}` });
  }
  return finish({ outcome: apply.rolloutFailures ? 'failed' : 'applied', apply, verify, undo, code: apply.rolloutFailures ? 1 : 0 });
}
