// Which CNI runs, and whether it enforces NetworkPolicy, from the DaemonSets (and Deployments) of the
// cluster: their names and images, as data. A NetworkPolicy is only an API object; the plugin that
// programs the node's dataplane is what enforces it. Flannel alone programs routes, not policies.
import type { KubeObject } from '../../cluster/types.js';
import { podSpecOf } from '../pod-template.js';

export type Enforcement = 'yes' | 'no' | 'unknown';

interface CniSignature {
  id: string;
  name: string;
  /** Matches an image of the DaemonSet's containers. */
  image?: RegExp;
  /** Matches the DaemonSet's name. */
  daemonSet?: RegExp;
  /** Whether it enforces NetworkPolicy, given every DaemonSet and image the cluster runs. */
  enforces: (all: { images: string[]; containers: string[]; args: string[] }) => { enforces: Enforcement; why: string };
}

const always = (why: string) => () => ({ enforces: 'yes' as const, why });

/** The plugins, as data (first match per DaemonSet wins). */
export const CNI_SIGNATURES: CniSignature[] = [
  {
    id: 'calico',
    name: 'Calico',
    image: /(^|\/)calico\/(node|cni|typha)|tigera\/operator/,
    daemonSet: /^calico-node$/,
    enforces: always('Calico enforces NetworkPolicy'),
  },
  {
    id: 'gke-dataplane-v2',
    name: 'GKE Dataplane V2',
    daemonSet: /^anetd$/,
    image: /gke.*\/(cilium|anetd)/,
    enforces: always('GKE Dataplane V2 (Cilium) enforces NetworkPolicy'),
  },
  {
    id: 'cilium',
    name: 'Cilium',
    image: /(^|\/)cilium\/cilium(:|@|$)|cilium\/cilium-/,
    daemonSet: /^cilium$/,
    enforces: always('Cilium enforces NetworkPolicy'),
  },
  {
    id: 'weave',
    name: 'Weave Net',
    image: /weaveworks\/weave-kube|weaveworks\/weave-npc/,
    daemonSet: /^weave-net$/,
    enforces: ({ images }) =>
      images.some((i) => /weave-npc/.test(i))
        ? { enforces: 'yes', why: 'weave-npc enforces NetworkPolicy' }
        : { enforces: 'no', why: 'Weave Net without its weave-npc container does not enforce NetworkPolicy' },
  },
  { id: 'antrea', name: 'Antrea', image: /antrea\/antrea|antrea-agent/, daemonSet: /^antrea-agent$/, enforces: always('Antrea enforces NetworkPolicy') },
  {
    id: 'kube-router',
    name: 'kube-router',
    image: /kube-router/,
    daemonSet: /^kube-router$/,
    enforces: ({ args }) =>
      args.some((a) => /--run-firewall=false/.test(a))
        ? { enforces: 'no', why: 'kube-router runs with --run-firewall=false: NetworkPolicy is not enforced' }
        : { enforces: 'yes', why: 'kube-router enforces NetworkPolicy (its firewall is on)' },
  },
  {
    id: 'aws-node',
    name: 'AWS VPC CNI',
    image: /amazon-k8s-cni|amazon\/aws-network-policy-agent/,
    daemonSet: /^aws-node$/,
    enforces: ({ images, args }) =>
      images.some((i) => /aws-network-policy-agent/.test(i)) && !args.some((a) => /--enable-network-policy=false/.test(a))
        ? { enforces: 'yes', why: 'the AWS network policy agent enforces NetworkPolicy' }
        : { enforces: 'no', why: 'the AWS VPC CNI enforces NetworkPolicy only with its network policy agent (enableNetworkPolicy), which is not running' },
  },
  { id: 'azure-npm', name: 'Azure Network Policy Manager', image: /azure-npm/, daemonSet: /^azure-npm/, enforces: always('Azure NPM enforces NetworkPolicy') },
  {
    id: 'azure-cni',
    name: 'Azure CNI',
    image: /azure-cns|azure-vnet|azure-cni/,
    daemonSet: /^(azure-cns|azure-cni)/,
    enforces: () => ({ enforces: 'no', why: 'Azure CNI enforces NetworkPolicy only with Azure NPM, Calico or Cilium, none of which runs' }),
  },
  {
    id: 'ovn-kubernetes',
    name: 'OVN-Kubernetes',
    image: /ovn-kubernetes|ovnkube/,
    daemonSet: /^ovnkube-node$/,
    enforces: always('OVN-Kubernetes enforces NetworkPolicy'),
  },
  {
    id: 'flannel',
    name: 'Flannel',
    image: /flannel/,
    daemonSet: /flannel/,
    enforces: () => ({ enforces: 'no', why: 'Flannel provides routes only: it does not enforce NetworkPolicy' }),
  },
  {
    id: 'kindnet',
    name: 'kindnet',
    image: /kindnetd/,
    daemonSet: /^kindnet$/,
    enforces: () => ({ enforces: 'unknown', why: 'kindnet enforces NetworkPolicy only in recent versions (kind 0.24+, kube-network-policies)' }),
  },
];

export interface CniDetected {
  id: string;
  name: string;
  enforces: Enforcement;
  why: string;
  /** The DaemonSets (or Deployments) it was found in, `namespace/name`. */
  objects: string[];
  /** The first object, for findings. */
  ref: { apiVersion: string; kind: string; namespace?: string; name: string };
}

export interface CniFacts {
  detected: CniDetected[];
  /** Whether NetworkPolicy is enforced, all plugins considered. */
  enforces: Enforcement;
  /** One line for the overview. */
  summary: string;
}

const imagesOf = (o: KubeObject) => {
  const pod = podSpecOf(o);
  return [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])];
};

/** The CNI(s) of the cluster, from its DaemonSets (and Deployments, for operators). */
export function detectCni(workloads: KubeObject[]): CniFacts {
  const daemonSets = workloads.filter((w) => w.kind === 'DaemonSet');
  const containers = daemonSets.flatMap(imagesOf);
  const all = {
    images: containers.map((c) => c.image ?? ''),
    containers: containers.map((c) => c.name),
    args: containers.flatMap((c) => [...((c as { args?: string[] }).args ?? []), ...((c as { command?: string[] }).command ?? [])]),
  };
  const found = new Map<string, CniDetected>();
  for (const ds of daemonSets) {
    const images = imagesOf(ds).map((c) => c.image ?? '');
    const sig = CNI_SIGNATURES.find((s) => (s.daemonSet && s.daemonSet.test(ds.metadata.name)) || (s.image && images.some((i) => s.image!.test(i))));
    if (!sig) continue;
    const key = `${ds.metadata.namespace}/${ds.metadata.name}`;
    const prev = found.get(sig.id);
    if (prev) {
      prev.objects.push(key);
      continue;
    }
    const verdict = sig.enforces(all);
    found.set(sig.id, {
      id: sig.id,
      name: sig.name,
      ...verdict,
      objects: [key],
      ref: { apiVersion: ds.apiVersion, kind: ds.kind, namespace: ds.metadata.namespace, name: ds.metadata.name },
    });
  }
  const detected = [...found.values()];
  if (detected.length === 0) {
    return { detected, enforces: 'unknown', summary: 'no CNI detected: policies may not be enforced (no known CNI DaemonSet found)' };
  }
  // One plugin that enforces is enough (Canal: Flannel routes, Calico enforces).
  const engines = detected.filter((d) => d.enforces === 'yes');
  const names = detected.map((d) => d.name).join(' + ');
  if (engines.length) return { detected, enforces: 'yes', summary: `CNI: ${names}; NetworkPolicy is enforced (${engines.map((e) => e.name).join(', ')})` };
  if (detected.some((d) => d.enforces === 'unknown')) {
    return { detected, enforces: 'unknown', summary: `CNI: ${names}; whether NetworkPolicy is enforced is unknown (${detected.map((d) => d.why).join('; ')})` };
  }
  return {
    detected,
    enforces: 'no',
    summary: `CNI: ${names} DOES NOT ENFORCE NetworkPolicy: policies are stored but do nothing (${detected.map((d) => d.why).join('; ')})`,
  };
}
