/**
 * Undo what a snapshot's apply changed, and nothing else. Works from the journal, so it also undoes an
 * apply killed halfway. Each target is classified first (handlers: field by field for objects); a target
 * someone changed since is a conflict reported by name and left alone (unless forced), the others are
 * restored. Only on the cluster the snapshot was taken on, and never while another writer holds it.
 */
import pMap from 'p-map';
import type { AccessCheck } from '../cluster/client.js';
import { isClusterError } from '../cluster/errors.js';
import { SafetyError } from '../errors.js';
import { phasesOf } from './change.js';
import { handlerOf, type EngineContext, type RollbackStep, type Written } from './kinds/index.js';
import { derivedAccess } from './kinds/object.js';
import type { Lock } from './lock.js';
import { assertPreflight } from './preview.js';
import type { JournalEvent, Journal, SnapshotStore } from './snapshot-store.js';
import { storedLabel, type Snapshot, type StoredChange } from './stored.js';

export type RollbackOutcome = 'restored' | 'unchanged' | 'forced';

export type RollbackEvent =
  | { type: 'checking'; total: number }
  | { type: 'restored'; change: StoredChange; outcome: RollbackOutcome }
  | { type: 'conflict'; change: StoredChange; detail: string }
  | { type: 'skipped'; change: StoredChange; detail: string }
  | { type: 'failed'; change: StoredChange; error: string };

export interface RollbackOptions {
  force?: boolean;
  onEvent?: (e: RollbackEvent) => void;
  /** Only these change ids (a failed apply's own rollback, one stalled workload). */
  only?: Set<string>;
  /** The journal's events when the journal itself cannot be read back (it failed mid-apply). */
  events?: JournalEvent[];
  /** The caller (an apply) already holds the snapshot's and the cluster's locks. */
  locked?: boolean;
  /** Record into the caller's journal (an apply's own rollback) instead of opening it. */
  record?: (e: Omit<JournalEvent, 't'> & Record<string, unknown>) => Promise<void>;
}

export interface RollbackResult {
  snapshotId: string;
  restored: number;
  unchanged: number;
  conflicts: Array<{ change: string; detail: string }>;
  skipped: Array<{ change: string; detail: string }>;
  failed: Array<{ change: string; error: string }>;
  /** Things to know about what was undone (a chart's CRDs kept on uninstall). */
  notes: string[];
}

/** Refuse a snapshot taken on another cluster: same address and same kube-system namespace, or nothing. */
export async function assertSameCluster(ctx: EngineContext, snapshot: Snapshot): Promise<void> {
  const c = snapshot.cluster;
  const uid = c.uid ? await ctx.cluster.clusterUid() : undefined;
  const why =
    c.server !== ctx.cluster.server
      ? `its API server was ${c.server}, this one is ${ctx.cluster.server}`
      : c.uid && uid && c.uid !== uid
        ? `the cluster at ${c.server} is not the same cluster any more (kube-system uid ${uid}, was ${c.uid})`
        : undefined;
  if (why) {
    throw new SafetyError(
      `snapshot ${snapshot.id} was taken on context "${c.context}" and ${why}: nothing was restored. Pass the --context (and --kubeconfig) of the cluster it was taken on.`,
    );
  }
}

/** What the journal says: which changes started, what each write left, which were already undone. */
export function journalState(events: JournalEvent[]) {
  const started = new Set<string>();
  const written = new Map<string, Written>();
  const rolled = new Set<string>();
  for (const e of events) {
    if (e.event === 'start') started.add(e.change);
    if (e.event === 'done') written.set(e.change, { uid: e.uid, sha: e.sha, revision: e.revision });
    if (e.event === 'rolled-back') rolled.add(e.change);
    if (e.event === 'failed' && e.answered) rolled.add(e.change);
  }
  return { started, written, rolled };
}

async function restoreAccess(ctx: EngineContext, todo: StoredChange[]): Promise<AccessCheck[]> {
  const checks: AccessCheck[] = [];
  for (const s of todo) {
    if (s.kind !== 'object') continue;
    const t = await ctx.cluster.typeOf(s.ref.apiVersion, s.ref.kind);
    checks.push(ctx.cluster.accessCheck(t, 'get', s.ref.namespace));
    checks.push(ctx.cluster.accessCheck(t, s.action === 'patch' ? 'update' : s.action === 'create' ? 'delete' : 'create', s.ref.namespace));
    checks.push(...(await derivedAccess(ctx.cluster, s.derived)));
  }
  return checks;
}

export async function rollbackSnapshot(ctx: EngineContext, store: SnapshotStore, snapshot: Snapshot, opts: RollbackOptions = {}): Promise<RollbackResult> {
  if (ctx.readOnly) throw new SafetyError('refusing to roll back in preview mode');
  // An API server that does not answer (restarting, or kept down by a bad flag after a kill -9 in its
  // health gate) cannot confirm the cluster's identity: local files can still be put back (their sha256
  // is their identity check, their gate waits for the API server), then the rest once it answers.
  let offline = await assertSameCluster(ctx, snapshot).then(
    () => undefined,
    (e: unknown) => (notAnswering(e) ? (e as Error) : Promise.reject(e)),
  );
  const locks: Lock[] = [];
  if (!opts.locked) {
    locks.push(await store.lockCluster(snapshot.cluster, 'rollback'));
    try {
      locks.push(await store.lockSnapshot(snapshot.id, 'rollback'));
    } catch (e) {
      await locks[0].release();
      throw e;
    }
  }
  const result: RollbackResult = { snapshotId: snapshot.id, restored: 0, unchanged: 0, conflicts: [], skipped: [], failed: [], notes: [] };
  let journal: Journal | undefined;
  try {
    const events = opts.events ?? (await store.events(snapshot.id));
    const { started, written, rolled } = journalState(events);
    const todo = snapshot.changes.filter((c) => started.has(c.id) && !rolled.has(c.id) && (!opts.only || opts.only.has(c.id)));
    if (!opts.record) journal = await store.journal(snapshot.id).catch(() => undefined);
    // The journal may be the thing that failed (disk full): record if we can, restore regardless.
    const record = (e: Parameters<Journal['record']>[0]) => (opts.record ? opts.record(e) : journal?.record(e))?.catch(() => undefined);
    if (todo.length === 0) {
      await record({ event: 'rollback-end', ok: true });
      return result;
    }
    opts.onEvent?.({ type: 'checking', total: todo.length });
    let rest = todo;
    if (offline) {
      const files = todo.filter((c) => c.kind === 'file');
      if (!files.length) throw offline;
      await undo(ctx, files, written, result, record, opts);
      rest = todo.filter((c) => c.kind !== 'file');
      if (rest.length) {
        offline = await assertSameCluster(ctx, snapshot).then(
          () => undefined,
          (e: unknown) => (notAnswering(e) ? (e as Error) : Promise.reject(e)),
        );
        if (offline) {
          for (const c of rest)
            result.failed.push({ change: storedLabel(c), error: `not restored yet: ${offline.message}; run the rollback again once it answers` });
          rest = [];
        }
      }
    }
    if (rest.length) await undo(ctx, rest, written, result, record, opts);
    await record({ event: 'rollback-end', ok: result.failed.length === 0 && result.conflicts.length === 0, conflicts: result.conflicts.length });
    return result;
  } finally {
    await journal?.close();
    for (const l of locks.reverse()) await l.release();
  }
}

/** The API server did not answer (as opposed to answering no). */
const notAnswering = (e: unknown) => isClusterError(e, 'Unreachable') || isClusterError(e, 'Timeout') || isClusterError(e, 'Server');

/** Classify and restore some stored changes: permissions first, then each phase in reverse order. */
async function undo(
  ctx: EngineContext,
  todo: StoredChange[],
  written: Map<string, Written>,
  result: RollbackResult,
  record: (e: Parameters<Journal['record']>[0]) => Promise<void> | undefined,
  opts: RollbackOptions,
): Promise<void> {
  // Permissions first: a rollback that stops halfway for a 403 is worse than one that never starts.
  const results = await ctx.cluster.canI(await restoreAccess(ctx, todo));
  const denied = results.filter((r) => !r.allowed);
  if (denied.length) assertPreflight({ denied, local: [] });

  const steps = await pMap(todo, (s) => handlerOf(s).classify(s, written.get(s.id), ctx), { concurrency: ctx.cluster.concurrency });
  const byId = new Map<string, RollbackStep>(steps.map((s) => [s.stored.id, s]));
  for (const s of steps) {
    if (s.verdict === 'conflict' && !opts.force) {
      result.conflicts.push({ change: storedLabel(s.stored), detail: s.detail ?? 'changed since' });
      opts.onEvent?.({ type: 'conflict', change: s.stored, detail: s.detail ?? 'changed since' });
    }
    if (s.verdict === 'skip') {
      result.skipped.push({ change: storedLabel(s.stored), detail: s.detail ?? '' });
      opts.onEvent?.({ type: 'skipped', change: s.stored, detail: s.detail ?? '' });
    }
  }
  // Undo in reverse order of the apply's phases (the API server's flags first, cert-manager's release last).
  for (const phase of phasesOf(todo).reverse()) {
    await pMap(
      phase,
      async (stored) => {
        const step = byId.get(stored.id)!;
        if (step.verdict === 'conflict' && !opts.force) return;
        if (step.verdict === 'skip') {
          // Final: nothing of ours is left to undo there; a later rollback need not look again.
          await record({ event: 'rolled-back', change: stored.id, outcome: 'skipped' });
          return;
        }
        if (step.verdict === 'unchanged') {
          result.unchanged++;
          await record({ event: 'rolled-back', change: stored.id, outcome: 'unchanged' });
          opts.onEvent?.({ type: 'restored', change: stored, outcome: 'unchanged' });
          return;
        }
        try {
          await handlerOf(stored).restore(step, ctx, !!opts.force);
          const outcome: RollbackOutcome = step.verdict === 'conflict' ? 'forced' : 'restored';
          result.restored++;
          if (stored.kind === 'release' && stored.undoNote) result.notes.push(stored.undoNote);
          await record({ event: 'rolled-back', change: stored.id, outcome });
          opts.onEvent?.({ type: 'restored', change: stored, outcome });
        } catch (e) {
          const error = e instanceof Error ? e.message : String(e);
          result.failed.push({ change: storedLabel(stored), error });
          opts.onEvent?.({ type: 'failed', change: stored, error });
        }
      },
      { concurrency: ctx.cluster.concurrency },
    );
  }
}
