// The NetworkPolicies kube-harden writes, one builder per purpose, and a one-line description of any
// policy (what it isolates, what it allows) for the questions and the review.
import type { LabelSelector, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from './eval-types.js';
import { effectivePolicyTypes, NAMESPACE_NAME_LABEL } from './evaluate.js';
import type { ApiServerTarget, DnsTarget } from './model.js';

export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGER = 'kube-harden';
export const PURPOSE_LABEL = 'kube-harden.io/purpose';
export const DESCRIPTION_ANNOTATION = 'kube-harden.io/description';

export type Purpose =
  'default-deny-ingress' | 'default-deny-egress' | 'allow-dns' | 'allow-same-namespace' | 'allow-ingress-controller' | 'allow-apiserver' | 'allow-app';

/** One policy the plan wants in a namespace, before it is merged with what exists. */
export interface Desired {
  purpose: Purpose;
  /** What it does, for people (also its description annotation). */
  does: string;
  policy: NetworkPolicy;
}

export const isManaged = (p: { metadata: { [k: string]: unknown } }) => (p.metadata.labels as Record<string, string> | undefined)?.[MANAGED_BY] === MANAGER;

function policy(namespace: string, name: string, purpose: Purpose, does: string, spec: NetworkPolicy['spec']): Desired {
  return {
    purpose,
    does,
    policy: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: {
        name,
        namespace,
        labels: { [MANAGED_BY]: MANAGER, [PURPOSE_LABEL]: purpose },
        annotations: { [DESCRIPTION_ANNOTATION]: does },
      },
      spec,
    },
  };
}

/** A DNS-1123 name from parts (lowercase, [a-z0-9-], at most 63 characters). */
export function policyName(...parts: string[]): string {
  const s = parts
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  return s.length <= 63 ? s : s.slice(0, 63).replace(/-$/, '');
}

const nsSelector = (ns: string): LabelSelector => ({ matchLabels: { [NAMESPACE_NAME_LABEL]: ns } });

export const denyIngress = (ns: string) =>
  policy(ns, 'default-deny-ingress', 'default-deny-ingress', 'isolates every pod of the namespace for ingress: only what a policy allows gets in', {
    podSelector: {},
    policyTypes: ['Ingress'],
  });

export const denyEgress = (ns: string) =>
  policy(ns, 'default-deny-egress', 'default-deny-egress', 'isolates every pod of the namespace for egress: only what a policy allows gets out', {
    podSelector: {},
    policyTypes: ['Egress'],
  });

export function allowDns(ns: string, dns: DnsTarget): Desired {
  const to: NetworkPolicyPeer[] = [{ namespaceSelector: nsSelector(dns.namespace), podSelector: { matchLabels: { ...dns.podSelector } } }];
  if (dns.nodeLocal) to.push({ ipBlock: { cidr: `${dns.nodeLocal}/32` } });
  const ports: NetworkPolicyPort[] = dns.ports.map((p) => ({ protocol: p.protocol, port: p.port }));
  return policy(ns, 'allow-dns-egress', 'allow-dns', `lets every pod resolve names: egress to the DNS pods in ${dns.namespace} on port 53`, {
    podSelector: {},
    policyTypes: ['Egress'],
    egress: [{ to, ports }],
  });
}

/** One per direction, so that an existing policy doing one of them is reused without duplicating the other. */
export function allowSameNamespace(ns: string, direction: 'ingress' | 'egress'): Desired {
  const ingress = direction === 'ingress';
  return policy(
    ns,
    `allow-same-namespace-${direction}`,
    'allow-same-namespace',
    ingress ? 'lets the pods of the namespace connect to each other (ingress side)' : 'lets the pods of the namespace connect to each other (egress side)',
    ingress
      ? { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: {} }] }] }
      : { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: {} }] }] },
  );
}

export const allowFromIngressController = (ns: string, controllerNs: string[]) =>
  policy(
    ns,
    'allow-from-ingress-controller',
    'allow-ingress-controller',
    `allows the ingress controller (namespace ${controllerNs.join(', ')}) to reach every pod of the namespace`,
    { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: controllerNs.map((c) => ({ namespaceSelector: nsSelector(c) })) }] },
  );

const cidrOf = (ip: string) => (ip.includes(':') ? `${ip}/128` : `${ip}/32`);

export function allowApiServer(ns: string, app: string, selector: Record<string, string>, api: ApiServerTarget): Desired {
  const byPort = new Map<number, string[]>();
  for (const a of api.addresses) byPort.set(a.port, [...(byPort.get(a.port) ?? []), a.ip]);
  const egress = [...byPort.entries()].map(([port, ips]) => ({
    to: [...new Set(ips)].map((ip) => ({ ipBlock: { cidr: cidrOf(ip) } })),
    ports: [{ protocol: 'TCP' as const, port }],
  }));
  return policy(
    ns,
    policyName('allow', app, 'to-apiserver'),
    'allow-apiserver',
    `lets ${app} reach the Kubernetes API server (${api.addresses.map((a) => `${a.ip}:${a.port}`).join(', ')})`,
    {
      podSelector: { matchLabels: { ...selector } },
      policyTypes: ['Egress'],
      egress,
    },
  );
}

export interface AppRule {
  client: { app: string; selector: Record<string, string> };
  service: { name: string; selector: Record<string, string>; ports: NetworkPolicyPort[] };
}

/** The pods behind a Service accept its clients on its target ports. */
export function allowToService(ns: string, service: AppRule['service'], clients: AppRule['client'][]): Desired {
  return policy(
    ns,
    policyName('allow-to', service.name),
    'allow-app',
    `allows ${clients.map((c) => c.app).join(', ')} to reach the pods of Service ${service.name} on ${portsText(service.ports)}`,
    {
      podSelector: { matchLabels: { ...service.selector } },
      policyTypes: ['Ingress'],
      ingress: [{ from: clients.map((c) => ({ podSelector: { matchLabels: { ...c.selector } } })), ports: service.ports.map((p) => ({ ...p })) }],
    },
  );
}

/** A client may open connections to the pods of the Services it is allowed to reach. */
export function allowFromClient(ns: string, client: AppRule['client'], services: AppRule['service'][]): Desired {
  return policy(
    ns,
    policyName('allow-from', client.app, 'egress'),
    'allow-app',
    `lets ${client.app} reach ${services.map((s) => `${s.name} (${portsText(s.ports)})`).join(', ')}`,
    {
      podSelector: { matchLabels: { ...client.selector } },
      policyTypes: ['Egress'],
      egress: services.map((s) => ({ to: [{ podSelector: { matchLabels: { ...s.selector } } }], ports: s.ports.map((p) => ({ ...p })) })),
    },
  );
}

export const portsText = (ports: NetworkPolicyPort[] | null | undefined): string =>
  ports?.length ? ports.map((p) => `${p.protocol ?? 'TCP'}/${p.port ?? '*'}${p.endPort ? `-${p.endPort}` : ''}`).join(',') : 'every port';

export function selectorText(s: LabelSelector | null | undefined): string {
  if (!s) return '';
  const parts = [
    ...Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(s.matchExpressions ?? []).map((e) => `${e.key} ${e.operator}${e.values?.length ? ` (${e.values.join(',')})` : ''}`),
  ];
  return parts.length ? parts.join(',') : 'all';
}

function peerText(p: NetworkPolicyPeer): string {
  if (p.ipBlock) return `${p.ipBlock.cidr}${p.ipBlock.except?.length ? ` except ${p.ipBlock.except.join(',')}` : ''}`;
  const ns = p.namespaceSelector ? `namespaces ${selectorText(p.namespaceSelector)}` : '';
  const pods = p.podSelector ? `pods ${selectorText(p.podSelector)}` : '';
  return [ns, pods].filter(Boolean).join(' / ') || 'anything';
}

/** One line: what a policy isolates and allows. */
export function describePolicy(p: NetworkPolicy): string {
  const t = effectivePolicyTypes(p);
  const on = `pods ${selectorText(p.spec.podSelector)}`;
  const parts: string[] = [];
  const rules = (rs: Array<{ from?: NetworkPolicyPeer[] | null; to?: NetworkPolicyPeer[] | null; ports?: NetworkPolicyPort[] | null }>, field: 'from' | 'to') =>
    rs.map((r) => `${field} ${(r[field] ?? []).length ? r[field]!.map(peerText).join(' | ') : 'anywhere'} on ${portsText(r.ports)}`).join('; ');
  if (t.includes('Ingress')) parts.push((p.spec.ingress ?? []).length ? `ingress ${rules(p.spec.ingress!, 'from')}` : 'ingress denied');
  if (t.includes('Egress')) parts.push((p.spec.egress ?? []).length ? `egress ${rules(p.spec.egress!, 'to')}` : 'egress denied');
  return `${p.metadata.name} (${on}): ${parts.join('; ')}`;
}
