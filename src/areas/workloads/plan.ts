import type { KubeObject } from '../../cluster/types.js';
import { refKey, refOf } from '../../cluster/types.js';
import type { Risk } from '../../engine/change.js';
import type { Edit } from '../../engine/compose.js';
import { fieldChanges, setPath } from '../../engine/fields.js';
import { jsonEqual } from '../../engine/normalise.js';
import type { Answers, Finding, Inspection } from '../types.js';
import type { FixId } from './checks.js';
import { fixPodSpec, type FixResult } from './fixes.js';
import { judgedPod, type JudgedPod, type WorkloadFacts } from './inspect.js';
import { withPodSpec } from '../pod-template.js';
import { isPatchable, podSpecOf, type PodSpec } from './pod-spec.js';
import { PSA_PREFIX, safeLevel, stricter, type LevelVerdict, type NamespacePsa, type PsaLevel } from './psa.js';

export type PsaMode = 'auto' | 'restricted' | 'baseline' | 'per-namespace' | 'warn-only' | 'skip';
/** A choice of the per-namespace question. */
export type PsaChoice = 'auto' | 'restricted' | 'baseline' | 'unchanged';

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

/** Images known to run as a non-root user without pulling them (distroless :nonroot and friends). */
const NONROOT_IMAGE = /(:|-)nonroot(\b|$)|\/distroless\/.*:.*nonroot|chainguard\/.*:latest-nonroot/;

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

export interface WorkloadPlanInput {
  namespaces: Set<string>;
  fixes: Set<FixId>;
  runAsUser?: number;
  nodeAgents: Set<string>;
  mode: PsaMode;
  perNamespace: Record<string, PsaChoice>;
}

export function readAnswers(answers: Answers): WorkloadPlanInput {
  const uidText = String(answers['workloads.runAsUser'] ?? '').trim();
  return {
    namespaces: new Set((answers['workloads.namespaces'] as string[] | undefined) ?? []),
    fixes: new Set((answers['workloads.fixes'] as FixId[] | undefined) ?? []),
    runAsUser: uidText === '' ? undefined : Number(uidText),
    nodeAgents: new Set((answers['workloads.nodeAgents'] as string[] | undefined) ?? []),
    mode: (answers['workloads.psa'] as PsaMode | undefined) ?? 'auto',
    perNamespace: (answers['workloads.psaLevels'] as Record<string, PsaChoice> | undefined) ?? {},
  };
}

/** The workloads this plan patches, with their fixed pod specs (pure). */
export function fixedWorkloads(facts: WorkloadFacts, input: WorkloadPlanInput): Array<{ obj: KubeObject; pod: PodSpec; r: FixResult }> {
  const out: Array<{ obj: KubeObject; pod: PodSpec; r: FixResult }> = [];
  for (const obj of facts.objects) {
    if (!isPatchable(obj) || !input.namespaces.has(obj.metadata.namespace!)) continue;
    const key = refKey(refOf(obj));
    const own = facts.ownership[key];
    if (own?.owner || own?.gitops) continue;
    if (own?.nodeAgent && !input.nodeAgents.has(key)) continue;
    const pod = podSpecOf(obj);
    if (!pod) continue;
    const r = fixPodSpec(pod, { fixes: input.fixes, runAsUser: input.runAsUser });
    if (jsonEqual(r.pod, pod)) continue;
    out.push({ obj, pod, r });
  }
  return out;
}

/** What each namespace will hold after the plan: patched templates, unpatched ones, and the other pods. */
export function podsAfter(facts: WorkloadFacts, patched: Map<string, PodSpec>): Map<string, JudgedPod[]> {
  const byNs = new Map<string, JudgedPod[]>();
  const add = (ns: string, p: JudgedPod) => (byNs.get(ns) ?? byNs.set(ns, []).get(ns)!).push(p);
  for (const obj of facts.objects) {
    const key = refKey(refOf(obj));
    const spec = patched.get(key) ?? podSpecOf(obj);
    if (spec) add(obj.metadata.namespace!, judgedPod(obj, spec));
  }
  for (const [ns, pods] of Object.entries(facts.otherPods)) for (const p of pods) add(ns, p);
  return byNs;
}

export interface LevelDecision {
  /** The enforce level to set; undefined: enforce left as it is. */
  enforce?: PsaLevel;
  /** Why (kept, lowered never, blocked by pods). */
  note: string;
  verdict: LevelVerdict;
}

/** The enforce level a namespace gets, never one that refuses a pod it will hold, never lowering or overriding an explicit one unasked. */
export function decideLevel(p: NamespacePsa, verdict: LevelVerdict, mode: PsaMode, choice?: PsaChoice): LevelDecision {
  const safe = verdict.level;
  const explicit = p.enforce !== undefined;
  const block = (level: 'baseline' | 'restricted') =>
    verdict.blockers[level].slice(0, 3).join('; ') + (verdict.blockers[level].length > 3 ? `; and ${verdict.blockers[level].length - 3} more` : '');
  const want: PsaChoice | 'none' =
    mode === 'per-namespace' ? (choice ?? 'auto') : mode === 'auto' || mode === 'restricted' || mode === 'baseline' ? mode : 'none';
  if (want === 'none' || want === 'unchanged') return { note: 'enforce left as it is', verdict };
  if (explicit && mode !== 'per-namespace')
    return { note: `enforce=${p.enforce} was set by someone: left as it is (choose a level per namespace to change it)`, verdict };
  const target: PsaLevel = want === 'auto' ? safe : want;
  if (target === 'privileged') return { note: `enforce left as it is: even baseline would refuse ${block('baseline')}`, verdict };
  if (!stricter(safe, target)) {
    const level = target as 'baseline' | 'restricted';
    return { note: `enforce ${target} would refuse ${block(level)}: enforce left as it is`, verdict };
  }
  if (explicit && stricter(p.enforce, target)) return { note: `enforce=${p.enforce} is already as strict: left as it is`, verdict };
  return { enforce: target, note: `every pod it will hold passes ${target}`, verdict };
}

export function planWorkloads(ins: Inspection<WorkloadFacts>, answers: Answers): Edit[] {
  const input = readAnswers(answers);
  const facts = ins.facts;
  const edits: Edit[] = [];
  const findingIdsFor = indexFindings(ins.findings);
  const patched = new Map<string, PodSpec>();

  for (const { obj, pod, r } of fixedWorkloads(facts, input)) {
    patched.set(refKey(refOf(obj)), r.pod);
    let risk: Risk = 'medium';
    const notes = ['changing the pod template rolls out new pods (followed until Ready; a stalled rollout is rolled back)'];
    if (r.applied.includes('runAsNonRoot')) {
      const explicitUser = r.pod.securityContext?.runAsUser !== undefined || r.pod.containers.every((c) => c.securityContext?.runAsUser !== undefined);
      const knownNonRoot = r.pod.containers.every((c) => NONROOT_IMAGE.test(c.image ?? ''));
      if (explicitUser) notes.push('runAsNonRoot with an explicit runAsUser: the container runs as that user');
      else if (knownNonRoot) notes.push('runAsNonRoot: the images are built to run as a non-root user');
      else notes.push('runAsNonRoot: an image whose user is root will not start (CreateContainerConfigError); its rollout is watched and rolled back');
    }
    if (r.applied.includes('readOnlyRootFilesystem')) {
      risk = 'high';
      notes.push('applications that write outside mounted volumes will fail');
    }
    if (r.applied.includes('noPrivileged') || r.applied.includes('hostNamespaces')) risk = 'high';
    if (facts.ownership[refKey(refOf(obj))]?.nodeAgent) {
      risk = 'high';
      notes.push('a node agent, chosen explicitly: it may stop working on real nodes');
    }
    notes.push(...r.notes);
    const newPod = r.pod;
    edits.push({
      kind: 'object',
      op: 'mutate',
      area: 'workloads',
      base: obj,
      mutate: (o) => withPodSpec(o, mergePodFixes(podSpecOf(o)!, pod, newPod)),
      rollout: obj.kind !== 'CronJob',
      findingIds: findingIdsFor(obj),
      reason: `set ${r.applied.map((f) => FIX_LABEL[f]).join(', ')}`,
      risk,
      riskNote: notes.join('; '),
      phase: 'rollout',
    });
  }

  if (input.mode !== 'skip') {
    const after = podsAfter(facts, patched);
    const namespaceObjects = new Map(facts.namespaceObjects.map((o) => [o.metadata.name, o]));
    const version = facts.psaVersion;
    for (const p of facts.psa) {
      if (!input.namespaces.has(p.namespace)) continue;
      const ns = namespaceObjects.get(p.namespace);
      if (!ns) continue;
      const d = decideLevel(p, safeLevel(after.get(p.namespace) ?? [], version), input.mode, input.perNamespace[p.namespace]);
      const labels: Record<string, string> = {};
      if (d.enforce) {
        labels[`${PSA_PREFIX}enforce`] = d.enforce;
        labels[`${PSA_PREFIX}enforce-version`] = version;
      }
      for (const k of ['warn', 'audit'] as const) {
        if (!stricter(p[k], 'restricted')) {
          labels[`${PSA_PREFIX}${k}`] = 'restricted';
          labels[`${PSA_PREFIX}${k}-version`] = version;
        }
      }
      const current = ns.metadata.labels ?? {};
      if (Object.entries(labels).every(([k, v]) => current[k] === v)) continue;
      edits.push({
        kind: 'object',
        op: 'mutate',
        area: 'workloads',
        base: ns,
        mutate: (o) => ({ ...o, metadata: { ...o.metadata, labels: { ...(o.metadata.labels ?? {}), ...labels } } }),
        findingIds: findingIdsFor(ns),
        reason: d.enforce
          ? `Pod Security: enforce ${d.enforce} (${version}), warn and audit restricted`
          : `Pod Security: warn and audit restricted (${version}); ${d.note}`,
        risk: d.enforce === 'restricted' ? 'medium' : 'low',
        riskNote: d.enforce
          ? `new pods that break ${d.enforce} will be refused; set after the rollouts, since ${d.note}`
          : 'only warnings and audit annotations: nothing is refused',
        // After the rollouts: the namespace is judged on the pods the new templates make.
        phase: 'after-rollout',
      });
    }
  }
  return edits;
}
