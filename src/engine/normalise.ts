import { createHash } from 'node:crypto';
import type { KubeObject } from '../cluster/types.js';

/** Annotations that controllers rewrite on their own; they say nothing about what we changed. */
const VOLATILE_ANNOTATIONS = ['deployment.kubernetes.io/revision'];

/**
 * The object without server bookkeeping: no managedFields, resourceVersion, uid, generation,
 * creationTimestamp or status. Two objects are "the same" for kube-harden when these are equal.
 */
export function normalise(obj: KubeObject): KubeObject {
  // apiVersion, kind and metadata first, as people write manifests (LIST items get theirs added last).
  const { apiVersion, kind, metadata, ...rest } = structuredClone(obj);
  const o: KubeObject = { apiVersion, kind, metadata, ...rest };
  delete (o as Record<string, unknown>).status;
  const m = o.metadata;
  for (const k of [
    'managedFields',
    'resourceVersion',
    'uid',
    'generation',
    'creationTimestamp',
    'selfLink',
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
  ]) {
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

/** JSON with object keys sorted, so equal values give equal text. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

/** A short fingerprint of an object's normalised state: what a snapshot keeps of "what we wrote". */
export const objectHash = (obj: KubeObject): string =>
  createHash('sha256')
    .update(canonicalJson(normalise(obj)))
    .digest('hex')
    .slice(0, 32);

/** The object as a snapshot keeps it: without managedFields and status, which a restore never writes. */
export function slim(obj: KubeObject): KubeObject {
  const o = { ...obj, metadata: { ...obj.metadata } };
  delete (o as Record<string, unknown>).status;
  delete o.metadata.managedFields;
  return o;
}

/** An object ready to be created again: no identity, no version, no status. */
export function forCreate(obj: KubeObject): KubeObject {
  const o = normalise(obj);
  delete o.metadata.ownerReferences;
  return o;
}
