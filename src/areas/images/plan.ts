/**
 * The images area's plan, pure: the admission policy in the engine chosen (created, or changed in
 * place when ours is there), the opt-in pod-template fixes, and trivy-operator as a Helm release.
 */
import type { KubeObject } from '../../cluster/types.js';
import { refKey, refOf } from '../../cluster/types.js';
import type { Edit, ReleaseEdit } from '../../engine/compose.js';
import type { Answers, Inspection } from '../types.js';
import { containerEdits, mutateContainers } from './fixes.js';
import { normaliseAllowed } from './image-ref.js';
import type { ImageFacts } from './inspect.js';
import { pinDigestFor } from './inspect.js';
import { isHistory, ownerResolver, podSpecOf } from './inventory.js';
import { admissionBinding, admissionPolicy, gatekeeperConstraint, gatekeeperTemplate, HASH_ANNOTATION, kyvernoPolicy } from './policy-cel.js';
import { CONFIG_ANNOTATION, POLICY_NAME, preview, type ImagePolicy } from './policy.js';

export type Engine = 'native' | 'kyverno' | 'gatekeeper';
export type ModeAnswer = 'warn' | 'auto' | 'deny';

export const TRIVY_OPERATOR = {
  release: 'trivy-operator',
  namespace: 'trivy-system',
  chart: 'trivy-operator',
  repo: 'https://aquasecurity.github.io/helm-charts/',
  /** Chart 0.34.0 installs trivy-operator v0.32.0. */
  version: '0.34.0',
};

/** The namespaces the policy leaves out by default: system and infrastructure ones. */
export const defaultExcluded = (facts: ImageFacts): string[] => [...new Set(facts.excluded.map((e) => e.namespace))].sort();

/** The policy the answers describe, before the mode is resolved (mode: warn). */
export function policyFromAnswers(facts: ImageFacts, answers: Answers): ImagePolicy {
  const allowed = ((answers['images.allowedRegistries'] as string[] | undefined) ?? facts.registries).map(normaliseAllowed).filter(Boolean);
  const chosen = answers['images.namespaces'] === 'chosen';
  return {
    allowedRegistries: [...new Set(allowed)].sort(),
    forbidLatest: (answers['images.forbidLatest'] as boolean | undefined) ?? true,
    requireDigest: (answers['images.requireDigest'] as boolean | undefined) ?? false,
    namespaces: chosen
      ? { operator: 'In', values: [...((answers['images.namespaceList'] as string[] | undefined) ?? [])].sort() }
      : { operator: 'NotIn', values: defaultExcluded(facts) },
    mode: 'warn',
  };
}

/** What the policy would refuse among the objects running now (rollout history aside). */
export const wouldRefuse = (facts: ImageFacts, p: ImagePolicy) =>
  preview(
    facts.policyObjects.filter((o) => !isHistory(o)),
    p,
  );

/** Old ReplicaSets (rollout history) that break the policy. */
export const historyRefused = (facts: ImageFacts, p: ImagePolicy) => preview(facts.policyObjects.filter(isHistory), p);

/** How many workloads (as a person edits them) the refused objects belong to. */
export function refusedWorkloads(facts: ImageFacts, refused: Array<{ object: KubeObject }>): number {
  const resolve = ownerResolver(facts.policyObjects);
  return new Set(refused.map((r) => refKey(resolve(refOf(r.object))))).size;
}

/** The mode an answer gives: auto is Deny when nothing running would be refused, else Warn. */
export function resolveMode(facts: ImageFacts, p: ImagePolicy, answer: ModeAnswer): ImagePolicy['mode'] {
  if (answer === 'warn') return 'warn';
  if (answer === 'deny') return 'deny';
  return wouldRefuse(facts, p).length === 0 ? 'deny' : 'warn';
}

/** The policy the answers plan, mode resolved. */
export function plannedPolicy(facts: ImageFacts, answers: Answers): ImagePolicy {
  const p = policyFromAnswers(facts, answers);
  return { ...p, mode: resolveMode(facts, p, (answers['images.mode'] as ModeAnswer | undefined) ?? 'warn') };
}

const withDesired =
  (desired: KubeObject) =>
  (o: KubeObject): KubeObject => ({
    ...o,
    metadata: {
      ...o.metadata,
      labels: { ...(o.metadata.labels ?? {}), ...(desired.metadata.labels ?? {}) },
      annotations: { ...(o.metadata.annotations ?? {}), ...(desired.metadata.annotations ?? {}) },
    },
    spec: desired.spec,
  });

/** Create `desired`, or change `live` to it (nothing when the same policy is there). */
function createOrUpdate(live: KubeObject | undefined, desired: KubeObject, base: Omit<Edit, 'kind' | 'op' | 'object' | 'base' | 'mutate'>): Edit | undefined {
  if (!live) return { ...base, kind: 'object', op: 'create', object: desired } as Edit;
  const a = (o: KubeObject, k: string) => o.metadata.annotations?.[k];
  if (a(live, CONFIG_ANNOTATION) === a(desired, CONFIG_ANNOTATION) && a(live, HASH_ANNOTATION) === a(desired, HASH_ANNOTATION)) return undefined;
  return { ...base, kind: 'object', op: 'mutate', base: live, mutate: withDesired(desired), phase: base.phase === 'create' ? 'update' : base.phase } as Edit;
}

function policyEdits(ins: Inspection<ImageFacts>, answers: Answers): Edit[] {
  const facts = ins.facts;
  const p = plannedPolicy(facts, answers);
  const refused = wouldRefuse(facts, p);
  const engine = (answers['images.engine'] as Engine | undefined) ?? 'native';
  const policyFindings = ins.findings.filter((f) => f.rule === 'noImagePolicy' || (f.rule === 'policyWarnOnly' && p.mode === 'deny')).map((f) => f.id);
  const rules = [
    p.allowedRegistries.length ? `registries ${p.allowedRegistries.join(', ')}` : '',
    p.forbidLatest ? 'no :latest' : '',
    p.requireDigest ? 'digests required' : '',
  ]
    .filter(Boolean)
    .join(', ');
  const modeText = p.mode === 'deny' ? 'Deny + Audit' : 'Warn + Audit';
  const riskNote =
    p.mode === 'deny'
      ? 'new pods and workloads that break the policy are refused by the API server (nothing running breaks it now)'
      : refused.length
        ? `nothing is refused: ${refusedWorkloads(facts, refused)} workload(s) running now would get warnings (see the violation preview)`
        : 'nothing is refused: warnings and audit annotations only';
  const common = { area: 'images', findingIds: policyFindings, risk: p.mode === 'deny' ? ('medium' as const) : ('low' as const), riskNote };
  const out: Array<Edit | undefined> = [];
  if (engine === 'kyverno') {
    out.push(
      createOrUpdate(facts.engineObjects.kyverno, kyvernoPolicy(p), {
        ...common,
        reason: `Kyverno ClusterPolicy on images (${rules}; ${p.mode === 'deny' ? 'Enforce' : 'Audit'})`,
        phase: 'after-rollout',
      }),
    );
  } else if (engine === 'gatekeeper') {
    out.push(
      createOrUpdate(facts.engineObjects.gatekeeperTemplate, gatekeeperTemplate(p), {
        ...common,
        reason: `Gatekeeper ConstraintTemplate for images (${rules})`,
        phase: 'create',
      }),
    );
    if (facts.engineObjects.gatekeeperKindServed)
      out.push(
        createOrUpdate(facts.engineObjects.gatekeeperConstraint, gatekeeperConstraint(p), {
          ...common,
          reason: `Gatekeeper constraint on images (${p.mode})`,
          phase: 'after-rollout',
        }),
      );
  } else {
    out.push(createOrUpdate(facts.installed.vap, admissionPolicy(p), { ...common, reason: `ValidatingAdmissionPolicy on images (${rules})`, phase: 'create' }));
    out.push(
      createOrUpdate(facts.installed.binding, admissionBinding(p), { ...common, reason: `bind the image policy (${modeText})`, phase: 'after-rollout' }),
    );
  }
  return out.filter((e): e is Edit => !!e);
}

function fixEdits(ins: Inspection<ImageFacts>, answers: Answers): Edit[] {
  const fixes = new Set((answers['images.fixes'] as string[] | undefined) ?? []);
  if (!fixes.size) return [];
  const facts = ins.facts;
  const out: Edit[] = [];
  // The findings of each workload, found by key (thousands of workloads, several findings each).
  const findingsOf = new Map<string, typeof ins.findings>();
  for (const f of ins.findings) {
    if (!f.container) continue;
    const k = refKey(f.ref);
    const list = findingsOf.get(k);
    if (list) list.push(f);
    else findingsOf.set(k, [f]);
  }
  for (const w of facts.workloads) {
    if (!['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob'].includes(w.kind)) continue;
    const spec = podSpecOf(w);
    if (!spec) continue;
    const key = refKey(refOf(w));
    const edits = containerEdits(spec, {
      pinDigests: fixes.has('pinDigests'),
      pullAlways: fixes.has('pullAlways'),
      digestOf: (c) => pinDigestFor(facts, key, c),
    });
    const names = Object.keys(edits);
    if (!names.length) continue;
    const pinned = names.filter((n) => edits[n].image);
    const pulled = names.filter((n) => edits[n].imagePullPolicy);
    const findingIds = (findingsOf.get(key) ?? [])
      .filter((f) => names.includes(f.container!))
      .filter((f) =>
        f.rule === 'pullPolicy'
          ? pulled.includes(f.container!) || pinned.includes(f.container!)
          : ['latestTag', 'notPinned'].includes(f.rule) && pinned.includes(f.container!),
      )
      .map((f) => f.id);
    out.push({
      kind: 'object',
      op: 'mutate',
      area: 'images',
      base: w,
      mutate: mutateContainers(edits),
      rollout: w.kind !== 'CronJob',
      findingIds,
      reason: [
        pinned.length ? `pin ${pinned.join(', ')} to the digest running now` : '',
        pulled.length ? `imagePullPolicy: Always for ${pulled.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; '),
      risk: 'medium',
      riskNote: `changing the pod template rolls out new pods${pinned.length ? '; a GitOps tool (Argo CD, Flux) puts the tag back: pin in the source too' : ''}`,
      phase: 'rollout',
    });
  }
  return out;
}

function trivyOperatorEdit(ins: Inspection<ImageFacts>, answers: Answers): ReleaseEdit | undefined {
  if (answers['images.installTrivyOperator'] !== true) return undefined;
  if (ins.facts.trivyOperator.presence === 'installed') return undefined;
  const chart = String(answers['images.trivyOperatorChart'] ?? TRIVY_OPERATOR.chart).trim();
  const repo = String(answers['images.trivyOperatorRepo'] ?? TRIVY_OPERATOR.repo).trim();
  const version = String(answers['images.trivyOperatorVersion'] ?? TRIVY_OPERATOR.version).trim();
  const local = chart.startsWith('oci://') || chart.includes('/') || chart.endsWith('.tgz');
  return {
    kind: 'release',
    area: 'images',
    findingIds: ins.findings.filter((f) => f.rule === 'noScanner').map((f) => f.id),
    reason: `install trivy-operator (chart ${version}): vulnerability and configuration reports for every workload`,
    risk: 'medium',
    riskNote: 'runs a scan Job per new image on the nodes; trivy downloads its vulnerability database from ghcr.io (mirror it where egress is closed)',
    phase: 'prerequisites',
    release: {
      action: 'install',
      release: TRIVY_OPERATOR.release,
      namespace: TRIVY_OPERATOR.namespace,
      chart,
      ...(repo && !local ? { repo } : {}),
      version,
      values: {},
      createNamespace: true,
      undoNote: "helm uninstall removes trivy-operator; its CRDs stay (helm never deletes a chart's crds/), and with them the reports already written",
    },
  };
}

export function planImages(ins: Inspection<ImageFacts>, answers: Answers): Edit[] {
  const edits: Edit[] = [];
  if (answers['images.policy'] !== false) edits.push(...policyEdits(ins, answers));
  edits.push(...fixEdits(ins, answers));
  const release = trivyOperatorEdit(ins, answers);
  if (release) edits.push(release);
  return edits;
}

export { POLICY_NAME };
