import type { Cluster } from '../cluster/client.js';
import type { KubeObject, ObjectRef } from '../cluster/types.js';
import type { Change } from '../engine/change.js';

export type Severity = 'low' | 'medium' | 'high' | 'critical';
export const SEVERITIES: Severity[] = ['low', 'medium', 'high', 'critical'];
export const severityRank = (s: Severity) => SEVERITIES.indexOf(s);

export interface Finding {
  /** Stable: `<area>/<check>/<kind>/<namespace>/<name>[/<container>]`. */
  id: string;
  area: string;
  check: string;
  severity: Severity;
  ref: ObjectRef;
  container?: string;
  message: string;
  why: string;
  /** Whether a planned change can fix it (some need a human: hostPath volumes, bare pods). */
  fixable: boolean;
}

export interface InspectContext {
  cluster: Cluster;
  /** Namespaces to look at; undefined means every namespace but the system ones. */
  namespaces?: string[];
  includeSystem?: boolean;
  onProgress?: (message: string) => void;
  /** false when only the findings are wanted (audit): the objects are not kept, so memory stays flat. */
  keepObjects?: boolean;
}

/** What an area read from the cluster: the findings, plus the objects and facts its plan needs. */
export interface Inspection {
  area: string;
  findings: Finding[];
  objects: KubeObject[];
  facts: Record<string, unknown>;
}

export type AnswerValue = string | boolean | string[];
export type Answers = Record<string, AnswerValue>;

export interface Choice {
  value: string;
  label: string;
  hint?: string;
}

export interface Question {
  /** `<area>.<name>`, the key in an answer profile. */
  id: string;
  area: string;
  title: string;
  help: string;
  kind: 'select' | 'multiselect' | 'confirm' | 'text';
  choices?: Choice[];
  default: AnswerValue;
  /** Lines worth seeing before answering, e.g. the API server's dry-run warnings. */
  details?: string[];
  /** An error message for a bad answer, or undefined. */
  validate?: (value: AnswerValue) => string | undefined;
}

export interface Area {
  id: string;
  title: string;
  summary: string;
  inspect(ctx: InspectContext): Promise<Inspection>;
  questions(inspection: Inspection): Question[];
  /** Pure: no I/O, never mutates its inputs. */
  plan(inspection: Inspection, answers: Answers): Change[];
}

/** The answers for an area: the defaults of its questions, overridden by what was given. */
export function withDefaults(questions: Question[], given: Answers): Answers {
  const out: Answers = {};
  for (const q of questions) out[q.id] = given[q.id] ?? q.default;
  return out;
}

export function validateAnswers(questions: Question[], answers: Answers): string[] {
  const errors: string[] = [];
  for (const q of questions) {
    const v = answers[q.id];
    if (v === undefined) continue;
    if (q.kind === 'multiselect') {
      if (!Array.isArray(v)) errors.push(`${q.id}: expected a list`);
      else if (q.choices) {
        const bad = v.filter((x) => !q.choices!.some((c) => c.value === x));
        if (bad.length) errors.push(`${q.id}: unknown value(s) ${bad.join(', ')} (expected ${q.choices.map((c) => c.value).join(', ')})`);
      }
    } else if (q.kind === 'select') {
      if (typeof v !== 'string' || (q.choices && !q.choices.some((c) => c.value === v))) {
        errors.push(`${q.id}: "${String(v)}" is not one of ${q.choices?.map((c) => c.value).join(', ')}`);
      }
    } else if (q.kind === 'confirm') {
      if (typeof v !== 'boolean') errors.push(`${q.id}: expected true or false`);
    } else if (typeof v !== 'string') errors.push(`${q.id}: expected text`);
    const msg = q.validate?.(v);
    if (msg) errors.push(`${q.id}: ${msg}`);
  }
  return errors;
}
