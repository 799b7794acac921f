import pMap from 'p-map';
import type { AccessCheck, Cluster } from '../cluster/client.js';
import { isClusterError } from '../cluster/errors.js';
import type { KubeObject } from '../cluster/types.js';
import { refLabel } from '../cluster/types.js';
import { SafetyError, UsageError } from '../errors.js';
import { phasesOf, type StoredChange } from './change.js';
import { forCreate, jsonEqual, normalise, objectHash } from './normalise.js';
import { assertAllowed } from './preview.js';
import { guardedReplace } from './write.js';
import type { JournalEvent, Snapshot, SnapshotStore } from './snapshot-store.js';

export type RollbackOutcome = 'restored' | 'unchanged' | 'forced';

export type RollbackEvent =
  | { type: 'checking'; total: number }
  | { type: 'restored'; change: StoredChange; outcome: RollbackOutcome }
  | { type: 'failed'; change: StoredChange; error: string };

export interface RollbackOptions {
  force?: boolean;
  onEvent?: (e: RollbackEvent) => void;
  /** Only these change ids (the automatic rollback of a failed apply passes the ones it started). */
  only?: Set<string>;
}

export interface RollbackResult {
  snapshotId: string;
  restored: number;
  unchanged: number;
  failed: Array<{ change: string; error: string }>;
}

interface Step {
  change: StoredChange;
  current: KubeObject | undefined;
  /** Fingerprint of what we wrote (or would have), to tell our write from someone else's. */
  ours: string | undefined;
  plan: 'restore' | 'unchanged' | 'drift';
}

const same = (a: KubeObject | undefined, b: KubeObject | undefined) =>
  a === undefined || b === undefined ? a === b : jsonEqual(normalise(a), normalise(b));

function classify(change: StoredChange, current: KubeObject | undefined, ours: string | undefined, writtenUid?: string): Step['plan'] {
  switch (change.action) {
    case 'patch':
      if (!current) return 'drift'; // deleted by someone since: recreating it is not ours to decide
      if (same(current, change.before)) return 'unchanged';
      if (ours && objectHash(current) === ours) return 'restore';
      return 'drift';
    case 'create':
      if (!current) return 'unchanged';
      if (writtenUid ? current.metadata.uid === writtenUid : ours && objectHash(current) === ours) return 'restore';
      return 'drift';
    case 'delete':
      if (!current) return 'restore';
      if (current.metadata.uid === change.before.metadata.uid) return 'unchanged';
      return 'drift';
  }
}

/**
 * Restore every object a snapshot's apply touched to its state before. It reads each object first and
 * refuses, with nothing changed, where an object changed again since we wrote it (unless forced).
 * It works from the journal, so it also undoes an apply that was killed halfway.
 */
export async function rollbackSnapshot(
  cluster: Cluster,
  store: SnapshotStore,
  snapshot: Snapshot,
  opts: RollbackOptions = {},
): Promise<RollbackResult> {
  const events = await store.events(snapshot.id);
  if (snapshot.context !== cluster.contextName && snapshot.server !== cluster.server) {
    throw new UsageError(
      `snapshot ${snapshot.id} was taken on context "${snapshot.context}" (${snapshot.server}), not "${cluster.contextName}": pass --context ${snapshot.context}`,
    );
  }
  const started = new Set<string>();
  const written = new Map<string, { hash?: string; uid?: string }>();
  const rolled = new Set<string>();
  for (const e of events as Array<JournalEvent & { change?: string }>) {
    if (e.event === 'start') started.add(e.change!);
    if (e.event === 'done') written.set(e.change!, { hash: e.writtenHash, uid: e.uid });
    if (e.event === 'rolled-back') rolled.add(e.change!);
    if (e.event === 'failed' && (e as { answered?: boolean }).answered) rolled.add(e.change!);
  }
  const todo = snapshot.changes.filter((c) => started.has(c.id) && !rolled.has(c.id) && (!opts.only || opts.only.has(c.id)));
  const result: RollbackResult = { snapshotId: snapshot.id, restored: 0, unchanged: 0, failed: [] };
  const journal = await store.journal(snapshot.id);
  try {
    if (todo.length === 0) {
      await journal.record({ event: 'rollback-end', ok: true });
      return result;
    }
    opts.onEvent?.({ type: 'checking', total: todo.length });
    // Permissions first: a rollback that stops halfway for a 403 is worse than one that never starts.
    const checks: AccessCheck[] = [];
    for (const c of todo) {
      const t = await cluster.typeOf(c.ref.apiVersion, c.ref.kind);
      checks.push(cluster.accessCheck(t, 'get', c.ref.namespace));
      checks.push(cluster.accessCheck(t, c.action === 'patch' ? 'update' : c.action === 'create' ? 'delete' : 'create', c.ref.namespace));
    }
    await assertAllowed(cluster, checks);

    const steps: Step[] = await pMap(
      todo,
      async (change) => {
        // Only its normalised state, resourceVersion and uid matter here: keep 10,000 of them small.
        const current = await cluster.tryGet(change.ref);
        if (current) {
          delete current.metadata.managedFields;
          delete (current as Record<string, unknown>).status;
        }
        const w = written.get(change.id);
        const ours = w?.hash ?? change.oursHash ?? (change.action === 'create' && change.after ? objectHash(change.after) : undefined);
        return { change, current, ours, plan: classify(change, current, ours, w?.uid) };
      },
      { concurrency: cluster.concurrency },
    );
    const drift = steps.filter((s) => s.plan === 'drift');
    if (drift.length && !opts.force) {
      const names = drift.map((s) => refLabel(s.change.ref));
      throw new SafetyError(
        `refusing to roll back: ${names.length} object(s) changed again after kube-harden wrote them (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}); nothing was restored. Re-run with --force to overwrite.`,
        names,
      );
    }
    const byId = new Map(steps.map((s) => [s.change.id, s]));
    // Undo in reverse order of the apply's phases.
    for (const phase of phasesOf(todo).reverse()) {
      await pMap(
        phase,
        async (change) => {
          const s = byId.get(change.id)!;
          if (s.plan === 'unchanged') {
            result.unchanged++;
            await journal.record({ event: 'rolled-back', change: change.id, outcome: 'unchanged' });
            opts.onEvent?.({ type: 'restored', change, outcome: 'unchanged' });
            return;
          }
          try {
            await restoreOne(cluster, s);
            const outcome: RollbackOutcome = s.plan === 'drift' ? 'forced' : 'restored';
            result.restored++;
            await journal.record({ event: 'rolled-back', change: change.id, outcome });
            opts.onEvent?.({ type: 'restored', change, outcome });
          } catch (e) {
            const error = isClusterError(e) || e instanceof Error ? e.message : String(e);
            result.failed.push({ change: change.id, error });
            opts.onEvent?.({ type: 'failed', change, error });
          }
        },
        { concurrency: cluster.concurrency },
      );
    }
    await journal.record({ event: 'rollback-end', ok: result.failed.length === 0 });
    return result;
  } finally {
    await journal.close();
  }
}

async function restoreOne(cluster: Cluster, s: Step): Promise<void> {
  const c = s.change;
  if (c.action === 'patch') {
    // precondition: the object as we just checked it
    await guardedReplace(cluster, s.current!, c.before);
  } else if (c.action === 'create') {
    await cluster.delete(c.ref, { uid: s.current!.metadata.uid, resourceVersion: s.current!.metadata.resourceVersion });
  } else {
    if (s.current) {
      // forced over a newer object with the same name: replace it with the old one
      await guardedReplace(cluster, s.current, forCreate(c.before));
    } else {
      await cluster.create(forCreate(c.before));
    }
  }
}
