import type { Rule } from '../types.js';
import { effective, type Container, type PodSpec } from './pod-spec.js';

/** The fixes the workloads area knows how to make; each is a pure edit of a pod spec (fixes.ts). */
export type FixId = 'noEscalation' | 'dropAll' | 'seccomp' | 'runAsNonRoot' | 'noPrivileged' | 'readOnlyRootFilesystem' | 'hostNamespaces' | 'automountToken';

/**
 * Checks as data, one generic evaluator (inspect.ts). A check looks at a pod spec, or at one
 * container in it, and says whether it fails.
 */
export interface Check extends Rule {
  scope: 'pod' | 'container';
  /** The finding's message, after "container X" or "pod". */
  message: string;
  /** The pod-spec fix that resolves it; none: it needs a person. */
  fixId?: FixId;
  fails(pod: PodSpec, container?: Container): boolean;
}

/** Capability names as the kernel and the API server know them: upper case, no CAP_ prefix. */
export const normCap = (c: string): string => c.toUpperCase().replace(/^CAP_/, '');

const PSS = (level: 'baseline' | 'restricted') => ({
  title: `Pod Security Standards: ${level}`,
  url: `https://kubernetes.io/docs/concepts/security/pod-security-standards/#${level}`,
});
const CIS = (item: string) => ({ title: `CIS Kubernetes Benchmark ${item}` });

const DANGEROUS_CAPS = ['ALL', 'SYS_ADMIN', 'NET_ADMIN', 'SYS_PTRACE', 'SYS_MODULE', 'SYS_RAWIO', 'DAC_READ_SEARCH', 'BPF', 'PERFMON', 'SYS_BOOT'];

export const CHECKS: Check[] = [
  {
    id: 'privileged',
    title: 'Container runs privileged',
    fix: 'Set privileged: false (opt-in: node agents need it).',
    references: [PSS('baseline'), CIS('5.2.2')],
    severity: 'critical',
    scope: 'container',
    message: 'runs privileged',
    why: 'A privileged container has every capability and the host devices: escaping to the node is trivial.',
    fixId: 'noPrivileged',
    fails: (_p, c) => c!.securityContext?.privileged === true,
  },
  {
    id: 'allowPrivilegeEscalation',
    title: 'Privilege escalation allowed',
    fix: 'Set allowPrivilegeEscalation: false on every container.',
    references: [PSS('restricted'), CIS('5.2.6')],
    severity: 'high',
    scope: 'container',
    message: 'allows privilege escalation',
    why: 'Without allowPrivilegeEscalation=false a process can gain more privileges than its parent (setuid binaries).',
    fixId: 'noEscalation',
    fails: (_p, c) => c!.securityContext?.allowPrivilegeEscalation !== false,
  },
  {
    id: 'runAsNonRoot',
    title: 'May run as root',
    fix: 'Set runAsNonRoot: true (and a runAsUser where the image runs as root).',
    references: [PSS('restricted'), CIS('5.2.7')],
    severity: 'high',
    scope: 'container',
    message: 'may run as root (runAsNonRoot is not true)',
    why: 'Root in a container is root on the node if anything else goes wrong; runAsNonRoot makes the kubelet refuse it.',
    fixId: 'runAsNonRoot',
    fails: (p, c) => effective(p, c!, 'runAsNonRoot') !== true,
  },
  {
    id: 'capabilitiesDropAll',
    title: 'Capabilities not dropped',
    fix: 'Drop ALL capabilities; keep the ones added on purpose.',
    references: [PSS('restricted'), CIS('5.2.9')],
    severity: 'medium',
    scope: 'container',
    message: 'does not drop all capabilities',
    why: 'The default capability set (NET_RAW, CHOWN, SETUID, ...) is more than most applications need.',
    fixId: 'dropAll',
    fails: (_p, c) => !(c!.securityContext?.capabilities?.drop ?? []).some((d) => normCap(d) === 'ALL'),
  },
  {
    id: 'dangerousCapabilities',
    title: 'Dangerous capability added',
    fix: 'Remove the capability by hand, after checking what the program needs.',
    references: [PSS('baseline'), CIS('5.2.8')],
    severity: 'high',
    scope: 'container',
    message: 'adds a dangerous capability',
    why: 'SYS_ADMIN, NET_ADMIN, SYS_PTRACE and friends give near-root power over the node or its network; remove them by hand.',
    fails: (_p, c) => (c!.securityContext?.capabilities?.add ?? []).some((a) => DANGEROUS_CAPS.includes(normCap(a))),
  },
  {
    id: 'seccomp',
    title: 'No seccomp profile',
    fix: 'Set seccompProfile: RuntimeDefault at pod level.',
    references: [PSS('restricted'), CIS('5.7.2')],
    severity: 'medium',
    scope: 'container',
    message: 'has no seccomp profile (RuntimeDefault)',
    why: "Without a seccomp profile every system call is allowed; RuntimeDefault blocks the ones containers don't need.",
    fixId: 'seccomp',
    fails: (p, c) => {
      const t = effective(p, c!, 'seccompProfile')?.type;
      return t !== 'RuntimeDefault' && t !== 'Localhost';
    },
  },
  {
    id: 'readOnlyRootFilesystem',
    title: 'Writable root filesystem',
    fix: 'Set readOnlyRootFilesystem: true (opt-in: apps that write to / break).',
    references: [CIS('5.7.3')],
    severity: 'low',
    scope: 'container',
    message: 'has a writable root filesystem',
    why: 'A read-only root filesystem stops an attacker from dropping tools or changing binaries in the container.',
    fixId: 'readOnlyRootFilesystem',
    fails: (_p, c) => c!.securityContext?.readOnlyRootFilesystem !== true,
  },
  {
    id: 'hostNamespaces',
    title: 'Host namespaces shared',
    fix: 'Set hostPID, hostIPC and hostNetwork to false (opt-in).',
    references: [PSS('baseline'), CIS('5.2.3'), CIS('5.2.4'), CIS('5.2.5')],
    severity: 'high',
    scope: 'pod',
    message: 'shares the host PID, IPC or network namespace',
    why: "hostPID, hostIPC and hostNetwork let the pod see and reach the node's processes and interfaces.",
    fixId: 'hostNamespaces',
    fails: (p) => p.hostPID === true || p.hostIPC === true || p.hostNetwork === true,
  },
  {
    id: 'hostPath',
    title: 'hostPath volume',
    fix: 'Replace the hostPath volume with a PersistentVolume or an emptyDir (needs a person).',
    references: [PSS('baseline'), CIS('5.2.12')],
    severity: 'high',
    scope: 'pod',
    message: 'mounts a hostPath volume',
    why: "A hostPath volume exposes the node's filesystem; replace it with a PersistentVolume or an emptyDir (needs a human).",
    fails: (p) => (p.volumes ?? []).some((v) => v.hostPath !== undefined),
  },
  {
    id: 'automountToken',
    title: 'Service-account token automounted',
    fix: 'Set automountServiceAccountToken: false where the pod does not call the API server (opt-in).',
    references: [CIS('5.1.6')],
    severity: 'low',
    scope: 'pod',
    message: 'automounts a service-account token',
    why: 'A pod that never calls the API server should not carry credentials for it.',
    fixId: 'automountToken',
    fails: (p) => p.automountServiceAccountToken !== false,
  },
];

export const checkById = (id: string) => CHECKS.find((c) => c.id === id);
