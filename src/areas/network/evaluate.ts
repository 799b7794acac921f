// The NetworkPolicy evaluator: would this connection be allowed, given these policies? Pure: no I/O, and
// it never mutates what it is given. Semantics are networking.k8s.io/v1 as the API reference and the
// NetworkPolicy concept page define them:
//
// - A policy applies to the pods of its own namespace that its spec.podSelector selects ({} = all).
// - spec.policyTypes, when absent or empty, defaults as the API server does: Ingress always, plus Egress
//   when spec.egress has rules. A pod is isolated for ingress (egress) iff at least one policy selecting it
//   has Ingress (Egress) in its types; a non-isolated side allows everything.
// - An isolated side allows a connection iff at least one rule of one of those policies matches it (rules
//   and policies are additive; there is no deny rule). A policy with the type but no rules only isolates.
// - A rule matches when a peer matches (absent or empty `from`/`to`: any peer) AND a port matches (absent
//   or empty `ports`: any port and protocol).
// - A peer is either an ipBlock (the address is in cidr and in no `except`), or selectors: podSelector
//   alone means pods of the policy's namespace; namespaceSelector alone means every pod of the selected
//   namespaces ({} = all namespaces); both in one peer means pods matching podSelector IN namespaces
//   matching namespaceSelector (AND); two peers in the list are OR. Selectors only ever match pods.
// - A port: protocol (default TCP) must equal the traffic's; a number matches that port, with endPort the
//   inclusive range port..endPort; a name matches when the destination pod has a containerPort of that name
//   and protocol whose number is the traffic's port (for ingress and for egress alike: named ports are
//   always the destination pod's); a port-less entry matches every port of its protocol.
// - A connection is allowed iff the source's egress side allows it AND the destination's ingress side
//   does. An external address has no policies, so its own side always allows.
//
// Not modelled (outside the API's semantics or left to the implementation): traffic from a pod's own node
// (always allowed to reach it), hostNetwork pods, Services (address pods directly: policies see pod IPs
// and target ports), and whether ipBlock matches pod IPs: here it does, by the pod's `ip`, as the upstream
// conformance tests and most CNIs do (the concept page advises cluster-external ranges only).
import { cidrContains, parseCidr, parseIp, type Cidr, type Ip } from './eval-cidr.js';
import { matchesSelector, validateSelector } from './eval-selector.js';
import type { LabelSelector, NetworkModel, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, Peer, PolicyType, Protocol } from './eval-types.js';

export type * from './eval-types.js';
export { matchesSelector } from './eval-selector.js';

/** The label the API server sets on every namespace (value: its name). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** One side of a connection: egress at the source, ingress at the destination. */
export interface Verdict {
  /** Some policy selects this side's pod with this policy type (false for an external address). */
  isolated: boolean;
  /** Not isolated, or some rule of a selecting policy matches. */
  allowed: boolean;
  /** `namespace/name` of each policy that selects the pod for this direction, in input order. */
  selectedBy: string[];
  /** `namespace/name` of each of those with a rule that matches this connection. */
  allowedBy: string[];
}

export interface Evaluation {
  allowed: boolean;
  ingress: Verdict;
  egress: Verdict;
  /**
   * The traffic's port as the policies see it: its number (null when a named port could not be resolved
   * against the destination pod: then only port-less rules can match) and the names the destination gives
   * that number and protocol.
   */
  port: { number: number | null; names: string[] };
}

interface CompiledPeer {
  ipBlock?: { cidr: Cidr; except: Cidr[] };
  /** Selector form: null namespace selector means the policy's own namespace. */
  namespaceSelector?: LabelSelector | null;
  podSelector?: LabelSelector | null;
}

interface CompiledPort {
  protocol: Protocol;
  /** undefined: every port of the protocol. */
  port?: number | string;
  endPort?: number;
}

interface CompiledRule {
  /** null: any peer. */
  peers: CompiledPeer[] | null;
  /** null: any port, any protocol. */
  ports: CompiledPort[] | null;
}

interface CompiledPolicy {
  key: string;
  namespace: string;
  podSelector: LabelSelector;
  ingress: CompiledRule[] | null;
  egress: CompiledRule[] | null;
}

/** Policies parsed and checked once, for evaluating many connections. */
export interface CompiledModel {
  readonly policiesByNamespace: ReadonlyMap<string, readonly CompiledPolicy[]>;
  readonly namespaceLabels: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

const PROTOCOLS: readonly string[] = ['TCP', 'UDP', 'SCTP'];

/** The effective policyTypes: as given, or the API server's default when absent or empty. */
export function effectivePolicyTypes(policy: NetworkPolicy): PolicyType[] {
  const given = policy.spec.policyTypes ?? [];
  if (given.length > 0) return [...given];
  return (policy.spec.egress ?? []).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

function compilePort(p: NetworkPolicyPort, where: string): CompiledPort {
  const protocol = p.protocol ?? 'TCP';
  if (!PROTOCOLS.includes(protocol)) throw new Error(`${where}: unsupported protocol ${JSON.stringify(protocol)}`);
  const out: CompiledPort = { protocol };
  if (p.port !== undefined && p.port !== null) {
    if (typeof p.port === 'number') {
      if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw new Error(`${where}: invalid port ${p.port}`);
    } else if (p.port === '') throw new Error(`${where}: empty port name`);
    out.port = p.port;
  }
  if (p.endPort !== undefined && p.endPort !== null) {
    if (typeof out.port !== 'number') throw new Error(`${where}: endPort needs a numeric port`);
    if (!Number.isInteger(p.endPort) || p.endPort < out.port || p.endPort > 65535) {
      throw new Error(`${where}: endPort ${p.endPort} must be between port ${out.port} and 65535`);
    }
    out.endPort = p.endPort;
  }
  return out;
}

function compileCidr(s: string, where: string): Cidr {
  const c = parseCidr(s);
  if (!c) throw new Error(`${where}: invalid CIDR ${JSON.stringify(s)}`);
  return c;
}

function compilePeer(p: NetworkPolicyPeer, where: string): CompiledPeer {
  const hasSelectors = (p.podSelector ?? null) !== null || (p.namespaceSelector ?? null) !== null;
  if (p.ipBlock) {
    if (hasSelectors) throw new Error(`${where}: ipBlock cannot be combined with podSelector or namespaceSelector`);
    return {
      ipBlock: {
        cidr: compileCidr(p.ipBlock.cidr, where),
        except: (p.ipBlock.except ?? []).map((e) => compileCidr(e, where)),
      },
    };
  }
  if (!hasSelectors) throw new Error(`${where}: a peer needs podSelector, namespaceSelector or ipBlock`);
  if (p.podSelector) validateSelector(p.podSelector, `${where}.podSelector`);
  if (p.namespaceSelector) validateSelector(p.namespaceSelector, `${where}.namespaceSelector`);
  return { podSelector: p.podSelector ?? null, namespaceSelector: p.namespaceSelector ?? null };
}

function compileRules(
  rules: Array<{ from?: NetworkPolicyPeer[] | null; to?: NetworkPolicyPeer[] | null; ports?: NetworkPolicyPort[] | null }>,
  field: 'from' | 'to',
  where: string,
): CompiledRule[] {
  return rules.map((r, i) => {
    const peers = r[field] ?? [];
    const ports = r.ports ?? [];
    return {
      peers: peers.length === 0 ? null : peers.map((p, j) => compilePeer(p, `${where}[${i}].${field}[${j}]`)),
      ports: ports.length === 0 ? null : ports.map((p, j) => compilePort(p, `${where}[${i}].ports[${j}]`)),
    };
  });
}

/** Parses and checks every policy once; throws on what the API server would reject. */
export function compileModel(model: NetworkModel): CompiledModel {
  const namespaceLabels = new Map<string, Record<string, string>>();
  for (const ns of model.namespaces) {
    namespaceLabels.set(ns.name, { ...(ns.labels ?? {}), [NAMESPACE_NAME_LABEL]: ns.name });
  }
  const policiesByNamespace = new Map<string, CompiledPolicy[]>();
  for (const p of model.policies) {
    const namespace = p.metadata.namespace || 'default';
    const key = `${namespace}/${p.metadata.name}`;
    const where = `NetworkPolicy ${key}`;
    validateSelector(p.spec.podSelector ?? {}, `${where}: spec.podSelector`);
    const types = effectivePolicyTypes(p);
    for (const t of types) if (t !== 'Ingress' && t !== 'Egress') throw new Error(`${where}: unknown policyType ${JSON.stringify(t)}`);
    const compiled: CompiledPolicy = {
      key,
      namespace,
      podSelector: p.spec.podSelector ?? {},
      ingress: types.includes('Ingress') ? compileRules(p.spec.ingress ?? [], 'from', `${where}: spec.ingress`) : null,
      egress: types.includes('Egress') ? compileRules(p.spec.egress ?? [], 'to', `${where}: spec.egress`) : null,
    };
    const list = policiesByNamespace.get(namespace) ?? [];
    list.push(compiled);
    policiesByNamespace.set(namespace, list);
  }
  return { policiesByNamespace, namespaceLabels };
}

function labelsOfNamespace(m: CompiledModel, ns: string): Readonly<Record<string, string>> {
  return m.namespaceLabels.get(ns) ?? { [NAMESPACE_NAME_LABEL]: ns };
}

interface Traffic {
  protocol: Protocol;
  number: number | null;
  names: string[];
}

/** Resolves the traffic's port against the destination pod's containerPorts. */
export function resolvePort(dst: Peer, port: number | string, protocol: Protocol): Evaluation['port'] {
  const ports = dst.kind === 'pod' ? (dst.ports ?? []) : [];
  const sameProtocol = ports.filter((p) => (p.protocol ?? 'TCP') === protocol);
  let number: number | null;
  if (typeof port === 'number') number = port;
  else number = sameProtocol.find((p) => p.name === port)?.containerPort ?? null;
  const names = number === null ? [] : sameProtocol.filter((p) => p.containerPort === number && p.name).map((p) => p.name!);
  return { number, names: [...new Set(names)] };
}

function portMatches(p: CompiledPort, t: Traffic): boolean {
  if (p.protocol !== t.protocol) return false;
  if (p.port === undefined) return true;
  if (typeof p.port === 'string') return t.names.includes(p.port);
  if (t.number === null) return false;
  return p.endPort === undefined ? t.number === p.port : p.port <= t.number && t.number <= p.endPort;
}

function ipOf(peer: Peer): Ip | undefined {
  if (!peer.ip) return undefined;
  const ip = parseIp(peer.ip);
  if (!ip) throw new Error(`invalid IP address ${JSON.stringify(peer.ip)} for ${peerKey(peer)}`);
  return ip;
}

function peerMatches(m: CompiledModel, policyNs: string, p: CompiledPeer, other: Peer, otherIp: Ip | undefined): boolean {
  if (p.ipBlock) {
    if (!otherIp || !cidrContains(p.ipBlock.cidr, otherIp)) return false;
    return !p.ipBlock.except.some((e) => cidrContains(e, otherIp));
  }
  if (other.kind !== 'pod') return false;
  if (p.namespaceSelector) {
    if (!matchesSelector(p.namespaceSelector, labelsOfNamespace(m, other.namespace))) return false;
  } else if (other.namespace !== policyNs) return false;
  return !p.podSelector || matchesSelector(p.podSelector, other.labels);
}

function ruleMatches(m: CompiledModel, policyNs: string, r: CompiledRule, other: Peer, otherIp: Ip | undefined, t: Traffic): boolean {
  if (r.ports && !r.ports.some((p) => portMatches(p, t))) return false;
  return !r.peers || r.peers.some((p) => peerMatches(m, policyNs, p, other, otherIp));
}

/** The policies that select `pod` for a direction (its isolation for that direction). */
export function selectingPolicies(m: CompiledModel, pod: Peer, direction: 'ingress' | 'egress'): string[] {
  if (pod.kind !== 'pod') return [];
  return (m.policiesByNamespace.get(pod.namespace) ?? []).filter((p) => p[direction] !== null && matchesSelector(p.podSelector, pod.labels)).map((p) => p.key);
}

function side(m: CompiledModel, self: Peer, other: Peer, direction: 'ingress' | 'egress', t: Traffic): Verdict {
  if (self.kind !== 'pod') return { isolated: false, allowed: true, selectedBy: [], allowedBy: [] };
  const otherIp = ipOf(other);
  const selectedBy: string[] = [];
  const allowedBy: string[] = [];
  for (const p of m.policiesByNamespace.get(self.namespace) ?? []) {
    const rules = p[direction];
    if (rules === null || !matchesSelector(p.podSelector, self.labels)) continue;
    selectedBy.push(p.key);
    if (rules.some((r) => ruleMatches(m, p.namespace, r, other, otherIp, t))) allowedBy.push(p.key);
  }
  const isolated = selectedBy.length > 0;
  return { isolated, allowed: !isolated || allowedBy.length > 0, selectedBy, allowedBy };
}

/** Like evaluate, on a model compiled once (for many connections). */
export function evaluateCompiled(m: CompiledModel, src: Peer, dst: Peer, port: number | string, protocol: Protocol): Evaluation {
  if (!PROTOCOLS.includes(protocol)) throw new Error(`unsupported protocol ${JSON.stringify(protocol)}`);
  const resolved = resolvePort(dst, port, protocol);
  const t: Traffic = { protocol, ...resolved };
  const egress = side(m, src, dst, 'egress', t);
  const ingress = side(m, dst, src, 'ingress', t);
  return { allowed: egress.allowed && ingress.allowed, ingress, egress, port: resolved };
}

/**
 * Would a connection from `src` to `dst` on `port` (a number, or the name of one of the destination pod's
 * containerPorts) and `protocol` be allowed by these NetworkPolicies?
 */
export function evaluate(model: NetworkModel, src: Peer, dst: Peer, port: number | string, protocol: Protocol): Evaluation {
  return evaluateCompiled(compileModel(model), src, dst, port, protocol);
}

/** `namespace/name` for a pod, the address for an external peer. */
export function peerKey(p: Peer): string {
  return p.kind === 'pod' ? `${p.namespace}/${p.name}` : p.ip;
}

export interface PortSpec {
  port: number | string;
  protocol: Protocol;
}

export interface TruthTable {
  /** Each peer's key (`namespace/name`, or the address) and namespace (undefined for an external one). */
  peers: Array<{ key: string; namespace?: string }>;
  /** `PROTOCOL/port`, e.g. `TCP/80`, `UDP/dns`. */
  ports: string[];
  /**
   * allowed[i][j][k]: is peers[i] -> peers[j] on ports[k] allowed? null when it is no path at all: both
   * ends external, or a named port the destination does not define (for that protocol).
   */
  allowed: Array<Array<Array<boolean | null>>>;
}

/**
 * Every connection between `peers` (pods and external addresses) on every port: the allowed matrix.
 * `include`, when given, limits the work to the cells worth having (e.g. the paths that touch one
 * namespace, each destination's own ports): the others are null, like a path that does not exist.
 */
export function truthTable(model: NetworkModel, peers: Peer[], ports: PortSpec[], include?: (src: Peer, dst: Peer, port: PortSpec) => boolean): TruthTable {
  const m = compileModel(model);
  // Rows with no cell worth having share one all-null row (a filtered table is mostly those).
  const none: null[] = Object.freeze(ports.map(() => null)) as null[];
  const allowed = peers.map((src) =>
    peers.map((dst) => {
      if (src.kind !== 'pod' && dst.kind !== 'pod') return none;
      let row: Array<boolean | null> | undefined;
      for (let k = 0; k < ports.length; k++) {
        const spec = ports[k];
        if (include && !include(src, dst, spec)) continue;
        const r = evaluateCompiled(m, src, dst, spec.port, spec.protocol);
        row ??= ports.map(() => null);
        row[k] = r.port.number === null ? null : r.allowed;
      }
      return row ?? none;
    }),
  );
  return {
    peers: peers.map((p) => (p.kind === 'pod' ? { key: peerKey(p), namespace: p.namespace } : { key: peerKey(p) })),
    ports: ports.map((p) => `${p.protocol}/${p.port}`),
    allowed,
  };
}

/** One path (source, destination, port) of a truth table. */
export interface PathRef {
  from: string;
  to: string;
  fromNamespace?: string;
  toNamespace?: string;
  port: string;
}

export interface TableDiff {
  /** Allowed before, not after (or gone from the after table). */
  lost: PathRef[];
  /** Allowed after, not before (or new in the after table). */
  gained: PathRef[];
  /** Allowed in both. */
  kept: number;
}

/** The allowed cells of a table, by (from, to, port); the others (denied, no path) are simply absent. */
function allowedCells(t: TruthTable): Map<string, PathRef> {
  const out = new Map<string, PathRef>();
  for (let i = 0; i < t.peers.length; i++)
    for (let j = 0; j < t.peers.length; j++) {
      const row = t.allowed[i][j];
      if (!row.includes(true)) continue;
      const a = t.peers[i];
      const b = t.peers[j];
      for (let k = 0; k < t.ports.length; k++) {
        if (row[k] !== true) continue;
        const ref: PathRef = { from: a.key, to: b.key, port: t.ports[k] };
        if (a.namespace !== undefined) ref.fromNamespace = a.namespace;
        if (b.namespace !== undefined) ref.toNamespace = b.namespace;
        out.set(`${a.key}\0${b.key}\0${ref.port}`, ref);
      }
    }
  return out;
}

/** The paths a change of policies closes and opens, matched by peer key and port (for the impact preview). */
export function diffTables(before: TruthTable, after: TruthTable): TableDiff {
  const a = allowedCells(before);
  const b = allowedCells(after);
  const diff: TableDiff = { lost: [], gained: [], kept: 0 };
  for (const [k, ref] of a) {
    if (b.has(k)) diff.kept++;
    else diff.lost.push(ref);
  }
  for (const [k, ref] of b) if (!a.has(k)) diff.gained.push(ref);
  return diff;
}
