/**
 * Pod Security Admission labels, decided exactly as the API server judges pods: a namespace gets an
 * enforce level only when every pod it will hold after the plan (the patched templates, the templates
 * left alone, the pods no template makes) passes that level, by the full Pod Security Standards
 * evaluator (pod-security.ts, proven equal to the API server). An explicit level is never lowered or
 * overridden unless the user chose a level for that namespace.
 */
import type { KubeObject } from '../../cluster/types.js';
import { evaluatePodSecurity, type PodSecurityInput } from './pod-security.js';

export type PsaLevel = 'privileged' | 'baseline' | 'restricted';
export const PSA_PREFIX = 'pod-security.kubernetes.io/';
const RANK: Record<string, number> = { privileged: 0, baseline: 1, restricted: 2 };

export interface NamespacePsa {
  namespace: string;
  enforce?: string;
  enforceVersion?: string;
  warn?: string;
  audit?: string;
}

/** `a` is at least as strict as `b`. */
export const stricter = (a: string | undefined, b: string) => (RANK[a ?? 'privileged'] ?? 0) >= (RANK[b] ?? 0);

export function psaLabels(ns: KubeObject): NamespacePsa {
  const l = ns.metadata.labels ?? {};
  return {
    namespace: ns.metadata.name,
    enforce: l[`${PSA_PREFIX}enforce`],
    enforceVersion: l[`${PSA_PREFIX}enforce-version`],
    warn: l[`${PSA_PREFIX}warn`],
    audit: l[`${PSA_PREFIX}audit`],
  };
}

/** The policy version to pin: the cluster's own minor, so an upgrade does not start refusing pods on its own. */
export const pinnedVersion = (minor: string): string => {
  const m = /\d+/.exec(minor);
  return m ? `v1.${m[0]}` : 'latest';
};

export interface PodToJudge {
  /** "deployment/web" or "pod/debug". */
  name: string;
  metadata?: PodSecurityInput['metadata'];
  spec: PodSecurityInput['spec'];
}

export interface LevelVerdict {
  /** The strictest level every pod passes. */
  level: PsaLevel;
  /** What keeps each stricter level out, one line per pod. */
  blockers: Record<'baseline' | 'restricted', string[]>;
}

export function safeLevel(pods: PodToJudge[], version: string): LevelVerdict {
  const blockers: LevelVerdict['blockers'] = { baseline: [], restricted: [] };
  for (const p of pods) {
    for (const level of ['baseline', 'restricted'] as const) {
      const v = evaluatePodSecurity(level, version, { metadata: p.metadata, spec: p.spec });
      if (v.length) blockers[level].push(`${p.name}: ${v.map((x) => (x.detail ? `${x.reason} (${x.detail})` : x.reason)).join(', ')}`);
    }
  }
  const level: PsaLevel = blockers.baseline.length ? 'privileged' : blockers.restricted.length ? 'baseline' : 'restricted';
  return { level, blockers };
}
