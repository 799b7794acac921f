import type { KubeObject, ObjectRef } from '../cluster/types.js';

export type Risk = 'low' | 'medium' | 'high';

interface ChangeBase {
  /** Stable within a plan, e.g. `workloads:apps/v1/Deployment/shop/web`. */
  id: string;
  area: string;
  ref: ObjectRef;
  findingIds: string[];
  /** Why this change, in one line a human reads. */
  reason: string;
  risk: Risk;
  riskNote?: string;
  /** Lower phases are applied first; changes of one phase run concurrently. */
  phase: number;
}

export interface CreateChange extends ChangeBase {
  action: 'create';
  after: KubeObject;
}

/** The full intended object and the object it replaces; `before.metadata.resourceVersion` is the precondition. */
export interface PatchChange extends ChangeBase {
  action: 'patch';
  before: KubeObject;
  after: KubeObject;
}

export interface DeleteChange extends ChangeBase {
  action: 'delete';
  before: KubeObject;
}

export type Change = CreateChange | PatchChange | DeleteChange;

/** What the API server said of a change in a dry-run. */
export interface DryRunResult {
  ok: boolean;
  warnings: string[];
  error?: string;
  /** Fingerprint (objectHash) of the object as the server would store it, defaults applied. */
  expectedHash?: string;
}

export const PHASE = {
  create: 10,
  workloads: 20,
  namespaceLabels: 30,
  delete: 40,
} as const;

export const beforeOf = (c: Change): KubeObject | undefined => (c.action === 'create' ? undefined : c.before);
export const afterOf = (c: Change): KubeObject | undefined => (c.action === 'delete' ? undefined : c.after);

/** A change as a snapshot stores it: a patch keeps only the fingerprint of its result. */
export type StoredChange = (CreateChange | DeleteChange | (Omit<PatchChange, 'after'> & { after?: KubeObject })) & {
  /** objectHash of what kube-harden writes (the server's dry-run result when there was one). */
  oursHash?: string;
};

/** Group changes into phases, in order. */
export function phasesOf<T extends { phase: number }>(changes: T[]): T[][] {
  const byPhase = new Map<number, T[]>();
  for (const c of changes) {
    const list = byPhase.get(c.phase) ?? [];
    list.push(c);
    byPhase.set(c.phase, list);
  }
  return [...byPhase.keys()].sort((a, b) => a - b).map((p) => byPhase.get(p)!);
}
