/**
 * Where the API server runs, from what any client can see: the server version string, node labels and
 * provider IDs, the API groups served, and whether mirror pods exist. On managed platforms the control
 * plane is not ours to edit: the area says so plainly and gives the provider's way as text.
 */
import type { KubeObject } from '../../cluster/types.js';
import type { FixId } from './flags.js';

export type PlatformId = 'eks' | 'gke' | 'aks' | 'openshift' | 'k3s' | 'rke2' | 'kind' | 'minikube' | 'kubeadm' | 'unknown';

export interface Platform {
  id: PlatformId;
  name: string;
  /** What it was recognised by. */
  evidence: string;
  /** The control plane is run by someone else: its flags can neither be read nor changed here. */
  managed: boolean;
}

interface Signals {
  gitVersion: string;
  nodes: KubeObject[];
  groups: string[];
  /** Mirror pods of kube-apiserver were found (a kubelet runs it from a manifest). */
  staticPods: boolean;
}

const labelsOf = (n: KubeObject) => n.metadata.labels ?? {};
const providerIdOf = (n: KubeObject) => String((n.spec as { providerID?: string } | undefined)?.providerID ?? '');
const anyNode = (nodes: KubeObject[], test: (labels: Record<string, string>, providerId: string, name: string) => boolean) =>
  nodes.find((n) => test(labelsOf(n), providerIdOf(n), n.metadata.name));

/** Recognise the platform; the first signal that matches wins, most specific first. */
export function detectPlatform(s: Signals): Platform {
  const v = s.gitVersion;
  const node = (id: PlatformId, name: string, managed: boolean, test: Parameters<typeof anyNode>[1], what: string): Platform | undefined => {
    const n = anyNode(s.nodes, test);
    return n ? { id, name, managed, evidence: `node ${n.metadata.name}: ${what}` } : undefined;
  };
  if (/-eks-/.test(v)) return { id: 'eks', name: 'Amazon EKS', managed: true, evidence: `server version ${v}` };
  if (/-gke\./.test(v)) return { id: 'gke', name: 'Google GKE', managed: true, evidence: `server version ${v}` };
  if (/\+k3s\d/.test(v)) return { id: 'k3s', name: 'k3s', managed: false, evidence: `server version ${v}` };
  if (/\+rke2r\d/.test(v)) return { id: 'rke2', name: 'RKE2', managed: false, evidence: `server version ${v}` };
  if (s.groups.some((g) => g.endsWith('.openshift.io')))
    return { id: 'openshift', name: 'OpenShift', managed: false, evidence: `API group ${s.groups.find((g) => g.endsWith('.openshift.io'))}` };
  return (
    node(
      'eks',
      'Amazon EKS',
      true,
      (l, p) =>
        'eks.amazonaws.com/nodegroup' in l || 'eks.amazonaws.com/compute-type' in l || (/^aws:\/\/\/.*\/i-/.test(p) && 'alpha.eksctl.io/cluster-name' in l),
      'EKS labels',
    ) ??
    node('gke', 'Google GKE', true, (l) => 'cloud.google.com/gke-nodepool' in l, 'label cloud.google.com/gke-nodepool') ??
    node(
      'aks',
      'Azure AKS',
      true,
      (l, p) => 'kubernetes.azure.com/cluster' in l || /^azure:\/\/.*\/resourcegroups\/mc_/i.test(p),
      'AKS labels or provider ID',
    ) ??
    node('openshift', 'OpenShift', false, (l) => 'node.openshift.io/os_id' in l, 'label node.openshift.io/os_id') ??
    node('k3s', 'k3s', false, (l) => 'node.k3s.io/hostname' in l || l['node.kubernetes.io/instance-type'] === 'k3s', 'k3s labels') ??
    node('kind', 'kind', false, (_l, p) => p.startsWith('kind://'), 'provider ID kind://') ??
    node('minikube', 'minikube', false, (l) => 'minikube.k8s.io/name' in l, 'label minikube.k8s.io/name') ??
    (s.staticPods
      ? { id: 'kubeadm', name: 'a kubeadm-style control plane', managed: false, evidence: 'kube-apiserver mirror pods in kube-system' }
      : { id: 'unknown', name: 'an unrecognised platform', managed: false, evidence: 'no mirror pod of kube-apiserver is visible' })
  );
}

/** What cannot be changed here, said plainly (Inspection.notApplicable); undefined when the manifest is ours to edit. */
export function notApplicableOn(p: Platform, editable: boolean): string | undefined {
  if (editable) return undefined;
  switch (p.id) {
    case 'eks':
    case 'gke':
    case 'aks':
      return `${p.name} runs the API server for you: its flags cannot be read or changed from the cluster. The probes below still apply; each finding says how ${p.name} lets you change it.`;
    case 'openshift':
      return "OpenShift's kube-apiserver operator owns the API server's static pods and reverts edits to them: change its settings through the APIServer resource named cluster (config.openshift.io/v1).";
    case 'k3s':
    case 'rke2':
      return `${p.name} runs the API server inside its own process, not as a static pod: set flags with kube-apiserver-arg in /etc/rancher/${p.id}/config.yaml on each server node and restart ${p.id}.`;
    case 'kind':
      return 'kind runs the API server as a static pod inside the node container: run kube-harden there, or set the flags in the kind configuration (kubeadmConfigPatches, apiServer.extraArgs) and recreate the cluster.';
    default:
      return undefined;
  }
}

/** The provider's own way to change a setting, for the findings on platforms where the manifest is not ours. */
const PROVIDER_WAYS: Partial<Record<PlatformId, Partial<Record<FixId | 'default', string>>>> = {
  eks: {
    default: 'Amazon EKS sets the API server flags itself; this one cannot be changed.',
    auditLog:
      'Turn on control plane audit logs: aws eks update-cluster-config --name CLUSTER --logging \'{"clusterLogging":[{"types":["audit"],"enabled":true}]}\' (they go to CloudWatch Logs).',
    anonymousAuth:
      'EKS keeps anonymous authentication on for health checks; remove anonymous grants with RBAC (no binding to system:anonymous or system:unauthenticated) and restrict the public endpoint (aws eks update-cluster-config --resources-vpc-config endpointPublicAccess=false or publicAccessCidrs=...).',
  },
  gke: {
    default: 'Google GKE sets the API server flags itself; this one cannot be changed.',
    auditLog: 'GKE writes Admin Activity audit logs to Cloud Logging always; enable Data Access logs in the project IAM audit configuration.',
    anonymousAuth: 'Limit anonymous access to the health endpoints: gcloud container clusters update CLUSTER --anonymous-authentication-config=LIMITED.',
  },
  aks: {
    default: 'Azure AKS sets the API server flags itself; this one cannot be changed.',
    auditLog:
      'Send the kube-audit logs to Log Analytics or storage with a diagnostic setting (az monitor diagnostic-settings create ... --logs \'[{"category":"kube-audit","enabled":true}]\').',
    anonymousAuth:
      'AKS keeps anonymous authentication on for health checks; remove anonymous grants with RBAC and restrict access with authorized IP ranges (az aks update --api-server-authorized-ip-ranges ...).',
  },
  openshift: {
    default: 'Change it through the APIServer resource named cluster (oc edit apiserver cluster); the operator rolls it out.',
    auditLog: 'Audit logging is on; choose its profile with spec.audit.profile in the APIServer resource named cluster.',
    tlsMinVersion: 'Set spec.tlsSecurityProfile (type Intermediate or Modern) in the APIServer resource named cluster.',
    tlsCipherSuites: 'Set spec.tlsSecurityProfile (type Intermediate or Modern) in the APIServer resource named cluster.',
  },
  k3s: { default: 'Add it as kube-apiserver-arg in /etc/rancher/k3s/config.yaml on each server node, then restart k3s.' },
  rke2: { default: 'Add it as kube-apiserver-arg in /etc/rancher/rke2/config.yaml on each server node, then restart rke2-server.' },
  kind: {
    default:
      'Set it in the kind configuration (kubeadmConfigPatches → ClusterConfiguration apiServer.extraArgs) and recreate the cluster, or edit the manifest inside the node container.',
  },
};

export function providerWay(p: Platform, fix: FixId | undefined): string | undefined {
  const ways = PROVIDER_WAYS[p.id];
  if (!ways) return undefined;
  return (fix && ways[fix]) ?? ways.default;
}
