import pMap from 'p-map';
import type { Cluster } from '../cluster/client.js';
import { isClusterError } from '../cluster/errors.js';
import type { KubeObject } from '../cluster/types.js';
import { SafetyError } from '../errors.js';
import { phasesOf, type Change, type DryRunResult } from './change.js';
import { objectHash } from './normalise.js';
import { assertAllowed, requiredAccess } from './preview.js';
import { guardedReplace } from './write.js';
import { rollbackSnapshot, type RollbackEvent, type RollbackResult } from './rollback.js';
import type { Snapshot, SnapshotStore } from './snapshot-store.js';

export type ApplyEvent =
  | { type: 'preflight' }
  | { type: 'snapshot'; id: string }
  | { type: 'start'; change: Change }
  | { type: 'done'; change: Change; warnings: string[] }
  | { type: 'failed'; change: Change; error: string; conflict: boolean }
  | { type: 'rollback'; event: RollbackEvent };

export interface ApplyOptions {
  store: SnapshotStore;
  dryRun: Map<string, DryRunResult>;
  user?: string;
  /** Undo the writes already made when one fails (default true). */
  autoRollback?: boolean;
  onEvent?: (e: ApplyEvent) => void;
  /** Test hook: called after each change lands (lets a test kill the process mid-apply). */
  afterEach?: (change: Change, index: number) => Promise<void> | void;
}

export interface ApplyResult {
  snapshot: Snapshot;
  applied: number;
  failed?: { change: Change; error: string; conflict: boolean };
  skipped: number;
  rollback?: RollbackResult;
  rollbackError?: string;
}

async function writeOne(cluster: Cluster, c: Change): Promise<{ object?: KubeObject; warnings: string[] }> {
  if (c.action === 'create') return cluster.create(c.after);
  // The precondition: the object as previewed. Changed since (beyond status)? 409, and nothing is overwritten.
  if (c.action === 'patch') return guardedReplace(cluster, c.before, c.after);
  return cluster.delete(c.ref, { uid: c.before.metadata.uid, resourceVersion: c.before.metadata.resourceVersion });
}

/**
 * Apply a previewed plan: permissions checked, snapshot on disk, then each change in phase order with
 * bounded concurrency and a resourceVersion precondition, journalled as it lands. On the first failure
 * no new change starts and (by default) the ones applied are rolled back.
 */
export async function applyPlan(cluster: Cluster, changes: Change[], opts: ApplyOptions): Promise<ApplyResult> {
  if (cluster.readOnly) throw new SafetyError('refusing to apply in preview mode');
  const invalid = changes.filter((c) => opts.dryRun.get(c.id)?.ok === false);
  if (invalid.length) {
    throw new SafetyError(`refusing to apply: ${invalid.length} change(s) failed the server dry-run; nothing was changed`);
  }
  const missing = changes.filter((c) => !opts.dryRun.has(c.id));
  if (missing.length) throw new SafetyError('refusing to apply changes that were not previewed with a server dry-run');

  opts.onEvent?.({ type: 'preflight' });
  await assertAllowed(cluster, await requiredAccess(cluster, changes));

  const snapshot = await opts.store.create(cluster.contextName, cluster.server, opts.user, changes, opts.dryRun);
  opts.onEvent?.({ type: 'snapshot', id: snapshot.id });
  const journal = await opts.store.journal(snapshot.id);
  await journal.record({ event: 'apply-start' });

  const result: ApplyResult = { snapshot, applied: 0, skipped: 0 };
  let stop = false;
  let index = 0;
  try {
    for (const phase of phasesOf(changes)) {
      if (stop) {
        result.skipped += phase.length;
        continue;
      }
      await pMap(
        phase,
        async (c) => {
          if (stop) {
            result.skipped++;
            return;
          }
          await journal.record({ event: 'start', change: c.id });
          opts.onEvent?.({ type: 'start', change: c });
          try {
            const r = await writeOne(cluster, c);
            await journal.record({
              event: 'done',
              change: c.id,
              writtenHash: r.object && c.action !== 'delete' ? objectHash(r.object) : undefined,
              uid: r.object?.metadata?.uid,
            });
            result.applied++;
            opts.onEvent?.({ type: 'done', change: c, warnings: r.warnings });
            await opts.afterEach?.(c, index++);
          } catch (e) {
            const conflict = isClusterError(e, 'Conflict') || (isClusterError(e, 'NotFound') && c.action !== 'create');
            const error = conflict
              ? `${c.ref.kind.toLowerCase()}/${c.ref.name}${c.ref.namespace ? ` in ${c.ref.namespace}` : ''} changed since the preview; it was not overwritten`
              : e instanceof Error
                ? e.message
                : String(e);
            // The server answered (409, 422, 403...): that write certainly did not land.
            const answered = isClusterError(e) && e.status !== undefined;
            await journal.record({ event: 'failed', change: c.id, error, answered });
            if (!result.failed) result.failed = { change: c, error, conflict };
            stop = true;
            opts.onEvent?.({ type: 'failed', change: c, error, conflict });
          }
        },
        { concurrency: cluster.concurrency },
      );
    }
    await journal.record({ event: 'apply-end', ok: !result.failed });
  } finally {
    await journal.close();
  }

  if (result.failed && opts.autoRollback !== false) {
    try {
      result.rollback = await rollbackSnapshot(cluster, opts.store, snapshot, {
        onEvent: (event) => opts.onEvent?.({ type: 'rollback', event }),
      });
    } catch (e) {
      result.rollbackError = e instanceof Error ? e.message : String(e);
    }
  }
  return result;
}
