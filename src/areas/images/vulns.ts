/**
 * Vulnerability summaries, whoever scanned: trivy-operator's VulnerabilityReports (one per workload
 * container, labelled with the workload) and trivy's own JSON report (one per image, `trivy image
 * --format json`). Both become the same shape: counts by severity, how many have a fixed version, and
 * the CVEs worst first (severity, then fixable, then score).
 */
import type { Severity } from '../types.js';

export const TRIVY_SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] as const;
export type TrivySeverity = (typeof TRIVY_SEVERITIES)[number];
export type Counts = Record<TrivySeverity, number>;

export const emptyCounts = (): Counts => ({ CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 });

export interface Cve {
  id: string;
  severity: TrivySeverity;
  /** The package it is in. */
  pkg: string;
  installed: string;
  /** '' when there is no fixed version yet. */
  fixed: string;
  title: string;
  score?: number;
}

export interface VulnSummary {
  counts: Counts;
  /** CVEs with a fixed version. */
  fixable: number;
  /** Every CVE, worst first. */
  cves: Cve[];
}

const sevRank = (s: string): number => {
  const i = TRIVY_SEVERITIES.indexOf(s as TrivySeverity);
  return i < 0 ? TRIVY_SEVERITIES.length : i;
};
export const normSeverity = (s: unknown): TrivySeverity =>
  TRIVY_SEVERITIES.includes(String(s).toUpperCase() as TrivySeverity) ? (String(s).toUpperCase() as TrivySeverity) : 'UNKNOWN';

/** Worst first: severity, then the ones with a fix, then the CVSS score, then the id. */
export const byWorst = (a: Cve, b: Cve): number =>
  sevRank(a.severity) - sevRank(b.severity) || Number(!a.fixed) - Number(!b.fixed) || (b.score ?? 0) - (a.score ?? 0) || a.id.localeCompare(b.id);

export function summarise(cves: Cve[], counts?: Counts): VulnSummary {
  const c = counts ?? emptyCounts();
  if (!counts) for (const v of cves) c[v.severity]++;
  return { counts: c, fixable: cves.filter((v) => v.fixed).length, cves: [...cves].sort(byWorst) };
}

export function addSummaries(a: VulnSummary, b: VulnSummary): VulnSummary {
  const counts = emptyCounts();
  for (const s of TRIVY_SEVERITIES) counts[s] = a.counts[s] + b.counts[s];
  return { counts, fixable: a.fixable + b.fixable, cves: [...a.cves, ...b.cves].sort(byWorst) };
}

/** Our severity for a summary: its worst (UNKNOWN-only counts as low); undefined when there is nothing. */
export function worstSeverity(c: Counts): Severity | undefined {
  if (c.CRITICAL) return 'critical';
  if (c.HIGH) return 'high';
  if (c.MEDIUM) return 'medium';
  if (c.LOW || c.UNKNOWN) return 'low';
  return undefined;
}

/** "2 critical, 5 high, 1 medium (6 fixable)". */
export function countsText(s: VulnSummary): string {
  const parts = TRIVY_SEVERITIES.filter((k) => s.counts[k] > 0).map((k) => `${s.counts[k]} ${k.toLowerCase()}`);
  return parts.length ? `${parts.join(', ')} (${s.fixable} fixable)` : 'no known vulnerabilities';
}

export const cveText = (v: Cve): string =>
  `${v.id} (${v.severity.toLowerCase()}) in ${v.pkg} ${v.installed}${v.fixed ? `, fixed in ${v.fixed}` : ', no fix yet'}`;

// --- trivy's JSON report (github.com/aquasecurity/trivy pkg/types/report.go) ---

interface TrivyVulnerability {
  VulnerabilityID: string;
  PkgName?: string;
  InstalledVersion?: string;
  FixedVersion?: string;
  Severity?: string;
  Title?: string;
  CVSS?: Record<string, { V3Score?: number; V2Score?: number; V40Score?: number }>;
}
export interface TrivyReport {
  SchemaVersion?: number;
  ArtifactName?: string;
  ArtifactType?: string;
  Metadata?: { ImageID?: string; RepoDigests?: string[]; OS?: { Family?: string; Name?: string } };
  Results?: Array<{ Target: string; Class?: string; Type?: string; Vulnerabilities?: TrivyVulnerability[] | null }>;
}

const cvssScore = (v: TrivyVulnerability): number | undefined => {
  const scores = Object.values(v.CVSS ?? {}).map((c) => c.V40Score ?? c.V3Score ?? c.V2Score ?? 0);
  return scores.length ? Math.max(...scores) : undefined;
};

/** The vulnerabilities of a `trivy image --format json` report (every result: OS and language packages). */
export function parseTrivyReport(r: TrivyReport): VulnSummary {
  const cves: Cve[] = [];
  for (const res of r.Results ?? []) {
    for (const v of res.Vulnerabilities ?? []) {
      cves.push({
        id: v.VulnerabilityID,
        severity: normSeverity(v.Severity),
        pkg: v.PkgName ?? '',
        installed: v.InstalledVersion ?? '',
        fixed: v.FixedVersion ?? '',
        title: v.Title ?? '',
        score: cvssScore(v),
      });
    }
  }
  return summarise(cves);
}

// --- trivy-operator's VulnerabilityReport (aquasecurity.github.io/v1alpha1, vulnerability_types.go) ---

export interface OperatorVulnerability {
  vulnerabilityID: string;
  resource?: string;
  installedVersion?: string;
  fixedVersion?: string;
  severity?: string;
  title?: string;
  score?: number;
}
export interface OperatorReportData {
  registry?: { server?: string };
  artifact?: { repository?: string; tag?: string; digest?: string };
  summary?: { criticalCount?: number; highCount?: number; mediumCount?: number; lowCount?: number; unknownCount?: number };
  vulnerabilities?: OperatorVulnerability[] | null;
}

export function parseOperatorReport(r: OperatorReportData): VulnSummary {
  const cves: Cve[] = (r.vulnerabilities ?? []).map((v) => ({
    id: v.vulnerabilityID,
    severity: normSeverity(v.severity),
    pkg: v.resource ?? '',
    installed: v.installedVersion ?? '',
    fixed: v.fixedVersion ?? '',
    title: v.title ?? '',
    score: v.score,
  }));
  const s = r.summary;
  const counts: Counts | undefined = s
    ? { CRITICAL: s.criticalCount ?? 0, HIGH: s.highCount ?? 0, MEDIUM: s.mediumCount ?? 0, LOW: s.lowCount ?? 0, UNKNOWN: s.unknownCount ?? 0 }
    : undefined;
  return summarise(cves, counts);
}

/** The image a report is about, as a reference (`registry/repository:tag` or `@digest`). */
export function operatorReportImage(r: OperatorReportData): string {
  const server = r.registry?.server ?? '';
  const repo = r.artifact?.repository ?? '';
  const base = server ? `${server}/${repo}` : repo;
  return `${base}${r.artifact?.tag ? `:${r.artifact.tag}` : ''}${r.artifact?.digest ? `@${r.artifact.digest}` : ''}`;
}
