import type { Severity } from '../types.js';
import { effective, type Container, type PodSpec } from './pod-spec.js';

/** The fixes the workloads area knows how to make; each is a pure edit of a pod spec (fixes.ts). */
export type FixId =
  | 'noEscalation'
  | 'dropAll'
  | 'seccomp'
  | 'runAsNonRoot'
  | 'noPrivileged'
  | 'readOnlyRootFilesystem'
  | 'hostNamespaces'
  | 'automountToken';

/**
 * Checks as data, one generic evaluator (inspect.ts). A check looks at a pod spec, or at one
 * container in it, and says whether it fails.
 */
export interface Check {
  id: string;
  severity: Severity;
  scope: 'pod' | 'container';
  message: string;
  why: string;
  fix?: FixId;
  fails(pod: PodSpec, container?: Container): boolean;
}

const DANGEROUS_CAPS = ['ALL', 'SYS_ADMIN', 'NET_ADMIN', 'SYS_PTRACE', 'SYS_MODULE', 'SYS_RAWIO', 'DAC_READ_SEARCH', 'BPF', 'PERFMON', 'SYS_BOOT'];

export const CHECKS: Check[] = [
  {
    id: 'privileged',
    severity: 'critical',
    scope: 'container',
    message: 'runs privileged',
    why: 'A privileged container has every capability and the host devices: escaping to the node is trivial.',
    fix: 'noPrivileged',
    fails: (_p, c) => c!.securityContext?.privileged === true,
  },
  {
    id: 'allowPrivilegeEscalation',
    severity: 'high',
    scope: 'container',
    message: 'allows privilege escalation',
    why: 'Without allowPrivilegeEscalation=false a process can gain more privileges than its parent (setuid binaries).',
    fix: 'noEscalation',
    fails: (_p, c) => c!.securityContext?.allowPrivilegeEscalation !== false,
  },
  {
    id: 'runAsNonRoot',
    severity: 'high',
    scope: 'container',
    message: 'may run as root (runAsNonRoot is not true)',
    why: 'Root in a container is root on the node if anything else goes wrong; runAsNonRoot makes the kubelet refuse it.',
    fix: 'runAsNonRoot',
    fails: (p, c) => effective(p, c!, 'runAsNonRoot') !== true,
  },
  {
    id: 'capabilitiesDropAll',
    severity: 'medium',
    scope: 'container',
    message: 'does not drop all capabilities',
    why: 'The default capability set (NET_RAW, CHOWN, SETUID, ...) is more than most applications need.',
    fix: 'dropAll',
    fails: (_p, c) => !(c!.securityContext?.capabilities?.drop ?? []).some((d) => d.toUpperCase() === 'ALL'),
  },
  {
    id: 'dangerousCapabilities',
    severity: 'high',
    scope: 'container',
    message: 'adds a dangerous capability',
    why: 'SYS_ADMIN, NET_ADMIN, SYS_PTRACE and friends give near-root power over the node or its network; remove them by hand.',
    fails: (_p, c) => (c!.securityContext?.capabilities?.add ?? []).some((a) => DANGEROUS_CAPS.includes(a.toUpperCase())),
  },
  {
    id: 'seccomp',
    severity: 'medium',
    scope: 'container',
    message: 'has no seccomp profile (RuntimeDefault)',
    why: "Without a seccomp profile every system call is allowed; RuntimeDefault blocks the ones containers don't need.",
    fix: 'seccomp',
    fails: (p, c) => {
      const t = effective(p, c!, 'seccompProfile')?.type;
      return t !== 'RuntimeDefault' && t !== 'Localhost';
    },
  },
  {
    id: 'readOnlyRootFilesystem',
    severity: 'low',
    scope: 'container',
    message: 'has a writable root filesystem',
    why: 'A read-only root filesystem stops an attacker from dropping tools or changing binaries in the container.',
    fix: 'readOnlyRootFilesystem',
    fails: (_p, c) => c!.securityContext?.readOnlyRootFilesystem !== true,
  },
  {
    id: 'hostNamespaces',
    severity: 'high',
    scope: 'pod',
    message: 'shares the host PID, IPC or network namespace',
    why: "hostPID, hostIPC and hostNetwork let the pod see and reach the node's processes and interfaces.",
    fix: 'hostNamespaces',
    fails: (p) => p.hostPID === true || p.hostIPC === true || p.hostNetwork === true,
  },
  {
    id: 'hostPath',
    severity: 'high',
    scope: 'pod',
    message: 'mounts a hostPath volume',
    why: "A hostPath volume exposes the node's filesystem; replace it with a PersistentVolume or an emptyDir (needs a human).",
    fails: (p) => (p.volumes ?? []).some((v) => v.hostPath !== undefined),
  },
  {
    id: 'automountToken',
    severity: 'low',
    scope: 'pod',
    message: 'automounts a service-account token',
    why: 'A pod that never calls the API server should not carry credentials for it.',
    fix: 'automountToken',
    fails: (p) => p.automountServiceAccountToken !== false,
  },
];

export const checkById = (id: string) => CHECKS.find((c) => c.id === id);
