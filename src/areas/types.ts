/**
 * The area contract. Every hardening area is one folder under src/areas/ exporting an `Area`, listed once
 * in registry.ts; the engine, the session, the reports and the screens know areas only through this.
 */
import type { Cluster, Identity, ServerVersion } from '../cluster/client.js';
import type { Helm } from '../cluster/helm.js';
import type { KubeObject, ObjectRef } from '../cluster/types.js';
import type { Change, DryRunResult } from '../engine/change.js';
import type { Edit } from '../engine/compose.js';

export type AreaId = 'rbac' | 'apiserver' | 'tls' | 'network' | 'workloads' | 'images';
/** The order of the pipeline: who may do what and the control plane first, workloads and images last. */
export const AREA_IDS: AreaId[] = ['rbac', 'apiserver', 'tls', 'network', 'workloads', 'images'];

export type Severity = 'low' | 'medium' | 'high' | 'critical';
export const SEVERITIES: Severity[] = ['low', 'medium', 'high', 'critical'];
export const severityRank = (s: Severity) => SEVERITIES.indexOf(s);

export function countBySeverity(findings: Array<{ severity: Severity }>): Record<Severity, number> {
  const counts: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0 };
  for (const f of findings) counts[f.severity]++;
  return counts;
}

export interface Reference {
  /** e.g. "CIS Kubernetes Benchmark 1.2.1", "Pod Security Standards: restricted". */
  title: string;
  url?: string;
}

/** A check, as data: what it looks for, why it matters, how it is fixed. */
export interface Rule {
  /** Unique within its area; a finding's `rule`. */
  id: string;
  severity: Severity;
  title: string;
  why: string;
  /** What the fix is: the change kube-harden plans, or what a person must do. */
  fix: string;
  references?: Reference[];
}

export interface Finding {
  /** Stable: `<area>/<rule>/<kind>/<namespace>/<name>[/<detail>]`. */
  id: string;
  area: AreaId;
  rule: string;
  severity: Severity;
  /** What it is about; `apiVersion` is '' for things that are not API objects (a flag, an endpoint). */
  ref: ObjectRef;
  container?: string;
  message: string;
  /** Whether a planned change can fix it here. */
  fixable: boolean;
  /** Why not, when it needs a person (a hostPath volume, an operator-owned object, a managed control plane). */
  manual?: string;
  /** How it comes about, step by step (RBAC: binding → role → rule). */
  path?: string[];
}

/** What an area LISTs: the permission pre-check and the session's shared cache use it. */
export interface ReadSpec {
  apiVersion: string;
  kind: string;
  /** A CRD that may not be installed: absent is fine, not an error. */
  optional?: boolean;
  /** Keep the status (pods' container statuses, certificates' conditions); dropped otherwise. */
  status?: boolean;
}

/** Which namespaces the session looks at, resolved once and shared by the areas. */
export interface Scope {
  /** Every Namespace object of the cluster. */
  all: KubeObject[];
  /** Names of the namespaces in scope (--namespaces, or all but the system ones). */
  namespaces: string[];
  inScope(ns: string | undefined): boolean;
  /** Namespaces that hold cluster infrastructure by convention, with the reason (never in a default plan). */
  infrastructure: Map<string, string>;
}

export interface InspectContext {
  cluster: Cluster;
  helm: Helm;
  version: ServerVersion;
  identity: Identity;
  scope: Scope;
  /** Every object of a kind the area declared in `reads` (one paginated LIST per kind per session). */
  list(kind: string, apiVersion?: string): Promise<KubeObject[]>;
  onProgress?: (message: string) => void;
  /** Options some areas take from the command line (e.g. apiserverManifest). */
  options: SessionAreaOptions;
}

export interface SessionAreaOptions {
  /** The API server's static-pod manifest, when readable on this machine. */
  apiserverManifest?: string;
  /** Follow rollouts for at most this long (ms). */
  rolloutTimeoutMs?: number;
  /** Scan the images in use with the local trivy (--scan-images): slow and runs a tool, so only when asked. */
  scanImages?: { bin?: string; dir?: string; concurrency?: number; timeoutMs?: number; cacheDir?: string };
}

export interface Inspection<F = unknown> {
  area: AreaId;
  findings: Finding[];
  /** Typed facts the area's questions and plan use. */
  facts: F;
  /** Why the area cannot make changes here (a managed control plane), shown in the overview. */
  notApplicable?: string;
  /** Lines for the overview and the area's walk (e.g. "cert-manager v1.21.2, 2 issuers Ready"). */
  notes?: string[];
}

export type AnswerValue = string | boolean | number | string[] | Record<string, string>;
export type Answers = Record<string, AnswerValue>;

export interface Choice {
  value: string;
  label: string;
  hint?: string;
}

export type QuestionKind =
  | 'select'
  | 'multiselect'
  | 'confirm'
  | 'text'
  | 'number'
  /** Free values: users, groups, hosts, registries. */
  | 'list'
  /** One choice for each item: a level per namespace. The answer maps item → choice. */
  | 'per-item';

export interface Question {
  /** `<area>.<name>`, the key in an answer profile. */
  id: string;
  area: AreaId;
  title: string;
  help: string;
  kind: QuestionKind;
  /** select, multiselect: the options; per-item: the choice for each item. */
  choices?: Choice[];
  /** per-item: the items. */
  items?: Choice[];
  /** list: values worth offering (the registries in use). */
  suggestions?: string[];
  default: AnswerValue;
  min?: number;
  max?: number;
  /** Lines worth seeing before answering, e.g. the API server's dry-run warnings. */
  details?: string[];
  /** Asked only when earlier answers make it relevant. */
  when?: (answers: Answers) => boolean;
  /** An error message for a bad answer, or undefined. */
  validate?: (value: AnswerValue, answers: Answers) => string | undefined;
}

/** A table or list shown in the final review (network paths lost, access removed). */
export interface ReviewSection {
  area: AreaId;
  title: string;
  lines: string[];
  /** Lines that deserve attention (paths lost, access lost). */
  warn?: boolean;
}

/** A guard's verdict on a plan, before any write. */
export interface GuardVerdict {
  area: AreaId;
  /** refuse: never applied; confirm: applied only after typing the context name, or with `flag` when not interactive. */
  level: 'refuse' | 'confirm';
  message: string;
  details: string[];
  flag?: string;
}

export interface GuardContext {
  cluster: Cluster;
  identity: Identity;
  changes: Change[];
  inspection: Inspection;
}

export interface Area<F = unknown> {
  id: AreaId;
  title: string;
  summary: string;
  reads: ReadSpec[];
  rules: Rule[];
  inspect(ctx: InspectContext): Promise<Inspection<F>>;
  questions(inspection: Inspection<F>): Question[];
  /** Pure: no I/O, never mutates its inputs. */
  plan(inspection: Inspection<F>, answers: Answers): Edit[];
  /** Refuse (or ask for more) before any write: the rbac lock-out check. */
  guard?(ctx: GuardContext): Promise<GuardVerdict[]>;
  /**
   * Every question id the area may ask, with its question's text: `profiles show` writes them as comments,
   * so a profile reads without a cluster. The contract test checks every asked question is here.
   */
  answerDocs?: Record<string, string>;
  /** What the final review shows beside the diffs (impact tables). */
  review?(inspection: Inspection<F>, changes: Change[], dry: Map<string, DryRunResult>, answers: Answers): ReviewSection[];
}

/** The questions asked for these answers: those whose condition holds. */
export const activeQuestions = (questions: Question[], answers: Answers): Question[] => questions.filter((q) => !q.when || q.when(answers));

/** The answers: defaults of the active questions, overridden by what was given. */
export function withDefaults(questions: Question[], given: Answers): Answers {
  const out: Answers = {};
  // Conditions may depend on earlier answers: resolve in order.
  for (const q of questions) {
    if (q.when && !q.when({ ...out, ...given })) continue;
    out[q.id] = given[q.id] ?? q.default;
  }
  return out;
}

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

export function validateAnswer(q: Question, v: AnswerValue, answers: Answers): string | undefined {
  const values = q.choices?.map((c) => c.value) ?? [];
  switch (q.kind) {
    case 'multiselect':
      if (!isStringList(v)) return 'expected a list';
      if (q.choices) {
        const bad = v.filter((x) => !values.includes(x));
        if (bad.length) return `unknown value(s) ${bad.join(', ')} (expected ${values.join(', ')})`;
      }
      break;
    case 'select':
      if (typeof v !== 'string' || (q.choices && !values.includes(v))) return `"${String(v)}" is not one of ${values.join(', ')}`;
      break;
    case 'confirm':
      if (typeof v !== 'boolean') return 'expected true or false';
      break;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) return 'expected a number';
      if (q.min !== undefined && v < q.min) return `at least ${q.min}`;
      if (q.max !== undefined && v > q.max) return `at most ${q.max}`;
      break;
    case 'list':
      if (!isStringList(v)) return 'expected a list of values';
      break;
    case 'per-item': {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'expected a value for each item';
      const items = new Set(q.items?.map((i) => i.value));
      for (const [k, x] of Object.entries(v)) {
        if (q.items && !items.has(k)) return `unknown item "${k}"`;
        if (typeof x !== 'string' || (q.choices && !values.includes(x))) return `${k}: "${String(x)}" is not one of ${values.join(', ')}`;
      }
      break;
    }
    default:
      if (typeof v !== 'string') return 'expected text';
  }
  return q.validate?.(v, answers);
}

export function validateAnswers(questions: Question[], answers: Answers): string[] {
  const errors: string[] = [];
  for (const q of activeQuestions(questions, answers)) {
    const v = answers[q.id];
    if (v === undefined) continue;
    const msg = validateAnswer(q, v, answers);
    if (msg) errors.push(`${q.id}: ${msg}`);
  }
  return errors;
}

/**
 * Every rule's fixtures, for the contract test (test/unit/area-contract.test.ts): a cluster (its objects)
 * where the rule fails, one where it passes, and answers whose plan fixes it. Each area keeps them in its
 * folder as `fixtures.ts` (never imported by the tool itself, so never shipped).
 */
export interface AreaFixtures {
  rules: Record<string, RuleFixture>;
  /** Defaults for the answers of every rule's fix (each rule's `fix` is merged over them). */
  answers?: Answers;
  /**
   * Rules found by probing the live API server rather than from objects (anonymous requests, TLS
   * handshakes, SubjectAccessReviews): covered by the area's tests against the test bed instead, with why.
   */
  probed?: Record<string, string>;
  /**
   * For areas that read and edit local files (the API server's static-pod manifest): the contract test
   * writes each fixture's `files` into a fresh temp folder, gives the area the options `options(dir)`
   * names, writes the plan's file changes there (never outside), and lets `settle` play what the cluster
   * does once they are in place (a kubelet restarting a static pod with its new manifest) before
   * inspecting again.
   */
  local?: {
    options(dir: string): SessionAreaOptions;
    settle(objects: KubeObject[], dir: string): KubeObject[];
  };
}

export interface RuleFixture {
  /** Objects (Namespaces included) of a cluster where the rule fails. */
  failing: KubeObject[];
  /** Objects of a cluster where it passes. */
  passing: KubeObject[];
  /** Answers whose plan fixes it; absent when it needs a person (its findings must be `fixable: false`). */
  fix?: Answers;
  /** Local files of the failing cluster (relative path → text), for areas with `local` (see AreaFixtures). */
  files?: Record<string, string>;
}
