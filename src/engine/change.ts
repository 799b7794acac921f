/**
 * The change model. Areas return edits (edit.ts); the session composes every edit to one target into
 * one Change, of one of three kinds, each with one handler in the engine (kinds/): an API object, a
 * local file (a static pod manifest), or a Helm release.
 */
import type { KubeObject, ObjectRef } from '../cluster/types.js';
import type { FieldChange } from './fields.js';

export type Risk = 'low' | 'medium' | 'high';
export const RISKS: Risk[] = ['low', 'medium', 'high'];
export const maxRisk = (a: Risk, b: Risk): Risk => (RISKS.indexOf(a) >= RISKS.indexOf(b) ? a : b);

/**
 * When a change is applied. Changes of one phase run concurrently; phases run in this order. Areas name
 * the phase of their edits; a composed change takes the latest phase of its edits.
 */
export const PHASES = [
  /** Namespaces, CRDs, Helm releases others depend on (cert-manager before its issuers). */
  'prerequisites',
  /** New objects: roles, policies, issuers, admission policies. */
  'create',
  /** Edits of existing objects that do not restart anything. */
  'update',
  /** Pod templates: rolled out in waves, each followed until Ready. */
  'rollout',
  /** What must wait for the rollouts: Pod Security enforce labels judged on the new templates. */
  'after-rollout',
  /** Removals: bindings, once their replacements exist. */
  'delete',
  /** The control plane itself (the API server's manifest): last, it restarts the API server. */
  'control-plane',
] as const;
export type Phase = (typeof PHASES)[number];
export const phaseRank = (p: Phase): number => PHASES.indexOf(p);

/** Why a change is in the plan: one line per area that asked for it. */
export interface Reason {
  area: string;
  text: string;
}

interface ChangeBase {
  /** Stable within a plan: `object:<apiVersion>/<kind>/<ns>/<name>`, `file:<path>`, `release:<ns>/<name>`. */
  id: string;
  areas: string[];
  findingIds: string[];
  reasons: Reason[];
  risk: Risk;
  riskNotes: string[];
  phase: Phase;
}

/**
 * An object a controller makes because of a change (cert-manager's ingress-shim makes a Certificate for an
 * annotated Ingress, and cert-manager a Secret for each Certificate). Rollback removes it after undoing
 * the change, but only while it still is that consequence: controlled by the changed object
 * (`controlledByTarget`), and carrying every one of `annotations`. Anything else of that name is left.
 */
export interface DerivedRef {
  ref: ObjectRef;
  controlledByTarget?: boolean;
  annotations?: Record<string, string>;
}

export interface ObjectChange extends ChangeBase {
  kind: 'object';
  action: 'create' | 'patch' | 'delete';
  ref: ObjectRef;
  /** The object as read (patch, delete); its resourceVersion is the write's precondition. */
  before?: KubeObject;
  /** The whole intended object (create, patch). */
  after?: KubeObject;
  /** A pod template change: follow the rollout until Ready before the next wave. */
  rollout?: boolean;
  /** What controllers will make because of it, removed at rollback (create and patch only). */
  derived?: DerivedRef[];
}

/** What to wait for after a file is written, before it counts as applied (and before restoring it at rollback). */
export interface GateSpec {
  /** The API server's static pod: /readyz answers and its mirror pod shows these flags (null: absent). */
  type: 'apiserver';
  flags: Record<string, string | null>;
  /** The mirror pod to read the flags from (kube-system). */
  mirrorPod?: string;
  timeoutMs: number;
}

export interface FileChange extends ChangeBase {
  kind: 'file';
  path: string;
  /** The text previewed (null: the file did not exist); its sha256 is the write's precondition. */
  before: string | null;
  after: string;
  gate?: GateSpec;
}

export interface ReleaseChange extends ChangeBase {
  kind: 'release';
  action: 'install' | 'upgrade';
  release: string;
  namespace: string;
  /** A chart reference as helm takes it: `name` with `repo`, an `oci://` reference, or a path to a .tgz. */
  chart: string;
  repo?: string;
  version: string;
  values: Record<string, unknown>;
  createNamespace: boolean;
  /** For an upgrade: the revision to go back to at rollback. */
  previousRevision?: number;
  /** What the user should know about undoing it (e.g. CRDs are kept by the chart). */
  undoNote?: string;
}

export type Change = ObjectChange | FileChange | ReleaseChange;

/** What the preview's dry-run said of a change. */
export interface DryRunResult {
  ok: boolean;
  warnings: string[];
  error?: string;
  /** Object changes: the paths the write sets, with server defaults applied (from the dry-run's answer). */
  fields?: FieldChange[];
  /** File changes: sha256 of the text that will be written. */
  sha?: string;
  /** Release changes: the manifests helm rendered, for the diff. */
  rendered?: string;
  /** Not validated yet, and why: its kind comes with a release earlier in the plan (checked before it is written). */
  deferred?: string;
}

export const changeLabel = (c: Change): string => {
  switch (c.kind) {
    case 'object':
      return `${c.ref.kind.toLowerCase()}/${c.ref.name}${c.ref.namespace ? ` in ${c.ref.namespace}` : ''}`;
    case 'file':
      return `file ${c.path}`;
    case 'release':
      return `helm release ${c.release} in ${c.namespace}`;
  }
};

export const changeAction = (c: Change): string => (c.kind === 'file' ? (c.before === null ? 'create' : 'edit') : c.action);

export const reasonText = (c: Change): string => c.reasons.map((r) => (c.reasons.length > 1 ? `${r.area}: ${r.text}` : r.text)).join('; ');

/** Group changes into phases, in order. */
export function phasesOf<T extends { phase: Phase }>(changes: T[]): T[][] {
  const byPhase = new Map<number, T[]>();
  for (const c of changes) {
    const r = phaseRank(c.phase);
    const list = byPhase.get(r) ?? [];
    list.push(c);
    byPhase.set(r, list);
  }
  return [...byPhase.keys()].sort((a, b) => a - b).map((p) => byPhase.get(p)!);
}
