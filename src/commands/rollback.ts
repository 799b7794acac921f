import { Cluster } from '../cluster/client.js';
import { Helm } from '../cluster/helm.js';
import { rollbackSnapshot } from '../engine/rollback.js';
import { SnapshotStore } from '../engine/snapshot-store.js';
import { storedLabel } from '../engine/stored.js';
import { ApplyError, EXIT, SafetyError, UsageError } from '../errors.js';
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
    const a = await ask(`Roll back ${summary.applied} change(s) of snapshot ${snapshotId} on ${snapshot.cluster.context}? (y/N) `);
    if (!/^y(es)?$/i.test(a)) return EXIT.ok;
  }
  const context = opts.context ?? snapshot.cluster.context;
  // Lazy: a snapshot's local files (the API server's manifest) are put back even while the API server is down.
  const cluster = await Cluster.connect({
    kubeconfig: opts.kubeconfig,
    context,
    concurrency: opts.concurrency,
    lazy: snapshot.changes.some((c) => c.kind === 'file'),
  });
  try {
    const t0 = Date.now();
    const ctx = { cluster, helm: new Helm({ kubeconfig: opts.kubeconfig, context: cluster.contextName, readOnly: false }), readOnly: false, note: progress };
    const r = await rollbackSnapshot(ctx, store, snapshot, {
      force: opts.force,
      onEvent: (e) => {
        if (e.type === 'checking') progress(`checking ${e.total} change(s) against the snapshot`);
        if (e.type === 'restored' && e.outcome !== 'unchanged') progress(`restored ${storedLabel(e.change)}${e.outcome === 'forced' ? ' (forced)' : ''}`);
        if (e.type === 'conflict') progress(`left as it is: ${storedLabel(e.change)}: ${e.detail}`);
        if (e.type === 'skipped') progress(`skipped: ${storedLabel(e.change)}: ${e.detail}`);
        if (e.type === 'failed') progress(`failed: ${storedLabel(e.change)}: ${e.error}`);
      },
    });
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    process.stdout.write(
      `rolled back ${snapshotId}: ${r.restored} restored, ${r.unchanged} already as before${r.skipped.length ? `, ${r.skipped.length} skipped` : ''}${r.conflicts.length ? `, ${r.conflicts.length} left as they are` : ''} (${secs} s)\n`,
    );
    for (const n of r.notes) process.stdout.write(`note: ${n}\n`);
    for (const s of r.skipped) process.stdout.write(`skipped ${s.change}: ${s.detail}\n`);
    if (r.failed.length)
      throw new ApplyError(`rollback of ${snapshotId}: ${r.failed.length} change(s) could not be restored: ${r.failed[0].change}: ${r.failed[0].error}`);
    if (r.conflicts.length) {
      const names = r.conflicts.map((c) => `${c.change}: ${c.detail}`);
      throw new SafetyError(
        `${r.conflicts.length} change(s) not rolled back because they changed again after kube-harden wrote them (${names.slice(0, 3).join('; ')}${names.length > 3 ? '; …' : ''}); everything else was restored. Re-run with --force to put the old values back there too.`,
        names,
      );
    }
    return EXIT.ok;
  } finally {
    await cluster.close();
  }
}
