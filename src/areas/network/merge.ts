// Merging what the plan wants with the policies that exist: an existing policy that already does what a
// planned one would (isolates at least the same pods in the same directions, and allows at least what it
// allows) is reused instead of duplicated. Decided by the evaluator on probe connections built from the
// real pods of the cluster and from the planned policy's own peers and ports.
import type { LabelSelector, NetworkPolicy, NetworkPolicyPeer, Peer } from './eval-types.js';
import type { PortSpec } from './evaluate.js';
import { compileModel, effectivePolicyTypes, evaluateCompiled, matchesSelector, NAMESPACE_NAME_LABEL } from './evaluate.js';
import { selectorIsEmpty } from './eval-selector.js';
import { dnsPeers, newPodIn, OUTSIDE, OUTSIDE_PORTS, peerOfGroup } from './model.js';
import type { NetworkFacts } from './inspect.js';

const canonical = (s: LabelSelector | null | undefined) =>
  JSON.stringify({
    l: Object.entries(s?.matchLabels ?? {}).sort(([a], [b]) => a.localeCompare(b)),
    e: [...(s?.matchExpressions ?? [])]
      .map((e) => ({ ...e, values: [...(e.values ?? [])].sort() }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
  });

/** `outer` selects every pod `inner` selects, for any labels (an empty selector, or the same one). */
const selectsAtLeast = (outer: LabelSelector, inner: LabelSelector) => selectorIsEmpty(outer) || canonical(outer) === canonical(inner);

/** A pod that `sel` selects, when its matchLabels say enough (for probing). */
const podFor = (namespace: string, sel: LabelSelector | null | undefined): Peer => newPodIn(namespace, { ...(sel?.matchLabels ?? {}) });

function namespacesOf(peer: NetworkPolicyPeer, own: string, facts: NetworkFacts): string[] {
  if (!peer.namespaceSelector) return [own];
  const named = peer.namespaceSelector.matchLabels?.[NAMESPACE_NAME_LABEL];
  if (named) return [named];
  return facts.namespaceInfos
    .filter((n) => matchesSelector(peer.namespaceSelector!, { ...(n.labels ?? {}), [NAMESPACE_NAME_LABEL]: n.name }))
    .map((n) => n.name);
}

/** Peers that stand for what the policy's own rules name: pods of its selectors, addresses of its blocks. */
function peersNamedBy(p: NetworkPolicy, facts: NetworkFacts): Peer[] {
  const ns = p.metadata.namespace ?? 'default';
  const out: Peer[] = [];
  for (const r of [...(p.spec.ingress ?? []).map((x) => x.from), ...(p.spec.egress ?? []).map((x) => x.to)])
    for (const peer of r ?? []) {
      if (peer.ipBlock) out.push({ kind: 'external', ip: peer.ipBlock.cidr.split('/')[0] });
      else for (const n of namespacesOf(peer, ns, facts)) out.push(podFor(n, peer.podSelector));
    }
  return out;
}

/** Ports worth probing between two peers for these policies: the destination's own, and the policies' own. */
function probePorts(dst: Peer, policies: NetworkPolicy[]): PortSpec[] {
  const out: PortSpec[] = [{ port: 47911, protocol: 'TCP' }];
  if (dst.kind === 'pod') for (const cp of dst.ports ?? []) out.push({ port: cp.containerPort, protocol: (cp.protocol ?? 'TCP') as PortSpec['protocol'] });
  else out.push(...OUTSIDE_PORTS);
  for (const p of policies)
    for (const r of [...(p.spec.ingress ?? []), ...(p.spec.egress ?? [])])
      for (const port of r.ports ?? []) if (port.port !== undefined && port.port !== null) out.push({ port: port.port, protocol: port.protocol ?? 'TCP' });
  return [...new Map(out.map((x) => [`${x.protocol}/${x.port}`, x])).values()];
}

/**
 * Does `existing` already do what `planned` would? Both in one namespace. It must isolate at least the
 * pods the planned one selects, for at least its directions, and allow every probe connection the planned
 * one allows.
 */
export function covers(existing: NetworkPolicy, planned: NetworkPolicy, facts: NetworkFacts): boolean {
  const ns = planned.metadata.namespace ?? 'default';
  if ((existing.metadata.namespace ?? 'default') !== ns) return false;
  const want = effectivePolicyTypes(planned);
  const have = effectivePolicyTypes(existing);
  if (!want.every((t) => have.includes(t))) return false;
  if (!selectsAtLeast(existing.spec.podSelector ?? {}, planned.spec.podSelector ?? {})) return false;
  const hasRules = (want.includes('Ingress') && (planned.spec.ingress ?? []).length > 0) || (want.includes('Egress') && (planned.spec.egress ?? []).length > 0);
  if (!hasRules) return true;

  const namespaces = facts.namespaceInfos.some((n) => n.name === ns) ? facts.namespaceInfos : [...facts.namespaceInfos, { name: ns, labels: {} }];
  const mPlanned = compileModel({ namespaces, policies: [planned] });
  const mExisting = compileModel({ namespaces, policies: [existing] });
  const plannedKey = `${ns}/${planned.metadata.name}`;
  const existingKey = `${ns}/${existing.metadata.name}`;
  const selected = [...facts.groups.filter((g) => g.namespace === ns).map(peerOfGroup), podFor(ns, planned.spec.podSelector)].filter(
    (p) => p.kind === 'pod' && matchesSelector(planned.spec.podSelector ?? {}, p.labels),
  );
  const named = peersNamedBy(planned, facts);
  const everyone: Peer[] = [...facts.groups.map(peerOfGroup), ...dnsPeers(facts.dns, facts.groups), OUTSIDE, newPodIn(ns), ...named];
  for (const dir of ['ingress', 'egress'] as const) {
    if (!want.includes(dir === 'ingress' ? 'Ingress' : 'Egress')) continue;
    for (const self of selected)
      for (const other of everyone) {
        const [src, dst] = dir === 'ingress' ? [other, self] : [self, other];
        for (const { port, protocol } of probePorts(dst, [planned])) {
          const p = evaluateCompiled(mPlanned, src, dst, port, protocol)[dir];
          if (!p.allowedBy.includes(plannedKey)) continue;
          if (!evaluateCompiled(mExisting, src, dst, port, protocol)[dir].allowedBy.includes(existingKey)) return false;
        }
      }
  }
  return true;
}
