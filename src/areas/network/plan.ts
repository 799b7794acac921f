// The plan: per chosen namespace, the policies the answers ask for (default denies and the allows that
// keep things working), merged with what exists: an existing policy that already does the job is reused
// and named in the plan, ours from an earlier run is updated in place, and nothing existing is changed or
// removed. DNS egress always comes with an egress deny, whatever the answers say.
import type { KubeObject } from '../../cluster/types.js';
import type { Edit } from '../../engine/compose.js';
import { jsonEqual } from '../../engine/normalise.js';
import type { Answers, Inspection } from '../types.js';
import type { NetworkPolicy, NetworkPolicyPort } from './eval-types.js';
import type { NetworkFacts } from './inspect.js';
import { covers } from './merge.js';
import {
  allowApiServer,
  allowDns,
  allowFromClient,
  allowFromIngressController,
  allowSameNamespace,
  allowToService,
  denyEgress,
  denyIngress,
  isManaged,
  type AppRule,
  type Desired,
} from './policies.js';

export type DenyMode = 'both' | 'ingress' | 'egress' | 'none';
export type AllowId = 'dns' | 'same-namespace' | 'ingress-controller';

export interface NetworkAnswers {
  namespaces: string[];
  deny: DenyMode;
  allow: AllowId[];
  apiServer: string[];
  appRules: string[];
}

export function readAnswers(answers: Answers): NetworkAnswers {
  const list = (k: string) => (Array.isArray(answers[k]) ? (answers[k] as string[]) : []);
  return {
    namespaces: list('network.namespaces'),
    deny: ((answers['network.defaultDeny'] as DenyMode | undefined) ?? 'none') as DenyMode,
    allow: list('network.allow') as AllowId[],
    apiServer: list('network.apiServer'),
    appRules: list('network.appRules'),
  };
}

/** `namespace/client>service`: the client app may reach the Service's pods on its target ports. */
export const appRuleValue = (ns: string, client: string, service: string) => `${ns}/${client}>${service}`;

export function parseAppRule(v: string): { namespace: string; client: string; service: string } | undefined {
  const m = /^([^/]+)\/(.+)>([^>]+)$/.exec(v);
  return m ? { namespace: m[1], client: m[2], service: m[3] } : undefined;
}

/** The Service's target ports, as policy ports (named target ports stay names: they resolve on the pods). */
export const servicePorts = (ports: Array<{ targetPort: number | string; protocol: NetworkPolicyPort['protocol'] }>): NetworkPolicyPort[] => [
  ...new Map(ports.map((p) => [`${p.protocol}/${p.targetPort}`, { protocol: p.protocol, port: p.targetPort }])).values(),
];

/** What the answers ask for in one namespace, before merging with what exists. */
export function desiredFor(facts: NetworkFacts, ns: string, a: NetworkAnswers): Desired[] {
  const ingress = a.deny === 'both' || a.deny === 'ingress';
  const egress = a.deny === 'both' || a.deny === 'egress';
  if (!ingress && !egress) return [];
  const out: Desired[] = [];
  if (ingress) out.push(denyIngress(ns));
  if (egress) out.push(denyEgress(ns));
  // Never an egress deny without DNS: not a choice.
  if (egress) out.push(allowDns(ns, facts.dns));
  if (a.allow.includes('same-namespace')) {
    if (ingress) out.push(allowSameNamespace(ns, 'ingress'));
    if (egress) out.push(allowSameNamespace(ns, 'egress'));
  }
  const controllers = [...new Set(facts.ingressControllers.map((c) => c.namespace))].filter((c) => c !== ns);
  if (ingress && a.allow.includes('ingress-controller') && controllers.length) out.push(allowFromIngressController(ns, controllers));
  if (egress && facts.apiServer.addresses.length) {
    for (const id of a.apiServer) {
      if (!id.startsWith(`${ns}/`)) continue;
      const g = facts.groups.find((x) => `${x.namespace}/${x.app}` === id && Object.keys(x.appSelector).length);
      if (g) out.push(allowApiServer(ns, g.app, g.appSelector, facts.apiServer));
    }
  }
  // App-to-app rules: the Service's pods accept the client (ingress), the client may reach them (egress).
  const rules: AppRule[] = [];
  for (const v of a.appRules) {
    const r = parseAppRule(v);
    if (!r || r.namespace !== ns) continue;
    const svc = facts.services.find((s) => s.namespace === ns && s.name === r.service && Object.keys(s.selector).length);
    const g = facts.groups.find((x) => x.namespace === ns && x.app === r.client && Object.keys(x.appSelector).length);
    if (!svc || !g || svc.ports.length === 0) continue;
    rules.push({ client: { app: g.app, selector: g.appSelector }, service: { name: svc.name, selector: svc.selector, ports: servicePorts(svc.ports) } });
  }
  if (ingress) {
    for (const name of [...new Set(rules.map((r) => r.service.name))].sort()) {
      const mine = rules.filter((r) => r.service.name === name);
      out.push(
        allowToService(
          ns,
          mine[0].service,
          uniqueBy(
            mine.map((r) => r.client),
            (c) => c.app,
          ),
        ),
      );
    }
  }
  if (egress) {
    for (const app of [...new Set(rules.map((r) => r.client.app))].sort()) {
      const mine = rules.filter((r) => r.client.app === app);
      out.push(
        allowFromClient(
          ns,
          mine[0].client,
          uniqueBy(
            mine.map((r) => r.service),
            (s) => s.name,
          ),
        ),
      );
    }
  }
  return out;
}

const uniqueBy = <T>(xs: T[], key: (x: T) => string): T[] => [...new Map(xs.map((x) => [key(x), x])).values()];

/** What happens to each desired policy once merged with the namespace's existing ones. */
export type Outcome =
  | { action: 'create'; desired: Desired; policy: NetworkPolicy }
  | { action: 'update'; desired: Desired; base: NetworkPolicy; policy: NetworkPolicy }
  | { action: 'reuse'; desired: Desired; existing: string; ours: boolean };

/** Merge the desired policies of a namespace with its existing ones. */
export function mergeNamespace(facts: NetworkFacts, ns: string, desired: Desired[]): Outcome[] {
  const existing = facts.policies.filter((p) => (p.metadata.namespace ?? 'default') === ns);
  const taken = new Set(existing.map((p) => p.metadata.name));
  return desired.map((d): Outcome => {
    const same = existing.find((p) => p.metadata.name === d.policy.metadata.name);
    const reusable = [...(same ? [same] : []), ...existing.filter((p) => p !== same)].find((p) => covers(p, d.policy, facts));
    if (reusable) return { action: 'reuse', desired: d, existing: reusable.metadata.name, ours: isManaged(reusable) };
    if (same && isManaged(same)) return { action: 'update', desired: d, base: same, policy: d.policy };
    let policy = d.policy;
    if (same) {
      let name = `${d.policy.metadata.name}-kube-harden`;
      for (let i = 2; taken.has(name); i++) name = `${d.policy.metadata.name}-kube-harden-${i}`;
      policy = { ...d.policy, metadata: { ...d.policy.metadata, name } };
    }
    taken.add(policy.metadata.name);
    return { action: 'create', desired: d, policy };
  });
}

/** The sentence the plan gives for a reused policy (the review lists them from the changes' reasons). */
export const reuseText = (o: Extract<Outcome, { action: 'reuse' }>, ns: string) =>
  `reused existing networkpolicy/${o.existing} in ${ns}: it already does what ${o.desired.policy.metadata.name} would (${o.desired.does})`;
export const REUSE_PREFIX = 'reused existing networkpolicy/';
/** The reuse sentences in a change's reason. */
export const reusesIn = (reason: string): string[] => reason.split('; ').filter((p) => p.startsWith(REUSE_PREFIX));

const DENY = new Set(['default-deny-ingress', 'default-deny-egress']);

export function planNetwork(ins: Inspection<NetworkFacts>, answers: Answers): Edit[] {
  const facts = ins.facts;
  const a = readAnswers(answers);
  const chosen = new Set(a.namespaces);
  const edits: Edit[] = [];
  for (const nsFacts of facts.namespaces) {
    const ns = nsFacts.name;
    if (!chosen.has(ns)) continue;
    const outcomes = mergeNamespace(facts, ns, desiredFor(facts, ns, a));
    const reused = outcomes.filter((o): o is Extract<Outcome, { action: 'reuse' }> => o.action === 'reuse');
    const nsEdits: Edit[] = [];
    for (const o of outcomes) {
      if (o.action === 'reuse') continue;
      const deny = DENY.has(o.desired.purpose);
      const findingIds = deny
        ? ins.findings
            .filter(
              (f) =>
                f.ref.kind === 'Namespace' &&
                f.ref.name === ns &&
                f.rule === (o.desired.purpose === 'default-deny-ingress' ? 'defaultDenyIngress' : 'defaultDenyEgress'),
            )
            .map((f) => f.id)
        : [];
      const common = {
        kind: 'object' as const,
        area: 'network',
        findingIds,
        reason: o.desired.does,
        risk: deny ? ('medium' as const) : ('low' as const),
        riskNote: deny ? 'connections no policy allows are dropped once it exists: see the impact table' : undefined,
        // Allows first, then the denies, so nothing the plan keeps is ever cut while it is applied.
        phase: deny ? ('after-rollout' as const) : ('create' as const),
      };
      if (o.action === 'create') nsEdits.push({ ...common, op: 'create', object: o.policy as unknown as KubeObject });
      else {
        const spec = o.policy.spec;
        const labels = o.policy.metadata.labels as Record<string, string>;
        const annotations = o.policy.metadata.annotations as Record<string, string>;
        nsEdits.push({
          ...common,
          op: 'mutate',
          base: o.base as unknown as KubeObject,
          reason: `${common.reason} (updates the policy kube-harden wrote earlier)`,
          mutate: (obj: KubeObject) => {
            const next = {
              ...obj,
              metadata: {
                ...obj.metadata,
                labels: { ...(obj.metadata.labels ?? {}), ...labels },
                annotations: { ...(obj.metadata.annotations ?? {}), ...annotations },
              },
              spec: structuredClone(spec),
            };
            return jsonEqual(next, obj) ? obj : next;
          },
        });
      }
    }
    if (nsEdits.length && reused.length) nsEdits[0] = { ...nsEdits[0], reason: `${nsEdits[0].reason}; ${reused.map((o) => reuseText(o, ns)).join('; ')}` };
    edits.push(...nsEdits);
  }
  return edits;
}
