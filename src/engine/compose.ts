/**
 * Edits are what areas plan; changes are what the engine applies. Two areas may edit one target (images
 * and workloads patch the same pod template, network and workloads label the same Namespace): compose()
 * joins every edit to one target into one change, so the preview, the snapshot and the rollback each see
 * one before and one after, and the apply makes one write.
 */
import { refKey } from '../cluster/types.js';
import type { KubeObject, ObjectRef } from '../cluster/types.js';
import {
  type Change,
  type DerivedRef,
  type FileChange,
  type GateSpec,
  maxRisk,
  type ObjectChange,
  type Phase,
  phaseRank,
  type ReleaseChange,
  type Risk,
} from './change.js';
import { jsonEqual } from './normalise.js';

interface EditBase {
  area: string;
  findingIds: string[];
  /** One line a human reads: what and why. */
  reason: string;
  risk: Risk;
  riskNote?: string;
  phase: Phase;
}

/** Create an object that does not exist. */
export interface CreateEdit extends EditBase {
  kind: 'object';
  op: 'create';
  object: KubeObject;
  /** Objects controllers will make because of it, removed at rollback while still its consequence. */
  derived?: DerivedRef[];
}

/** Change an existing object: `mutate` is pure (returns a new object, never touches its input). */
export interface MutateEdit extends EditBase {
  kind: 'object';
  op: 'mutate';
  /** The object as inspected; its resourceVersion is the precondition. */
  base: KubeObject;
  mutate: (obj: KubeObject) => KubeObject;
  /** A pod template change: the engine follows its rollout. */
  rollout?: boolean;
  /** Objects controllers will make because of it, removed at rollback while still its consequence. */
  derived?: DerivedRef[];
}

export interface DeleteEdit extends EditBase {
  kind: 'object';
  op: 'delete';
  base: KubeObject;
}

export interface FileEdit extends EditBase {
  kind: 'file';
  path: string;
  /** The text as inspected (null: absent). */
  base: string | null;
  /** Pure: the new text from the current one. */
  mutate: (text: string | null) => string;
  /** Flags this edit expects in force after the write (merged into one gate per file). */
  gate?: GateSpec;
}

export interface ReleaseEdit extends EditBase {
  kind: 'release';
  release: Omit<ReleaseChange, keyof EditBase | 'id' | 'kind' | 'areas' | 'reasons' | 'riskNotes'>;
}

export type Edit = CreateEdit | MutateEdit | DeleteEdit | FileEdit | ReleaseEdit;

export class ComposeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ComposeError';
  }
}

export const objectChangeId = (r: ObjectRef) => `object:${refKey(r)}`;

const refOfObject = (o: KubeObject): ObjectRef => ({ apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name });

function targetOf(e: Edit): string {
  if (e.kind === 'file') return `file:${e.path}`;
  if (e.kind === 'release') return `release:${e.release.namespace}/${e.release.release}`;
  return objectChangeId(refOfObject(e.op === 'create' ? e.object : e.base));
}

function joined(edits: Edit[]) {
  const areas = [...new Set(edits.map((e) => e.area))];
  const findingIds = [...new Set(edits.flatMap((e) => e.findingIds))];
  const reasons = edits.map((e) => ({ area: e.area, text: e.reason }));
  const risk = edits.reduce<Risk>((r, e) => maxRisk(r, e.risk), 'low');
  const riskNotes = [...new Set(edits.map((e) => e.riskNote).filter((n): n is string => !!n))];
  const phase = edits.reduce<Phase>((p, e) => (phaseRank(e.phase) > phaseRank(p) ? e.phase : p), edits[0].phase);
  return { areas, findingIds, reasons, risk, riskNotes, phase };
}

/** The derived objects of several edits, once each. */
function derivedOf(edits: Array<CreateEdit | MutateEdit | DeleteEdit>): { derived?: DerivedRef[] } {
  const byRef = new Map<string, DerivedRef>();
  for (const e of edits) if (e.op !== 'delete') for (const d of e.derived ?? []) byRef.set(refKey(d.ref), d);
  return byRef.size ? { derived: [...byRef.values()] } : {};
}

function composeObject(id: string, edits: Array<CreateEdit | MutateEdit | DeleteEdit>): ObjectChange | undefined {
  const creates = edits.filter((e): e is CreateEdit => e.op === 'create');
  const deletes = edits.filter((e): e is DeleteEdit => e.op === 'delete');
  const mutates = edits.filter((e): e is MutateEdit => e.op === 'mutate');
  const label = id.slice('object:'.length);
  const common = { ...joined(edits), ...derivedOf(edits) };
  if (deletes.length && deletes.length !== edits.length) {
    throw new ComposeError(
      `${label}: ${deletes.map((e) => e.area).join(', ')} delete it while ${edits
        .filter((e) => e.op !== 'delete')
        .map((e) => e.area)
        .join(', ')} change it`,
    );
  }
  if (deletes.length) {
    const before = deletes[0].base;
    return { id, kind: 'object', action: 'delete', ref: refOfObject(before), before, ...common };
  }
  if (creates.length > 1 && !creates.every((c) => jsonEqual(c.object, creates[0].object))) {
    throw new ComposeError(`${label}: ${creates.map((e) => e.area).join(' and ')} create it differently`);
  }
  if (creates.length) {
    // A create and mutates of the same object: the mutates apply to the created object.
    let after = creates[0].object;
    for (const m of mutates) after = m.mutate(after);
    return { id, kind: 'object', action: 'create', ref: refOfObject(after), after, ...common };
  }
  const base = mutates[0].base;
  for (const m of mutates) {
    if (m.base.metadata.resourceVersion !== base.metadata.resourceVersion) {
      throw new ComposeError(`${label}: ${mutates[0].area} and ${m.area} planned from different versions of it`);
    }
  }
  let after = base;
  for (const m of mutates) after = m.mutate(after);
  if (jsonEqual(after, base)) return undefined;
  return { id, kind: 'object', action: 'patch', ref: refOfObject(base), before: base, after, rollout: mutates.some((m) => m.rollout) || undefined, ...common };
}

function composeFile(id: string, edits: FileEdit[]): FileChange | undefined {
  const base = edits[0].base;
  let text: string | null = base;
  for (const e of edits) text = e.mutate(text);
  if (text === null || text === base) return undefined;
  const gates = edits.map((e) => e.gate).filter((g): g is GateSpec => !!g);
  const gate: GateSpec | undefined = gates.length
    ? {
        type: 'apiserver',
        flags: Object.assign({}, ...gates.map((g) => g.flags)),
        mirrorPod: gates.find((g) => g.mirrorPod)?.mirrorPod,
        timeoutMs: Math.max(...gates.map((g) => g.timeoutMs)),
      }
    : undefined;
  return { id, kind: 'file', path: edits[0].path, before: base, after: text, gate, ...joined(edits) };
}

function composeRelease(id: string, edits: ReleaseEdit[]): ReleaseChange {
  if (edits.length > 1 && !edits.every((e) => jsonEqual(e.release, edits[0].release))) {
    throw new ComposeError(`${id}: ${edits.map((e) => e.area).join(' and ')} ask for different releases`);
  }
  return { id, kind: 'release', ...edits[0].release, ...joined(edits) };
}

/**
 * Join the edits of every area into changes, one per target, in the order the areas are walked (the
 * order of `edits`). Pure: the edits and their base objects are not modified.
 */
export function compose(edits: Edit[]): Change[] {
  const byTarget = new Map<string, Edit[]>();
  for (const e of edits) {
    const t = targetOf(e);
    const list = byTarget.get(t);
    if (list) list.push(e);
    else byTarget.set(t, [e]);
  }
  const out: Change[] = [];
  for (const [id, list] of byTarget) {
    const first = list[0];
    if (list.some((e) => e.kind !== first.kind)) throw new ComposeError(`${id}: edits of different kinds`);
    const c =
      first.kind === 'object'
        ? composeObject(id, list as Array<CreateEdit | MutateEdit | DeleteEdit>)
        : first.kind === 'file'
          ? composeFile(id, list as FileEdit[])
          : composeRelease(id, list as ReleaseEdit[]);
    if (c) out.push(c);
  }
  return out;
}
