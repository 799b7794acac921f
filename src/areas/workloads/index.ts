import type { Area, Inspection, Question, Rule } from '../types.js';
import { CHECKS, type FixId } from './checks.js';
import { inspectWorkloads, WORKLOAD_READS, type WorkloadFacts } from './inspect.js';
import { enforceLevelFor, planWorkloads } from './plan.js';

const FIX_CHOICES: Array<{ value: FixId; label: string; hint: string; default: boolean }> = [
  { value: 'noEscalation', label: 'allowPrivilegeEscalation: false', hint: 'safe for almost every app', default: true },
  { value: 'dropAll', label: 'capabilities: drop ALL', hint: 'keeps explicitly added ones', default: true },
  { value: 'seccomp', label: 'seccompProfile: RuntimeDefault', hint: 'pod level', default: true },
  { value: 'runAsNonRoot', label: 'runAsNonRoot: true', hint: 'images that run as root will not start', default: true },
  { value: 'noPrivileged', label: 'privileged: false', hint: 'breaks node agents that need it', default: false },
  { value: 'readOnlyRootFilesystem', label: 'readOnlyRootFilesystem: true', hint: 'opt-in: apps that write to / break', default: false },
  { value: 'hostNamespaces', label: 'no hostPID / hostIPC / hostNetwork', hint: 'opt-in', default: false },
  { value: 'automountToken', label: 'automountServiceAccountToken: false', hint: 'opt-in: apps that call the API break', default: false },
];

function questions(ins: Inspection<WorkloadFacts>): Question[] {
  const facts = ins.facts;
  const withFindings = [...new Set(ins.findings.map((f) => f.ref.namespace ?? f.ref.name))].filter((n) => facts.namespaces.includes(n));
  const perNamespace = new Map<string, number>();
  for (const f of ins.findings) {
    const n = f.ref.namespace ?? f.ref.name;
    perNamespace.set(n, (perNamespace.get(n) ?? 0) + 1);
  }
  const nsChoices = facts.namespaces.map((n) => {
    const count = perNamespace.get(n) ?? 0;
    return { value: n, label: n, hint: count ? `${count} finding(s)` : 'clean' };
  });
  const auto = facts.psa.map((p) => {
    const level = enforceLevelFor('auto', p);
    return `${p.namespace}: enforce ${level ?? '(unchanged: pods or templates break even baseline)'}`;
  });
  const warnings = facts.psa.flatMap((p) => (p.violations.restricted ?? []).map((w) => `${p.namespace}: ${w}`));
  return [
    {
      id: 'workloads.namespaces',
      area: 'workloads',
      title: 'Which namespaces should be hardened?',
      help: 'System namespaces (kube-system, kube-public, kube-node-lease) are left out unless asked for.',
      kind: 'multiselect',
      choices: nsChoices,
      default: withFindings.sort(),
    },
    {
      id: 'workloads.fixes',
      area: 'workloads',
      title: 'Which security-context fixes should be applied to pod templates?',
      help: 'Only the fields of the chosen fixes are written. Changing a pod template rolls out new pods.',
      kind: 'multiselect',
      choices: FIX_CHOICES.map(({ value, label, hint }) => ({ value, label, hint })),
      default: FIX_CHOICES.filter((c) => c.default).map((c) => c.value),
    },
    {
      id: 'workloads.runAsUser',
      area: 'workloads',
      title: 'runAsUser for workloads that name no user (empty: leave unset)',
      help: 'With runAsNonRoot the kubelet refuses an image whose user is root. A numeric UID (e.g. 65532) makes such images run; empty leaves the image user.',
      kind: 'text',
      default: '',
      validate: (v) => (typeof v === 'string' && v.trim() !== '' && !/^[1-9]\d{0,9}$/.test(v.trim()) ? 'a UID is a positive number (not 0)' : undefined),
    },
    {
      id: 'workloads.psa',
      area: 'workloads',
      title: 'Pod Security Admission level per namespace',
      help: 'auto: enforce restricted where the API server says no existing pod would be rejected, else baseline; warn and audit restricted everywhere.',
      kind: 'select',
      choices: [
        { value: 'auto', label: 'auto (recommended)', hint: auto.slice(0, 3).join('; ') },
        { value: 'baseline', label: 'enforce baseline, warn/audit restricted' },
        { value: 'restricted', label: 'enforce restricted everywhere', hint: warnings.length ? `${warnings.length} existing pod warning(s)` : 'no warnings' },
        { value: 'warn-only', label: 'warn and audit restricted only' },
        { value: 'skip', label: 'leave namespace labels alone' },
      ],
      default: 'auto',
      details: [...auto, ...warnings.map((w) => `restricted would warn: ${w}`)],
    },
  ];
}

const PSA_RULE: Rule = {
  id: 'podSecurityAdmission',
  severity: 'medium',
  title: 'No Pod Security level enforced',
  why: 'Pod Security Admission labels make the API server itself refuse insecure pods in the namespace.',
  fix: 'Label the namespace pod-security.kubernetes.io/enforce with the strictest level its pods and templates pass.',
  references: [{ title: 'Pod Security Admission', url: 'https://kubernetes.io/docs/concepts/security/pod-security-admission/' }],
};

export const workloadsArea: Area<WorkloadFacts> = {
  id: 'workloads',
  title: 'Pod security',
  summary:
    'Security contexts of Deployments, StatefulSets, DaemonSets and CronJobs (no privilege escalation, dropped capabilities, seccomp, non-root) and Pod Security Admission labels on namespaces, so the API server itself refuses insecure pods.',
  reads: WORKLOAD_READS,
  rules: [...CHECKS.map(({ id, severity, title, why, fix, references }) => ({ id, severity, title, why, fix, references })), PSA_RULE],
  inspect: inspectWorkloads,
  questions,
  plan: planWorkloads,
};
