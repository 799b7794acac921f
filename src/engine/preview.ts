import pMap from 'p-map';
import type { AccessCheck, AccessResult, Cluster } from '../cluster/client.js';
import { isClusterError } from '../cluster/errors.js';
import { SafetyError } from '../errors.js';
import type { Change, DryRunResult } from './change.js';
import { objectHash } from './normalise.js';
import { guardedReplace } from './write.js';

/** Send one change to the API server with dryRun=All: admission (Pod Security included) and validation run, nothing is stored. */
export async function dryRunChange(cluster: Cluster, change: Change): Promise<DryRunResult> {
  try {
    if (change.action === 'create') {
      const r = await cluster.create(change.after, { dryRun: true });
      return { ok: true, warnings: r.warnings, expectedHash: r.object && objectHash(r.object) };
    }
    if (change.action === 'patch') {
      const r = await guardedReplace(cluster, change.before, change.after, { dryRun: true });
      return { ok: true, warnings: r.warnings, expectedHash: r.object && objectHash(r.object) };
    }
    const r = await cluster.delete(change.ref, { dryRun: true, uid: change.before.metadata.uid });
    return { ok: true, warnings: r.warnings };
  } catch (e) {
    if (isClusterError(e)) {
      const causes = e.causes.map((c) => `${c.field ? `${c.field}: ` : ''}${c.message ?? c.reason ?? ''}`).filter(Boolean);
      const warnings = (e as unknown as { warnings?: string[] }).warnings ?? [];
      return { ok: false, warnings, error: causes.length ? `${e.message} (${causes.join('; ')})` : e.message };
    }
    throw e;
  }
}

/** Dry-run every change concurrently; the results are keyed by change id. */
export async function dryRunPlan(
  cluster: Cluster,
  changes: Change[],
  onProgress?: (done: number, total: number) => void,
): Promise<Map<string, DryRunResult>> {
  const out = new Map<string, DryRunResult>();
  let done = 0;
  await pMap(
    changes,
    async (c) => {
      out.set(c.id, await dryRunChange(cluster, c));
      onProgress?.(++done, changes.length);
    },
    { concurrency: cluster.concurrency },
  );
  return out;
}

/** The permissions a plan needs: reading each object (for the snapshot and rollback) and the write itself. */
export async function requiredAccess(cluster: Cluster, changes: Change[]): Promise<AccessCheck[]> {
  const checks: AccessCheck[] = [];
  for (const c of changes) {
    const t = await cluster.typeOf(c.ref.apiVersion, c.ref.kind);
    const ns = c.ref.namespace;
    checks.push(cluster.accessCheck(t, 'get', ns));
    if (c.action === 'create') checks.push(cluster.accessCheck(t, 'create', ns), cluster.accessCheck(t, 'delete', ns));
    if (c.action === 'patch') checks.push(cluster.accessCheck(t, 'update', ns));
    if (c.action === 'delete') checks.push(cluster.accessCheck(t, 'delete', ns), cluster.accessCheck(t, 'create', ns));
  }
  return checks;
}

export const describeAccess = (a: AccessCheck) =>
  `${a.verb} ${a.group ? `${a.resource}.${a.group}` : a.resource}${a.namespace ? ` in namespace ${a.namespace}` : ' (cluster-wide)'}`;

/** SelfSubjectAccessReview of every write the plan needs, before the first one. Throws naming what is missing. */
export async function assertAllowed(cluster: Cluster, checks: AccessCheck[]): Promise<AccessResult[]> {
  const results = await cluster.canI(checks);
  const denied = results.filter((r) => !r.allowed);
  if (denied.length) {
    const names = denied.map(describeAccess);
    const shown = names.slice(0, 6).join(', ') + (names.length > 6 ? `, and ${names.length - 6} more` : '');
    throw new SafetyError(`missing permissions (nothing was changed): ${shown}`, names);
  }
  return results;
}
