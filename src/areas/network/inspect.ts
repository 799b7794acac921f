// What the network area reads and finds: per namespace, whether policies isolate its pods for ingress
// and for egress, what the existing policies allow, and whether the CNI enforces any of it.
import type { KubeObject } from '../../cluster/types.js';
import { refOf } from '../../cluster/types.js';
import type { Finding, InspectContext, Inspection, ReadSpec, Rule } from '../types.js';
import { detectCni, type CniFacts } from './cni.js';
import type { NamespaceInfo, NetworkPolicy, Peer } from './eval-types.js';
import { compileModel, evaluateCompiled, selectingPolicies, type CompiledModel } from './evaluate.js';
import {
  findApiServer,
  findDns,
  findIngressControllers,
  groupPods,
  namespaceInfos,
  newPodIn,
  OUTSIDE,
  peerOfGroup,
  servicesOf,
  type ApiServerTarget,
  type DnsTarget,
  type IngressController,
  type PodGroup,
  type ServiceInfo,
} from './model.js';
import { describePolicy } from './policies.js';

export const NETWORK_READS: ReadSpec[] = [
  { apiVersion: 'v1', kind: 'Pod', status: true },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', optional: true },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' },
  { apiVersion: 'apps/v1', kind: 'DaemonSet' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding' },
];

export const RULES: Rule[] = [
  {
    id: 'defaultDenyIngress',
    severity: 'medium',
    title: 'Pods accept connections from anywhere',
    why: 'Without a NetworkPolicy isolating them for ingress, any pod of any namespace (and any address that can route to the pod network) may connect to every port of these pods: one compromised pod reaches them all.',
    fix: 'A default-deny ingress policy for the namespace, plus allows that keep it working (same namespace, the ingress controller, or app-to-app rules from the Services).',
    references: [
      {
        title: 'Kubernetes: Network Policies, default policies',
        url: 'https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-policies',
      },
      { title: 'CIS Kubernetes Benchmark 5.3.2: ensure that all Namespaces have Network Policies defined' },
      { title: 'NSA/CISA Kubernetes Hardening Guide: network separation' },
    ],
  },
  {
    id: 'defaultDenyEgress',
    severity: 'low',
    title: 'Pods may connect anywhere',
    why: 'Without a NetworkPolicy isolating them for egress, these pods can open connections to every pod and to any address: an attacker in one of them can move sideways and send data out.',
    fix: 'A default-deny egress policy for the namespace with DNS always allowed, plus the API server for the apps that use their service-account token, and same-namespace or app-to-app rules.',
    references: [
      {
        title: 'Kubernetes: Network Policies, default deny all egress traffic',
        url: 'https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-deny-all-egress-traffic',
      },
      { title: 'CIS Kubernetes Benchmark 5.3.2: ensure that all Namespaces have Network Policies defined' },
    ],
  },
  {
    id: 'cniNoEnforcement',
    severity: 'high',
    title: 'The CNI does not enforce NetworkPolicy',
    why: 'NetworkPolicies are only API objects: the network plugin is what enforces them. With a plugin that does not (Flannel alone, the AWS VPC CNI without its policy agent), every policy of the cluster does nothing and every pod can reach every other.',
    fix: 'Run a policy engine: Calico beside Flannel (Canal), or a CNI that enforces policies (Calico, Cilium, Antrea); on EKS enable the VPC CNI network policy agent.',
    references: [
      { title: 'Kubernetes: Network Policies, prerequisites', url: 'https://kubernetes.io/docs/concepts/services-networking/network-policies/#prerequisites' },
    ],
  },
  {
    id: 'cniUnknown',
    severity: 'low',
    title: 'No known CNI detected: policies may not be enforced',
    why: 'No DaemonSet of a known network plugin was found (Calico, Cilium, Weave Net, Flannel, kube-router, Antrea, the AWS VPC CNI, Azure NPM, GKE Dataplane V2, OVN-Kubernetes): whether NetworkPolicies are enforced here cannot be told from the cluster.',
    fix: "Check your network plugin's documentation: it must enforce NetworkPolicy, or the policies do nothing.",
    references: [
      { title: 'Kubernetes: Network Policies, prerequisites', url: 'https://kubernetes.io/docs/concepts/services-networking/network-policies/#prerequisites' },
    ],
  },
];

export interface Isolation {
  /** A new pod of the namespace is isolated and denies what no rule allows (from outside and from another namespace). */
  defaultDeny: boolean;
  /** Pods selected by at least one policy of that direction. */
  isolatedPods: number;
  /** The policies that isolate the new pod, when any. */
  by: string[];
  /** Why it is not a default deny although pods are isolated (a policy that allows anything). */
  open?: string;
}

export interface NamespaceFacts {
  name: string;
  /** Why it counts as infrastructure (never in the default namespace set). */
  infrastructure?: string;
  pods: number;
  groups: string[];
  /** One line per existing policy: what it isolates and allows. */
  policies: string[];
  ingress: Isolation;
  egress: Isolation;
}

export interface NetworkFacts {
  /** The namespaces in scope, with their isolation. */
  namespaces: NamespaceFacts[];
  /** Every namespace's labels (the evaluator matches namespaceSelectors on them). */
  namespaceInfos: NamespaceInfo[];
  /** Every NetworkPolicy of the cluster, as read. */
  policies: NetworkPolicy[];
  groups: PodGroup[];
  services: ServiceInfo[];
  dns: DnsTarget;
  apiServer: ApiServerTarget;
  ingressControllers: IngressController[];
  cni: CniFacts;
  /** `namespace/app` of the apps whose service account is bound to a Role or ClusterRole (they likely call the API). */
  apiClients: string[];
  /** Namespace -> how many Ingresses route into it (their backends are reached by the ingress controller). */
  ingressesByNamespace: Record<string, number>;
  hostNetworkPods: number;
}

const countBy = (xs: string[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
};

/** A port nothing declares: the probe for "any other connection". */
const ODD_PORT = 47911;

/** Isolation of one direction of a namespace, as the evaluator sees it. */
function isolation(m: CompiledModel, ns: string, groups: PodGroup[], direction: 'ingress' | 'egress'): Isolation {
  const probe = newPodIn(ns);
  const elsewhere = newPodIn('kube-harden-probe');
  const others: Peer[] = direction === 'ingress' ? [OUTSIDE, elsewhere] : [OUTSIDE];
  const verdicts = others.map((o) => {
    const e = direction === 'ingress' ? evaluateCompiled(m, o, probe, ODD_PORT, 'TCP') : evaluateCompiled(m, probe, o, ODD_PORT, 'TCP');
    return e[direction];
  });
  const isolatedPods = groups.filter((g) => selectingPolicies(m, peerOfGroup(g), direction).length > 0).reduce((n, g) => n + g.pods.length, 0);
  const by = verdicts[0].selectedBy;
  const allowing = [...new Set(verdicts.flatMap((v) => v.allowedBy))];
  return {
    defaultDeny: verdicts.every((v) => v.isolated && !v.allowed),
    isolatedPods,
    by,
    ...(by.length && allowing.length ? { open: `${allowing.join(', ')} allow${allowing.length === 1 ? 's' : ''} it from anywhere` } : {}),
  };
}

/** Service accounts bound to a Role or ClusterRole, `namespace/name`. */
function boundServiceAccounts(bindings: KubeObject[]): Set<string> {
  const out = new Set<string>();
  for (const b of bindings)
    for (const s of (b.subjects as Array<{ kind: string; name: string; namespace?: string }> | undefined) ?? [])
      if (s.kind === 'ServiceAccount') out.add(`${s.namespace ?? b.metadata.namespace ?? 'default'}/${s.name}`);
  return out;
}

function findingOf(rule: Rule, ns: KubeObject, message: string): Finding {
  return {
    id: `network/${rule.id}/Namespace//${ns.metadata.name}`,
    area: 'network',
    rule: rule.id,
    severity: rule.severity,
    ref: refOf(ns),
    message,
    fixable: true,
  };
}

function isolationMessage(dir: 'ingress' | 'egress', iso: Isolation, pods: number): string {
  const what = dir === 'ingress' ? 'accept connections from any pod or address' : 'may connect to any pod or address';
  if (iso.open) return `no default-deny ${dir}: pods are isolated, but ${iso.open}`;
  if (iso.isolatedPods >= pods) return `no default-deny ${dir}: every pod is selected by some ${dir} policy, but a new pod would ${what.replace(/^may /, '')}`;
  return `no default-deny ${dir}: ${pods - iso.isolatedPods} of ${pods} pod(s) ${what}`;
}

export async function inspectNetwork(ctx: InspectContext): Promise<Inspection<NetworkFacts>> {
  ctx.onProgress?.('reading pods, services and network policies');
  const read = (kind: string) => ctx.list(kind, NETWORK_READS.find((r) => r.kind === kind)!.apiVersion);
  const [pods, policyObjects, serviceObjects, slices, ingresses, daemonSets, deployments, roleBindings, clusterRoleBindings] = await Promise.all(
    ['Pod', 'NetworkPolicy', 'Service', 'EndpointSlice', 'Ingress', 'DaemonSet', 'Deployment', 'RoleBinding', 'ClusterRoleBinding'].map(read),
  );
  const policies = policyObjects as unknown as NetworkPolicy[];
  const services = servicesOf(serviceObjects);
  const { groups, hostNetwork } = groupPods(pods, services);
  const namespaces = namespaceInfos(ctx.scope.all);
  const m = compileModel({ namespaces, policies });
  const cni = detectCni([...daemonSets, ...deployments]);
  const findings: Finding[] = [];
  const [ingressRule, egressRule, cniRule] = RULES;

  const nsFacts: NamespaceFacts[] = [];
  for (const ns of ctx.scope.all) {
    const name = ns.metadata.name;
    if (!ctx.scope.inScope(name)) continue;
    const mine = groups.filter((g) => g.namespace === name);
    const podCount = mine.reduce((n, g) => n + g.pods.length, 0);
    const facts: NamespaceFacts = {
      name,
      infrastructure: ctx.scope.infrastructure.get(name),
      pods: podCount,
      groups: mine.map((g) => g.id),
      policies: policies.filter((p) => p.metadata.namespace === name).map(describePolicy),
      ingress: isolation(m, name, mine, 'ingress'),
      egress: isolation(m, name, mine, 'egress'),
    };
    nsFacts.push(facts);
    if (podCount === 0) continue;
    if (!facts.ingress.defaultDeny) findings.push(findingOf(ingressRule, ns, isolationMessage('ingress', facts.ingress, podCount)));
    if (!facts.egress.defaultDeny) findings.push(findingOf(egressRule, ns, isolationMessage('egress', facts.egress, podCount)));
  }

  if (cni.enforces === 'no') {
    const culprit = cni.detected.find((d) => d.enforces === 'no') ?? cni.detected[0];
    findings.push({
      id: `network/cniNoEnforcement/${culprit.ref.kind}/${culprit.ref.namespace ?? ''}/${culprit.ref.name}`,
      area: 'network',
      rule: cniRule.id,
      severity: cniRule.severity,
      ref: culprit.ref,
      message: `${cni.detected.map((d) => d.name).join(' + ')} does not enforce NetworkPolicy: every policy of the cluster does nothing (${culprit.why})`,
      fixable: false,
      manual: cniRule.fix,
    });
  }

  if (cni.detected.length === 0) {
    const rule = RULES[3];
    findings.push({
      id: `network/${rule.id}/CNI//cluster`,
      area: 'network',
      rule: rule.id,
      severity: rule.severity,
      ref: { apiVersion: '', kind: 'CNI', name: 'cluster' },
      message: 'no CNI detected: policies may not be enforced',
      fixable: false,
      manual: rule.fix,
    });
  }

  const bound = boundServiceAccounts([...roleBindings, ...clusterRoleBindings]);
  const apiClients = [
    ...new Set(groups.filter((g) => g.mountsToken && bound.has(`${g.namespace}/${g.serviceAccount}`)).map((g) => `${g.namespace}/${g.app}`)),
  ].sort();
  const facts: NetworkFacts = {
    namespaces: nsFacts,
    namespaceInfos: namespaces,
    policies,
    groups,
    services,
    dns: findDns(services, daemonSets),
    apiServer: findApiServer(services, slices),
    ingressControllers: findIngressControllers([...deployments, ...daemonSets]),
    cni,
    apiClients,
    ingressesByNamespace: countBy(ingresses.map((i) => i.metadata.namespace ?? 'default')),
    hostNetworkPods: hostNetwork,
  };
  const notes = [cni.enforces === 'no' ? `WARNING: ${cni.summary}` : cni.summary];
  const isolated = nsFacts.filter((n) => n.pods > 0 && n.ingress.defaultDeny).length;
  const withPods = nsFacts.filter((n) => n.pods > 0).length;
  notes.push(
    `${isolated} of ${withPods} namespace(s) with pods deny ingress by default; ${nsFacts.filter((n) => n.pods > 0 && n.egress.defaultDeny).length} deny egress`,
  );
  if (facts.ingressControllers.length)
    notes.push(`ingress controller: ${facts.ingressControllers.map((c) => `${c.what} (${c.kind.toLowerCase()}/${c.name} in ${c.namespace})`).join(', ')}`);
  if (hostNetwork) notes.push(`${hostNetwork} pod(s) use the host network: NetworkPolicy does not apply to them`);
  return { area: 'network', findings, facts, notes };
}
