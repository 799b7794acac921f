/**
 * Field-level bookkeeping of a change: which paths of an object kube-harden set, what was there before,
 * and what we put there. Rollback puts back the old value of each path whose live value is still ours,
 * reports a path someone changed since as a conflict by name, and leaves every other path alone (an HPA's
 * replicas, a CI's image bump, a controller's annotations).
 *
 * A path is a list of segments: an object key, or `{ name }` for the element of a list of named items
 * (containers, volumes, env, ports...), matched by name like a strategic merge, never by index.
 */
import { jsonEqual } from './normalise.js';

export type PathSeg = string | { name: string };
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface FieldChange {
  path: PathSeg[];
  /** The value before; absent (undefined) when the path did not exist. */
  before?: Json;
  /** The value kube-harden wrote; absent when it removed the path. */
  ours?: Json;
}

/** Server bookkeeping that says nothing about what we changed. */
const IGNORED: string[][] = [
  ['status'],
  ['metadata', 'resourceVersion'],
  ['metadata', 'uid'],
  ['metadata', 'generation'],
  ['metadata', 'creationTimestamp'],
  ['metadata', 'managedFields'],
  ['metadata', 'selfLink'],
  ['metadata', 'deletionTimestamp'],
  ['metadata', 'deletionGracePeriodSeconds'],
  ['metadata', 'annotations', 'deployment.kubernetes.io/revision'],
  ['metadata', 'annotations', 'deprecated.daemonset.template.generation'],
];

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function ignored(path: PathSeg[]): boolean {
  return IGNORED.some((ig) => ig.length <= path.length && ig.every((s, i) => path[i] === s));
}

/** A list whose items are all objects with a unique string `name`: diffed item by item, by name. */
function namedList(a: unknown[]): Map<string, unknown> | undefined {
  const m = new Map<string, unknown>();
  for (const x of a) {
    if (!isPlain(x) || typeof x.name !== 'string' || m.has(x.name)) return undefined;
    m.set(x.name, x);
  }
  return m;
}

/** Every leaf path where `before` and `after` differ. Neither input is modified. */
export function fieldChanges(before: unknown, after: unknown): FieldChange[] {
  const out: FieldChange[] = [];
  const walk = (b: unknown, a: unknown, path: PathSeg[]) => {
    if (ignored(path)) return;
    if (jsonEqual(b, a)) return;
    if (isPlain(b) && isPlain(a)) {
      for (const k of new Set([...Object.keys(b), ...Object.keys(a)])) walk(b[k], a[k], [...path, k]);
      return;
    }
    if (b === undefined && isPlain(a)) {
      // A new subtree: one path per leaf, so a field someone adds beside ours later is not ours to remove.
      for (const k of Object.keys(a)) walk(undefined, a[k], [...path, k]);
      if (Object.keys(a).length === 0) out.push({ path, ours: a as Json });
      return;
    }
    if (a === undefined && isPlain(b)) {
      for (const k of Object.keys(b)) walk(b[k], undefined, [...path, k]);
      if (Object.keys(b).length === 0) out.push({ path, before: b as Json });
      return;
    }
    if (Array.isArray(b) && Array.isArray(a) && b.length > 0 && a.length > 0) {
      const bm = namedList(b);
      const am = namedList(a);
      const sameOrder = bm && am && [...bm.keys()].filter((k) => am.has(k)).join('\0') === [...am.keys()].filter((k) => bm.has(k)).join('\0');
      if (bm && am && sameOrder) {
        for (const name of new Set([...bm.keys(), ...am.keys()])) {
          const bi = bm.get(name);
          const ai = am.get(name);
          if (bi === undefined || ai === undefined) {
            // A whole item added or removed: one path for the item.
            const fc: FieldChange = { path: [...path, { name }] };
            if (bi !== undefined) fc.before = bi as Json;
            if (ai !== undefined) fc.ours = ai as Json;
            out.push(fc);
          } else walk(bi, ai, [...path, { name }]);
        }
        return;
      }
    }
    const fc: FieldChange = { path };
    if (b !== undefined) fc.before = b as Json;
    if (a !== undefined) fc.ours = a as Json;
    out.push(fc);
  };
  walk(before, after, []);
  return out;
}

/** The value at a path, or undefined. */
export function getPath(obj: unknown, path: PathSeg[]): unknown {
  let cur: unknown = obj;
  for (const seg of path) {
    if (typeof seg === 'string') {
      if (!isPlain(cur)) return undefined;
      cur = cur[seg];
    } else {
      if (!Array.isArray(cur)) return undefined;
      cur = cur.find((x) => isPlain(x) && x.name === seg.name);
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}

/**
 * A copy of `obj` with `value` at `path` (undefined: the path removed). Only the objects and lists along
 * the path are copied. A removed leaf whose parent objects become empty removes those too, where they did
 * not exist in `reference` (the object as it was before kube-harden: a securityContext we created goes,
 * one that was there stays, even if empty).
 */
export function setPath<T>(obj: T, path: PathSeg[], value: unknown, reference?: unknown): T {
  const rec = (cur: unknown, i: number, ref: unknown): unknown => {
    if (i === path.length) return value;
    const seg = path[i];
    if (typeof seg === 'string') {
      const base: Record<string, unknown> = isPlain(cur) ? { ...cur } : {};
      const refChild = isPlain(ref) ? ref[seg] : undefined;
      const child = rec(base[seg], i + 1, refChild);
      if (child === undefined || (isPlain(child) && Object.keys(child).length === 0 && refChild === undefined && i + 1 < path.length)) {
        delete base[seg];
      } else base[seg] = child;
      return base;
    }
    const list = Array.isArray(cur) ? [...cur] : [];
    const idx = list.findIndex((x) => isPlain(x) && x.name === seg.name);
    const refChild = Array.isArray(ref) ? ref.find((x) => isPlain(x) && x.name === seg.name) : undefined;
    const child = rec(idx >= 0 ? list[idx] : undefined, i + 1, refChild);
    if (child === undefined) {
      if (idx >= 0) list.splice(idx, 1);
    } else if (idx >= 0) list[idx] = child;
    else list.push(child);
    return list;
  };
  return rec(obj, 0, reference) as T;
}

export const pathText = (path: PathSeg[]): string => path.map((s, i) => (typeof s === 'string' ? `${i ? '.' : ''}${s}` : `[name=${s.name}]`)).join('');

export type FieldState = 'ours' | 'before' | 'conflict';

/** Where a path stands now: still our value, back to the old one, or changed by someone since. */
export function fieldState(live: unknown, f: FieldChange): FieldState {
  const v = getPath(live, f.path);
  if (jsonEqual(v, f.ours)) return 'ours';
  if (jsonEqual(v, f.before)) return 'before';
  return 'conflict';
}
