import { Cluster } from '../cluster/client.js';
import { refLabel } from '../cluster/types.js';
import { rollbackSnapshot } from '../engine/rollback.js';
import { SnapshotStore } from '../engine/snapshot-store.js';
import { ApplyError, EXIT, UsageError } from '../errors.js';
import { ask, interactive, progress, type GlobalOptions } from './io.js';

export interface RollbackCommandOptions extends GlobalOptions {
  yes?: boolean;
  force?: boolean;
}

/** Undo a snapshot (the newest one with writes when none is named). */
export async function rollback(id: string | undefined, opts: RollbackCommandOptions): Promise<number> {
  const store = new SnapshotStore();
  const snapshotId = id ?? (await store.newestUndoable());
  if (!snapshotId) throw new UsageError('no snapshot to roll back (see: kube-harden snapshots list)');
  const snapshot = await store.read(snapshotId);
  const summary = await store.summary(snapshotId);
  if (summary.state === 'rolled-back' && !opts.force) {
    process.stdout.write(`snapshot ${snapshotId} was already rolled back\n`);
    return EXIT.ok;
  }
  if (!opts.yes) {
    if (!interactive()) throw new UsageError(`refusing to roll back ${snapshotId} without --yes (not a terminal)`);
    const a = await ask(`Roll back ${summary.applied} change(s) of snapshot ${snapshotId} on ${snapshot.context}? (y/N) `);
    if (!/^y(es)?$/i.test(a)) return EXIT.ok;
  }
  const cluster = await Cluster.connect({ kubeconfig: opts.kubeconfig, context: opts.context ?? snapshot.context, concurrency: opts.concurrency });
  try {
    const t0 = Date.now();
    const r = await rollbackSnapshot(cluster, store, snapshot, {
      force: opts.force,
      onEvent: (e) => {
        if (e.type === 'checking') progress(`checking ${e.total} object(s) against the snapshot`);
        if (e.type === 'restored' && e.outcome !== 'unchanged') progress(`restored ${refLabel(e.change.ref)}${e.outcome === 'forced' ? ' (forced)' : ''}`);
        if (e.type === 'failed') progress(`failed: ${e.error}`);
      },
    });
    if (r.failed.length) throw new ApplyError(`rollback of ${snapshotId}: ${r.failed.length} object(s) could not be restored: ${r.failed[0].error}`);
    process.stdout.write(`rolled back ${snapshotId}: ${r.restored} restored, ${r.unchanged} already as before (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
    return EXIT.ok;
  } finally {
    await cluster.close();
  }
}
