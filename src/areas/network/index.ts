import type { Area, Choice, Inspection, Question } from '../types.js';
import { reviewNetwork } from './impact.js';
import { inspectNetwork, NETWORK_READS, RULES, type NetworkFacts } from './inspect.js';
import { appRuleValue, planNetwork, servicePorts } from './plan.js';
import { portsText } from './policies.js';

const denies = (v: unknown, dir: 'ingress' | 'egress') => v === 'both' || v === dir;

function appRuleChoices(f: NetworkFacts, namespaces: string[]): Choice[] {
  const out: Choice[] = [];
  for (const ns of namespaces) {
    const apps = [...new Map(f.groups.filter((g) => g.namespace === ns && Object.keys(g.appSelector).length).map((g) => [g.app, g])).values()];
    for (const svc of f.services.filter((s) => s.namespace === ns && Object.keys(s.selector).length && s.ports.length)) {
      const servers = new Set(
        f.groups.filter((g) => g.namespace === ns && Object.entries(svc.selector).every(([k, v]) => g.labels[k] === v)).map((g) => g.app),
      );
      for (const client of apps) {
        if (servers.has(client.app)) continue;
        const mentioned = f.groups.some((g) => g.namespace === ns && g.app === client.app && g.mentions.includes(svc.name));
        out.push({
          value: appRuleValue(ns, client.app, svc.name),
          label: `${ns}: ${client.app} → ${svc.name} (${portsText(servicePorts(svc.ports))})`,
          hint: mentioned ? `${client.app} names ${svc.name} in its env or args` : undefined,
        });
      }
    }
  }
  return out;
}

function questions(ins: Inspection<NetworkFacts>): Question[] {
  const f = ins.facts;
  const withFindings = new Set(ins.findings.filter((x) => x.ref.kind === 'Namespace').map((x) => x.ref.name));
  const nsChoices: Choice[] = f.namespaces.map((n) => ({
    value: n.name,
    label: n.name,
    hint: n.infrastructure
      ? `infrastructure (${n.infrastructure}): only when you know its traffic`
      : n.pods
        ? `${n.pods} pod(s), ${n.policies.length} polic${n.policies.length === 1 ? 'y' : 'ies'}${f.ingressesByNamespace[n.name] ? `, ${f.ingressesByNamespace[n.name]} Ingress(es)` : ''}; ingress ${n.ingress.defaultDeny ? 'denied' : 'open'}, egress ${n.egress.defaultDeny ? 'denied' : 'open'} by default`
        : 'no pods',
  }));
  const defaults = f.namespaces
    .filter((n) => !n.infrastructure && withFindings.has(n.name))
    .map((n) => n.name)
    .sort();
  const policyLines = f.namespaces.flatMap((n) => n.policies.map((p) => `${n.name}: ${p}`));
  const controllers = [...new Set(f.ingressControllers.map((c) => c.namespace))];
  const apiChoices: Choice[] = [
    ...new Map(
      f.groups
        .filter((g) => g.mountsToken && Object.keys(g.appSelector).length && f.namespaces.some((n) => n.name === g.namespace))
        .map((g) => [
          `${g.namespace}/${g.app}`,
          {
            value: `${g.namespace}/${g.app}`,
            label: `${g.namespace}/${g.app}`,
            hint: f.apiClients.includes(`${g.namespace}/${g.app}`)
              ? `service account ${g.serviceAccount} is bound to a role`
              : `service account ${g.serviceAccount}`,
          },
        ]),
    ).values(),
  ];
  const ruleChoices = appRuleChoices(
    f,
    f.namespaces.map((n) => n.name),
  );
  const enforcement = f.cni.enforces === 'no' ? `WARNING: ${f.cni.summary}` : f.cni.summary;
  return [
    {
      id: 'network.namespaces',
      area: 'network',
      title: 'Which namespaces get default-deny NetworkPolicies?',
      help: 'Namespaces whose pods accept (or open) connections from (to) anywhere are chosen by default; infrastructure namespaces (CNI, ingress controllers, monitoring) never are. Existing policies are kept as they are.',
      kind: 'multiselect',
      choices: nsChoices,
      default: defaults,
      details: [enforcement, ...(policyLines.length ? ['existing policies:', ...policyLines.slice(0, 30)] : ['no NetworkPolicy exists in these namespaces'])],
    },
    {
      id: 'network.defaultDeny',
      area: 'network',
      title: 'Deny by default: ingress, egress or both?',
      help: 'A default deny isolates every pod of the namespace in that direction: only what a policy allows still flows. Denying egress always keeps DNS to kube-dns/CoreDNS open. The review shows every path that would be lost before anything is written.',
      kind: 'select',
      choices: [
        { value: 'ingress', label: 'ingress', hint: 'who may connect to the pods (recommended first step)' },
        { value: 'both', label: 'ingress and egress', hint: 'also where the pods may connect (DNS always allowed)' },
        { value: 'egress', label: 'egress only' },
        { value: 'none', label: 'none: leave the namespaces open' },
      ],
      default: 'ingress',
      details: [enforcement, `DNS: ${f.dns.source}${f.dns.nodeLocal ? `; node-local cache ${f.dns.nodeLocal}` : ''}`],
    },
    {
      id: 'network.allow',
      area: 'network',
      title: 'Which traffic keeps flowing?',
      help: 'Allows added beside the default deny. DNS egress is always allowed when egress is denied, whatever is chosen here.',
      kind: 'multiselect',
      choices: [
        { value: 'dns', label: 'DNS egress to kube-dns/CoreDNS', hint: 'always on when egress is denied' },
        { value: 'same-namespace', label: 'traffic between the pods of the same namespace' },
        {
          value: 'ingress-controller',
          label: 'from the ingress controller',
          hint: controllers.length
            ? `namespace ${controllers.join(', ')}${f.ingressControllers.some((c) => c.hostNetwork) ? ' (on the host network: its connections come from node addresses, which this does not cover)' : ''}`
            : 'none detected: nothing to allow',
        },
      ],
      default: ['dns', 'same-namespace', 'ingress-controller'],
      when: (a) => a['network.defaultDeny'] !== 'none',
    },
    {
      id: 'network.apiServer',
      area: 'network',
      title: 'Which apps may reach the Kubernetes API server?',
      help: `Pods that use their service-account token talk to the API server; with egress denied they need an allow. Chosen by default: apps whose service account is bound to a role. Target: ${f.apiServer.source}.`,
      kind: 'multiselect',
      choices: apiChoices,
      default: apiChoices.filter((c) => f.apiClients.includes(c.value)).map((c) => c.value),
      when: (a) => denies(a['network.defaultDeny'], 'egress') && apiChoices.length > 0,
    },
    {
      id: 'network.appRules',
      area: 'network',
      title: 'Which app may reach which Service?',
      help: 'Instead of opening the whole namespace: each rule lets one app reach the pods of one Service on its target ports (e.g. frontend may reach backend, not the database). Chosen by default: the Services an app names in its env or args.',
      kind: 'multiselect',
      choices: ruleChoices,
      default: ruleChoices.filter((c) => c.hint).map((c) => c.value),
      when: (a) =>
        a['network.defaultDeny'] !== 'none' && !((a['network.allow'] as string[] | undefined) ?? []).includes('same-namespace') && ruleChoices.length > 0,
    },
  ];
}

export const networkArea: Area<NetworkFacts> = {
  id: 'network',
  title: 'Network policies',
  summary:
    'Default-deny NetworkPolicies per namespace (ingress, egress or both) with the allows that keep things working: DNS, same-namespace traffic, the ingress controller, the API server, app-to-app rules from the Services. Merged with existing policies; every path lost is shown before anything is written.',
  reads: NETWORK_READS,
  rules: RULES,
  inspect: inspectNetwork,
  questions,
  answerDocs: {
    'network.namespaces': 'Which namespaces get default-deny NetworkPolicies? (default: those with pods, never infrastructure namespaces)',
    'network.defaultDeny': 'Deny by default: ingress | egress | both | none (DNS egress is always allowed when egress is denied)',
    'network.allow': 'Which traffic keeps flowing: dns, same-namespace, ingress-controller',
    'network.apiServer': 'Which apps may reach the Kubernetes API server (namespace/app keys; with egress denied)',
    'network.appRules': 'Which app may reach which Service (app-to-service rules, instead of same-namespace)',
  },
  plan: planNetwork,
  review: (ins, changes, _dry, answers) => reviewNetwork(ins.facts, changes, answers),
};
