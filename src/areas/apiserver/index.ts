import { isAbsolute } from 'node:path';
import type { Area, Inspection, InspectContext, Question } from '../types.js';
import { FLAG_CHECKS, type FixId } from './flags.js';
import { FIXES, flagChanges } from './fixes.js';
import { findingsOf, FLAG_RULES, notesOf, PROBE_RULES } from './findings.js';
import { guardApiserver } from './guard.js';
import { APISERVER_READS, DEFAULT_AUDIT_LOG, gatherFacts, type ApiserverFacts } from './inspect.js';
import { notApplicableOn } from './platform.js';
import { FIX_OF_RULE, planApiserver } from './plan.js';

export async function inspectApiserver(ctx: InspectContext): Promise<Inspection<ApiserverFacts>> {
  const facts = await gatherFacts(ctx);
  return {
    area: 'apiserver',
    findings: findingsOf(facts),
    facts,
    notApplicable: facts.manifest ? undefined : notApplicableOn(facts.platform, false),
    notes: notesOf(facts),
  };
}

const absolute = (v: unknown) => (typeof v === 'string' && v.trim() && !isAbsolute(v.trim()) ? 'an absolute path' : undefined);

function questions(ins: Inspection<ApiserverFacts>): Question[] {
  const m = ins.facts.manifest;
  const flags = m?.info.flags ?? {};
  const counts = new Map<FixId, number>();
  for (const f of ins.findings) {
    const fix = FIX_OF_RULE.get(f.rule);
    if (f.fixable && fix) counts.set(fix, (counts.get(fix) ?? 0) + 1);
  }
  const opts = { auditPolicyFile: m?.auditPolicyFile ?? '', auditLogPath: DEFAULT_AUDIT_LOG };
  const chosenAudit = (a: Record<string, unknown>) => Array.isArray(a['apiserver.fixes']) && (a['apiserver.fixes'] as string[]).includes('auditLog');
  const details = [
    `--authorization-mode=${flags['authorization-mode'] ?? '(unset: AlwaysAllow)'}`,
    `--anonymous-auth=${flags['anonymous-auth'] ?? '(unset: true)'}`,
    `--enable-admission-plugins=${flags['enable-admission-plugins'] ?? '(unset)'}`,
    ...(m?.info.httpProbes.length
      ? [
          `The kubelet probes the API server anonymously (${m.info.httpProbes.join(', ')} over HTTPS): with anonymous-auth=false they would get 401 and the kubelet would restart it, so that fix switches them to TCP checks.`,
        ]
      : []),
    'Every change is one edit of the manifest: the API server restarts once, and the old text is put back if it does not come back healthy with the new flags.',
  ];
  return [
    {
      id: 'apiserver.fixes',
      area: 'apiserver',
      title: `Which API server settings should be changed in ${m?.path ?? 'the manifest'}?`,
      help: 'Each is a flag in the static pod manifest (CIS Kubernetes Benchmark section 1.2). Opt-in ones can break clients; encryption at rest, kubelet and etcd certificates need a person and are only reported.',
      kind: 'multiselect',
      choices: FIXES.map((f) => {
        const n = counts.get(f.id) ?? 0;
        const changes = Object.keys(flagChanges(flags, [f.id], opts).set).length;
        return { value: f.id, label: f.label, hint: n ? `${n} finding(s); ${f.hint}` : changes ? f.hint : 'already set' };
      }),
      default: FIXES.filter((f) => f.default).map((f) => f.id),
      details,
      when: () => !!m,
    },
    {
      id: 'apiserver.auditPolicyFile',
      area: 'apiserver',
      title: 'Audit policy file (created with a minimal policy when it does not exist)',
      help: 'The API server reads it at start; it is mounted into the static pod at the same path.',
      kind: 'text',
      default: m?.auditPolicyFile ?? '',
      when: (a) => !!m && !flags['audit-policy-file'] && chosenAudit(a),
      validate: (v) =>
        absolute(v) ??
        (v === m?.auditPolicyFile && m?.auditPolicyText !== null && !/^kind:\s*Policy\b/m.test(m?.auditPolicyText ?? '')
          ? `${String(v)} exists and is not an audit Policy`
          : undefined),
    },
    {
      id: 'apiserver.auditLogPath',
      area: 'apiserver',
      title: 'Audit log file',
      help: 'Written by the API server on the control-plane node (rotated: 10 files of 100 MB, 30 days); its folder is mounted into the static pod.',
      kind: 'text',
      default: DEFAULT_AUDIT_LOG,
      when: (a) => !!m && !flags['audit-log-path'] && chosenAudit(a),
      validate: absolute,
    },
  ];
}

export const apiserverArea: Area<ApiserverFacts> = {
  id: 'apiserver',
  title: 'API server',
  summary:
    'How the API server itself is configured: anonymous access, authorization modes (enable RBAC), admission plugins, profiling, audit logging, TLS versions, ciphers and certificate, from its flags (CIS Kubernetes Benchmark 1.2) and from probes that work on any cluster. Changes are edits of the static pod manifest, each checked by a health gate that puts the old manifest back if the API server does not come back.',
  reads: APISERVER_READS,
  rules: [...FLAG_RULES, ...PROBE_RULES.map(({ id, severity, title, why, fix, references }) => ({ id, severity, title, why, fix, references }))],
  inspect: inspectApiserver,
  questions,
  answerDocs: {
    'apiserver.fixes': `API server flags to change in the static pod manifest (${FIXES.map((f) => f.id).join(', ')}; default: ${FIXES.filter((f) => f.default)
      .map((f) => f.id)
      .join(', ')})`,
    'apiserver.auditPolicyFile': 'Audit policy file for --audit-policy-file, created with a minimal policy when missing (with fixes: auditLog)',
    'apiserver.auditLogPath': `Audit log file for --audit-log-path (with fixes: auditLog; default ${DEFAULT_AUDIT_LOG})`,
  },
  plan: planApiserver,
  guard: guardApiserver,
};

export { FLAG_CHECKS };
