import { normCap, type FixId } from './checks.js';
import { allContainers, effective, type Container, type PodSpec, type SecurityContext } from './pod-spec.js';

export interface FixOptions {
  fixes: ReadonlySet<FixId>;
  /** Set as the pod's runAsUser where neither the pod nor a container names a user. */
  runAsUser?: number;
}

export interface FixResult {
  pod: PodSpec;
  applied: FixId[];
  notes: string[];
}

const sc = (c: Container): SecurityContext => (c.securityContext ??= {});

/**
 * Apply the chosen fixes to a copy of a pod spec. Pure: the input is never touched, and only the
 * fields a chosen fix owns are written.
 */
export function fixPodSpec(input: PodSpec, opts: FixOptions): FixResult {
  const pod = structuredClone(input);
  const applied = new Set<FixId>();
  const notes: string[] = [];
  const f = opts.fixes;
  const containers = allContainers(pod);

  if (f.has('noPrivileged')) {
    for (const c of containers) {
      if (c.securityContext?.privileged === true) {
        sc(c).privileged = false;
        applied.add('noPrivileged');
      }
    }
  }
  if (f.has('noEscalation')) {
    for (const c of containers) {
      if (c.securityContext?.allowPrivilegeEscalation === false) continue;
      // The API server rejects allowPrivilegeEscalation=false beside privileged=true (or CAP_SYS_ADMIN).
      if (c.securityContext?.privileged === true || (c.securityContext?.capabilities?.add ?? []).some((a) => normCap(a) === 'SYS_ADMIN')) {
        notes.push(`container ${c.name}: privileged or CAP_SYS_ADMIN, so allowPrivilegeEscalation cannot be turned off`);
        continue;
      }
      sc(c).allowPrivilegeEscalation = false;
      applied.add('noEscalation');
    }
  }
  if (f.has('dropAll')) {
    for (const c of containers) {
      const caps = (sc(c).capabilities ??= {});
      if ((caps.drop ?? []).some((d) => normCap(d) === 'ALL')) continue;
      caps.drop = ['ALL'];
      applied.add('dropAll');
    }
  }
  if (f.has('seccomp')) {
    const podType = pod.securityContext?.seccompProfile?.type;
    if (podType !== 'RuntimeDefault' && podType !== 'Localhost') {
      (pod.securityContext ??= {}).seccompProfile = { type: 'RuntimeDefault' };
      applied.add('seccomp');
    }
    for (const c of containers) {
      if (c.securityContext?.seccompProfile?.type === 'Unconfined') {
        c.securityContext.seccompProfile = { type: 'RuntimeDefault' };
        applied.add('seccomp');
      }
    }
  }
  if (f.has('runAsNonRoot')) {
    const explicitRoot = containers.filter((c) => effective(pod, c, 'runAsUser') === 0);
    if (explicitRoot.length) {
      notes.push(`runs as UID 0 on purpose (${explicitRoot.map((c) => c.name).join(', ')}): runAsNonRoot left for a human`);
    } else {
      if (pod.securityContext?.runAsNonRoot !== true) {
        (pod.securityContext ??= {}).runAsNonRoot = true;
        applied.add('runAsNonRoot');
      }
      for (const c of containers) {
        if (c.securityContext?.runAsNonRoot === false) {
          c.securityContext.runAsNonRoot = true;
          applied.add('runAsNonRoot');
        }
      }
      const noUser = pod.securityContext?.runAsUser === undefined && containers.every((c) => c.securityContext?.runAsUser === undefined);
      if (opts.runAsUser !== undefined && noUser) {
        pod.securityContext!.runAsUser = opts.runAsUser;
        applied.add('runAsNonRoot');
      }
    }
  }
  if (f.has('readOnlyRootFilesystem')) {
    for (const c of containers) {
      if (c.securityContext?.readOnlyRootFilesystem === true) continue;
      sc(c).readOnlyRootFilesystem = true;
      applied.add('readOnlyRootFilesystem');
    }
  }
  if (f.has('hostNamespaces')) {
    for (const k of ['hostPID', 'hostIPC', 'hostNetwork'] as const) {
      if (pod[k] === true) {
        pod[k] = false;
        applied.add('hostNamespaces');
      }
    }
  }
  if (f.has('automountToken') && pod.automountServiceAccountToken !== false) {
    pod.automountServiceAccountToken = false;
    applied.add('automountToken');
  }
  return { pod, applied: [...applied], notes };
}
