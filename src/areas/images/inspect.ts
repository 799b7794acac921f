/**
 * The images area's inspection: what runs (the inventory), what guards admission (our policy, another
 * engine), what scans (trivy-operator and its reports, a local trivy when asked), and the findings.
 */
import type { KubeObject } from '../../cluster/types.js';
import { refOf } from '../../cluster/types.js';
import { SYSTEM_NAMESPACES } from '../infrastructure.js';
import type { Finding, InspectContext, Inspection, ReadSpec } from '../types.js';
import { detect, imageVersion, PRODUCTS, type Detected } from './detect.js';
import { buildInventory, isHistory, POLICY_KINDS, registriesInUse, type ImageInfo } from './inventory.js';
import { scanImages, TRIVY_INSTALL_HINT, which, type ImageScan } from './local-scan.js';
import { REPORT_API, summariseConfigAudits, summariseVulnerabilityReports, type ConfigAuditSummary, type VulnerabilityOverview } from './operator-reports.js';
import { POLICY_NAME, policyOf, preview, type ImagePolicy } from './policy.js';
import { IMAGE_CHECKS } from './rules.js';
import { confirmWithServer, type ServerCheck } from './server-check.js';
import { countsText, cveText, worstSeverity } from './vulns.js';

const ADMISSION = 'admissionregistration.k8s.io/v1';

export const IMAGE_READS: ReadSpec[] = [
  { apiVersion: 'v1', kind: 'Pod', status: true },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'apps/v1', kind: 'ReplicaSet' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  { apiVersion: 'apps/v1', kind: 'DaemonSet' },
  { apiVersion: 'batch/v1', kind: 'Job' },
  { apiVersion: 'batch/v1', kind: 'CronJob' },
  { apiVersion: 'v1', kind: 'ReplicationController' },
  { apiVersion: ADMISSION, kind: 'ValidatingAdmissionPolicy' },
  { apiVersion: ADMISSION, kind: 'ValidatingAdmissionPolicyBinding' },
  { apiVersion: REPORT_API, kind: 'VulnerabilityReport', optional: true },
  { apiVersion: REPORT_API, kind: 'ConfigAuditReport', optional: true },
];

export interface InstalledPolicy {
  /** What our objects' annotation says (the binding's, which carries the mode). */
  policy?: ImagePolicy;
  vap?: KubeObject;
  binding?: KubeObject;
}

export interface ImageFacts {
  /** Images in use in the namespaces in scope. */
  images: ImageInfo[];
  registries: string[];
  /** Top-level workloads in scope with a pod spec. */
  workloads: KubeObject[];
  /** Per workload refKey and container: the digests its running pods report. */
  runningDigests: Record<string, Record<string, string[]>>;
  /** Every object the policy would judge, in every namespace (the violation preview). */
  policyObjects: KubeObject[];
  /** Every namespace, and the ones left out of the policy by default (with why). */
  namespaces: string[];
  excluded: Array<{ namespace: string; why: string }>;
  installed: InstalledPolicy;
  /** Other image admission policies found (ValidatingAdmissionPolicies not ours that look at images). */
  otherPolicies: string[];
  engines: { kyverno: Detected; gatekeeper: Detected };
  /** Our policy in the engine's form, when that engine is installed and the object exists. */
  engineObjects: { kyverno?: KubeObject; gatekeeperTemplate?: KubeObject; gatekeeperConstraint?: KubeObject; gatekeeperKindServed: boolean };
  serverCheck: ServerCheck;
  trivyOperator: Detected & { version?: string };
  vulnerabilities: VulnerabilityOverview;
  configAudits: ConfigAuditSummary[];
  localScan: { trivy?: string; asked: boolean; results?: ImageScan[] };
}

async function safe<T>(p: Promise<T>, fallback: T): Promise<T> {
  try {
    return await p;
  } catch {
    return fallback;
  }
}

export async function inspectImages(ctx: InspectContext): Promise<Inspection<ImageFacts>> {
  const { scope, cluster } = ctx;
  ctx.onProgress?.('reading images in use');
  const kinds = IMAGE_READS.filter((r) => (POLICY_KINDS as readonly string[]).includes(r.kind));
  const all = (await Promise.all(kinds.map((r) => ctx.list(r.kind, r.apiVersion)))).flat();
  const inScope = all.filter((o) => scope.inScope(o.metadata.namespace));
  const inv = buildInventory(inScope);
  const [vaps, bindings, vulnReports, auditReports] = await Promise.all(IMAGE_READS.slice(8).map((r) => ctx.list(r.kind, r.apiVersion)));
  const deployments = all.filter((o) => o.kind === 'Deployment');

  // Admission: ours, others', and the policy engines.
  const vap = vaps.find((v) => v.metadata.name === POLICY_NAME);
  const binding = bindings.find((b) => b.metadata.name === POLICY_NAME);
  const installed: InstalledPolicy = { vap, binding, policy: policyOf(binding) ?? policyOf(vap) };
  const otherPolicies = vaps
    .filter((v) => v.metadata.name !== POLICY_NAME && /\.image\b|images/.test(JSON.stringify(v.spec ?? {})))
    .map((v) => v.metadata.name);
  const [kyverno, gatekeeper, trivy] = await Promise.all(
    PRODUCTS.map((p) => detect(p, cluster, deployments, p.id === 'trivy-operator' && vulnReports.length + auditReports.length > 0)),
  );
  const engineObjects: ImageFacts['engineObjects'] = { gatekeeperKindServed: false };
  if (kyverno.presence === 'installed')
    engineObjects.kyverno = await safe(cluster.tryGet({ apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', name: POLICY_NAME }), undefined);
  if (gatekeeper.presence === 'installed') {
    engineObjects.gatekeeperTemplate = await safe(
      cluster.tryGet({ apiVersion: 'templates.gatekeeper.sh/v1', kind: 'ConstraintTemplate', name: 'k8shardenimages' }),
      undefined,
    );
    engineObjects.gatekeeperKindServed = await safe(cluster.serves('constraints.gatekeeper.sh/v1beta1', 'K8sHardenImages'), false);
    if (engineObjects.gatekeeperKindServed)
      engineObjects.gatekeeperConstraint = await safe(
        cluster.tryGet({ apiVersion: 'constraints.gatekeeper.sh/v1beta1', kind: 'K8sHardenImages', name: POLICY_NAME }),
        undefined,
      );
  }
  if (!installed.policy) installed.policy = policyOf(engineObjects.kyverno) ?? policyOf(engineObjects.gatekeeperConstraint);

  // The server's own verdict on what our Warn-mode policy judges.
  let serverCheck: ServerCheck = { state: 'not-installed', checked: 0, total: 0, ours: [], server: [] };
  if (installed.policy && binding && vap) {
    ctx.onProgress?.('asking the API server what the image policy warns about (dry-run updates)');
    serverCheck = await confirmWithServer(cluster, installed.policy, all);
  }

  // Scanners: trivy-operator's reports; the local trivy only when asked.
  const vulnerabilities = summariseVulnerabilityReports(vulnReports, all, scope.inScope);
  const configAudits = summariseConfigAudits(auditReports, all, scope.inScope);
  const trivyOperator = { ...trivy, version: imageVersion(trivy.deployment?.image) };
  const scanOpts = ctx.options.scanImages;
  const localScan: ImageFacts['localScan'] = { trivy: which(scanOpts?.bin ?? 'trivy'), asked: !!scanOpts };
  if (scanOpts) {
    ctx.onProgress?.(`scanning ${inv.images.length} image(s) with the local trivy`);
    localScan.results = await scanImages(
      inv.images.map((i) => i.raw),
      { ...scanOpts, onProgress: ctx.onProgress },
    );
  }

  const excluded = [
    ...SYSTEM_NAMESPACES.map((namespace) => ({ namespace, why: 'system namespace' })),
    ...[...scope.infrastructure].filter(([n]) => !SYSTEM_NAMESPACES.includes(n)).map(([namespace, why]) => ({ namespace, why })),
  ];
  const facts: ImageFacts = {
    images: inv.images,
    registries: registriesInUse(inv.images),
    workloads: inv.workloads,
    runningDigests: Object.fromEntries([...inv.runningDigests].map(([k, m]) => [k, Object.fromEntries(m)])),
    policyObjects: all.filter((o) => o.metadata.namespace !== undefined),
    namespaces: scope.all.map((n) => n.metadata.name).sort(),
    excluded,
    installed,
    otherPolicies,
    engines: { kyverno, gatekeeper },
    engineObjects,
    serverCheck,
    trivyOperator,
    vulnerabilities,
    configAudits,
    localScan,
  };
  return { area: 'images', findings: findingsOf(facts), facts, notes: notesOf(facts) };
}

const PATCHABLE = ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob'];

/** The digest to pin a container to: the one its running pods all report. */
export const pinDigestFor = (facts: ImageFacts, workloadKey: string, container: string): string | undefined => {
  const list = facts.runningDigests[workloadKey]?.[container];
  return list?.length === 1 ? list[0] : undefined;
};

export function findingsOf(facts: ImageFacts): Finding[] {
  const out: Finding[] = [];
  const allowed = facts.installed.policy?.allowedRegistries;
  for (const image of facts.images) {
    for (const use of image.uses) {
      const key = `${use.workload.apiVersion}/${use.workload.kind}/${use.workload.namespace ?? ''}/${use.workload.name}`;
      for (const check of IMAGE_CHECKS) {
        if (!check.fails(image, use, allowed)) continue;
        const patchable = PATCHABLE.includes(use.workload.kind);
        const fixable = !!check.fixId && patchable && (check.fixId === 'pullAlways' || !!pinDigestFor(facts, key, use.container));
        const manual = fixable
          ? undefined
          : !check.fixId
            ? check.fix
            : !patchable
              ? `the pod template of a ${use.workload.kind} cannot be changed in place: fix its source`
              : 'no single digest reported by its running pods: pin a tag or digest in its source';
        out.push({
          id: `images/${check.id}/${use.workload.kind}/${use.workload.namespace ?? ''}/${use.workload.name}/${use.container}`,
          area: 'images',
          rule: check.id,
          severity: check.severity,
          ref: use.workload,
          container: use.container,
          message: `container ${use.container} uses ${image.raw}: ${check.says}${check.id === 'pullPolicy' ? ` ${use.pullPolicy}` : ''}`,
          fixable,
          manual,
        });
      }
    }
  }
  const ourPolicy = facts.installed.policy;
  if (!ourPolicy && !facts.otherPolicies.length && facts.images.length) {
    out.push({
      id: 'images/noImagePolicy/ValidatingAdmissionPolicy//kube-harden-images',
      area: 'images',
      rule: 'noImagePolicy',
      severity: 'medium',
      ref: { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', name: POLICY_NAME },
      message: `no admission policy on images (${facts.images.length} image(s) in use from ${facts.registries.length} registr${facts.registries.length === 1 ? 'y' : 'ies'})`,
      fixable: true,
    });
  }
  if (
    ourPolicy?.mode === 'warn' &&
    facts.installed.binding &&
    preview(
      facts.policyObjects.filter((o) => !isHistory(o)),
      ourPolicy,
    ).length === 0
  ) {
    out.push({
      id: 'images/policyWarnOnly/ValidatingAdmissionPolicyBinding//kube-harden-images',
      area: 'images',
      rule: 'policyWarnOnly',
      severity: 'low',
      ref: refOf(facts.installed.binding),
      message: 'the image policy only warns, and nothing running breaks it: Deny is safe now',
      fixable: true,
    });
  }
  for (const w of facts.vulnerabilities.byWorkload) {
    const severity = worstSeverity(w.summary.counts);
    if (!severity) continue;
    const worst = w.summary.cves[0];
    out.push({
      id: `images/vulnerabilities/${w.workload.kind}/${w.workload.namespace ?? ''}/${w.workload.name}`,
      area: 'images',
      rule: 'vulnerabilities',
      severity,
      ref: w.workload,
      message: `${countsText(w.summary)} in ${[...new Set(w.containers.map((c) => c.image))].join(', ')}${worst ? `; worst: ${cveText(worst)}` : ''}`,
      fixable: false,
      manual: 'rebuild or upgrade the image to the fixed versions',
    });
  }
  for (const a of facts.configAudits) {
    out.push({
      id: `images/configAudit/${a.workload.kind}/${a.workload.namespace ?? ''}/${a.workload.name}`,
      area: 'images',
      rule: 'configAudit',
      severity: a.severity,
      ref: a.workload,
      message: `trivy-operator: ${a.failed.length} failed check(s): ${a.failed
        .slice(0, 4)
        .map((f) => `${f.id} ${f.title}`)
        .join('; ')}${a.failed.length > 4 ? '; …' : ''}`,
      fixable: false,
      manual: "follow each check's remediation",
    });
  }
  if (facts.trivyOperator.presence === 'absent' && !facts.localScan.asked && facts.images.length) {
    out.push({
      id: 'images/noScanner/Deployment/trivy-system/trivy-operator',
      area: 'images',
      rule: 'noScanner',
      severity: 'low',
      ref: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'trivy-system', name: 'trivy-operator' },
      message: 'no vulnerability scanner in the cluster (trivy-operator is not installed)',
      fixable: true,
    });
  }
  for (const s of facts.localScan.results ?? []) {
    const ref = { apiVersion: '', kind: 'Image', name: s.image };
    if (s.status === 'not-scanned') {
      out.push({
        id: `images/imageNotScanned/Image//${s.image}`,
        area: 'images',
        rule: 'imageNotScanned',
        severity: 'low',
        ref,
        message: `not scanned: ${s.reason}`,
        fixable: false,
        manual: s.reason,
      });
      continue;
    }
    const severity = s.summary && worstSeverity(s.summary.counts);
    if (!severity || !s.summary) continue;
    out.push({
      id: `images/imageVulnerabilities/Image//${s.image}`,
      area: 'images',
      rule: 'imageVulnerabilities',
      severity,
      ref,
      message: `${countsText(s.summary)}${s.summary.cves[0] ? `; worst: ${cveText(s.summary.cves[0])}` : ''}`,
      fixable: false,
      manual: 'rebuild or upgrade the image to the fixed versions',
    });
  }
  return out;
}

/** "nginx:latest: docker.io/library/nginx, :latest, not pinned (running sha256:ab12…), pull Always; deployment/web in shop". */
export function imageLine(i: ImageInfo): string {
  const tag = i.untagged ? 'no tag' : i.tag ? `:${i.tag}` : '';
  const pin = i.pinned ? 'pinned' : `not pinned${i.running.length ? ` (running ${i.running.map((d) => `${d.slice(0, 19)}…`).join(', ')})` : ''}`;
  const pulls = [...new Set(i.uses.map((u) => u.pullPolicy))].join('/');
  const users = i.uses.map((u) => `${u.workload.kind.toLowerCase()}/${u.workload.name}${u.workload.namespace ? ` in ${u.workload.namespace}` : ''}`);
  return `${i.raw}: ${i.name}${tag ? `, ${tag}` : ''}, ${pin}, pull ${pulls}; ${[...new Set(users)].join(', ')}`;
}

function notesOf(f: ImageFacts): string[] {
  const notes: string[] = [];
  const pinned = f.images.filter((i) => i.pinned).length;
  notes.push(`${f.images.length} image(s) in use from ${f.registries.join(', ') || 'no registry'}; ${pinned} pinned by digest`);
  for (const i of f.images.slice(0, 15)) notes.push(`  ${imageLine(i)}`);
  if (f.images.length > 15) notes.push(`  … and ${f.images.length - 15} more`);
  for (const [id, d] of Object.entries(f.engines)) {
    const title = id === 'kyverno' ? 'Kyverno' : 'Gatekeeper';
    if (d.presence === 'installed')
      notes.push(
        `${title} is installed (${d.deployment?.namespace}/${d.deployment?.name}): the image rule is offered as a ${id === 'kyverno' ? 'ClusterPolicy' : 'ConstraintTemplate and Constraint'} rather than a second policy engine`,
      );
    else if (d.presence === 'crds-only') notes.push(`${title}: ${d.detail}`);
  }
  if (f.installed.policy) notes.push(`image policy ${POLICY_NAME} is installed in ${f.installed.policy.mode === 'deny' ? 'Deny' : 'Warn'} mode`);
  if (f.otherPolicies.length) notes.push(`other admission policies on images: ${f.otherPolicies.join(', ')}`);
  const sc = f.serverCheck;
  if (sc.state === 'agree')
    notes.push(
      `the API server confirms the preview: ${sc.server.length} warning(s) on ${sc.checked} object(s), the same as evaluated here${sc.detail ? ` (${sc.detail})` : ''}`,
    );
  else if (sc.state === 'disagree')
    notes.push(`the API server's warnings differ from the preview (${sc.server.length} from the server, ${sc.ours.length} evaluated here)`);
  else if (sc.state === 'unknown') notes.push(`the API server's verdict is unknown: ${sc.detail}`);
  const t = f.trivyOperator;
  if (t.presence === 'installed')
    notes.push(`trivy-operator ${t.version ?? ''} runs in ${t.deployment?.namespace}: ${f.vulnerabilities.reports} vulnerability report(s)`.replace('  ', ' '));
  else if (t.presence === 'crds-only') notes.push(`trivy-operator: ${t.detail}`);
  for (const w of f.vulnerabilities.byImage.slice(0, 5)) notes.push(`  ${w.image}: ${countsText(w.summary)}`);
  if (f.localScan.results) {
    const scanned = f.localScan.results.filter((r) => r.status === 'scanned').length;
    notes.push(`local trivy scan: ${scanned} of ${f.localScan.results.length} image(s) scanned`);
  } else if (f.localScan.trivy)
    notes.push(`trivy is on PATH (${f.localScan.trivy}): run again with --scan-images to scan the ${f.images.length} image(s) in use`);
  else notes.push(TRIVY_INSTALL_HINT);
  return notes;
}
