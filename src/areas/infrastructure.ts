/**
 * Namespaces that hold cluster infrastructure by convention (CNI, CSI, ingress controllers, service
 * meshes, monitoring and log agents, policy engines): changing their pods' security or traffic can take
 * the whole cluster down, so no area puts them in a default plan. Detected from the names, labels and
 * images of well-known projects, as data.
 */
import type { KubeObject } from '../cluster/types.js';
import { podSpecOf } from './pod-template.js';

export const SYSTEM_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease'];
export const isSystemNamespace = (ns: string) => SYSTEM_NAMESPACES.includes(ns);

/** [pattern on an image reference, what it is]. */
export const INFRA_IMAGES: Array<[RegExp, string]> = [
  [/(^|\/)calico\/|tigera\/operator/, 'Calico (CNI)'],
  [/(^|\/)cilium\//, 'Cilium (CNI)'],
  [/flannel/, 'Flannel (CNI)'],
  [/weaveworks\/weave-(kube|npc)/, 'Weave Net (CNI)'],
  [/kube-router/, 'kube-router (CNI)'],
  [/antrea/, 'Antrea (CNI)'],
  [/amazon-k8s-cni|aws-node|amazon\/aws-network-policy-agent/, 'AWS VPC CNI'],
  [/azure-npm|azure-cns|azure-vnet/, 'Azure CNI / NPM'],
  [/(^|\/)sig-storage\/csi-|csi-node-driver|-csi-driver|ebs-csi|efs-csi|pd-csi/, 'a CSI driver'],
  [/longhornio\//, 'Longhorn (storage)'],
  [/rook\/ceph|ceph\/ceph/, 'Rook/Ceph (storage)'],
  [/openebs\//, 'OpenEBS (storage)'],
  [/local-path-provisioner/, 'local-path provisioner (storage)'],
  [/ingress-nginx\/controller|nginx-ingress-controller|nginx\/nginx-ingress/, 'an NGINX ingress controller'],
  [/traefik/, 'Traefik (ingress)'],
  [/haproxy.*ingress|kubernetes-ingress/, 'HAProxy ingress'],
  [/contour|envoyproxy\/envoy/, 'Contour/Envoy (ingress)'],
  [/istio\/(pilot|proxyv2)/, 'Istio (service mesh)'],
  [/linkerd/, 'Linkerd (service mesh)'],
  [/prometheus\/node-exporter|node-exporter/, 'node-exporter (monitoring)'],
  [/prometheus-operator|prom\/prometheus|prometheus\/prometheus/, 'Prometheus (monitoring)'],
  [/fluent-bit|fluentd|fluent\/fluentd/, 'a log shipper (Fluent Bit / Fluentd)'],
  [/datadog\/agent|newrelic|dynatrace|splunk|elastic\/(filebeat|metricbeat)|grafana\/(alloy|promtail|agent)/, 'a monitoring agent'],
  [/metallb/, 'MetalLB (load balancer)'],
  [/coredns/, 'CoreDNS'],
  [/kube-proxy/, 'kube-proxy'],
  [/openpolicyagent\/gatekeeper/, 'Gatekeeper (admission)'],
  [/kyverno/, 'Kyverno (admission)'],
  [/jetstack\/cert-manager|quay\.io\/jetstack/, 'cert-manager'],
];

/** Namespace names used by convention for infrastructure. */
const INFRA_NAMES = new Map<string, string>([
  ['calico-system', 'Calico (CNI)'],
  ['tigera-operator', 'Calico (CNI)'],
  ['kube-flannel', 'Flannel (CNI)'],
  ['cilium', 'Cilium (CNI)'],
  ['ingress-nginx', 'an NGINX ingress controller'],
  ['istio-system', 'Istio (service mesh)'],
  ['linkerd', 'Linkerd (service mesh)'],
  ['monitoring', 'monitoring'],
  ['prometheus', 'monitoring'],
  ['longhorn-system', 'Longhorn (storage)'],
  ['rook-ceph', 'Rook/Ceph (storage)'],
  ['openebs', 'OpenEBS (storage)'],
  ['local-path-storage', 'local-path provisioner (storage)'],
  ['metallb-system', 'MetalLB (load balancer)'],
  ['gatekeeper-system', 'Gatekeeper (admission)'],
  ['kyverno', 'Kyverno (admission)'],
  ['cert-manager', 'cert-manager'],
  ['trivy-system', 'trivy-operator (scanning)'],
  ['argocd', 'Argo CD (GitOps)'],
  ['flux-system', 'Flux (GitOps)'],
]);

export function infraImage(image: string | undefined): string | undefined {
  if (!image) return undefined;
  return INFRA_IMAGES.find(([re]) => re.test(image))?.[1];
}

/** namespace → why it counts as infrastructure. */
export function infrastructureNamespaces(namespaces: KubeObject[], workloads: KubeObject[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const ns of namespaces) {
    const name = ns.metadata.name;
    if (isSystemNamespace(name)) out.set(name, 'Kubernetes system namespace');
    else if (INFRA_NAMES.has(name)) out.set(name, INFRA_NAMES.get(name)!);
    else if (ns.metadata.labels?.['control-plane'] === 'controller-manager' || ns.metadata.labels?.['openshift.io/run-level'])
      out.set(name, 'control-plane components');
  }
  for (const w of workloads) {
    const ns = w.metadata.namespace;
    if (!ns || out.has(ns)) continue;
    const pod = podSpecOf(w);
    const what = [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])].map((c) => infraImage(c.image)).find(Boolean);
    if (what) out.set(ns, `runs ${what}`);
  }
  return out;
}
