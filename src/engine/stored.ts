/**
 * Changes as a snapshot keeps them: what each target looked like before (or that it did not exist), and
 * what kube-harden writes, field by field. Version 2 of the format; version-1 snapshots (kube-harden
 * 0.1, object patches with whole-object fingerprints) are read and upgraded by `fromV1`.
 */
import type { KubeObject, ObjectRef } from '../cluster/types.js';
import type { Change, DerivedRef, GateSpec, Phase, Reason, Risk } from './change.js';
import type { FieldChange } from './fields.js';
import { objectHash } from './normalise.js';

interface StoredBase {
  id: string;
  areas: string[];
  findingIds: string[];
  reasons: Reason[];
  risk: Risk;
  phase: Phase;
}

/** What every kind of change keeps the same way in a snapshot. */
export function storedBase(c: Change): StoredBase {
  return { id: c.id, areas: c.areas, findingIds: c.findingIds, reasons: c.reasons, risk: c.risk, phase: c.phase };
}

export interface StoredObject extends StoredBase {
  kind: 'object';
  action: 'create' | 'patch' | 'delete';
  ref: ObjectRef;
  /** The object before (patch, delete), without status and managedFields. */
  before?: KubeObject;
  /** Every path the write sets (create: every path of the new object), with its old and new value. */
  fields?: FieldChange[];
  /** Version-1 snapshots only: a fingerprint of the whole object as written. */
  legacyHash?: string;
  rollout?: boolean;
  /** Objects controllers made because of it, removed at rollback while still its consequence. */
  derived?: DerivedRef[];
}

export interface StoredFile extends StoredBase {
  kind: 'file';
  path: string;
  before: string | null;
  beforeSha: string | null;
  oursSha: string;
  mode?: number;
  uid?: number;
  gid?: number;
  gate?: GateSpec;
}

export interface StoredRelease extends StoredBase {
  kind: 'release';
  action: 'install' | 'upgrade';
  release: string;
  namespace: string;
  chart: string;
  version: string;
  previousRevision?: number;
  undoNote?: string;
}

export type StoredChange = StoredObject | StoredFile | StoredRelease;

export interface ClusterIdentity {
  context: string;
  server: string;
  /** uid of the kube-system namespace; undefined when it could not be read. */
  uid?: string;
}

export interface Snapshot {
  version: 2;
  id: string;
  createdAt: string;
  cluster: ClusterIdentity;
  user?: string;
  changes: StoredChange[];
}

export const storedLabel = (s: StoredChange): string =>
  s.kind === 'object'
    ? `${s.ref.kind.toLowerCase()}/${s.ref.name}${s.ref.namespace ? ` in ${s.ref.namespace}` : ''}`
    : s.kind === 'file'
      ? `file ${s.path}`
      : `helm release ${s.release} in ${s.namespace}`;

interface V1Change {
  id: string;
  area: string;
  action: 'create' | 'patch' | 'delete';
  ref: ObjectRef;
  before?: KubeObject;
  after?: KubeObject;
  oursHash?: string;
  findingIds?: string[];
  reason?: string;
  risk?: Risk;
  phase?: number;
}

interface V1Snapshot {
  version: 1;
  id: string;
  createdAt: string;
  context: string;
  server: string;
  user?: string;
  changes: V1Change[];
}

const V1_PHASE: Record<number, Phase> = { 10: 'create', 20: 'rollout', 30: 'after-rollout', 40: 'delete' };

/** Read a version-1 snapshot (kube-harden 0.1) as version 2: users already have these on disk. */
export function fromV1(s: V1Snapshot): Snapshot {
  return {
    version: 2,
    id: s.id,
    createdAt: s.createdAt,
    cluster: { context: s.context, server: s.server },
    user: s.user,
    changes: s.changes.map((c): StoredObject => ({
      kind: 'object',
      id: c.id,
      areas: [c.area],
      findingIds: c.findingIds ?? [],
      reasons: [{ area: c.area, text: c.reason ?? '' }],
      risk: c.risk ?? 'medium',
      phase: V1_PHASE[c.phase ?? 20] ?? 'update',
      action: c.action,
      ref: c.ref,
      before: c.before,
      legacyHash: c.oursHash ?? (c.after ? objectHash(c.after) : undefined),
    })),
  };
}

/** Parse a snapshot file's JSON, of any version; throws on anything else. */
export function parseSnapshot(text: string): Snapshot {
  const raw = JSON.parse(text) as { version?: number; changes?: unknown };
  if (!Array.isArray(raw.changes)) throw new Error('no changes');
  if (raw.version === 2) return raw as Snapshot;
  if (raw.version === 1) return fromV1(raw as V1Snapshot);
  throw new Error(`unknown snapshot version ${String(raw.version)}`);
}
