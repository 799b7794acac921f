/**
 * trivy-operator's reports, summarised: VulnerabilityReports by severity per workload and per image
 * (worst and fixable CVEs first), ConfigAuditReports per workload. trivy-operator labels each report with
 * the object it scanned (`trivy-operator.resource.{kind,name,namespace}`), which for a Deployment is its
 * ReplicaSet: reports are traced to the workload a person edits through the owner references.
 */
import type { KubeObject, ObjectRef } from '../../cluster/types.js';
import { refKey } from '../../cluster/types.js';
import type { Severity } from '../types.js';
import { parseImage } from './image-ref.js';
import { ownerResolver } from './inventory.js';
import { addSummaries, normSeverity, operatorReportImage, parseOperatorReport, worstSeverity, type OperatorReportData, type VulnSummary } from './vulns.js';

export const REPORT_API = 'aquasecurity.github.io/v1alpha1';
const L = 'trivy-operator.resource.';

export interface WorkloadVulns {
  workload: ObjectRef;
  containers: Array<{ container: string; image: string; summary: VulnSummary }>;
  summary: VulnSummary;
}

export interface ImageVulns {
  image: string;
  workloads: ObjectRef[];
  summary: VulnSummary;
}

export interface VulnerabilityOverview {
  reports: number;
  byWorkload: WorkloadVulns[];
  byImage: ImageVulns[];
}

/** The object a report is about, from its labels (or its controller owner reference). */
function subjectOf(report: KubeObject): ObjectRef | undefined {
  const l = report.metadata.labels ?? {};
  const kind = l[`${L}kind`];
  const name = l[`${L}name`];
  if (kind && name) return { apiVersion: '', kind, namespace: l[`${L}namespace`] ?? report.metadata.namespace, name };
  const owner = report.metadata.ownerReferences?.find((o) => o.controller);
  return owner && { apiVersion: owner.apiVersion, kind: owner.kind, namespace: report.metadata.namespace, name: owner.name };
}

const rank = (s: VulnSummary) => [s.counts.CRITICAL, s.counts.HIGH, s.fixable, s.counts.MEDIUM, s.counts.LOW];
const worseFirst = (a: VulnSummary, b: VulnSummary) => {
  const ra = rank(a);
  const rb = rank(b);
  for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return rb[i] - ra[i];
  return 0;
};

/** Display form of an image, stable across how registries are spelled (`index.docker.io/library/nginx` → `docker.io/library/nginx`). */
export function canonicalImage(ref: string): string {
  const r = parseImage(ref);
  return `${r.name}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/**
 * Summaries of VulnerabilityReports. `objects` are the workloads, ReplicaSets, Jobs and Pods read, to
 * trace each report to its workload; `inScope` keeps the namespaces of the session.
 */
export function summariseVulnerabilityReports(reports: KubeObject[], objects: KubeObject[], inScope: (ns?: string) => boolean): VulnerabilityOverview {
  const resolve = ownerResolver(objects);
  const apiVersionOf = new Map(objects.map((o) => [`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o.apiVersion]));
  const workloads = new Map<string, WorkloadVulns>();
  const images = new Map<string, ImageVulns>();
  let n = 0;
  for (const r of reports) {
    if (!inScope(r.metadata.namespace)) continue;
    const data = (r.report ?? {}) as OperatorReportData;
    const subject = subjectOf(r);
    if (!subject) continue;
    n++;
    const known = apiVersionOf.get(`${subject.kind}/${subject.namespace ?? ''}/${subject.name}`);
    const workload = resolve({ ...subject, apiVersion: known ?? subject.apiVersion });
    const summary = parseOperatorReport(data);
    const container = r.metadata.labels?.['trivy-operator.container.name'] ?? '';
    const image = canonicalImage(operatorReportImage(data));
    const wk = refKey(workload);
    const w = workloads.get(wk) ?? { workload, containers: [], summary: parseOperatorReport({}) };
    w.containers.push({ container, image, summary });
    w.summary = addSummaries(w.summary, summary);
    workloads.set(wk, w);
    const i = images.get(image);
    if (!i) images.set(image, { image, workloads: [workload], summary });
    else if (!i.workloads.some((x) => refKey(x) === wk)) i.workloads.push(workload);
  }
  return {
    reports: n,
    byWorkload: [...workloads.values()].sort((a, b) => worseFirst(a.summary, b.summary) || refKey(a.workload).localeCompare(refKey(b.workload))),
    byImage: [...images.values()].sort((a, b) => worseFirst(a.summary, b.summary) || a.image.localeCompare(b.image)),
  };
}

export interface ConfigAuditSummary {
  workload: ObjectRef;
  severity: Severity;
  failed: Array<{ id: string; title: string; severity: Severity }>;
}

const ourSeverity = (s: unknown): Severity => {
  const v = normSeverity(s);
  return v === 'CRITICAL' ? 'critical' : v === 'HIGH' ? 'high' : v === 'MEDIUM' ? 'medium' : 'low';
};

/** Failed checks of ConfigAuditReports, per workload, worst first. */
export function summariseConfigAudits(reports: KubeObject[], objects: KubeObject[], inScope: (ns?: string) => boolean): ConfigAuditSummary[] {
  const resolve = ownerResolver(objects);
  const apiVersionOf = new Map(objects.map((o) => [`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o.apiVersion]));
  const out = new Map<string, ConfigAuditSummary>();
  for (const r of reports) {
    if (!inScope(r.metadata.namespace)) continue;
    const subject = subjectOf(r);
    if (!subject) continue;
    const known = apiVersionOf.get(`${subject.kind}/${subject.namespace ?? ''}/${subject.name}`);
    const workload = resolve({ ...subject, apiVersion: known ?? subject.apiVersion });
    const checks = (
      (r.report as { checks?: Array<{ checkID: string; title?: string; severity?: string; success?: boolean }> } | undefined)?.checks ?? []
    ).filter((c) => c.success === false);
    if (!checks.length) continue;
    const k = refKey(workload);
    const s = out.get(k) ?? { workload, severity: 'low' as Severity, failed: [] };
    for (const c of checks)
      if (!s.failed.some((f) => f.id === c.checkID)) s.failed.push({ id: c.checkID, title: c.title ?? '', severity: ourSeverity(c.severity) });
    out.set(k, s);
  }
  const order: Severity[] = ['critical', 'high', 'medium', 'low'];
  for (const s of out.values()) {
    s.failed.sort((a, b) => order.indexOf(a.severity) - order.indexOf(b.severity) || a.id.localeCompare(b.id));
    s.severity = s.failed[0].severity;
  }
  return [...out.values()].sort((a, b) => order.indexOf(a.severity) - order.indexOf(b.severity) || refKey(a.workload).localeCompare(refKey(b.workload)));
}

export { worstSeverity };
