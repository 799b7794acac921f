/**
 * API objects: create, patch (the whole object, with the previewed resourceVersion as precondition) and
 * delete (uid and resourceVersion preconditions). Rollback works field by field (fields.ts).
 */
import type { AccessCheck, Cluster } from '../../cluster/client.js';
import { ClusterError, isClusterError, provesNotWritten } from '../../cluster/errors.js';
import type { KubeObject } from '../../cluster/types.js';
import type { DerivedRef, DryRunResult, ObjectChange } from '../change.js';
import { diffObjects } from '../diff.js';
import { fieldChanges, fieldState, pathText, setPath, type FieldChange } from '../fields.js';
import { forCreate, objectHash, slim, sameObject } from '../normalise.js';
import { storedBase, type StoredObject } from '../stored.js';
import { ConflictError, type ApplyOutcome, type EngineContext, type KindHandler, type RollbackStep, type Written } from './types.js';

const label = (c: { ref: { kind: string; name: string; namespace?: string } }) =>
  `${c.ref.kind.toLowerCase()}/${c.ref.name}${c.ref.namespace ? ` in ${c.ref.namespace}` : ''}`;

/** The body of a PUT: the intended object at a given resourceVersion, without status and managedFields. */
function putBody(after: KubeObject, rv: string | undefined): KubeObject {
  const { status: _status, ...rest } = after as KubeObject & { status?: unknown };
  const { managedFields: _mf, ...metadata } = after.metadata;
  return { ...rest, metadata: { ...metadata, resourceVersion: rv } };
}

/** All our fields are in place on the live object. */
const allOurs = (live: KubeObject | undefined, fields: FieldChange[]) => !!live && fields.every((f) => fieldState(live, f) === 'ours');

/**
 * PUT `after` in place of `expected`. The resourceVersion read at preview is the precondition; on a 409
 * the object is re-read: if only status or bookkeeping moved (controllers update a Deployment's status
 * all the time), the write is retried on the new version; if our own fields are already there (a write
 * whose answer was lost), it counts as done; anything else is someone else's edit, reported and never
 * overwritten.
 */
export async function guardedReplace(
  cluster: Cluster,
  expected: KubeObject,
  after: KubeObject,
  opts: { dryRun?: boolean; ours?: FieldChange[] } = {},
): Promise<{ object?: KubeObject; warnings: string[] }> {
  let rv = expected.metadata.resourceVersion;
  for (let attempt = 0; ; attempt++) {
    try {
      return await cluster.replace(putBody(after, rv), { dryRun: opts.dryRun });
    } catch (e) {
      if (!isClusterError(e, 'Conflict') || attempt >= 4) throw e;
      const current = await cluster.tryGet({ apiVersion: after.apiVersion, kind: after.kind, name: after.metadata.name, namespace: after.metadata.namespace });
      if (current && opts.ours && allOurs(current, opts.ours)) return { object: current, warnings: [] };
      if (!current || !sameObject(current, expected))
        throw new ConflictError(`${label({ ref: { ...after.metadata, kind: after.kind } })} changed since the preview; it was not overwritten`);
      rv = current.metadata.resourceVersion;
    }
  }
}

function dryError(e: unknown): DryRunResult {
  if (isClusterError(e)) {
    const causes = e.causes.map((c) => `${c.field ? `${c.field}: ` : ''}${c.message ?? c.reason ?? ''}`).filter(Boolean);
    const warnings = (e as unknown as { warnings?: string[] }).warnings ?? [];
    return { ok: false, warnings, error: causes.length ? `${e.message} (${causes.join('; ')})` : e.message };
  }
  if (e instanceof ConflictError) return { ok: false, warnings: [], error: e.message };
  throw e;
}

/** The permissions removing derived objects at rollback needs (kinds not served yet are skipped: a CRD a release brings). */
export async function derivedAccess(cluster: Cluster, derived: DerivedRef[] | undefined): Promise<AccessCheck[]> {
  const checks: AccessCheck[] = [];
  for (const d of derived ?? []) {
    try {
      const t = await cluster.typeOf(d.ref.apiVersion, d.ref.kind);
      checks.push(cluster.accessCheck(t, 'get', d.ref.namespace), cluster.accessCheck(t, 'delete', d.ref.namespace));
    } catch (e) {
      if (!isClusterError(e, 'NotFound')) throw e;
    }
  }
  return checks;
}

/** Still the consequence of our change: controlled by the target (uid), and carrying the annotations. */
function isDerived(o: KubeObject, d: DerivedRef, targetUid: string | undefined): boolean {
  if (d.controlledByTarget && !(targetUid && o.metadata.ownerReferences?.some((r) => r.controller && r.uid === targetUid))) return false;
  const a = o.metadata.annotations ?? {};
  return Object.entries(d.annotations ?? {}).every(([k, v]) => a[k] === v);
}

/**
 * After a change is undone, remove what controllers made because of it, in order (a Certificate before
 * its Secret). A controller that has not seen the undo yet may make one again at once: looked at again
 * after a moment, and removed again.
 */
async function removeDerived(ctx: EngineContext, derived: DerivedRef[], targetUid: string | undefined): Promise<void> {
  for (let round = 0; round < 3; round++) {
    let removed = 0;
    for (const d of derived) {
      const o = await ctx.cluster.tryGet(d.ref); // undefined too when its kind is not served any more
      if (!o || !isDerived(o, d, targetUid)) continue;
      try {
        await ctx.cluster.delete(d.ref, { uid: o.metadata.uid });
        removed++;
      } catch (e) {
        if (!isClusterError(e, 'NotFound') && !isClusterError(e, 'Conflict')) throw e;
      }
    }
    if (!removed) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

interface ObjectState {
  live?: KubeObject;
  restore: FieldChange[];
  conflicts: FieldChange[];
}

export const objectHandler: KindHandler<ObjectChange, StoredObject> = {
  diff(c) {
    return diffObjects(label(c), c.action === 'create' ? undefined : c.before, c.action === 'delete' ? undefined : c.after);
  },

  async access(c, ctx) {
    const t = await ctx.cluster.typeOf(c.ref.apiVersion, c.ref.kind);
    const ns = c.ref.namespace;
    const checks: AccessCheck[] = [ctx.cluster.accessCheck(t, 'get', ns)];
    // The write, and the verb its rollback needs.
    if (c.action === 'create') checks.push(ctx.cluster.accessCheck(t, 'create', ns), ctx.cluster.accessCheck(t, 'delete', ns));
    if (c.action === 'patch') checks.push(ctx.cluster.accessCheck(t, 'update', ns));
    if (c.action === 'delete') checks.push(ctx.cluster.accessCheck(t, 'delete', ns), ctx.cluster.accessCheck(t, 'create', ns));
    checks.push(...(await derivedAccess(ctx.cluster, c.derived)));
    return checks;
  },

  async dryRun(c, ctx) {
    try {
      if (c.action === 'create') {
        const r = await ctx.cluster.create(c.after!, { dryRun: true });
        return { ok: true, warnings: r.warnings, fields: fieldChanges(undefined, r.object ?? c.after) };
      }
      if (c.action === 'patch') {
        const r = await guardedReplace(ctx.cluster, c.before!, c.after!, { dryRun: true });
        return { ok: true, warnings: r.warnings, fields: fieldChanges(slim(c.before!), r.object ? slim(r.object) : c.after) };
      }
      const r = await ctx.cluster.delete(c.ref, { dryRun: true, uid: c.before!.metadata.uid });
      return { ok: true, warnings: r.warnings };
    } catch (e) {
      return dryError(e);
    }
  },

  store(c, dry) {
    const base: StoredObject = {
      kind: 'object',
      ...storedBase(c),
      action: c.action,
      ref: c.ref,
      rollout: c.rollout,
    };
    if (c.derived?.length) base.derived = c.derived;
    if (c.action !== 'create') base.before = slim(c.before!);
    if (c.action !== 'delete') base.fields = dry?.fields ?? fieldChanges(c.action === 'create' ? undefined : slim(c.before!), c.after);
    return base;
  },

  async apply(c, s, ctx): Promise<ApplyOutcome> {
    if (c.action === 'create') {
      try {
        const r = await ctx.cluster.create(c.after!);
        return { written: { uid: r.object?.metadata.uid }, warnings: r.warnings };
      } catch (e) {
        if (isClusterError(e, 'AlreadyExists')) throw new ConflictError(`${label(c)} was created by someone else since the preview; it was not overwritten`);
        throw e;
      }
    }
    if (c.action === 'patch') {
      const r = await guardedReplace(ctx.cluster, c.before!, c.after!, { ours: s.fields });
      return { written: { uid: r.object?.metadata.uid, generation: r.object?.metadata.generation }, warnings: r.warnings };
    }
    try {
      const r = await ctx.cluster.delete(c.ref, { uid: c.before!.metadata.uid, resourceVersion: c.before!.metadata.resourceVersion });
      return { written: {}, warnings: r.warnings };
    } catch (e) {
      if (isClusterError(e, 'Conflict') || isClusterError(e, 'NotFound')) throw new ConflictError(`${label(c)} changed since the preview; it was not deleted`);
      throw e;
    }
  },

  async landed(s, ctx): Promise<Written | undefined> {
    const live = await ctx.cluster.tryGet(s.ref);
    if (s.action === 'delete') return live && live.metadata.uid === s.before?.metadata.uid ? undefined : {};
    return live && s.fields && allOurs(live, s.fields) ? { uid: live.metadata.uid } : undefined;
  },

  async classify(s, written, ctx): Promise<RollbackStep> {
    const live = await ctx.cluster.tryGet(s.ref);
    if (live) {
      delete live.metadata.managedFields;
      delete (live as Record<string, unknown>).status;
    }
    const step = (verdict: RollbackStep['verdict'], detail?: string, state?: ObjectState): RollbackStep => ({ stored: s, verdict, detail, state });
    switch (s.action) {
      case 'create': {
        if (!live) return step('unchanged');
        if (written?.uid && live.metadata.uid !== written.uid) return step('conflict', 'deleted and created again by someone else since');
        if (!s.fields) {
          const ours = s.legacyHash && objectHash(live) === s.legacyHash;
          return ours || written?.uid
            ? step('restore', undefined, { live, restore: [], conflicts: [] })
            : step('conflict', 'changed since kube-harden created it');
        }
        const conflicts = s.fields.filter((f) => fieldState(live, f) !== 'ours');
        if (!written?.uid && conflicts.length === s.fields.length) return step('conflict', 'an object of that name that kube-harden did not create');
        return step(
          conflicts.length ? 'conflict' : 'restore',
          conflicts.length
            ? `changed since kube-harden created it: ${conflicts
                .map((f) => pathText(f.path))
                .slice(0, 4)
                .join(', ')}`
            : undefined,
          { live, restore: [], conflicts },
        );
      }
      case 'patch': {
        if (!live) return step('skip', 'deleted by someone else since; not recreated');
        if (!s.fields) {
          // Version-1 snapshot: whole-object fingerprints only.
          if (s.before && sameObject(live, s.before)) return step('unchanged');
          if (s.legacyHash && objectHash(live) === s.legacyHash) return step('restore', undefined, { live, restore: [], conflicts: [] });
          return step('conflict', 'changed since kube-harden wrote it (snapshot from kube-harden 0.1: whole-object comparison)', {
            live,
            restore: [],
            conflicts: [],
          });
        }
        const restore: FieldChange[] = [];
        const conflicts: FieldChange[] = [];
        for (const f of s.fields) {
          const st = fieldState(live, f);
          if (st === 'ours') restore.push(f);
          else if (st === 'conflict') conflicts.push(f);
        }
        if (conflicts.length)
          return step(
            'conflict',
            `changed since kube-harden wrote it: ${conflicts
              .map((f) => pathText(f.path))
              .slice(0, 4)
              .join(', ')}${conflicts.length > 4 ? ', …' : ''}`,
            { live, restore, conflicts },
          );
        if (!restore.length) return step('unchanged');
        return step('restore', undefined, { live, restore, conflicts });
      }
      case 'delete': {
        if (!live) return step('restore', undefined, { restore: [], conflicts: [] });
        if (live.metadata.uid === s.before?.metadata.uid) return step('unchanged');
        return step('conflict', 'created again by someone else since');
      }
    }
  },

  async restore(step, ctx, force) {
    const s = step.stored as StoredObject;
    const st = step.state as ObjectState;
    if (s.action === 'create') {
      await ctx.cluster.delete(s.ref, { uid: st.live!.metadata.uid, resourceVersion: st.live!.metadata.resourceVersion });
      if (s.derived) await removeDerived(ctx, s.derived, st.live!.metadata.uid);
      return;
    }
    if (s.action === 'delete') {
      await ctx.cluster.create(forCreate(s.before!));
      return;
    }
    if (!s.fields) {
      await guardedReplace(ctx.cluster, st.live!, { ...s.before!, metadata: { ...s.before!.metadata } });
      return;
    }
    // Put back the old value of each path that is still ours (and, forced, of the conflicting ones);
    // everything else keeps its live value. A 409 means it moved again: re-read and re-decide.
    let live = st.live!;
    let paths = force ? [...st.restore, ...st.conflicts] : st.restore;
    for (let attempt = 0; ; attempt++) {
      let next: KubeObject = live;
      for (const f of paths) next = setPath(next, f.path, f.before, s.before);
      try {
        await ctx.cluster.replace(putBody(next, live.metadata.resourceVersion));
        if (s.derived) await removeDerived(ctx, s.derived, live.metadata.uid);
        return;
      } catch (e) {
        if (!isClusterError(e, 'Conflict') || attempt >= 4) throw e;
        const again = await ctx.cluster.tryGet(s.ref);
        if (!again) throw new ClusterError('NotFound', `${label(s)} was deleted during the rollback`);
        live = again;
        paths = s.fields.filter((f) => fieldState(live, f) === 'ours' || (force && fieldState(live, f) === 'conflict'));
        const conflicts = s.fields.filter((f) => fieldState(live, f) === 'conflict');
        if (conflicts.length && !force)
          throw new ConflictError(`${label(s)} changed during the rollback: ${conflicts.map((f) => pathText(f.path)).join(', ')}`);
      }
    }
  },
};

export { provesNotWritten };
