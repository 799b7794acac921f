// The cluster as the network area sees it: pods grouped by what a NetworkPolicy can tell apart (namespace,
// labels, ports), the Services that front them, where DNS and the API server are, and which ingress
// controllers run. Built once by inspect from the LISTs; plain data, read by questions, plan and review.
import type { KubeObject } from '../../cluster/types.js';
import { infraImage } from '../infrastructure.js';
import { podSpecOf, type TemplateContainer as Container } from '../pod-template.js';
import type { ContainerPort, NamespaceInfo, Peer, Protocol } from './eval-types.js';
import type { PortSpec } from './evaluate.js';

/** Labels a controller adds per revision: they never tell apps apart, and would split identical pods. */
const REVISION_LABELS = [
  'pod-template-hash',
  'controller-revision-hash',
  'pod-template-generation',
  'statefulset.kubernetes.io/pod-name',
  'batch.kubernetes.io/controller-uid',
  'controller-uid',
  'batch.kubernetes.io/job-name',
  'job-name',
];
/** Labels that name the app, most specific first. */
const APP_LABELS = ['app.kubernetes.io/name', 'app', 'k8s-app', 'name', 'component'];

/** Identical pods, as far as NetworkPolicy can tell: one namespace, the same labels and ports. */
export interface PodGroup {
  /** `namespace/app`, with `#n` when one app has several groups (e.g. versions). */
  id: string;
  namespace: string;
  /** The app it belongs to (a label value, or its owner's name). */
  app: string;
  /** The labels that select the app's pods (a Service-like selector); empty when the pods have no label. */
  appSelector: Record<string, string>;
  labels: Record<string, string>;
  ports: ContainerPort[];
  /** The first pod's IP (for ipBlock matching), when it has one. */
  ip?: string;
  pods: string[];
  serviceAccount: string;
  /** The pods mount their service-account token. */
  mountsToken: boolean;
  /** Service names (of its namespace) its containers' env, args or command mention. */
  mentions: string[];
}

export interface ServicePort {
  name?: string;
  port: number;
  targetPort: number | string;
  protocol: Protocol;
}

export interface ServiceInfo {
  namespace: string;
  name: string;
  selector: Record<string, string>;
  ports: ServicePort[];
  clusterIP?: string;
}

export interface DnsTarget {
  namespace: string;
  podSelector: Record<string, string>;
  ports: Array<{ port: number; protocol: Protocol }>;
  /** How it was found, for the question's help. */
  source: string;
  /** A node-local DNS cache's link-local address, when one runs (pods then ask it, not kube-dns). */
  nodeLocal?: string;
}

export interface ApiServerTarget {
  /** Addresses and ports of the `kubernetes` Service's endpoints, and its ClusterIP on its port. */
  addresses: Array<{ ip: string; port: number }>;
  /** The endpoints' addresses alone: where the API server's own connections (webhooks, proxy) come from. */
  endpoints: string[];
  source: string;
}

export interface IngressController {
  namespace: string;
  name: string;
  kind: string;
  what: string;
  /** Its pods use the host network: their connections come from node addresses, which no namespaceSelector matches. */
  hostNetwork: boolean;
}

export function appOf(labels: Record<string, string>, fallback: string): { app: string; selector: Record<string, string> } {
  for (const k of APP_LABELS) if (labels[k]) return { app: labels[k], selector: { [k]: labels[k] } };
  return { app: fallback, selector: { ...labels } };
}

export function stripRevision(labels: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels ?? {}).sort()) if (!REVISION_LABELS.includes(k)) out[k] = labels![k];
  return out;
}

/** The name a controller gave a pod, without its generated suffixes (reviews-v1-5f6d7-abcde -> reviews-v1). */
function ownerName(pod: KubeObject): string {
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller);
  if (!owner) return pod.metadata.name;
  return owner.kind === 'ReplicaSet' ? owner.name.replace(/-[a-z0-9]{5,10}$/, '') : owner.name;
}

const portsOf = (containers: Container[]): ContainerPort[] =>
  containers
    .flatMap((c) =>
      ((c.ports as ContainerPort[] | undefined) ?? []).map((p) => ({
        ...(p.name ? { name: p.name } : {}),
        containerPort: p.containerPort,
        protocol: p.protocol ?? 'TCP',
      })),
    )
    .sort((a, b) => a.containerPort - b.containerPort || a.protocol.localeCompare(b.protocol));

function textOf(containers: Container[]): string {
  const parts: string[] = [];
  for (const c of containers) {
    for (const e of (c.env as Array<{ value?: string }> | undefined) ?? []) if (e.value) parts.push(e.value);
    for (const a of [...((c.args as string[] | undefined) ?? []), ...((c.command as string[] | undefined) ?? [])]) parts.push(a);
  }
  return parts.join('\n');
}

const mentionRe = (svc: string) => new RegExp(`(^|[^a-z0-9-])${svc.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^a-z0-9-])`, 'i');

/** Running (not finished) pods, grouped; hostNetwork pods are left out (NetworkPolicy does not apply to them). */
export function groupPods(pods: KubeObject[], services: ServiceInfo[]): { groups: PodGroup[]; hostNetwork: number } {
  const byKey = new Map<string, PodGroup>();
  let hostNetwork = 0;
  const svcByNs = new Map<string, string[]>();
  for (const s of services) svcByNs.set(s.namespace, [...(svcByNs.get(s.namespace) ?? []), s.name]);
  for (const pod of pods) {
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') continue;
    const spec = podSpecOf(pod);
    if (!spec) continue;
    if (spec.hostNetwork) {
      hostNetwork++;
      continue;
    }
    const ns = pod.metadata.namespace ?? 'default';
    const labels = stripRevision(pod.metadata.labels);
    const containers = [...(spec.initContainers ?? []), ...spec.containers];
    const ports = portsOf(containers);
    const serviceAccount = (spec.serviceAccountName as string | undefined) ?? 'default';
    const mountsToken = spec.automountServiceAccountToken !== false;
    const key = JSON.stringify([ns, labels, ports, serviceAccount, mountsToken]);
    const ip = (pod.status as { podIP?: string } | undefined)?.podIP;
    const existing = byKey.get(key);
    if (existing) {
      existing.pods.push(pod.metadata.name);
      existing.ip ??= ip;
      continue;
    }
    const { app, selector } = appOf(labels, ownerName(pod));
    const text = textOf(containers);
    const mentions = (svcByNs.get(ns) ?? []).filter((s) => mentionRe(s).test(text));
    byKey.set(key, { id: '', namespace: ns, app, appSelector: selector, labels, ports, ip, pods: [pod.metadata.name], serviceAccount, mountsToken, mentions });
  }
  const groups = [...byKey.values()].sort(
    (a, b) => a.namespace.localeCompare(b.namespace) || a.app.localeCompare(b.app) || JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)),
  );
  // Several groups of one app (versions, roles): named by the labels that tell them apart.
  const byApp = new Map<string, PodGroup[]>();
  for (const g of groups) byApp.set(`${g.namespace}/${g.app}`, [...(byApp.get(`${g.namespace}/${g.app}`) ?? []), g]);
  for (const [base, gs] of byApp) {
    if (gs.length === 1) {
      gs[0].id = base;
      continue;
    }
    const keys = [...new Set(gs.flatMap((g) => Object.keys(g.labels)))].filter((k) => new Set(gs.map((g) => g.labels[k] ?? '\0')).size > 1).sort();
    const seen = new Map<string, number>();
    for (const g of gs) {
      const tag = keys.map((k) => `${k}=${g.labels[k] ?? '-'}`).join(',');
      const n = (seen.get(tag) ?? 0) + 1;
      seen.set(tag, n);
      g.id = `${base}${tag ? `[${tag}]` : ''}${n > 1 || !tag ? `#${n}` : ''}`;
    }
  }
  return { groups, hostNetwork };
}

export function servicesOf(objects: KubeObject[]): ServiceInfo[] {
  return objects
    .map((s) => {
      const spec = (s.spec ?? {}) as {
        selector?: Record<string, string>;
        ports?: Array<{ name?: string; port: number; targetPort?: number | string; protocol?: Protocol }>;
        clusterIP?: string;
      };
      return {
        namespace: s.metadata.namespace ?? 'default',
        name: s.metadata.name,
        selector: spec.selector ?? {},
        ports: (spec.ports ?? []).map((p) => ({
          ...(p.name ? { name: p.name } : {}),
          port: p.port,
          targetPort: p.targetPort ?? p.port,
          protocol: p.protocol ?? 'TCP',
        })),
        ...(spec.clusterIP && spec.clusterIP !== 'None' ? { clusterIP: spec.clusterIP } : {}),
      };
    })
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

const DEFAULT_DNS: DnsTarget = {
  namespace: 'kube-system',
  podSelector: { 'k8s-app': 'kube-dns' },
  ports: [
    { port: 53, protocol: 'UDP' },
    { port: 53, protocol: 'TCP' },
  ],
  source: 'no kube-dns Service found: the usual kube-system pods labelled k8s-app=kube-dns',
};

/** Where pods resolve names: the kube-dns Service's pods (CoreDNS or kube-dns), and a node-local cache. */
export function findDns(services: ServiceInfo[], daemonSets: KubeObject[]): DnsTarget {
  const svc =
    services.find((s) => s.namespace === 'kube-system' && s.name === 'kube-dns') ??
    services.find((s) => s.name === 'dns-default' && s.namespace === 'openshift-dns') ??
    services.find((s) => s.namespace === 'kube-system' && /coredns/.test(s.name));
  const out: DnsTarget =
    svc && Object.keys(svc.selector).length
      ? {
          namespace: svc.namespace,
          podSelector: svc.selector,
          ports: [
            { port: 53, protocol: 'UDP' },
            { port: 53, protocol: 'TCP' },
            ...svc.ports
              .filter((p) => typeof p.targetPort === 'number' && p.targetPort !== 53 && (p.protocol === 'UDP' || /dns/.test(p.name ?? '')))
              .map((p) => ({ port: p.targetPort as number, protocol: p.protocol })),
          ],
          source: `Service ${svc.namespace}/${svc.name} (pods ${Object.entries(svc.selector)
            .map(([k, v]) => `${k}=${v}`)
            .join(',')})`,
        }
      : { ...DEFAULT_DNS, ports: [...DEFAULT_DNS.ports] };
  const nodeLocal = daemonSets.find((d) => /node-local-dns|nodelocaldns/.test(d.metadata.name));
  if (nodeLocal) {
    const args = podSpecOf(nodeLocal)?.containers.flatMap((c) => (c.args as string[] | undefined) ?? []) ?? [];
    const ip = args
      .join(' ')
      .match(/-localip[ =]([0-9.]+)/)?.[1]
      ?.split(',')[0];
    out.nodeLocal = ip ?? '169.254.20.10';
  }
  return out;
}

/** The API server as pods reach it: the `kubernetes` Service's ClusterIP and its endpoints' addresses. */
export function findApiServer(services: ServiceInfo[], endpointSlices: KubeObject[]): ApiServerTarget {
  const svc = services.find((s) => s.namespace === 'default' && s.name === 'kubernetes');
  const addresses: ApiServerTarget['addresses'] = [];
  for (const es of endpointSlices) {
    if (es.metadata.namespace !== 'default' || es.metadata.labels?.['kubernetes.io/service-name'] !== 'kubernetes') continue;
    const ports = ((es.ports as Array<{ port?: number }> | undefined) ?? []).map((p) => p.port).filter((p): p is number => typeof p === 'number');
    for (const ep of (es.endpoints as Array<{ addresses?: string[] }> | undefined) ?? [])
      for (const ip of ep.addresses ?? []) for (const port of ports.length ? ports : [443]) addresses.push({ ip, port });
  }
  const fromEndpoints = addresses.length;
  if (svc?.clusterIP) for (const p of svc.ports) addresses.push({ ip: svc.clusterIP, port: p.port });
  const source = fromEndpoints
    ? `the kubernetes Service's ${fromEndpoints} endpoint(s) and its ClusterIP`
    : svc?.clusterIP
      ? 'the kubernetes Service has no endpoints listed: its ClusterIP only (CNIs that filter after DNAT need the endpoint addresses)'
      : 'no kubernetes Service found';
  const endpoints = [...new Set(addresses.slice(0, fromEndpoints).map((a) => a.ip))];
  return { addresses: dedupe(addresses), endpoints, source };
}

const dedupe = <T>(xs: T[]): T[] => [...new Map(xs.map((x) => [JSON.stringify(x), x])).values()];

/** Ingress controllers, from the images of Deployments and DaemonSets. */
export function findIngressControllers(workloads: KubeObject[]): IngressController[] {
  const out: IngressController[] = [];
  for (const w of workloads) {
    const pod = podSpecOf(w);
    const what = (pod?.containers ?? []).map((c) => infraImage(c.image)).find((x) => x && /ingress|Traefik|Contour|HAProxy/.test(x));
    if (what) out.push({ namespace: w.metadata.namespace ?? 'default', name: w.metadata.name, kind: w.kind, what, hostNetwork: !!pod?.hostNetwork });
  }
  return out.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

/** The evaluator's view of a group. */
export const peerOfGroup = (g: PodGroup): Peer => ({
  kind: 'pod',
  namespace: g.namespace,
  name: g.id.slice(g.namespace.length + 1),
  labels: g.labels,
  ...(g.ip ? { ip: g.ip } : {}),
  ports: g.ports,
});

/** A pod that does not exist yet, in a namespace: what a default applies to. */
export const newPodIn = (namespace: string, labels: Record<string, string> = {}): Peer => ({ kind: 'pod', namespace, name: '(a new pod)', labels });

/** An address outside the cluster (TEST-NET-3, documentation range), standing for "the internet". */
export const OUTSIDE: Peer = { kind: 'external', ip: '203.0.113.10' };
/** Ports probed on an outside address. */
export const OUTSIDE_PORTS: PortSpec[] = [{ port: 443, protocol: 'TCP' }];

/** The DNS pods as a destination: the real groups when some match, else one stand-in with the selector's labels. */
export function dnsPeers(dns: DnsTarget, groups: PodGroup[]): Peer[] {
  const real = groups.filter((g) => g.namespace === dns.namespace && Object.entries(dns.podSelector).every(([k, v]) => g.labels[k] === v)).map(peerOfGroup);
  const peers: Peer[] = real.length
    ? real
    : [
        {
          kind: 'pod',
          namespace: dns.namespace,
          name: 'dns (no pods found)',
          labels: { ...dns.podSelector },
          ports: dns.ports.map((p) => ({ containerPort: p.port, protocol: p.protocol })),
        },
      ];
  if (dns.nodeLocal) peers.push({ kind: 'external', ip: dns.nodeLocal });
  return peers;
}

export const namespaceInfos = (all: KubeObject[]): NamespaceInfo[] => all.map((n) => ({ name: n.metadata.name, labels: { ...(n.metadata.labels ?? {}) } }));
