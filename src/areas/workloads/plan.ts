import type { KubeObject } from '../../cluster/types.js';
import { refKey, refOf } from '../../cluster/types.js';
import type { Risk } from '../../engine/change.js';
import type { Edit } from '../../engine/compose.js';
import { fieldChanges, setPath } from '../../engine/fields.js';
import { jsonEqual } from '../../engine/normalise.js';
import type { Answers, Finding, Inspection } from '../types.js';
import type { FixId } from './checks.js';
import { fixPodSpec } from './fixes.js';
import type { WorkloadFacts } from './inspect.js';
import { isPatchable, podSpecOf, type PodSpec } from './pod-spec.js';
import { LEVEL_CHECKS, PSA_PREFIX, stricter, type NamespacePsa, type PsaLevel } from './psa.js';

export type PsaMode = 'auto' | 'restricted' | 'baseline' | 'warn-only' | 'skip';

const FIX_LABEL: Record<FixId, string> = {
  noEscalation: 'allowPrivilegeEscalation=false',
  dropAll: 'drop ALL capabilities',
  seccomp: 'seccomp RuntimeDefault',
  runAsNonRoot: 'runAsNonRoot',
  noPrivileged: 'privileged=false',
  readOnlyRootFilesystem: 'read-only root filesystem',
  hostNamespaces: 'no host namespaces',
  automountToken: 'no service-account token',
};

/** The enforce level a namespace gets under a PSA mode; undefined: leave enforce alone. */
export function enforceLevelFor(mode: PsaMode, p: NamespacePsa): PsaLevel | undefined {
  if (mode === 'skip' || mode === 'warn-only') return undefined;
  if (mode === 'restricted' || mode === 'baseline') return mode;
  // auto: a level where the server says no existing pod would be rejected and no pod template breaks it.
  const clean = (level: 'baseline' | 'restricted') =>
    p.violations[level] !== null && p.violations[level]!.length === 0 && !(p.templateChecks ?? []).some((c) => LEVEL_CHECKS[level].includes(c));
  if (clean('restricted')) return 'restricted';
  if (clean('baseline')) return 'baseline';
  return undefined;
}

/**
 * The workload with a new pod spec. Copies only the path down to the pod spec and shares the rest
 * with the original (plans and changes are never mutated), which halves a 10,000-workload plan's memory.
 */
function setPodSpec(obj: KubeObject, pod: PodSpec): KubeObject {
  const spec = obj.spec as Record<string, any>;
  const withTemplate = (t: Record<string, any>) => ({ ...t, template: { ...t.template, spec: pod } });
  const newSpec = obj.kind === 'CronJob' ? { ...spec, jobTemplate: { ...spec.jobTemplate, spec: withTemplate(spec.jobTemplate.spec) } } : withTemplate(spec);
  return { ...obj, metadata: { ...obj.metadata }, spec: newSpec };
}

/** Finding ids per object, indexed once (10,000 objects x 60,000 findings must not be a nested loop). */
function indexFindings(findings: Finding[]): (obj: KubeObject) => string[] {
  const byRef = new Map<string, string[]>();
  for (const f of findings) {
    const k = refKey(f.ref);
    const list = byRef.get(k);
    if (list) list.push(f.id);
    else byRef.set(k, [f.id]);
  }
  return (obj) => byRef.get(refKey(refOf(obj))) ?? [];
}

export function planWorkloads(ins: Inspection<WorkloadFacts>, answers: Answers): Edit[] {
  const namespaces = new Set((answers['workloads.namespaces'] as string[] | undefined) ?? []);
  const fixes = new Set((answers['workloads.fixes'] as FixId[] | undefined) ?? []);
  const uidText = String(answers['workloads.runAsUser'] ?? '').trim();
  const runAsUser = uidText === '' ? undefined : Number(uidText);
  const mode = (answers['workloads.psa'] as PsaMode | undefined) ?? 'auto';
  const facts = ins.facts;
  const edits: Edit[] = [];
  const findingIdsFor = indexFindings(ins.findings);
  const namespaceObjects = new Map(facts.namespaceObjects.map((o) => [o.metadata.name, o]));

  for (const obj of facts.objects) {
    if (!isPatchable(obj) || !namespaces.has(obj.metadata.namespace!)) continue;
    const pod = podSpecOf(obj);
    if (!pod) continue;
    const r = fixPodSpec(pod, { fixes, runAsUser });
    if (jsonEqual(r.pod, pod)) continue;
    let risk: Risk = 'medium';
    const notes = ['changing the pod template rolls out new pods'];
    if (r.applied.includes('runAsNonRoot')) notes.push('an image that runs as root will then fail to start (CreateContainerConfigError)');
    if (r.applied.includes('readOnlyRootFilesystem')) {
      risk = 'high';
      notes.push('applications that write outside mounted volumes will fail');
    }
    if (r.applied.includes('noPrivileged') || r.applied.includes('hostNamespaces')) risk = 'high';
    notes.push(...r.notes);
    const newPod = r.pod;
    edits.push({
      kind: 'object',
      op: 'mutate',
      area: 'workloads',
      base: obj,
      mutate: (o) => setPodSpec(o, mergePodFixes(podSpecOf(o)!, pod, newPod)),
      rollout: obj.kind !== 'CronJob',
      findingIds: findingIdsFor(obj),
      reason: `set ${r.applied.map((f) => FIX_LABEL[f]).join(', ')}`,
      risk,
      riskNote: notes.join('; '),
      phase: 'rollout',
    });
  }

  if (mode !== 'skip') {
    for (const p of facts.psa) {
      if (!namespaces.has(p.namespace)) continue;
      const ns = namespaceObjects.get(p.namespace);
      if (!ns) continue;
      const labels: Record<string, string> = {};
      const level = enforceLevelFor(mode, p);
      const set = (k: string, v: string) => {
        labels[PSA_PREFIX + k] = v;
      };
      // Never weaken what a namespace already enforces.
      if (level && !stricter(p.enforce, level)) {
        set('enforce', level);
        set('enforce-version', 'latest');
      }
      if (!stricter(p.warn, 'restricted')) {
        set('warn', 'restricted');
        set('warn-version', 'latest');
      }
      if (!stricter(p.audit, 'restricted')) {
        set('audit', 'restricted');
        set('audit-version', 'latest');
      }
      if (Object.keys(labels).length === 0) continue;
      const rejected = level && level !== 'privileged' ? (p.violations[level] ?? []) : [];
      edits.push({
        kind: 'object',
        op: 'mutate',
        area: 'workloads',
        base: ns,
        mutate: (o) => ({ ...o, metadata: { ...o.metadata, labels: { ...(o.metadata.labels ?? {}), ...labels } } }),
        findingIds: findingIdsFor(ns),
        reason: level
          ? `Pod Security: enforce ${level}, warn and audit restricted`
          : 'Pod Security: warn and audit restricted (enforce left as is: existing pods would be rejected)',
        risk: level === 'restricted' ? 'medium' : 'low',
        riskNote: level
          ? `new pods that break the ${level} profile will be refused${rejected.length ? `; the server warns: ${rejected.join(' | ')}` : ''}`
          : 'only warnings and audit annotations; nothing is refused',
        phase: 'after-rollout',
      });
    }
  }
  return edits;
}

/**
 * The fixed pod spec applied to the pod spec `current` (which is `original` unless another area changed
 * it first): the paths the fix changed in `original` are set in `current`, the rest of `current` stays.
 */
function mergePodFixes(current: PodSpec, original: PodSpec, fixed: PodSpec): PodSpec {
  if (current === original) return fixed;
  let out: PodSpec = current;
  for (const f of fieldChanges(original, fixed)) out = setPath(out, f.path, f.ours);
  return out;
}
