import type { KubeObject } from '../../cluster/types.js';
import { podSpecOf as podSpecAt } from '../pod-template.js';

export interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type: string; localhostProfile?: string };
  [k: string]: unknown;
}

export interface Container {
  name: string;
  image?: string;
  securityContext?: SecurityContext;
  [k: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: SecurityContext & { runAsNonRoot?: boolean };
  hostPID?: boolean;
  hostIPC?: boolean;
  hostNetwork?: boolean;
  automountServiceAccountToken?: boolean;
  volumes?: Array<{ name: string; hostPath?: unknown; [k: string]: unknown }>;
  [k: string]: unknown;
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'Job', 'Pod'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** The pod spec inside any workload kind, typed for the checks. */
export const podSpecOf = (obj: KubeObject): PodSpec | undefined => podSpecAt<PodSpec>(obj);

/** Pod templates of Jobs and running Pods are immutable: those need their owner or source fixed. */
export function isPatchable(obj: KubeObject): boolean {
  return obj.kind === 'Deployment' || obj.kind === 'StatefulSet' || obj.kind === 'DaemonSet' || obj.kind === 'CronJob';
}

/** Objects a controller made from a template we also inspect (a ReplicaSet's pods, a CronJob's jobs). */
export function isOwned(obj: KubeObject): boolean {
  return (obj.metadata.ownerReferences ?? []).some((o) => o.controller);
}

export const allContainers = (p: PodSpec): Container[] => [...(p.initContainers ?? []), ...p.containers];

export const effective = <K extends keyof SecurityContext>(p: PodSpec, c: Container, key: K): SecurityContext[K] | undefined =>
  c.securityContext?.[key] !== undefined ? c.securityContext[key] : (p.securityContext?.[key] as SecurityContext[K] | undefined);
