import { refKey, refOf } from '../../cluster/types.js';
import type { Change, DryRunResult } from '../../engine/change.js';
import { fieldChanges, pathText } from '../../engine/fields.js';
import type { Answers, Area, Inspection, Question, ReviewSection, Rule } from '../types.js';
import { CHECKS, type FixId } from './checks.js';
import { fixPodSpec } from './fixes.js';
import { inspectWorkloads, WORKLOAD_READS, type WorkloadFacts } from './inspect.js';
import { leftAlone } from './ownership.js';
import { podSpecOf } from './pod-spec.js';
import { decideLevel, fixedWorkloads, planWorkloads, podsAfter, readAnswers } from './plan.js';
import { safeLevel } from './psa.js';

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

const INT32_MAX = 2_147_483_647;

function questions(ins: Inspection<WorkloadFacts>): Question[] {
  const facts = ins.facts;
  const perNamespace = new Map<string, number>();
  for (const f of ins.findings) {
    const n = f.ref.namespace ?? f.ref.name;
    perNamespace.set(n, (perNamespace.get(n) ?? 0) + 1);
  }
  const withFindings = facts.namespaces.filter((n) => perNamespace.has(n) && !facts.infrastructure[n]);
  const nsChoices = facts.namespaces.map((n) => {
    const count = perNamespace.get(n) ?? 0;
    const infra = facts.infrastructure[n];
    return { value: n, label: n, hint: `${count ? `${count} finding(s)` : 'clean'}${infra ? ` · infrastructure (${infra}): not by default` : ''}` };
  });
  const agents = facts.objects
    .filter((o) => facts.ownership[refKey(refOf(o))]?.nodeAgent)
    .map((o) => ({
      value: refKey(refOf(o)),
      label: `${o.kind.toLowerCase()}/${o.metadata.name} in ${o.metadata.namespace}`,
      hint: facts.ownership[refKey(refOf(o))].nodeAgent!.join(', '),
    }));
  const qs: Question[] = [
    {
      id: 'workloads.namespaces',
      area: 'workloads',
      title: 'Which namespaces should be hardened?',
      help: 'System namespaces are out of scope unless named with --namespaces; namespaces that hold cluster infrastructure (CNI, CSI, ingress, monitoring agents) are never chosen by default.',
      kind: 'multiselect',
      choices: nsChoices,
      default: withFindings.sort(),
    },
    {
      id: 'workloads.fixes',
      area: 'workloads',
      title: 'Which security-context fixes should be applied to pod templates?',
      help: 'Only the fields of the chosen fixes are written. Changing a pod template rolls out new pods, in waves, each followed until Ready.',
      kind: 'multiselect',
      choices: FIX_CHOICES.map(({ value, label, hint }) => ({ value, label, hint })),
      default: FIX_CHOICES.filter((c) => c.default).map((c) => c.value),
    },
  ];
  if (agents.length) {
    qs.push({
      id: 'workloads.nodeAgents',
      area: 'workloads',
      title: 'Node agents to harden anyway (privileged or host-bound DaemonSets)',
      help: 'Node agents usually need their privileges: hardening them stops them on real nodes. They are left out unless chosen here.',
      kind: 'multiselect',
      choices: agents,
      default: [],
    });
  }
  qs.push(
    {
      id: 'workloads.runAsUser',
      area: 'workloads',
      title: 'runAsUser for workloads that name no user (empty: leave unset)',
      help: 'With runAsNonRoot the kubelet refuses an image whose user is root. A numeric UID (e.g. 65532) makes such images run; empty leaves the image user.',
      kind: 'text',
      default: '',
      validate: (v) => {
        const t = typeof v === 'string' ? v.trim() : String(v);
        if (t === '') return undefined;
        return /^\d+$/.test(t) && Number(t) >= 1 && Number(t) <= INT32_MAX ? undefined : `a UID is a number from 1 to ${INT32_MAX}`;
      },
    },
    {
      id: 'workloads.psa',
      area: 'workloads',
      title: 'Pod Security Admission: which enforce level should namespaces get?',
      help: `Judged as the API server judges pods (${facts.psaVersion}), on every pod a namespace will hold after this plan: a level is only enforced where nothing would be refused, and a level someone set is never lowered or overridden unless you choose a level per namespace. warn and audit are set to restricted.`,
      kind: 'select',
      choices: [
        { value: 'auto', label: 'auto (recommended)', hint: 'the strictest level every pod passes' },
        { value: 'restricted', label: 'restricted where every pod passes it' },
        { value: 'baseline', label: 'baseline where every pod passes it' },
        { value: 'per-namespace', label: 'choose a level per namespace' },
        { value: 'warn-only', label: 'warn and audit restricted only' },
        { value: 'skip', label: 'leave namespace labels alone' },
      ],
      default: 'auto',
    },
    {
      id: 'workloads.psaLevels',
      area: 'workloads',
      title: 'Enforce level per namespace',
      help: 'unchanged keeps the enforce label as it is. A level that would refuse a pod is still not set: the plan says which pods.',
      kind: 'per-item',
      items: facts.namespaces.map((n) => ({
        value: n,
        label: n,
        hint: facts.psa.find((p) => p.namespace === n)?.enforce ? `now: ${facts.psa.find((p) => p.namespace === n)!.enforce}` : 'now: none',
      })),
      choices: [
        { value: 'auto', label: 'auto' },
        { value: 'restricted', label: 'restricted' },
        { value: 'baseline', label: 'baseline' },
        { value: 'unchanged', label: 'unchanged' },
      ],
      default: {},
      when: (a) => a['workloads.psa'] === 'per-namespace',
    },
  );
  return qs;
}

/** The final review's Pod Security table, and what is left alone (owned, GitOps, node agents). */
function review(ins: Inspection<WorkloadFacts>, _changes: Change[], _dry: Map<string, DryRunResult>, answers: Answers): ReviewSection[] {
  const facts = ins.facts;
  const input = readAnswers(answers);
  if (!input.namespaces.size) return [];
  const fixed = fixedWorkloads(facts, input);
  const after = podsAfter(facts, new Map(fixed.map((f) => [refKey(refOf(f.obj)), f.r.pod])));
  const sections: ReviewSection[] = [];
  if (input.mode !== 'skip') {
    const lines = facts.psa
      .filter((p) => input.namespaces.has(p.namespace))
      .map((p) => {
        const d = decideLevel(p, safeLevel(after.get(p.namespace) ?? [], facts.psaVersion), input.mode, input.perNamespace[p.namespace]);
        return `${p.namespace}: ${d.enforce ? `enforce ${d.enforce}` : `enforce ${p.enforce ?? 'none'} (unchanged)`}: ${d.note}`;
      });
    sections.push({ area: 'workloads', title: `Pod Security per namespace (${facts.psaVersion})`, lines });
  }
  const alone = facts.objects
    .filter((o) => input.namespaces.has(o.metadata.namespace!))
    .map((o) => ({ o, own: facts.ownership[refKey(refOf(o))] }))
    .filter(({ o, own }) => own && !(own.nodeAgent && input.nodeAgents.has(refKey(refOf(o)))))
    .map(({ o, own }) => `${o.kind.toLowerCase()}/${o.metadata.name} in ${o.metadata.namespace}: ${leftAlone(own)}`);
  if (alone.length) sections.push({ area: 'workloads', title: 'Left alone', lines: alone, warn: true });
  const git = facts.objects
    .filter((o) => input.namespaces.has(o.metadata.namespace!) && facts.ownership[refKey(refOf(o))]?.gitops)
    .flatMap((o) => {
      const r = fixPodSpec(podSpecOf(o)!, { fixes: input.fixes, runAsUser: input.runAsUser });
      const paths = fieldChanges(podSpecOf(o), r.pod).map((f) => `spec.template.spec.${pathText(f.path)}: ${JSON.stringify(f.ours)}`);
      return paths.length
        ? [
            `${o.kind.toLowerCase()}/${o.metadata.name} in ${o.metadata.namespace} (${facts.ownership[refKey(refOf(o))].gitops!.tool}):`,
            ...paths.map((x) => `  ${x}`),
          ]
        : [];
    });
  if (git.length) sections.push({ area: 'workloads', title: 'To put in Git (GitOps-managed: a change here would be reverted)', lines: git, warn: true });
  return sections;
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
  answerDocs: {
    'workloads.namespaces': 'Which namespaces should be hardened? (default: those with findings, never infrastructure namespaces)',
    'workloads.fixes':
      'Which security-context fixes should be applied to pod templates? (noEscalation, dropAll, seccomp, runAsNonRoot, noPrivileged, readOnlyRootFilesystem, hostNamespaces, automountToken)',
    'workloads.nodeAgents': 'Node agents to harden anyway (privileged or host-bound DaemonSets, by namespace/name key)',
    'workloads.runAsUser': 'runAsUser for workloads that name no user (empty: leave unset)',
    'workloads.psa': 'Pod Security Admission enforce level: auto | restricted | baseline | per-namespace | warn-only | skip',
    'workloads.psaLevels': 'Enforce level per namespace (with psa: per-namespace): auto | restricted | baseline | unchanged',
  },
  plan: planWorkloads,
  review,
};
