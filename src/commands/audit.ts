import { severityRank, SEVERITIES, type SessionAreaOptions, type Severity } from '../areas/types.js';
import { EXIT, SafetyError, UsageError } from '../errors.js';
import { describeAccess } from '../engine/preview.js';
import { REPORT_FORMATS, writeReport, type ReportFormat } from '../output/report.js';
import { Session } from '../session.js';
import { progress, type GlobalOptions } from './io.js';

export interface AuditOptions extends GlobalOptions {
  output?: string;
  failOn?: string;
  /** --fail-on also counts findings that need a person (by default only those kube-harden can fix). */
  includeManual?: boolean;
  areas?: string[];
  /** --scan-images: the images area also runs the local trivy. */
  scanImages?: SessionAreaOptions['scanImages'];
}

/** Read-only: inspect, report, and exit 1 when a finding is at or above --fail-on. */
export async function audit(opts: AuditOptions): Promise<number> {
  const format = (opts.output ?? 'table') as ReportFormat;
  if (!REPORT_FORMATS.includes(format)) throw new UsageError(`--output must be one of ${REPORT_FORMATS.join(', ')}`);
  const failOn = opts.failOn as Severity | undefined;
  if (failOn && !SEVERITIES.includes(failOn)) throw new UsageError(`--fail-on must be one of ${SEVERITIES.join(', ')}`);
  const session = await Session.open({ ...opts, preview: true });
  try {
    const denied = (await session.readAccess()).filter((a) => !a.allowed);
    if (denied.length) throw new SafetyError(`missing permissions to audit: ${denied.map(describeAccess).join(', ')}`);
    const t0 = Date.now();
    const states = await session.inspect((area, m) => progress(`${area?.id ?? 'read'}: ${m}`));
    progress(`inspected in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    for (const s of states) if (s.inspection.notApplicable) progress(`${s.area.id}: ${s.inspection.notApplicable}`);
    const findings = session.findings;
    const rules = session.areas.flatMap((a) => a.rules.map((rule) => ({ ...rule, area: a.id })));
    await writeReport(
      format,
      { context: session.contextName, server: session.cluster.server, version: session.version.gitVersion, findings, rules },
      (chunk) => new Promise<void>((resolve) => (process.stdout.write(chunk) ? resolve() : process.stdout.once('drain', () => resolve()))),
    );
    if (failOn) {
      // The gate: findings at or above the severity that a run of `kube-harden apply` could fix (drift from a
      // hardened state); with --include-manual also those that need a person.
      const failing = findings.filter((f) => severityRank(f.severity) >= severityRank(failOn) && (f.fixable || opts.includeManual));
      const manual = findings.filter((f) => severityRank(f.severity) >= severityRank(failOn) && !f.fixable).length;
      progress(
        `--fail-on ${failOn}: ${failing.length} finding(s) fail the run${!opts.includeManual && manual ? ` (${manual} more need a person: --include-manual counts them)` : ''}`,
      );
      if (failing.length) return EXIT.findings;
    }
    return EXIT.ok;
  } finally {
    await session.close();
  }
}
