import type { Question } from '../../src/areas/types.js';
import type { Change, DryRunResult } from '../../src/engine/change.js';
import type { DiffLine } from '../../src/engine/diff.js';

export function deployment(name: string, ns: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, resourceVersion: '1', uid: `uid-${name}` },
    spec: { replicas: 1, ...extra },
  };
}

export function patchChange(name: string, ns = 'shop', risk: Change['risk'] = 'medium'): Change {
  return {
    id: `object:apps/v1/Deployment/${ns}/${name}`,
    kind: 'object',
    areas: ['workloads'],
    ref: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name },
    findingIds: [`workloads/privileged/Deployment/${ns}/${name}`],
    reasons: [{ area: 'workloads', text: `harden the security context of ${name}` }],
    risk,
    riskNotes: risk === 'high' ? ['rolls out new pods'] : [],
    phase: 'rollout',
    action: 'patch',
    before: deployment(name, ns),
    after: deployment(name, ns, { paused: false }),
  };
}

export const okDry: DryRunResult = { ok: true, warnings: [] };

/** A synthetic diff: header, hunk, then `n` alternating add/del/ctx lines numbered so a test can find them. */
export function bigDiff(n: number): DiffLine[] {
  const lines: DiffLine[] = [
    { type: 'header', text: '--- a/Deployment/web (shop)' },
    { type: 'header', text: '+++ b/Deployment/web (shop)' },
    { type: 'hunk', text: `@@ -1,${n} +1,${n} @@` },
  ];
  for (let i = 0; i < n; i++) {
    const type = i % 3 === 0 ? 'add' : i % 3 === 1 ? 'del' : 'ctx';
    lines.push({ type, text: `${type === 'add' ? '+' : type === 'del' ? '-' : ' '} line-${i}` });
  }
  return lines;
}

export const multiQ: Question = {
  id: 'workloads.fixes',
  area: 'workloads',
  title: 'Which fixes?',
  help: 'Only the chosen fields are written.',
  kind: 'multiselect',
  choices: [
    { value: 'a', label: 'Alpha', hint: 'first fix' },
    { value: 'b', label: 'Beta', hint: 'second fix' },
    { value: 'c', label: 'Gamma' },
  ],
  default: ['a'],
};

export const textQ: Question = {
  id: 'workloads.runAsUser',
  area: 'workloads',
  title: 'runAsUser?',
  help: 'A numeric UID.',
  kind: 'text',
  default: '',
  validate: (v) => (typeof v === 'string' && v.trim() !== '' && !/^[1-9]\d{0,9}$/.test(v.trim()) ? 'a UID is a positive number (not 0)' : undefined),
};

export const selectQ: Question = {
  id: 'workloads.psa',
  area: 'workloads',
  title: 'PSA level?',
  help: 'Pick one.',
  kind: 'select',
  choices: [
    { value: 'auto', label: 'auto (recommended)', hint: 'per namespace' },
    { value: 'baseline', label: 'baseline' },
    { value: 'restricted', label: 'restricted' },
  ],
  default: 'baseline',
  details: Array.from({ length: 12 }, (_, i) => `warning ${i + 1}`),
};

export const confirmQ: Question = {
  id: 'workloads.labels',
  area: 'workloads',
  title: 'Label namespaces?',
  help: '',
  kind: 'confirm',
  default: true,
};
