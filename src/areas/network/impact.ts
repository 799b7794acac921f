// The impact preview: per namespace the plan touches, which pod-to-pod and pod-to-outside paths are
// allowed before and after, evaluated on the real pods (grouped: identical pods are one row), namespaces
// and ports (named ports resolved on the destination), shown as a compact table of what is lost.
import type { Change } from '../../engine/change.js';
import type { Answers, ReviewSection } from '../types.js';
import type { NetworkPolicy, Peer, Protocol } from './eval-types.js';
import type { PortSpec } from './evaluate.js';
import { diffTables, peerKey, truthTable, type PathRef, type TableDiff } from './evaluate.js';
import type { NetworkFacts } from './inspect.js';
import { dnsPeers, OUTSIDE, OUTSIDE_PORTS, peerOfGroup } from './model.js';
import { desiredFor, mergeNamespace, readAnswers, reuseText } from './plan.js';

/** Other namespaces' groups per table. */
const BATCH = 40;

/** A port no container declares: probed on pods that declare none. */
/** The port probed on a pod that declares none (it may still listen). */
export const UNDECLARED = { port: 8080, protocol: 'TCP' } as const satisfies PortSpec;

export interface Impact {
  namespace: string;
  diff: TableDiff;
  /** Paths allowed before and after (cells with one end in the namespace). */
  before: number;
  after: number;
  /** Compact rows: from, to, ports. */
  lost: Row[];
  gained: Row[];
}

export interface Row {
  from: string;
  to: string;
  ports: string[];
}

const portKey = (p: PortSpec) => `${p.protocol}/${p.port}`;

/** The ports worth probing on a destination: its own (by number), else the catch-all probe port. */
function portsOfPeer(p: Peer, facts: NetworkFacts): PortSpec[] {
  if (p.kind === 'external') {
    if (p === OUTSIDE) return OUTSIDE_PORTS;
    const api = facts.apiServer.addresses.filter((a) => a.ip === p.ip).map((a) => ({ port: a.port, protocol: 'TCP' as Protocol }));
    if (api.length) return api;
    return facts.dns.nodeLocal === p.ip ? facts.dns.ports : OUTSIDE_PORTS;
  }
  const declared = (p.ports ?? []).map((c) => ({ port: c.containerPort, protocol: (c.protocol ?? 'TCP') as Protocol }));
  return declared.length ? declared : [UNDECLARED];
}

function externals(facts: NetworkFacts): Peer[] {
  const api = [...new Set(facts.apiServer.addresses.map((a) => a.ip))].map((ip): Peer => ({ kind: 'external', ip }));
  return [OUTSIDE, ...api];
}

/** Every path with one end in `ns`, before and after, as truth tables (in chunks: `ns` with one other namespace at a time). */
export function impactOf(facts: NetworkFacts, before: NetworkPolicy[], after: NetworkPolicy[], ns: string): Impact {
  const groups = facts.groups;
  const inNs = groups.filter((g) => g.namespace === ns).map(peerOfGroup);
  // The DNS pods come with their namespace's chunk when they exist; a stand-in (or a node-local cache) with the first.
  const dns = dnsPeers(facts.dns, groups).filter((p) => p.kind === 'external' || !groups.some((g) => g.id === peerKey(p)));
  // The namespace with the addresses, then with the other namespaces' groups in batches: a table is
  // square, so batches keep it from growing with the square of the whole cluster.
  const chunks: Peer[][] = [[...inNs, ...dns, ...externals(facts)]];
  const others = groups.filter((g) => g.namespace !== ns).map(peerOfGroup);
  const batch = Math.max(BATCH, inNs.length);
  for (let i = 0; i < others.length; i += batch) chunks.push([...inNs, ...others.slice(i, i + batch)]);

  // One object per port, so that the cell filter compares identities (it runs for every cell of every table).
  const canonical = new Map<string, PortSpec>();
  const own = new Map<Peer, Set<PortSpec>>();
  for (const chunk of chunks)
    for (const p of chunk)
      if (!own.has(p))
        own.set(
          p,
          new Set(
            portsOfPeer(p, facts).map((x) => {
              const k = portKey(x);
              if (!canonical.has(k)) canonical.set(k, x);
              return canonical.get(k)!;
            }),
          ),
        );
  /** The ports of a chunk: those its peers declare. */
  const portsOf = (chunk: Peer[]) => [...new Set(chunk.flatMap((p) => [...own.get(p)!]))];
  const inNsSet = new Set(inNs);
  const inside = (p: Peer) => inNsSet.has(p);
  // Stand-ins only receive: the DNS stand-in and the API server's ClusterIP never open connections.
  const receiveOnly = new Set<Peer>([
    ...dns.filter((p) => p.kind === 'pod'),
    ...chunks[0].filter((p) => p.kind === 'external' && p !== OUTSIDE && !facts.apiServer.endpoints.includes(p.ip)),
  ]);
  const include = (first: boolean) => (src: Peer, dst: Peer, port: PortSpec) =>
    (first ? inside(src) || inside(dst) : inside(src) !== inside(dst)) && !receiveOnly.has(src) && own.get(dst)!.has(port);

  const diff: TableDiff = { lost: [], gained: [], kept: 0 };
  let nBefore = 0;
  let nAfter = 0;
  const count = (t: ReturnType<typeof truthTable>) => {
    let n = 0;
    for (const rows of t.allowed) for (const row of rows) if (row.includes(true)) for (const x of row) if (x === true) n++;
    return n;
  };
  const namespaces = facts.namespaceInfos;
  chunks.forEach((chunk, i) => {
    if (chunk.length === 0) return;
    const ports = portsOf(chunk);
    const b = truthTable({ namespaces, policies: before }, chunk, ports, include(i === 0));
    const a = truthTable({ namespaces, policies: after }, chunk, ports, include(i === 0));
    const d = diffTables(b, a);
    diff.lost.push(...d.lost);
    diff.gained.push(...d.gained);
    diff.kept += d.kept;
    nBefore += count(b);
    nAfter += count(a);
  });
  const label = labeller(facts, ns);
  const everyApp = groups.filter((g) => g.namespace === ns).map((g) => label(g.id, ns));
  return { namespace: ns, diff, before: nBefore, after: nAfter, lost: rows(diff.lost, label, everyApp), gained: rows(diff.gained, label, everyApp) };
}

/** How a path end is shown: an app of the namespace by name, another namespace's pods as `ns/*`, addresses by role. */
function labeller(facts: NetworkFacts, ns: string): (key: string, namespace: string | undefined) => string {
  const byKey = new Map(facts.groups.map((g) => [g.id, g]));
  const api = new Set(facts.apiServer.addresses.map((a) => a.ip));
  return (key, namespace) => {
    if (namespace === undefined) {
      if (key === OUTSIDE.ip) return `outside (${key})`;
      if (api.has(key)) return `API server ${key}`;
      if (key === facts.dns.nodeLocal) return `node-local DNS ${key}`;
      return key;
    }
    if (namespace !== ns) return byKey.has(key) ? `${namespace}/*` : key;
    const g = byKey.get(key);
    return g ? `${key.slice(ns.length + 1)} ×${g.pods.length}` : key;
  };
}

/**
 * Compact rows: the ports of each (from, to), then destinations with the same source and ports joined,
 * then sources with the same destinations and ports; every app of the namespace at once reads "all pods".
 */
function rows(paths: PathRef[], label: (key: string, ns: string | undefined) => string, everyApp: string[]): Row[] {
  const pairs = new Map<string, { from: string; to: string; ports: Set<string> }>();
  for (const p of paths) {
    const from = label(p.from, p.fromNamespace);
    const to = label(p.to, p.toNamespace);
    const k = `${from}\0${to}`;
    const r = pairs.get(k) ?? { from, to, ports: new Set<string>() };
    r.ports.add(p.port);
    pairs.set(k, r);
  }
  const join = (xs: string[]) =>
    (everyApp.length > 1 && everyApp.every((a) => xs.includes(a))
      ? [`all ${everyApp.length} pod groups`, ...xs.filter((x) => !everyApp.includes(x))]
      : xs
    ).join(', ');
  const byFrom = new Map<string, { from: string; tos: string[]; ports: string[] }>();
  for (const r of pairs.values()) {
    const ports = [...r.ports].sort();
    const k = `${r.from}\0${ports.join(' ')}`;
    const x = byFrom.get(k) ?? { from: r.from, tos: [], ports };
    x.tos.push(r.to);
    byFrom.set(k, x);
  }
  const byTo = new Map<string, Row & { froms: string[] }>();
  for (const r of byFrom.values()) {
    const to = join(r.tos.sort());
    const k = `${to}\0${r.ports.join(' ')}`;
    const x = byTo.get(k) ?? { from: '', to, ports: r.ports, froms: [] };
    x.froms.push(r.from);
    byTo.set(k, x);
  }
  return [...byTo.values()]
    .map(({ froms, to, ports }) => ({ from: join(froms.sort()), to, ports }))
    .sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
}

export function tableLines(rs: Row[], max = 40): string[] {
  if (rs.length === 0) return [];
  const w1 = Math.min(60, Math.max(4, ...rs.map((r) => r.from.length)));
  const w2 = Math.min(60, Math.max(2, ...rs.map((r) => r.to.length)));
  const line = (a: string, b: string, c: string) => `${a.padEnd(w1)}  ${b.padEnd(w2)}  ${c}`;
  const out = [line('FROM', 'TO', 'PORTS'), ...rs.slice(0, max).map((r) => line(r.from, r.to, r.ports.join(' ')))];
  if (rs.length > max) out.push(`… and ${rs.length - max} more row(s)`);
  return out;
}

/** The policies of the cluster once the plan's NetworkPolicy changes are applied. */
export function policiesAfter(existing: NetworkPolicy[], changes: Change[]): NetworkPolicy[] {
  const key = (ns: string | undefined, name: string) => `${ns ?? 'default'}/${name}`;
  const map = new Map(existing.map((p) => [key(p.metadata.namespace, p.metadata.name), p]));
  for (const c of changes) {
    if (c.kind !== 'object' || c.ref.kind !== 'NetworkPolicy') continue;
    const k = key(c.ref.namespace, c.ref.name);
    if (c.action === 'delete') map.delete(k);
    else map.set(k, c.after as unknown as NetworkPolicy);
  }
  return [...map.values()];
}

/** The review sections: the CNI warning, then per namespace what the plan reuses and the paths it cuts. */
export function reviewNetwork(facts: NetworkFacts, changes: Change[], answers: Answers = {}): ReviewSection[] {
  const mine = changes.filter((c) => c.kind === 'object' && c.ref.kind === 'NetworkPolicy');
  const a = readAnswers(answers);
  // What the answers wanted that existing policies already do (no change carries those).
  const reuse = new Map<string, string[]>();
  for (const ns of a.namespaces) {
    if (!facts.namespaces.some((n) => n.name === ns)) continue;
    const texts = mergeNamespace(facts, ns, desiredFor(facts, ns, a)).flatMap((o) => (o.action === 'reuse' ? [reuseText(o, ns)] : []));
    if (texts.length) reuse.set(ns, texts);
  }
  if (mine.length === 0 && reuse.size === 0) return [];
  const out: ReviewSection[] = [];
  if (facts.cni.enforces !== 'yes') {
    out.push({
      area: 'network',
      title: facts.cni.enforces === 'no' ? 'These policies will NOT be enforced' : 'Enforcement unknown',
      lines: [facts.cni.summary],
      warn: true,
    });
  }
  const after = policiesAfter(facts.policies, mine);
  const namespaces = [...new Set([...mine.map((c) => (c.kind === 'object' ? (c.ref.namespace ?? 'default') : '')), ...reuse.keys()])].sort();
  for (const ns of namespaces) {
    const impact = impactOf(facts, facts.policies, after, ns);
    const nsFacts = facts.namespaces.find((n) => n.name === ns);
    const groups = facts.groups.filter((g) => g.namespace === ns);
    const lines: string[] = [];
    const reused = reuse.get(ns) ?? [];
    for (const r of reused) lines.push(r);
    if (reused.length && !mine.some((c) => c.kind === 'object' && c.ref.namespace === ns))
      lines.push('nothing to add here: existing policies already do all of it');
    const kept = facts.policies.filter(
      (p) => (p.metadata.namespace ?? 'default') === ns && !mine.some((c) => c.kind === 'object' && c.ref.name === p.metadata.name && c.ref.namespace === ns),
    );
    if (kept.length)
      lines.push(
        `kept as they are: ${kept.map((p) => `networkpolicy/${p.metadata.name}`).join(', ')} (existing policies are never changed; what they allow stays allowed)`,
      );
    lines.push(
      `paths with one end in ${ns} (${groups.length} pod group(s), ${groups.reduce((n, g) => n + g.pods.length, 0)} pod(s)): ${impact.before} allowed before, ${impact.after} after; ${impact.diff.lost.length} lost, ${impact.diff.kept} kept, ${impact.diff.gained.length} opened`,
    );
    lines.push(`pod groups: ${groups.map((g) => `${g.id.slice(ns.length + 1)} ×${g.pods.length}`).join(', ') || 'none'}`);
    if (impact.lost.length) lines.push('lost:', ...tableLines(impact.lost).map((l) => `  ${l}`));
    else lines.push('no path is lost');
    if (impact.gained.length) lines.push('opened (allowed after, not before):', ...tableLines(impact.gained, 15).map((l) => `  ${l}`));
    if (nsFacts && nsFacts.pods === 0) lines.push('no pods run here yet: the policies apply to the pods that come');
    out.push({ area: 'network', title: `Network paths in ${ns}`, lines, warn: impact.diff.lost.length > 0 });
  }
  return out;
}
