/**
 * Before any write: the permissions every change needs (SelfSubjectAccessReview), local preconditions,
 * and the API server's own dry-run of every change, with its warnings and errors kept beside the change.
 */
import { createHash } from 'node:crypto';
import pMap from 'p-map';
import type { AccessCheck, AccessResult } from '../cluster/client.js';
import { SafetyError } from '../errors.js';
import { phaseRank, type Change, type DryRunResult } from './change.js';
import { canonicalJson } from './normalise.js';
import { handlerOf, type EngineContext } from './kinds/index.js';

/** The permissions a plan needs: reading each target (for the snapshot and rollback), the write, and the undo. */
export async function requiredAccess(ctx: EngineContext, changes: Change[]): Promise<AccessCheck[]> {
  const out: AccessCheck[] = [];
  for (const c of changes) out.push(...(await handlerOf(c).access(c, ctx)));
  return out;
}

export const describeAccess = (a: AccessCheck) =>
  `${a.verb} ${a.group ? `${a.resource}.${a.group}` : a.resource}${a.namespace ? ` in namespace ${a.namespace}` : ' (cluster-wide)'}`;

export interface Preflight {
  denied: AccessResult[];
  /** Local preconditions that fail (a file that cannot be written). */
  local: string[];
}

/** Everything the plan needs that the user may lack, found before the dry-run and before any write. */
export async function preflight(ctx: EngineContext, changes: Change[]): Promise<Preflight> {
  const results = await ctx.cluster.canI(await requiredAccess(ctx, changes));
  const local: string[] = [];
  for (const c of changes) local.push(...((await handlerOf(c).preflight?.(c, ctx)) ?? []));
  return { denied: results.filter((r) => !r.allowed), local };
}

/** Throws (exit 4) naming what is missing; nothing was changed. */
export function assertPreflight(p: Preflight): void {
  const names = [...p.denied.map(describeAccess), ...p.local];
  if (names.length) {
    const shown = names.slice(0, 6).join(', ') + (names.length > 6 ? `, and ${names.length - 6} more` : '');
    throw new SafetyError(`missing permissions (nothing was changed): ${shown}`, names);
  }
}

/** A fingerprint of what a change would write: equal fingerprints, equal dry-run answers. */
export function changeKey(c: Change): string {
  const h = createHash('sha256');
  h.update(c.id);
  if (c.kind === 'object') h.update(`${c.action}\0${c.before?.metadata.resourceVersion ?? ''}\0${canonicalJson(c.after ?? null)}`);
  else if (c.kind === 'file') h.update(`${c.before ?? ''}\0${c.after}`);
  else h.update(canonicalJson({ ...c, reasons: undefined, areas: undefined, findingIds: undefined, riskNotes: undefined }));
  return h.digest('hex');
}

/**
 * Dry-run results kept for a session: going back and forth in the wizard re-runs the dry-run only for
 * the changes whose content changed.
 */
export class DryRunCache {
  private map = new Map<string, DryRunResult>();
  get(c: Change): DryRunResult | undefined {
    return this.map.get(changeKey(c));
  }
  set(c: Change, r: DryRunResult): void {
    this.map.set(changeKey(c), r);
  }
}

/**
 * Dry-run every change concurrently; results keyed by change id. An object whose kind the cluster does
 * not serve yet, while a release earlier in the plan will bring it (cert-manager's CRDs before its
 * issuers), or whose namespace an earlier phase creates, is validated when it is applied, right after.
 */
export async function dryRunPlan(
  ctx: EngineContext,
  changes: Change[],
  onProgress?: (done: number, total: number) => void,
  cache?: DryRunCache,
): Promise<Map<string, DryRunResult>> {
  const out = new Map<string, DryRunResult>();
  const releases = changes.filter((c) => c.kind === 'release');
  // Namespaces the plan creates (a Namespace object, or a release's --create-namespace), by name.
  const newNamespaces = new Map<string, Change>();
  for (const c of changes) {
    if (c.kind === 'object' && c.action === 'create' && c.ref.apiVersion === 'v1' && c.ref.kind === 'Namespace') newNamespaces.set(c.ref.name, c);
    if (c.kind === 'release' && c.createNamespace) newNamespaces.set(c.namespace, c);
  }
  const namespaceFirst = (c: Change): Change | undefined => {
    if (c.kind !== 'object' || !c.ref.namespace) return undefined;
    const by = newNamespaces.get(c.ref.namespace);
    return by && phaseRank(by.phase) < phaseRank(c.phase) ? by : undefined;
  };
  let done = 0;
  await pMap(
    changes,
    async (c) => {
      let r = cache?.get(c);
      if (!r) {
        if (c.kind === 'object' && releases.length && !(await ctx.cluster.serves(c.ref.apiVersion, c.ref.kind))) {
          const by = releases.find((x) => phaseRank(x.phase) < phaseRank(c.phase));
          r = by
            ? {
                ok: true,
                warnings: [],
                deferred: `${c.ref.kind} is served once helm release ${by.kind === 'release' ? by.release : ''} is installed: validated by the API server right before it is written`,
              }
            : { ok: false, warnings: [], error: `the cluster does not serve ${c.ref.kind} (${c.ref.apiVersion})` };
        } else if (
          namespaceFirst(c) &&
          !(await ctx.cluster.tryGet({ apiVersion: 'v1', kind: 'Namespace', name: c.kind === 'object' ? c.ref.namespace! : '' }))
        ) {
          // Its namespace is created earlier in the plan: the server cannot judge it before that.
          r = {
            ok: true,
            warnings: [],
            deferred: `namespace ${c.kind === 'object' ? c.ref.namespace : ''} is created earlier in this plan: validated by the API server right before it is written`,
          };
        } else {
          r = await handlerOf(c).dryRun(c, ctx);
        }
        if (!r.deferred) cache?.set(c, r);
      }
      out.set(c.id, r);
      onProgress?.(++done, changes.length);
    },
    { concurrency: ctx.cluster.concurrency },
  );
  return out;
}
