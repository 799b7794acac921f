// Differential test of the NetworkPolicy evaluator against cyclonus v0.5.6 (an independent evaluator,
// built from the Go module proxy by test/cluster/tools.ts). Generated from a fixed seed: a few hundred
// scenarios, each a few namespaces, pods (labels, IPv4 or IPv6 addresses, named containerPorts), external
// addresses and NetworkPolicies using every field; then tens of thousands of connections.
//
// Two cyclonus modes, no cluster needed (`cyclonus analyze --policy-path DIR`):
// - query-traffic (--traffic-path FILE, a JSON list of matcher.Traffic): any source and destination,
//   pods or external addresses, any port and protocol; the output gives per direction the policy targets
//   that allow or deny, and the combined verdict. The traffic names its port by number plus the name the
//   destination pod gives that number and protocol (ResolvedPortName); we resolve it here, independently.
// - probe (--probe-path FILE, {Resources, Probes}): every pod to every pod on a port given by number or
//   by name; cyclonus resolves named ports against the destination pod itself, and prints ingress, egress
//   and combined matrices.
//
// What cyclonus cannot take as is, and how it is bridged (each bridge is checked, not assumed):
// - spec.policyTypes must be explicit (it refuses a policy without them): we pass the API server's
//   default (k8s.io/kubernetes pkg/apis/networking/v1/defaults.go: Ingress, plus Egress when egress rules
//   exist); our evaluator gets the policy without policyTypes, so the defaulting is part of what is tested.
// - cyclonus's label selectors differ from Kubernetes' (k8s.io/apimachinery/pkg/labels Requirement.Matches)
//   in two places: NotIn does not match an object without the key (Kubernetes: it does), and matchLabels
//   `k: ""` matches an object without the key (Kubernetes: the key must be present). The policies cyclonus
//   gets are rewritten into an equivalent form it evaluates correctly (NotIn(k) as two alternatives,
//   DoesNotExist(k) or NotIn(k); `k: ""` as In(k, [""])), splitting a policy or a peer in two where needed;
//   our evaluator must give the same answers on the rewritten policies as on the originals. Cyclonus is
//   also run on the raw policies, and every verdict it gives there must equal ours under its selector
//   semantics (that is the whole of the divergence), which is reported with a worked case.
// - probe mode resolves a port name or number on the destination ignoring the protocol, so the generator
//   gives every port name and every port number one protocol (as real pods mostly do); query-traffic
//   covers the protocol mismatches (a UDP connection to a TCP-named port).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pMap from 'p-map';
import {
  compileModel,
  evaluateCompiled,
  type CompiledModel,
  type Evaluation,
  type LabelSelector,
  type LabelSelectorRequirement,
  type NamespaceInfo,
  type NetworkPolicy,
  type NetworkPolicyPeer,
  type NetworkPolicyPort,
  type Peer,
  type Protocol,
} from '../../src/areas/network/evaluate.js';
import {
  CYCLONUS_SEMANTICS,
  FOR_CYCLONUS,
  IDENTITY,
  dropUndefined,
  parseProbe,
  parseQueryTraffic,
  rewritePolicies,
  startCyclonus,
  type Cyclonus,
  type CycVerdict,
} from './cyclonus.js';

const SEED = Number(process.env.NETPOL_SEED ?? 20261129);
const SCENARIOS = Number(process.env.NETPOL_SCENARIOS ?? 400);
const BATCH = 40;
const NAME_LABEL = 'kubernetes.io/metadata.name';

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const chance = (p: number) => next() < p;
  const some = <T>(xs: readonly T[], lo: number, hi: number): T[] => [...new Set(Array.from({ length: int(lo, hi) }, () => pick(xs)))];
  return { next, int, pick, chance, some };
}
type Rng = ReturnType<typeof prng>;

// ---- the world: one protocol per port number and per port name (see the header) ----

const NUMBERS: Record<number, Protocol> = { 53: 'UDP', 80: 'TCP', 443: 'TCP', 8080: 'TCP', 9090: 'TCP', 5353: 'UDP', 7000: 'UDP', 2905: 'SCTP', 3868: 'SCTP' };
const NAMES: Record<string, Protocol> = { http: 'TCP', web: 'TCP', metrics: 'TCP', dns: 'UDP', gossip: 'UDP', sig: 'SCTP' };
const PROTOCOLS: Protocol[] = ['TCP', 'UDP', 'SCTP'];
const POD_LABELS: Record<string, string[]> = { app: ['web', 'db', 'api'], tier: ['front', 'back', ''], env: ['a', 'b'] };
const NS_LABELS: Record<string, string[]> = { team: ['x', 'y'], env: ['a', 'b', ''] };

type Pod = Extract<Peer, { kind: 'pod' }>;
interface Scenario {
  id: number;
  namespaces: NamespaceInfo[];
  pods: Pod[];
  externals: Peer[];
  policies: NetworkPolicy[];
  /** Port numbers worth probing: the catalogue, the policies' ports and range edges. */
  numbers: number[];
}

const v4 = (n: bigint) => [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
const v6 = (n: bigint) => Array.from({ length: 8 }, (_, i) => ((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(':');
const addr = (fam: 4 | 6, n: bigint) => (fam === 4 ? v4(n) : v6(n));
function parseAddr(s: string): { fam: 4 | 6; n: bigint } {
  if (!s.includes(':')) return { fam: 4, n: s.split('.').reduce((a, p) => (a << 8n) | BigInt(p), 0n) };
  return { fam: 6, n: s.split(':').reduce((a, p) => (a << 16n) | BigInt(parseInt(p, 16)), 0n) };
}

function genIp(r: Rng, fam: 4 | 6): string {
  if (fam === 4) return v4((10n << 24n) | (BigInt(r.int(0, 3)) << 16n) | (BigInt(r.int(0, 3)) << 8n) | BigInt(r.int(1, 254)));
  return v6((0xfd00n << 112n) | (BigInt(r.int(0, 3)) << 96n) | BigInt(r.int(1, 0xffff)));
}

function genExternal(r: Rng, fam: 4 | 6): string {
  if (fam === 4) {
    const base = r.pick([
      [10, r.int(0, 3)],
      [172, 17],
      [192, 168],
      [8, 8],
    ]);
    return v4((BigInt(base[0]) << 24n) | (BigInt(base[1]) << 16n) | (BigInt(r.int(0, 3)) << 8n) | BigInt(r.int(1, 254)));
  }
  return r.chance(0.5) ? v6((0x20010db8n << 96n) | BigInt(r.int(1, 0xffff))) : genIp(r, 6);
}

/** A CIDR around one of the scenario's addresses (or a fixed base), sometimes with host bits set. */
function genCidr(r: Rng, known: string[]): { cidr: string; except?: string[] } {
  const base = parseAddr(r.pick([...known, '10.0.0.0', '172.17.0.0', '0.0.0.0', 'fd00:0:0:0:0:0:0:0']));
  const bits = base.fam === 4 ? 32 : 128;
  const prefix = r.pick(base.fam === 4 ? [0, 8, 16, 20, 24, 26, 30, 32] : [0, 8, 16, 64, 96, 112, 120, 128]);
  const host = BigInt(bits - prefix);
  const net = (base.n >> host) << host;
  const shown = r.chance(0.2) ? base.n : net;
  const out: { cidr: string; except?: string[] } = { cidr: `${addr(base.fam, shown)}/${prefix}` };
  const inside = known.map(parseAddr).filter((a) => a.fam === base.fam && a.n >> host === net >> host);
  if (prefix < bits && r.chance(0.5)) {
    out.except = Array.from({ length: r.int(1, 2) }, () => {
      // inside the block, around one of the scenario's addresses when one is there
      const ep = r.int(prefix + 1, Math.min(bits, prefix + 12));
      const at = inside.length && r.chance(0.75) ? r.pick(inside).n : net | (BigInt(r.int(0, 2 ** 20)) & ((1n << host) - 1n));
      const eh = BigInt(bits - ep);
      return `${addr(base.fam, (at >> eh) << eh)}/${ep}`;
    });
  }
  return out;
}

function genSelector(r: Rng, vocab: Record<string, string[]>, emptyChance: number): LabelSelector {
  if (r.chance(emptyChance)) return {};
  const sel: LabelSelector = {};
  const keys = Object.keys(vocab);
  const nl = r.pick([0, 0, 1, 1, 2]);
  if (nl > 0) sel.matchLabels = Object.fromEntries(r.some(keys, nl, nl).map((k) => [k, r.pick(vocab[k])]));
  const ne = r.pick([0, 0, 1, 1, 2]);
  if (ne > 0 || nl === 0) {
    sel.matchExpressions = Array.from({ length: Math.max(ne, 1) }, (): LabelSelectorRequirement => {
      const key = r.pick(keys);
      const operator = r.pick(['In', 'NotIn', 'Exists', 'DoesNotExist'] as const);
      return operator === 'In' || operator === 'NotIn' ? { key, operator, values: r.some(vocab[key], 1, 2) } : { key, operator };
    });
  }
  return sel;
}

function genPeer(r: Rng, nsVocab: Record<string, string[]>, known: string[]): NetworkPolicyPeer {
  const roll = r.next();
  if (roll < 0.25) {
    const b = genCidr(r, known);
    return { ipBlock: b.except ? { cidr: b.cidr, except: b.except } : { cidr: b.cidr } };
  }
  if (roll < 0.5) return { podSelector: genSelector(r, POD_LABELS, 0.25) };
  if (roll < 0.7) return { namespaceSelector: genSelector(r, nsVocab, 0.25) };
  return { namespaceSelector: genSelector(r, nsVocab, 0.3), podSelector: genSelector(r, POD_LABELS, 0.3) };
}

function genPort(r: Rng, numbers: number[]): NetworkPolicyPort {
  const roll = r.next();
  const proto = (p: Protocol): Protocol | undefined => (p === 'TCP' && r.chance(0.4) ? undefined : p);
  if (roll < 0.35) {
    const n = r.pick(numbers);
    const p = r.chance(0.8) && NUMBERS[n] ? NUMBERS[n] : r.pick(PROTOCOLS);
    return { protocol: proto(p), port: n };
  }
  if (roll < 0.65) {
    const name = r.pick(Object.keys(NAMES));
    return { protocol: proto(r.chance(0.8) ? NAMES[name] : r.pick(PROTOCOLS)), port: name };
  }
  if (roll < 0.75) return { protocol: r.pick(PROTOCOLS) };
  const start = r.pick(numbers);
  const end = Math.min(65535, start + r.pick([0, 1, 10, 500, 9000]));
  return { protocol: proto(r.chance(0.7) && NUMBERS[start] ? NUMBERS[start] : r.pick(PROTOCOLS)), port: start, endPort: end };
}

function genList<T>(r: Rng, gen: () => T, max: number): T[] | undefined {
  const roll = r.next();
  if (roll < 0.15) return undefined;
  if (roll < 0.25) return [];
  return Array.from({ length: r.int(1, max) }, gen);
}

function genScenario(r: Rng, id: number): Scenario {
  const dual = r.chance(0.2);
  const namespaces: NamespaceInfo[] = Array.from({ length: r.int(2, 4) }, (_, j) => ({
    name: `s${id}n${j}`,
    labels: Object.fromEntries(r.some(Object.keys(NS_LABELS), 0, 2).map((k) => [k, r.pick(NS_LABELS[k])])),
  }));
  const nsVocab = { ...NS_LABELS, [NAME_LABEL]: namespaces.map((n) => n.name) };
  const used = new Set<string>();
  const pods: Pod[] = Array.from({ length: r.int(3, 6) }, (_, k) => {
    let ip: string;
    do ip = genIp(r, dual && r.chance(0.5) ? 6 : 4);
    while (used.has(ip));
    used.add(ip);
    const numbers = r.some(Object.keys(NUMBERS).map(Number), 0, 3);
    const names = new Set<string>();
    const ports = numbers.map((n) => {
      const free = Object.keys(NAMES).filter((x) => NAMES[x] === NUMBERS[n] && !names.has(x));
      const name = free.length && r.chance(0.75) ? r.pick(free) : undefined;
      if (name) names.add(name);
      const p: { name?: string; containerPort: number; protocol?: string } = { containerPort: n };
      if (name) p.name = name;
      if (NUMBERS[n] !== 'TCP' || r.chance(0.5)) p.protocol = NUMBERS[n];
      return p;
    });
    return {
      kind: 'pod',
      namespace: r.pick(namespaces).name,
      name: `p${k}`,
      labels: Object.fromEntries(r.some(Object.keys(POD_LABELS), 0, 3).map((key) => [key, r.pick(POD_LABELS[key])])),
      ip,
      ports,
    };
  });
  const externals: Peer[] = Array.from({ length: r.int(1, 3) }, () => ({ kind: 'external', ip: genExternal(r, dual && r.chance(0.5) ? 6 : 4) }));
  const known = [...pods.map((p) => p.ip!), ...externals.map((e) => e.ip!)];
  const numbers = [...Object.keys(NUMBERS).map(Number), 1, 1024, 32000, 65535];
  const policies: NetworkPolicy[] = Array.from({ length: r.int(1, 5) }, (_, k) => {
    const spec: NetworkPolicy['spec'] = { podSelector: genSelector(r, POD_LABELS, 0.4) };
    const types = r.pick([undefined, ['Ingress'], ['Egress'], ['Ingress', 'Egress']] as const);
    if (types) spec.policyTypes = [...types];
    const ingress = genList(r, () => ({ from: genList(r, () => genPeer(r, nsVocab, known), 3), ports: genList(r, () => genPort(r, numbers), 3) }), 3);
    const egress = genList(r, () => ({ to: genList(r, () => genPeer(r, nsVocab, known), 3), ports: genList(r, () => genPort(r, numbers), 3) }), 3);
    if (ingress) spec.ingress = ingress.map(dropUndefined);
    if (egress) spec.egress = egress.map(dropUndefined);
    for (const rule of [...(spec.ingress ?? []), ...(spec.egress ?? [])]) for (const p of rule.ports ?? []) dropUndefined(p);
    return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `np${k}`, namespace: r.pick(namespaces).name }, spec };
  });
  const interesting = new Set(numbers);
  for (const p of policies)
    for (const rule of [...(p.spec.ingress ?? []), ...(p.spec.egress ?? [])])
      for (const port of rule.ports ?? []) {
        if (typeof port.port === 'number') [port.port - 1, port.port, port.port + 1].forEach((n) => interesting.add(n));
        if (port.endPort) [port.endPort, port.endPort + 1].forEach((n) => interesting.add(n));
      }
  return { id, namespaces, pods, externals, policies, numbers: [...interesting].filter((n) => n >= 1 && n <= 65535) };
}

// ---- traffic and cyclonus I/O ----

/** The name the destination pod gives this port number and protocol: resolved here, not by the evaluator. */
function portNameOn(dst: Peer, port: number, protocol: Protocol): string {
  if (dst.kind !== 'pod') return '';
  return dst.ports?.find((p) => p.containerPort === port && (p.protocol ?? 'TCP') === protocol)?.name ?? '';
}

interface Case {
  scenario: Scenario;
  src: Peer;
  dst: Peer;
  port: number;
  protocol: Protocol;
}

function genCases(r: Rng, sc: Scenario): Case[] {
  const peers: Peer[] = [...sc.pods, ...sc.externals];
  const cases: Case[] = [];
  for (const src of peers)
    for (const dst of peers) {
      if (src.kind !== 'pod' && dst.kind !== 'pod') continue;
      const declared = dst.kind === 'pod' ? (dst.ports ?? []) : [];
      if (declared.length) {
        const d = r.pick(declared);
        cases.push({ scenario: sc, src, dst, port: d.containerPort, protocol: (d.protocol ?? 'TCP') as Protocol });
      }
      const n = r.pick(sc.numbers);
      cases.push({ scenario: sc, src, dst, port: n, protocol: r.chance(0.6) && NUMBERS[n] ? NUMBERS[n] : r.pick(PROTOCOLS) });
    }
  return cases;
}

const nsLabels = (sc: Scenario, ns: string) => ({ ...(sc.namespaces.find((n) => n.name === ns)?.labels ?? {}), [NAME_LABEL]: ns });

function trafficPeer(sc: Scenario, p: Peer) {
  if (p.kind !== 'pod') return { IP: p.ip };
  return { Internal: { PodLabels: p.labels, NamespaceLabels: nsLabels(sc, p.namespace), Namespace: p.namespace }, IP: p.ip };
}

function toTraffic(c: Case) {
  return {
    Source: trafficPeer(c.scenario, c.src),
    Destination: trafficPeer(c.scenario, c.dst),
    ResolvedPort: c.port,
    ResolvedPortName: portNameOn(c.dst, c.port, c.protocol),
    Protocol: c.protocol,
  };
}

const compare = (ours: Evaluation, theirs: CycVerdict): boolean =>
  ours.allowed === theirs.allowed &&
  ours.ingress.isolated === theirs.ingress.isolated &&
  ours.ingress.allowed === theirs.ingress.allowed &&
  ours.egress.isolated === theirs.egress.isolated &&
  ours.egress.allowed === theirs.egress.allowed;

const brief = (e: Evaluation): CycVerdict => ({
  allowed: e.allowed,
  ingress: { isolated: e.ingress.isolated, allowed: e.ingress.allowed },
  egress: { isolated: e.egress.isolated, allowed: e.egress.allowed },
});
const describePeer = (p: Peer) => (p.kind === 'pod' ? `${p.namespace}/${p.name} ${JSON.stringify(p.labels)} ${p.ip}` : `external ${p.ip}`);
const describeCase = (c: Case) => `scenario ${c.scenario.id}: ${describePeer(c.src)} -> ${describePeer(c.dst)} ${c.protocol}/${c.port}`;

// ---- the run ----

const scenarios: Scenario[] = [];
const cases: Case[] = [];
const spread = { allowed: 0, denied: 0, ingressIsolated: 0, egressIsolated: 0, external: 0 };
const stats = {
  scenarios: 0,
  policies: 0,
  rewrittenPolicies: 0,
  cases: 0,
  namedTwins: 0,
  probeCells: 0,
  probeUnresolved: 0,
  probeUnserved: 0,
  rawDivergent: 0,
};

let cyc: Cyclonus;
const runCyclonus = (args: string[]) => cyc.run(args);
const writePolicies = (name: string, policies: NetworkPolicy[]) => cyc.writePolicies(name, policies);

before(async () => {
  cyc = await startCyclonus();
  const r = prng(SEED);
  for (let i = 0; i < SCENARIOS; i++) {
    const sc = genScenario(r, i);
    scenarios.push(sc);
    cases.push(...genCases(r, sc));
  }
  stats.scenarios = scenarios.length;
  stats.policies = scenarios.reduce((n, s) => n + s.policies.length, 0);
});

after(async () => {
  await cyc?.close();
  process.stderr.write(`network-cyclonus: ${JSON.stringify(stats)}\n`);
});

test('query-traffic: cyclonus and evaluate agree on every connection (pods and external addresses)', async (t) => {
  const mismatches: string[] = [];
  const batches: Scenario[][] = [];
  for (let i = 0; i < scenarios.length; i += BATCH) batches.push(scenarios.slice(i, i + BATCH));
  await pMap(
    batches,
    async (batch, b) => {
      const ids = new Set(batch.map((s) => s.id));
      const batchCases = cases.filter((c) => ids.has(c.scenario.id));
      const models = new Map<number, { ours: CompiledModel; rewritten: CompiledModel; emulated: CompiledModel }>();
      const forCyclonus: NetworkPolicy[] = [];
      const raw: NetworkPolicy[] = [];
      for (const sc of batch) {
        const rewritten = rewritePolicies(sc.policies, FOR_CYCLONUS, false);
        forCyclonus.push(...rewritePolicies(sc.policies, FOR_CYCLONUS, true));
        raw.push(...rewritePolicies(sc.policies, IDENTITY, true));
        stats.rewrittenPolicies += rewritten.length;
        models.set(sc.id, {
          ours: compileModel({ namespaces: sc.namespaces, policies: sc.policies }),
          rewritten: compileModel({ namespaces: sc.namespaces, policies: rewritten }),
          emulated: compileModel({ namespaces: sc.namespaces, policies: rewritePolicies(sc.policies, CYCLONUS_SEMANTICS, false) }),
        });
      }
      const traffic = path.join(cyc.dir, `traffic-${b}.json`);
      await writeFile(traffic, JSON.stringify(batchCases.map(toTraffic)));
      const good = parseQueryTraffic(
        await runCyclonus(['--mode', 'query-traffic', '--policy-path', await writePolicies(`k8s-${b}`, forCyclonus), '--traffic-path', traffic]),
      );
      const bad = parseQueryTraffic(
        await runCyclonus(['--mode', 'query-traffic', '--policy-path', await writePolicies(`raw-${b}`, raw), '--traffic-path', traffic]),
      );
      assert.equal(good.length, batchCases.length, 'one verdict per traffic');
      assert.equal(bad.length, batchCases.length, 'one verdict per traffic');
      batchCases.forEach((c, i) => {
        const m = models.get(c.scenario.id)!;
        const ours = evaluateCompiled(m.ours, c.src, c.dst, c.port, c.protocol);
        stats.cases++;
        spread[ours.allowed ? 'allowed' : 'denied']++;
        if (ours.ingress.isolated) spread.ingressIsolated++;
        if (ours.egress.isolated) spread.egressIsolated++;
        if (c.src.kind !== 'pod' || c.dst.kind !== 'pod') spread.external++;
        const name = portNameOn(c.dst, c.port, c.protocol);
        assert.deepEqual(ours.port, { number: c.port, names: name ? [name] : [] }, describeCase(c));
        if (!compare(ours, good[i])) mismatches.push(`${describeCase(c)}\n  ours ${JSON.stringify(brief(ours))}\n  cyclonus ${JSON.stringify(good[i])}`);
        // the rewrite for cyclonus keeps Kubernetes semantics
        assert.deepEqual(brief(evaluateCompiled(m.rewritten, c.src, c.dst, c.port, c.protocol)), brief(ours), `rewrite changed ${describeCase(c)}`);
        // the same connection named by its port name
        if (name) {
          stats.namedTwins++;
          assert.deepEqual(evaluateCompiled(m.ours, c.src, c.dst, name, c.protocol), ours, `by name: ${describeCase(c)}`);
        }
        // raw cyclonus: exactly its selector semantics, nothing else
        const emulated = evaluateCompiled(m.emulated, c.src, c.dst, c.port, c.protocol);
        if (!compare(emulated, bad[i]))
          mismatches.push(`(raw) ${describeCase(c)}\n  ours under cyclonus selectors ${JSON.stringify(brief(emulated))}\n  cyclonus ${JSON.stringify(bad[i])}`);
        if (!compare(ours, bad[i])) stats.rawDivergent++;
      });
    },
    { concurrency: 2 },
  );
  t.diagnostic(
    `${stats.scenarios} scenarios, ${stats.policies} policies (${stats.rewrittenPolicies} after the rewrite), ${stats.cases} connections, ${stats.namedTwins} also by port name`,
  );
  t.diagnostic(`verdicts: ${JSON.stringify(spread)}`);
  t.diagnostic(
    `raw cyclonus differs from Kubernetes semantics on ${stats.rawDivergent} connections, every one explained by its NotIn / matchLabels "" handling`,
  );
  assert.equal(mismatches.length, 0, `${mismatches.length} mismatches, first ones:\n${mismatches.slice(0, 8).join('\n')}`);
  assert.ok(stats.cases > SCENARIOS * 40, `only ${stats.cases} connections compared`);
  assert.ok(Math.min(spread.allowed, spread.denied, spread.ingressIsolated, spread.egressIsolated, spread.external) > stats.cases / 10, 'a lopsided sample');
  assert.ok(stats.rawDivergent > 0, 'the generator no longer exercises the selector differences');
});

test('probe: cyclonus and evaluate agree on every pod pair, ports by number and by name', async (t) => {
  const mismatches: string[] = [];
  await pMap(
    scenarios,
    async (sc) => {
      const pods = sc.pods.filter((p) => (p.ports ?? []).length > 0);
      if (pods.length === 0) return;
      const keys = pods.map((p) => `${p.namespace}/${p.name}`).sort();
      const byKey = new Map(pods.map((p) => [`${p.namespace}/${p.name}`, p]));
      const probes: Array<{ Port: number | string; Protocol: Protocol }> = [];
      const seen = new Set<string>();
      for (const p of pods)
        for (const cp of p.ports!) {
          const proto = (cp.protocol ?? 'TCP') as Protocol;
          for (const port of cp.name ? [cp.containerPort, cp.name] : [cp.containerPort]) {
            const k = `${proto}/${port}`;
            if (!seen.has(k)) probes.push({ Port: port, Protocol: proto });
            seen.add(k);
          }
        }
      const config = {
        Resources: {
          Namespaces: Object.fromEntries(sc.namespaces.map((n) => [n.name, nsLabels(sc, n.name)])),
          Pods: pods.map((p) => ({
            Namespace: p.namespace,
            Name: p.name,
            Labels: p.labels,
            IP: p.ip,
            Containers: p.ports!.map((cp, i) => ({ Name: `c${i}`, Port: cp.containerPort, Protocol: cp.protocol ?? 'TCP', PortName: cp.name ?? '' })),
          })),
        },
        Probes: probes,
      };
      const file = path.join(cyc.dir, `probe-${sc.id}.json`);
      await writeFile(file, JSON.stringify(config));
      const policyDir = await writePolicies(`probe-${sc.id}`, rewritePolicies(sc.policies, FOR_CYCLONUS, true));
      const tables = parseProbe(await runCyclonus(['--mode', 'probe', '--policy-path', policyDir, '--probe-path', file]), keys, probes.length);
      const m = compileModel({ namespaces: sc.namespaces, policies: sc.policies });
      probes.forEach((probe, k) =>
        keys.forEach((fk, i) =>
          keys.forEach((tk, j) => {
            const src = byKey.get(fk)!;
            const dst = byKey.get(tk)!;
            const [ing, egr, comb] = [tables[k].ingress[i][j], tables[k].egress[i][j], tables[k].combined[i][j]];
            const ours = evaluateCompiled(m, src, dst, probe.Port, probe.Protocol);
            const where = `scenario ${sc.id}: ${fk} -> ${tk} ${probe.Protocol}/${probe.Port}`;
            if (comb === 'N') {
              // numeric probe on a port the destination does not serve: cyclonus does not evaluate it
              assert.ok(!dst.ports!.some((p) => p.containerPort === probe.Port), where);
              stats.probeUnserved++;
              return;
            }
            if (comb === 'P') {
              if (ours.port.number !== null) mismatches.push(`${where}: cyclonus cannot resolve the name, we resolve it to ${ours.port.number}`);
              stats.probeUnresolved++;
              return;
            }
            stats.probeCells++;
            const theirs = { ingress: ing === '.', egress: egr === '.', combined: comb === '.' };
            const mine = { ingress: ours.ingress.allowed, egress: ours.egress.allowed, combined: ours.allowed };
            if ([ing, egr, comb].some((c) => c !== '.' && c !== 'X') || JSON.stringify(theirs) !== JSON.stringify(mine)) {
              mismatches.push(`${where}: ours ${JSON.stringify(mine)}, cyclonus ${ing}${egr}${comb}`);
            }
          }),
        ),
      );
    },
    { concurrency: 2 },
  );
  t.diagnostic(
    `${stats.probeCells} probe cells compared (ingress, egress, combined), ${stats.probeUnresolved} unresolvable named ports agreed, ${stats.probeUnserved} unserved ports skipped`,
  );
  assert.equal(mismatches.length, 0, `${mismatches.length} mismatches, first ones:\n${mismatches.slice(0, 8).join('\n')}`);
  assert.ok(stats.probeCells > SCENARIOS * 20, `only ${stats.probeCells} probe cells compared`);
});

test('cyclonus itself: its two selector divergences from Kubernetes, on the smallest cases', async () => {
  // Kubernetes (k8s.io/apimachinery/pkg/labels, Requirement.Matches): NotIn matches an object without the
  // key; matchLabels k: "" is k == "", which needs the key. cyclonus v0.5.6 (pkg/kube/labelselector.go,
  // IsMatchExpressionMatchForLabels and IsLabelsMatchLabelSelector) does the opposite in both cases.
  const ns: NamespaceInfo[] = [{ name: 'div', labels: {} }];
  const unlabelled: Pod = { kind: 'pod', namespace: 'div', name: 'bare', labels: {}, ip: '10.9.0.1' };
  const client: Pod = { kind: 'pod', namespace: 'div', name: 'client', labels: { role: 'client' }, ip: '10.9.0.2' };
  const isolate = (name: string, podSelector: LabelSelector): NetworkPolicy => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: 'div' },
    spec: { podSelector, policyTypes: ['Ingress'] },
  });
  const cases = [
    { policy: isolate('not-db', { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['db'] }] }), k8sAllowed: false },
    { policy: isolate('tier-empty', { matchLabels: { tier: '' } }), k8sAllowed: true },
  ];
  for (const { policy, k8sAllowed } of cases) {
    const sc = { id: -1, namespaces: ns, pods: [unlabelled, client], externals: [], policies: [policy], numbers: [] } as Scenario;
    const c: Case = { scenario: sc, src: client, dst: unlabelled, port: 80, protocol: 'TCP' };
    const traffic = path.join(cyc.dir, `divergence-${policy.metadata.name}.json`);
    await writeFile(traffic, JSON.stringify([toTraffic(c)]));
    const run = async (policies: NetworkPolicy[], tag: string) =>
      parseQueryTraffic(
        await runCyclonus([
          '--mode',
          'query-traffic',
          '--policy-path',
          await writePolicies(`divergence-${tag}-${policy.metadata.name}`, policies),
          '--traffic-path',
          traffic,
        ]),
      )[0];
    const ours = evaluateCompiled(compileModel({ namespaces: ns, policies: [policy] }), client, unlabelled, 80, 'TCP');
    assert.equal(ours.allowed, k8sAllowed, `ours, ${policy.metadata.name}`);
    assert.equal((await run([policy], 'raw')).allowed, !k8sAllowed, `raw cyclonus, ${policy.metadata.name}`);
    assert.equal((await run(rewritePolicies([policy], FOR_CYCLONUS, true), 'k8s')).allowed, k8sAllowed, `rewritten for cyclonus, ${policy.metadata.name}`);
  }
});
