/**
 * Whose a workload is, before kube-harden touches it: an operator's (its controller owns it and would
 * revert or fight a change), GitOps-managed (Argo CD or Flux put it back at the next sync: the change
 * belongs in Git), or a node agent (privileged or host-bound: hardening it stops it on real nodes). As
 * data, with one classifier.
 */
import type { KubeObject } from '../../cluster/types.js';
import { podSpecOf } from './pod-spec.js';

/** Built-in owners that are part of the workload itself (a Deployment's ReplicaSet, a CronJob's Job). */
const BUILTIN_OWNERS = new Set(['apps/v1/ReplicaSet', 'apps/v1/Deployment', 'apps/v1/StatefulSet', 'apps/v1/DaemonSet', 'batch/v1/Job', 'batch/v1/CronJob']);

export interface Ownership {
  /** An operator's resource owns it: change that resource instead. */
  owner?: { apiVersion: string; kind: string; name: string };
  /** Argo CD or Flux manages it: put the change in Git. */
  gitops?: { tool: 'Argo CD' | 'Flux'; app: string };
  /** A node agent: why (privileged, hostPID, hostNetwork, hostPath /...). */
  nodeAgent?: string[];
}

function gitopsOf(o: KubeObject): Ownership['gitops'] {
  const l = o.metadata.labels ?? {};
  const a = o.metadata.annotations ?? {};
  if (l['argocd.argoproj.io/instance']) return { tool: 'Argo CD', app: l['argocd.argoproj.io/instance'] };
  const tracking = a['argocd.argoproj.io/tracking-id'];
  if (tracking) return { tool: 'Argo CD', app: tracking.split(':')[0] };
  if (l['app.kubernetes.io/instance'] && Object.keys(a).some((k) => k.startsWith('argocd.argoproj.io/')))
    return { tool: 'Argo CD', app: l['app.kubernetes.io/instance'] };
  const flux = (kind: string) => {
    const name = l[`${kind}.toolkit.fluxcd.io/name`];
    return name ? `${kind === 'kustomize' ? 'Kustomization' : 'HelmRelease'} ${l[`${kind}.toolkit.fluxcd.io/namespace`] ?? ''}/${name}` : undefined;
  };
  const f = flux('kustomize') ?? flux('helm');
  if (f) return { tool: 'Flux', app: f };
  return undefined;
}

function nodeAgentReasons(o: KubeObject): string[] | undefined {
  if (o.kind !== 'DaemonSet') return undefined;
  const pod = podSpecOf(o);
  if (!pod) return undefined;
  const why: string[] = [];
  if ([...(pod.initContainers ?? []), ...pod.containers].some((c) => c.securityContext?.privileged)) why.push('privileged');
  for (const k of ['hostPID', 'hostIPC', 'hostNetwork'] as const) if (pod[k]) why.push(k);
  const paths = (pod.volumes ?? []).map((v) => (v.hostPath as { path?: string } | undefined)?.path).filter((p): p is string => !!p);
  if (paths.length) why.push(`hostPath ${paths.join(', ')}`);
  return why.length ? why : undefined;
}

export function ownershipOf(o: KubeObject): Ownership {
  const out: Ownership = {};
  const ctrl = (o.metadata.ownerReferences ?? []).find((r) => r.controller);
  if (ctrl && !BUILTIN_OWNERS.has(`${ctrl.apiVersion}/${ctrl.kind}`)) out.owner = { apiVersion: ctrl.apiVersion, kind: ctrl.kind, name: ctrl.name };
  const g = gitopsOf(o);
  if (g) out.gitops = g;
  const agent = nodeAgentReasons(o);
  if (agent) out.nodeAgent = agent;
  return out;
}

/** Why a workload is not patched by default, in the words a finding's `manual` uses; undefined: it may be. */
export function leftAlone(o: Ownership): string | undefined {
  if (o.owner)
    return `owned by ${o.owner.kind} ${o.owner.name} (${o.owner.apiVersion}): its operator would revert the change; set the security context in that resource`;
  if (o.gitops) return `managed by ${o.gitops.tool} (${o.gitops.app}): a change here is reverted at the next sync; put it in Git (the plan shows the patch)`;
  if (o.nodeAgent) return `node agent (${o.nodeAgent.join(', ')}): hardening it stops it on real nodes; left out unless chosen explicitly`;
  return undefined;
}
