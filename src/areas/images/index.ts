import { refKey, refLabel } from '../../cluster/types.js';
import type { Change, DryRunResult } from '../../engine/change.js';
import type { Answers, Area, Inspection, Question, ReviewSection } from '../types.js';
import type { ImageFacts } from './inspect.js';
import { IMAGE_READS, inspectImages } from './inspect.js';
import { isHistory, ownerResolver } from './inventory.js';
import { countsText, cveText, TRIVY_SEVERITIES } from './vulns.js';
import { defaultExcluded, historyRefused, plannedPolicy, policyFromAnswers, planImages, TRIVY_OPERATOR, wouldRefuse, type ModeAnswer } from './plan.js';
import { CONFIG_ANNOTATION, policyOf, preview, type ImagePolicy } from './policy.js';
import { policyWarning } from './server-check.js';
import { RULES } from './rules.js';

const on = (a: Answers) => a['images.policy'] !== false;

/** "deployment/web in shop: noLatest (nginx:latest)" per workload a person edits. */
export function refusalLines(facts: ImageFacts, p: ImagePolicy, max = 25): string[] {
  const resolve = ownerResolver(facts.policyObjects);
  const byWorkload = new Map<string, { label: string; rules: Map<string, Set<string>> }>();
  for (const r of preview(
    facts.policyObjects.filter((o) => !isHistory(o)),
    p,
  )) {
    const o = r.object;
    const w = resolve({ apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name });
    const entry = byWorkload.get(refKey(w)) ?? { label: refLabel(w), rules: new Map<string, Set<string>>() };
    for (const v of r.violations) {
      const set = entry.rules.get(v.rule) ?? new Set<string>();
      for (const i of v.images) set.add(i);
      entry.rules.set(v.rule, set);
    }
    byWorkload.set(refKey(w), entry);
  }
  const lines = [...byWorkload.values()]
    .sort((a, b) => a.label.localeCompare(b.label))
    .map((e) => `${e.label}: ${[...e.rules].map(([rule, images]) => `${rule} (${[...images].join(', ')})`).join('; ')}`);
  const shown = lines.length > max ? [...lines.slice(0, max), `… and ${lines.length - max} more`] : lines;
  const history = historyRefused(facts, p).length;
  return history ? [...shown, `(${history} old ReplicaSet(s) of rollout history break it too: a rollout undo to them would be refused)`] : shown;
}

function questions(ins: Inspection<ImageFacts>): Question[] {
  const f = ins.facts;
  const engines = (['kyverno', 'gatekeeper'] as const).filter((e) => f.engines[e].presence === 'installed');
  const installedMode = f.installed.policy?.mode;
  const confirmed = f.serverCheck.state === 'agree' && f.serverCheck.server.length === 0;
  const modeDefault: ModeAnswer = installedMode === 'deny' ? 'deny' : installedMode === 'warn' && confirmed ? 'auto' : 'warn';
  const current = f.installed.policy;
  const previewNow = refusalLines(f, current ?? policyFromAnswers(f, {}), 10);
  const qs: Question[] = [
    {
      id: 'images.policy',
      area: 'images',
      title: 'Guard admission with an image policy?',
      help: 'A ValidatingAdmissionPolicy and its binding (built into the API server, CEL, nothing to install). It judges Pods and every workload kind, init and ephemeral containers included.',
      kind: 'confirm',
      default: true,
    },
  ];
  if (engines.length) {
    qs.push({
      id: 'images.engine',
      area: 'images',
      title: `${engines.map((e) => (e === 'kyverno' ? 'Kyverno' : 'Gatekeeper')).join(' and ')} ${engines.length > 1 ? 'are' : 'is'} installed: write the rule in which form?`,
      help: 'Rather than stacking a second policy engine, the same rules (the same CEL) can be written for the engine already in charge.',
      kind: 'select',
      choices: [
        ...engines.map((e) =>
          e === 'kyverno'
            ? { value: 'kyverno', label: 'Kyverno ClusterPolicy (validate.cel, Kyverno 1.11+)' }
            : { value: 'gatekeeper', label: 'Gatekeeper ConstraintTemplate + Constraint (K8sNativeValidation, Gatekeeper 3.16+)' },
        ),
        { value: 'native', label: 'ValidatingAdmissionPolicy (built in) anyway' },
      ],
      default: engines[0],
      when: on,
    });
  }
  qs.push(
    {
      id: 'images.allowedRegistries',
      area: 'images',
      title: 'Allowed registries (hosts, or host/path prefixes such as ghcr.io/my-org); empty: any registry',
      help: 'Offered from the registries in use. docker.io covers official images such as nginx (docker.io/library/nginx).',
      kind: 'list',
      suggestions: f.registries,
      default: current?.allowedRegistries ?? f.registries,
      when: on,
      validate: (v) => {
        const bad = (v as string[]).filter((x) => !/^[A-Za-z0-9.-]+(:\d+)?(\/[a-z0-9._/-]+)?\/?$/.test(x.trim()));
        return bad.length ? `not a registry host or host/path: ${bad.join(', ')}` : undefined;
      },
    },
    {
      id: 'images.forbidLatest',
      area: 'images',
      title: 'Refuse images tagged :latest or without a tag?',
      help: 'A :latest or missing tag names whatever was pushed last. Images pinned by digest without a tag are fine.',
      kind: 'confirm',
      default: current?.forbidLatest ?? true,
      when: on,
    },
    {
      id: 'images.requireDigest',
      area: 'images',
      title: 'Require every image to be pinned by digest (@sha256:...)? (opt-in)',
      help: 'The strictest rule: only digests name exactly what was reviewed. Most teams pin in CI; turn it on once that is so.',
      kind: 'confirm',
      default: current?.requireDigest ?? false,
      when: on,
    },
    {
      id: 'images.namespaces',
      area: 'images',
      title: 'In which namespaces does the policy apply?',
      help: `A namespace selector on kubernetes.io/metadata.name. Left out by default: ${f.excluded.map((e) => `${e.namespace} (${e.why})`).join(', ')}.`,
      kind: 'select',
      choices: [
        { value: 'all-but-system', label: 'every namespace but system and infrastructure ones', hint: `not in ${defaultExcluded(f).join(', ')}` },
        { value: 'chosen', label: 'only the namespaces I choose' },
      ],
      default: current?.namespaces.operator === 'In' ? 'chosen' : 'all-but-system',
      when: on,
    },
    {
      id: 'images.namespaceList',
      area: 'images',
      title: 'The namespaces the policy applies to',
      help: 'New namespaces are not covered until added here.',
      kind: 'multiselect',
      choices: f.namespaces.map((n) => ({ value: n, label: n })),
      default: current?.namespaces.operator === 'In' ? current.namespaces.values : f.namespaces.filter((n) => !defaultExcluded(f).includes(n)),
      when: (a) => on(a) && a['images.namespaces'] === 'chosen',
      validate: (v) => ((v as string[]).length ? undefined : 'choose at least one namespace'),
    },
    {
      id: 'images.mode',
      area: 'images',
      title: 'Rollout mode',
      help: 'As the Kubernetes docs advise: Warn + Audit first (nothing refused; kubectl shows warnings, the audit log records them), Deny once nothing running would be refused.',
      kind: 'select',
      choices: [
        { value: 'warn', label: 'Warn + Audit (recommended first)' },
        { value: 'auto', label: 'Deny + Audit if nothing running would be refused, else Warn + Audit' },
        {
          value: 'deny',
          label: 'Deny + Audit',
          hint: previewNow.length ? 'not offered while something running breaks the policy (see below)' : 'nothing running breaks the policy',
        },
      ],
      default: modeDefault,
      when: on,
      details: [
        f.serverCheck.state === 'agree'
          ? `the API server confirms the installed policy's preview (${f.serverCheck.server.length} warning(s) on ${f.serverCheck.checked} object(s))`
          : f.installed.policy
            ? `installed policy: the API server's check is ${f.serverCheck.state}`
            : 'not yet confirmed by the API server: apply in Warn mode, then the next session compares its warnings with this preview',
        ...(previewNow.length ? ['would refuse now:', ...previewNow.map((l) => `  ${l}`)] : ['nothing running would be refused now']),
      ],
      validate: (v, a) => {
        if (v !== 'deny') return undefined;
        const n = wouldRefuse(f, policyFromAnswers(f, a)).length;
        return n ? `Deny is offered once nothing running would be refused: ${n} object(s) would be (choose warn or auto)` : undefined;
      },
    },
    {
      id: 'images.fixes',
      area: 'images',
      title: 'Fix pod templates now? (opt-in: each rolls out new pods)',
      help: 'Pin images to the digest their running pods report (the same content, now immutable); imagePullPolicy: Always for images referenced by a tag.',
      kind: 'multiselect',
      choices: [
        { value: 'pinDigests', label: 'pin to the digest running now', hint: 'GitOps tools will put the tag back: pin in the source too' },
        { value: 'pullAlways', label: 'imagePullPolicy: Always for mutable tags' },
      ],
      default: [],
    },
  );
  if (f.trivyOperator.presence !== 'installed') {
    const q = (a: Answers) => a['images.installTrivyOperator'] === true;
    qs.push(
      {
        id: 'images.installTrivyOperator',
        area: 'images',
        title: 'Install trivy-operator to scan the images in the cluster? (a Helm release)',
        help: 'It writes a VulnerabilityReport per workload container and a ConfigAuditReport per workload; kube-harden summarises them. Rollback uninstalls it (its CRDs stay).',
        kind: 'confirm',
        default: false,
      },
      {
        id: 'images.trivyOperatorVersion',
        area: 'images',
        title: 'trivy-operator chart version',
        help: 'Chart 0.34.0 installs trivy-operator v0.32.0.',
        kind: 'text',
        default: TRIVY_OPERATOR.version,
        when: q,
      },
      {
        id: 'images.trivyOperatorChart',
        area: 'images',
        title: 'Chart (a name in the repository below, an oci:// reference, or a path to a .tgz)',
        help: 'The chart of aquasecurity/helm-charts by default.',
        kind: 'text',
        default: TRIVY_OPERATOR.chart,
        when: q,
      },
      {
        id: 'images.trivyOperatorRepo',
        area: 'images',
        title: 'Chart repository (empty for oci:// or a file)',
        help: '',
        kind: 'text',
        default: TRIVY_OPERATOR.repo,
        when: q,
      },
    );
  }
  return qs;
}

/** The policy a planned change writes (the binding's annotation carries the mode). */
function plannedFrom(changes: Change[]): ImagePolicy | undefined {
  let found: ImagePolicy | undefined;
  for (const c of changes) {
    if (c.kind !== 'object' || !c.after?.metadata.annotations?.[CONFIG_ANNOTATION]) continue;
    const p = policyOf(c.after);
    if (p && (!found || ['ValidatingAdmissionPolicyBinding', 'ClusterPolicy', 'K8sHardenImages'].includes(c.ref.kind))) found = p;
  }
  return found;
}

function review(ins: Inspection<ImageFacts>, changes: Change[], dry: Map<string, DryRunResult>): ReviewSection[] {
  const f = ins.facts;
  const out: ReviewSection[] = [];
  const p = plannedFrom(changes);
  if (p) {
    const lines = refusalLines(f, p);
    const sc = f.serverCheck;
    const confirm =
      sc.state === 'agree'
        ? `confirmed by the API server: the installed Warn-mode policy's warnings on ${sc.checked} object(s) match`
        : sc.state === 'disagree'
          ? `the API server's warnings differ: server ${sc.server.length}, here ${sc.ours.length}`
          : 'evaluated here on the live objects; the API server confirms it once the policy runs in Warn mode';
    out.push({
      area: 'images',
      title: `Image policy (${p.mode === 'deny' ? 'Deny + Audit' : 'Warn + Audit'}): what it would refuse now`,
      lines: lines.length ? [...lines, confirm] : ['nothing running breaks it', confirm],
      warn: lines.length > 0,
    });
  }
  const warned = changes.flatMap((c) => (dry.get(c.id)?.warnings ?? []).map((w) => policyWarning(w)).filter((m): m is string => !!m));
  if (warned.length) out.push({ area: 'images', title: 'The installed image policy warns about these changes', lines: warned, warn: true });
  const v = f.vulnerabilities;
  if (v.reports) {
    out.push({
      area: 'images',
      title: `Vulnerabilities (trivy-operator, ${v.reports} report(s)): worst images first`,
      lines: v.byImage.slice(0, 10).map((i) => `${i.image}: ${countsText(i.summary)}${i.summary.cves[0] ? `; worst ${cveText(i.summary.cves[0])}` : ''}`),
    });
  }
  const scans = f.localScan.results;
  if (scans?.length) {
    const total = Object.fromEntries(TRIVY_SEVERITIES.map((s) => [s, 0])) as Record<string, number>;
    for (const s of scans) for (const k of TRIVY_SEVERITIES) total[k] += s.summary?.counts[k] ?? 0;
    out.push({
      area: 'images',
      title: 'Local trivy scan',
      lines: [
        `by severity: ${TRIVY_SEVERITIES.map((k) => `${total[k]} ${k.toLowerCase()}`).join(', ')}`,
        ...scans.map((s) => `${s.image}: ${s.status === 'scanned' ? countsText(s.summary!) : `not scanned: ${s.reason}`}`),
      ],
    });
  }
  return out;
}

export const imagesArea: Area<ImageFacts> = {
  id: 'images',
  title: 'Images',
  summary:
    'What runs (every image, tag, digest and pull policy), an admission policy on images (allowed registries, no :latest, digests) as a built-in ValidatingAdmissionPolicy rolled out Warn first, and vulnerability scanning: trivy-operator installed and summarised, or a local trivy scan.',
  reads: IMAGE_READS,
  rules: RULES,
  inspect: inspectImages,
  questions,
  answerDocs: {
    'images.policy': 'Guard admission with an image policy (a ValidatingAdmissionPolicy and its binding)',
    'images.engine': 'Write the rule for which engine when Kyverno or Gatekeeper is installed (native, kyverno, gatekeeper)',
    'images.allowedRegistries': 'Allowed registries: hosts or host/path prefixes (default: the registries in use; empty: any registry)',
    'images.forbidLatest': 'Refuse images tagged :latest or without a tag',
    'images.requireDigest': 'Require every image to be pinned by digest (opt-in)',
    'images.namespaces': 'Where the policy applies (all-but-system, chosen)',
    'images.namespaceList': 'The namespaces the policy applies to (with namespaces: chosen)',
    'images.mode': 'Rollout mode: warn (Warn + Audit), auto (Deny + Audit when nothing running would be refused), deny',
    'images.fixes': 'Pod template fixes (pinDigests: the digest running now; pullAlways: imagePullPolicy Always for mutable tags)',
    'images.installTrivyOperator': 'Install trivy-operator as a Helm release when it is absent',
    'images.trivyOperatorVersion': `trivy-operator chart version (default ${TRIVY_OPERATOR.version})`,
    'images.trivyOperatorChart': 'trivy-operator chart: a name in the repository, an oci:// reference, or a path to a chart',
    'images.trivyOperatorRepo': 'trivy-operator chart repository (empty for oci:// or a path)',
  },
  plan: planImages,
  review,
};

export { plannedPolicy };
