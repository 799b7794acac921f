/**
 * Apply a previewed plan: permissions checked, locks taken, snapshot on disk, then each change in phase
 * order with bounded concurrency and its precondition, journalled before and after it lands. Pod template
 * changes roll out in waves (a canary first), each followed until Ready. On the first failure no new
 * change starts and (by default) what was applied is rolled back.
 */
import pMap from 'p-map';
import { isClusterError, provesNotWritten } from '../cluster/errors.js';
import { SafetyError } from '../errors.js';
import { changeLabel, phasesOf, type Change, type DryRunResult, type ObjectChange } from './change.js';
import { ConflictError, handlerOf, type EngineContext, type Written } from './kinds/index.js';
import type { Lock } from './lock.js';
import { assertPreflight, preflight } from './preview.js';
import { rollbackSnapshot, type RollbackEvent, type RollbackResult } from './rollback.js';
import { followRollouts, type RolloutState } from './rollout.js';
import type { JournalEvent, SnapshotStore } from './snapshot-store.js';
import type { ClusterIdentity, Snapshot } from './stored.js';

export type ApplyEvent =
  | { type: 'preflight' }
  | { type: 'snapshot'; id: string }
  | { type: 'start'; change: Change }
  | { type: 'done'; change: Change; warnings: string[] }
  | { type: 'failed'; change: Change; error: string; conflict: boolean }
  | { type: 'note'; text: string }
  | { type: 'wave'; index: number; total: number; size: number }
  | { type: 'rollout'; states: RolloutState[] }
  | { type: 'rollback'; event: RollbackEvent };

/** What to do with workloads whose rollout stalled. */
export type RolloutDecision = 'rollback-failed' | 'rollback-all' | 'keep';

export interface ApplyOptions {
  store: SnapshotStore;
  dryRun: Map<string, DryRunResult>;
  cluster: ClusterIdentity;
  user?: string;
  /** Undo the writes already made when one fails (default true). */
  autoRollback?: boolean;
  onEvent?: (e: ApplyEvent) => void;
  /** How long a wave's rollouts may take (default 5 minutes). */
  rolloutTimeoutMs?: number;
  /** Asked when rollouts stall (default: roll back the failed workloads). */
  onRolloutFailure?: (failed: RolloutState[]) => Promise<RolloutDecision>;
  /** Test hook: called after each change lands (lets a test kill the process mid-apply). */
  afterEach?: (change: Change, index: number) => Promise<void> | void;
}

export interface ApplyResult {
  snapshot: Snapshot;
  applied: number;
  failed?: { change: Change; error: string; conflict: boolean };
  skipped: number;
  rollouts: RolloutState[];
  /** Workloads whose rollout stalled, and what was done about them. */
  rolloutFailures?: { states: RolloutState[]; decision: RolloutDecision };
  rollback?: RollbackResult;
  rollbackError?: string;
  /** The journal could not be written (disk full): the apply stopped and rolled back. */
  journalError?: string;
}

/** Waves for pod template changes: one canary, then batches of a quarter of the rest (at least 5). */
export function waves<T>(items: T[]): T[][] {
  if (items.length <= 1) return items.length ? [items] : [];
  const out: T[][] = [items.slice(0, 1)];
  const size = Math.max(5, Math.ceil((items.length - 1) / 4));
  for (let i = 1; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export async function applyPlan(ctx: EngineContext, changes: Change[], opts: ApplyOptions): Promise<ApplyResult> {
  if (ctx.readOnly || ctx.cluster.readOnly) throw new SafetyError('refusing to apply in preview mode');
  const invalid = changes.filter((c) => opts.dryRun.get(c.id)?.ok === false);
  if (invalid.length) throw new SafetyError(`refusing to apply: ${invalid.length} change(s) failed the server dry-run; nothing was changed`);
  if (changes.some((c) => !opts.dryRun.has(c.id))) throw new SafetyError('refusing to apply changes that were not previewed with a server dry-run');

  opts.onEvent?.({ type: 'preflight' });
  assertPreflight(await preflight(ctx, changes));

  const locks: Lock[] = [await opts.store.lockCluster(opts.cluster, 'apply')];
  let snapshot: Snapshot;
  try {
    snapshot = await opts.store.create(opts.cluster, opts.user, changes, opts.dryRun);
    locks.push(await opts.store.lockSnapshot(snapshot.id, 'apply'));
  } catch (e) {
    for (const l of locks) await l.release();
    throw e;
  }
  const stored = new Map(snapshot.changes.map((s) => [s.id, s]));
  opts.onEvent?.({ type: 'snapshot', id: snapshot.id });
  const journal = await opts.store.journal(snapshot.id);
  // What happened, also kept in memory: if the journal fails, the rollback still knows.
  const memory: JournalEvent[] = [];
  const record = async (e: Omit<JournalEvent, 't'> & Record<string, unknown>) => {
    memory.push({ t: new Date().toISOString(), ...e } as JournalEvent);
    await journal.record(e);
  };

  const result: ApplyResult = { snapshot, applied: 0, skipped: 0, rollouts: [] };
  let stop = false;
  let index = 0;
  const written = new Map<string, Written>();
  const since = new Map<string, number>();

  const writeOne = async (c: Change) => {
    if (stop) {
      result.skipped++;
      return;
    }
    const s = stored.get(c.id)!;
    try {
      await record({ event: 'start', change: c.id });
    } catch (e) {
      result.journalError ??= (e as Error).message;
      stop = true;
      result.skipped++;
      return;
    }
    opts.onEvent?.({ type: 'start', change: c });
    since.set(c.id, Date.now());
    try {
      // Deferred dry-run: its kind came with a release applied earlier in this plan.
      if (opts.dryRun.get(c.id)?.deferred) {
        const d = await handlerOf(c).dryRun(c, ctx);
        if (!d.ok) throw Object.assign(new Error(`the API server refused it in the dry-run: ${d.error}`), { notWritten: true });
      }
      const out = await handlerOf(c).apply(c, s, ctx);
      written.set(c.id, out.written);
      result.applied++;
      opts.onEvent?.({ type: 'done', change: c, warnings: out.warnings });
      await record({ event: 'done', change: c.id, ...out.written });
      await opts.afterEach?.(c, index++);
    } catch (e) {
      if (journal.failed) {
        result.journalError ??= (journal.failed as Error).message;
        stop = true;
        return;
      }
      const conflict = e instanceof ConflictError;
      let answered = conflict || provesNotWritten(e) || (e as { notWritten?: boolean }).notWritten === true;
      if (!answered && !isClusterError(e, 'Forbidden')) {
        // A 500, 503, time-out or reset: the write may have landed. Re-read: our own write is not a failure.
        const late = await handlerOf(c)
          .landed(s, ctx)
          .catch(() => undefined);
        if (late) {
          written.set(c.id, late);
          result.applied++;
          opts.onEvent?.({ type: 'done', change: c, warnings: [] });
          await record({ event: 'done', change: c.id, late: true, ...late }).catch(() => undefined);
          return;
        }
      } else if (isClusterError(e, 'Forbidden')) answered = true;
      const error = e instanceof Error ? e.message : String(e);
      await record({ event: 'failed', change: c.id, error, answered }).catch(() => undefined);
      if (!result.failed) result.failed = { change: c, error, conflict };
      stop = true;
      opts.onEvent?.({ type: 'failed', change: c, error, conflict });
    }
  };

  try {
    await record({ event: 'apply-start', pid: process.pid });
    for (const phase of phasesOf(changes)) {
      const rollout = phase.filter((c): c is ObjectChange => c.kind === 'object' && !!c.rollout);
      const rest = phase.filter((c) => !(c.kind === 'object' && c.rollout));
      if (rest.length) await pMap(rest, writeOne, { concurrency: ctx.cluster.concurrency });
      const ws = waves(rollout);
      for (const [i, wave] of ws.entries()) {
        if (stop) {
          result.skipped += wave.length;
          continue;
        }
        opts.onEvent?.({ type: 'wave', index: i + 1, total: ws.length, size: wave.length });
        await pMap(wave, writeOne, { concurrency: ctx.cluster.concurrency });
        const targets = wave
          .filter((c) => written.has(c.id))
          .map((c) => ({ id: c.id, ref: c.ref, generation: written.get(c.id)!.generation, since: since.get(c.id)! }));
        if (!targets.length) continue;
        const states = await followRollouts(ctx.cluster, targets, {
          timeoutMs: opts.rolloutTimeoutMs ?? 300_000,
          onUpdate: (s) => opts.onEvent?.({ type: 'rollout', states: s }),
        });
        result.rollouts.push(...states);
        const failed = states.filter((s) => s.state === 'failed');
        if (failed.length) {
          stop = true;
          const decision = (await opts.onRolloutFailure?.(failed)) ?? 'rollback-failed';
          result.rolloutFailures = { states: failed, decision };
          if (decision === 'rollback-failed') {
            result.rollback = await rollbackSnapshot(ctx, opts.store, snapshot, {
              only: new Set(failed.map((f) => f.id)),
              locked: true,
              record,
              events: memory,
              onEvent: (event) => opts.onEvent?.({ type: 'rollback', event }),
            }).catch((e: Error) => {
              result.rollbackError = e.message;
              return undefined;
            });
          }
        }
      }
    }
    await record({ event: 'apply-end', ok: !result.failed && !result.journalError && !result.rolloutFailures }).catch(() => undefined);
  } finally {
    // Writes in flight have settled (pMap awaits them): now the automatic rollback, if it is needed.
    const undoAll = (result.failed || result.journalError) && opts.autoRollback !== false;
    const rolloutAll = result.rolloutFailures?.decision === 'rollback-all';
    if (undoAll || rolloutAll) {
      try {
        const started = new Set(memory.filter((e) => e.event === 'start').map((e) => (e as { change: string }).change));
        result.rollback = await rollbackSnapshot(ctx, opts.store, snapshot, {
          only: started,
          locked: true,
          record,
          events: memory,
          onEvent: (event) => opts.onEvent?.({ type: 'rollback', event }),
        });
      } catch (e) {
        result.rollbackError = e instanceof Error ? e.message : String(e);
      }
    }
    await journal.close();
    for (const l of locks.reverse()) await l.release();
  }
  return result;
}

export const describeChange = changeLabel;
