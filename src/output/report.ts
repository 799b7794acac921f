import type { Finding, Rule, Severity } from '../areas/types.js';
import { severityRank } from '../areas/types.js';

export type ReportFormat = 'table' | 'json' | 'sarif' | 'junit';
export const REPORT_FORMATS: ReportFormat[] = ['table', 'json', 'sarif', 'junit'];

export interface ReportInput {
  context: string;
  server: string;
  version: string;
  findings: Finding[];
  /** Every rule of the areas inspected, with its area. */
  rules: Array<Rule & { area: string }>;
}

const where = (f: Finding) => `${f.ref.kind.toLowerCase()}/${f.ref.name}${f.ref.namespace ? ` (${f.ref.namespace})` : ''}`;

export function renderReport(format: ReportFormat, r: ReportInput): string {
  const sorted = [...r.findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.id.localeCompare(b.id));
  switch (format) {
    case 'json':
      return JSON.stringify({ context: r.context, server: r.server, version: r.version, summary: counts(r.findings), findings: sorted }, null, 2) + '\n';
    case 'sarif':
      return JSON.stringify(sarif(r, sorted), null, 2) + '\n';
    case 'junit':
      return junit(r, sorted);
    default:
      return table(r, sorted);
  }
}

export function counts(findings: Finding[]): Record<Severity, number> {
  const c: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0 };
  for (const f of findings) c[f.severity]++;
  return c;
}

function table(r: ReportInput, findings: Finding[]): string {
  const c = counts(findings);
  const lines = [
    `${r.context} (${r.server}, ${r.version}): ${findings.length} finding(s): ${c.critical} critical, ${c.high} high, ${c.medium} medium, ${c.low} low`,
  ];
  const w = Math.min(60, Math.max(10, ...findings.map((f) => where(f).length)));
  for (const f of findings) lines.push(`${f.severity.toUpperCase().padEnd(8)} ${where(f).padEnd(w)}  ${f.message}${f.fixable ? '' : ' [manual]'}`);
  return lines.join('\n') + '\n';
}

const sarifLevel = (s: Severity) => (s === 'critical' || s === 'high' ? 'error' : s === 'medium' ? 'warning' : 'note');

function sarif(r: ReportInput, findings: Finding[]) {
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'kube-harden',
            informationUri: 'https://github.com/kube-harden/kube-harden',
            rules: r.rules.map((x) => ({
              id: `${x.area}/${x.id}`,
              name: x.id,
              shortDescription: { text: x.title },
              fullDescription: { text: x.why },
              help: {
                text: `${x.why}\nFix: ${x.fix}${x.references?.length ? `\nReferences: ${x.references.map((ref) => ref.title + (ref.url ? ` (${ref.url})` : '')).join('; ')}` : ''}`,
              },
              ...(x.references?.find((ref) => ref.url) ? { helpUri: x.references.find((ref) => ref.url)!.url } : {}),
              defaultConfiguration: { level: sarifLevel(x.severity) },
              properties: { severity: x.severity, area: x.area, tags: ['security', 'kubernetes', x.area] },
            })),
          },
        },
        results: findings.map((f) => ({
          ruleId: `${f.area}/${f.rule}`,
          level: sarifLevel(f.severity),
          message: { text: `${where(f)}: ${f.message}` },
          locations: [
            {
              logicalLocations: [
                {
                  fullyQualifiedName: `${r.context}/${f.ref.namespace ?? ''}/${f.ref.kind}/${f.ref.name}${f.container ? `/${f.container}` : ''}`,
                  kind: 'resource',
                },
              ],
            },
          ],
          properties: { severity: f.severity, fixable: f.fixable, ...(f.manual ? { manual: f.manual } : {}), ...(f.path ? { path: f.path } : {}) },
        })),
      },
    ],
  };
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function junit(r: ReportInput, findings: Finding[]): string {
  // One test case per rule and object that breaks it (failed), and one per rule nothing breaks (passed).
  const byRule = new Map<string, Map<string, Finding[]>>();
  for (const f of findings) {
    const rule = `${f.area}/${f.rule}`;
    const objects = byRule.get(rule) ?? new Map<string, Finding[]>();
    const key = where(f);
    objects.set(key, [...(objects.get(key) ?? []), f]);
    byRule.set(rule, objects);
  }
  const cases: string[] = [];
  let failures = 0;
  for (const rule of r.rules) {
    const id = `${rule.area}/${rule.id}`;
    const objects = byRule.get(id);
    if (!objects) {
      cases.push(`    <testcase classname="${xml(id)}" name="${xml(rule.title)}"/>`);
      continue;
    }
    for (const [obj, fs] of objects) {
      failures++;
      cases.push(`    <testcase classname="${xml(id)}" name="${xml(obj)}">`);
      cases.push(
        `      <failure message="${xml(fs.map((f) => f.message).join('; '))}" type="${rule.severity}">${xml(`${rule.why}\nFix: ${rule.fix}`)}</failure>`,
      );
      cases.push('    </testcase>');
    }
  }
  const tests = cases.filter((c) => c.startsWith('    <testcase')).length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="kube-harden" tests="${tests}" failures="${failures}">`,
    `  <testsuite name="${xml(r.context)}" tests="${tests}" failures="${failures}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/**
 * Write a report in chunks (JSON is streamed finding by finding), waiting for the writer between
 * chunks, so 60,000 findings do not become one giant string in memory.
 */
export async function writeReport(format: ReportFormat, r: ReportInput, write: (chunk: string) => Promise<void> | boolean | void): Promise<void> {
  if (format !== 'json') {
    await write(renderReport(format, r));
    return;
  }
  const sorted = [...r.findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.id.localeCompare(b.id));
  const head = JSON.stringify({ context: r.context, server: r.server, version: r.version, summary: counts(r.findings) }, null, 2);
  await write(`${head.slice(0, -2)},\n  "findings": [`);
  const BATCH = 2000;
  for (let i = 0; i < sorted.length; i += BATCH) {
    const part = sorted
      .slice(i, i + BATCH)
      .map((f) => `\n    ${JSON.stringify(f)}`)
      .join(',');
    await write(i === 0 ? part : `,${part}`);
  }
  await write(`${sorted.length ? '\n  ' : ''}]\n}\n`);
}
