import type { KubeObject } from '../cluster/types.js';

/** Annotations that controllers rewrite on their own; they say nothing about what we changed. */
const VOLATILE_ANNOTATIONS = ['deployment.kubernetes.io/revision'];

/**
 * The object without server bookkeeping: no managedFields, resourceVersion, uid, generation,
 * creationTimestamp or status. Two objects are "the same" for kube-harden when these are equal.
 */
export function normalise(obj: KubeObject): KubeObject {
  const o = structuredClone(obj);
  delete (o as Record<string, unknown>).status;
  const m = o.metadata;
  for (const k of ['managedFields', 'resourceVersion', 'uid', 'generation', 'creationTimestamp', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds']) {
    delete m[k];
  }
  if (m.annotations) {
    for (const a of VOLATILE_ANNOTATIONS) delete m.annotations[a];
    if (Object.keys(m.annotations).length === 0) delete m.annotations;
  }
  return o;
}

/** Deep equality of JSON values, insensitive to key order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => jsonEqual(ao[k], bo[k]));
}

export const sameObject = (a: KubeObject, b: KubeObject) => jsonEqual(normalise(a), normalise(b));

/** An object ready to be created again: no identity, no version, no status. */
export function forCreate(obj: KubeObject): KubeObject {
  const o = normalise(obj);
  delete o.metadata.ownerReferences;
  return o;
}
