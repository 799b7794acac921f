/**
 * One handler per change kind, all with the same verbs. The engine (preview, apply, rollback) never
 * looks inside a change itself: it asks the handler of the change's kind.
 */
import type { AccessCheck, Cluster } from '../../cluster/client.js';
import type { Helm } from '../../cluster/helm.js';
import type { Change, DryRunResult } from '../change.js';
import type { DiffLine } from '../diff.js';
import type { StoredChange } from '../stored.js';

export interface EngineContext {
  cluster: Cluster;
  helm: Helm;
  /** --preview: nothing is written, no command that changes anything runs. */
  readOnly: boolean;
  /** Progress of slow steps (health gates, helm) for the drivers. */
  note?: (text: string) => void;
}

/** What a write left behind, recorded in the journal: how rollback tells our write from someone else's. */
export interface Written {
  uid?: string;
  /** An object's metadata.generation after our write: its rollout is followed to that generation. */
  generation?: number;
  /** sha256 of a file's text as written. */
  sha?: string;
  /** A Helm release's revision after our install or upgrade. */
  revision?: number;
}

export interface ApplyOutcome {
  written: Written;
  warnings: string[];
}

/** How one stored change stands at rollback time. */
export interface RollbackStep {
  stored: StoredChange;
  verdict: 'restore' | 'unchanged' | 'conflict' | 'skip';
  /** Why it is a conflict or skipped, in one line naming the fields. */
  detail?: string;
  /** Handler state carried from classify to restore (the live object, the paths to put back...). */
  state?: unknown;
}

export interface KindHandler<C extends Change = Change, S extends StoredChange = StoredChange> {
  diff(c: C, dry?: DryRunResult): DiffLine[];
  /** RBAC the change needs (SelfSubjectAccessReview before the dry-run). */
  access(c: C, ctx: EngineContext): Promise<AccessCheck[]>;
  /** Local preconditions that RBAC does not cover (a file we cannot write); messages, empty when fine. */
  preflight?(c: C, ctx: EngineContext): Promise<string[]>;
  dryRun(c: C, ctx: EngineContext): Promise<DryRunResult>;
  /** The change as the snapshot keeps it, before the first write. */
  store(c: C, dry: DryRunResult | undefined): S;
  /** Write under the change's precondition. Throws ConflictError when the target changed since the preview. */
  apply(c: C, s: S, ctx: EngineContext): Promise<ApplyOutcome>;
  /** After a failure whose outcome is unknown (a 503, a time-out): did our write land after all? */
  landed(s: S, ctx: EngineContext): Promise<Written | undefined>;
  classify(s: S, written: Written | undefined, ctx: EngineContext): Promise<RollbackStep>;
  restore(step: RollbackStep, ctx: EngineContext, force: boolean): Promise<void>;
}

/** The target changed since the preview: reported, never overwritten. */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}
