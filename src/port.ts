/**
 * The port between the pipeline (src/pipeline.ts) and its drivers: what the pipeline asks and tells.
 * Types and one symbol only, so the wizard's first frame can import it without loading the core.
 */
import type { AccessResult, Identity, ServerVersion } from './cluster/client.js';
import type { AnswerValue, Answers, AreaId, Finding, GuardVerdict, Question, ReviewSection, Severity } from './areas/types.js';
import type { ApplyEvent, RolloutDecision } from './engine/apply.js';
import type { Change, DryRunResult } from './engine/change.js';
import type { RolloutState } from './engine/rollout.js';

/** Returned by a prompt to go one step back (the previous question, or the previous area). */
export const BACK = Symbol('back');
export type Back = typeof BACK;

export interface AreaOverview {
  id: AreaId;
  title: string;
  summary: string;
  counts: Record<Severity, number>;
  fixable: number;
  total: number;
  notApplicable?: string;
  notes?: string[];
}

export interface AskContext {
  area: AreaOverview;
  /** Position among the area's active questions. */
  index: number;
  total: number;
  initial: AnswerValue;
  /** The initial value came from the profile given with --profile. */
  fromProfile: boolean;
}

/** An area's own part of the plan, shown right after its questions. */
export interface AreaPlan {
  area: AreaOverview;
  findings: Finding[];
  changes: Change[];
  dry: Map<string, DryRunResult>;
  /** Findings this plan leaves, with why (needs a person, not chosen). */
  left: Finding[];
  sections: ReviewSection[];
}

export interface Review {
  context: string;
  preview: boolean;
  changes: Change[];
  dry: Map<string, DryRunResult>;
  sections: ReviewSection[];
  guards: GuardVerdict[];
  /** Findings no change fixes, with their reasons. */
  left: Finding[];
}

export interface ConfirmRequest {
  mode: 'ask' | 'type-the-name';
  context: string;
  count: number;
  reasons: string[];
}

export type PipelineEvent =
  | { type: 'connecting'; context?: string }
  | { type: 'connected'; context: string; server: string; version: ServerVersion; identity: Identity; access: AccessResult[] }
  | { type: 'inspecting'; area?: string; message: string }
  | { type: 'inspected'; overview: AreaOverview[] }
  | { type: 'answered'; question: Question; value: AnswerValue; fromProfile: boolean }
  | { type: 'dry-run'; done: number; total: number }
  | { type: 'planned'; changes: number; failed: number; warned: number; deferred: number }
  | { type: 'preflight' }
  | { type: 'apply'; event: ApplyEvent }
  | { type: 'note'; text: string }
  | { type: 'verifying' }
  | { type: 'profile-saved'; name: string };

export interface Port {
  /** A person answers (the wizard); false: the answers are given (apply --profile). */
  readonly interactive: boolean;
  /** A person can confirm (a terminal): apply --profile on a terminal asks before writing, without --yes. */
  readonly canConfirm: boolean;
  event(e: PipelineEvent): void;
  chooseAreas(overview: AreaOverview[], defaults: AreaId[]): Promise<AreaId[]>;
  ask(q: Question, ctx: AskContext): Promise<AnswerValue | Back>;
  /** An area's part of the plan after its questions (the wizard); absent: not shown, not computed. */
  areaPlan?(p: AreaPlan): Promise<'next' | Back>;
  review(r: Review): Promise<void>;
  /** true: apply; false: do not; `{ out }`: write the plan to that folder as files instead. */
  confirm(c: ConfirmRequest): Promise<boolean | { out: string }>;
  rolloutFailed(states: RolloutState[]): Promise<RolloutDecision>;
  /** At the end of every session (applied, declined, preview): offer to keep the answers as a profile. */
  offerProfile?(answers: Answers, areas: AreaId[]): Promise<void>;
}
