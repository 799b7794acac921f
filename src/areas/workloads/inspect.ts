import pMap from 'p-map';
import { builtinByKind } from '../../cluster/resources.js';
import type { KubeObject } from '../../cluster/types.js';
import { refOf } from '../../cluster/types.js';
import type { Finding, InspectContext, Inspection } from '../types.js';
import { CHECKS, type Check } from './checks.js';
import { allContainers, isOwned, isPatchable, podSpecOf, WORKLOAD_KINDS, type PodSpec } from './pod-spec.js';
import { probeLevel, psaLabels, type NamespacePsa } from './psa.js';

export const SYSTEM_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease'];
export const isSystemNamespace = (ns: string) => SYSTEM_NAMESPACES.includes(ns);

/** The one generic evaluator: run every check over a workload's pod spec. */
export function evaluate(obj: KubeObject, checks: Check[] = CHECKS): Finding[] {
  const pod = podSpecOf(obj);
  if (!pod) return [];
  const ref = refOf(obj);
  const base = `workloads/%c/${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
  const fixable = isPatchable(obj);
  const out: Finding[] = [];
  for (const check of checks) {
    if (check.scope === 'pod') {
      if (check.fails(pod)) out.push(finding(check, base, ref, fixable));
    } else {
      for (const c of allContainers(pod as PodSpec)) {
        if (check.fails(pod, c)) out.push(finding(check, base, ref, fixable, c.name));
      }
    }
  }
  return out;
}

function finding(check: Check, base: string, ref: Finding['ref'], patchable: boolean, container?: string): Finding {
  return {
    id: base.replace('%c', check.id) + (container ? `/${container}` : ''),
    area: 'workloads',
    check: check.id,
    severity: check.severity,
    ref,
    container,
    message: container ? `container ${container} ${check.message}` : `pod ${check.message}`,
    why: check.why,
    fixable: patchable && check.fix !== undefined,
  };
}

export interface WorkloadFacts {
  namespaces: string[];
  psa: NamespacePsa[];
}

export async function inspectWorkloads(ctx: InspectContext): Promise<Inspection> {
  const { cluster } = ctx;
  ctx.onProgress?.('listing namespaces');
  const allNs = await cluster.list(builtinByKind('Namespace'));
  const wanted = ctx.namespaces ? new Set(ctx.namespaces) : undefined;
  const nsObjects = allNs.filter((n) =>
    wanted ? wanted.has(n.metadata.name) : ctx.includeSystem || !isSystemNamespace(n.metadata.name),
  );
  const inScope = new Set(nsObjects.map((n) => n.metadata.name));

  // One paginated LIST per kind across all namespaces (or per namespace when only a few are asked for).
  const perNamespace = wanted !== undefined && wanted.size <= 10;
  const counts: Record<string, number> = {};
  const objects: KubeObject[] = [];
  const findings: Finding[] = [];
  const nsWithPods = new Set<string>();
  const take = (o: KubeObject) => {
    if (!inScope.has(o.metadata.namespace!)) return;
    if (o.kind === 'Pod') nsWithPods.add(o.metadata.namespace!);
    // Pods of a ReplicaSet and Jobs of a CronJob are judged through the template that made them.
    if ((o.kind === 'Pod' || o.kind === 'Job') && isOwned(o)) return;
    if (ctx.keepObjects !== false) objects.push(o);
    for (const f of evaluate(o)) findings.push(f);
  };
  await pMap(
    WORKLOAD_KINDS,
    async (kind) => {
      const t = builtinByKind(kind);
      const onPage = (n: number) => {
        counts[kind] = n;
        ctx.onProgress?.(`read ${Object.entries(counts).map(([k, v]) => `${v} ${k.toLowerCase()}s`).join(', ')}`);
      };
      if (perNamespace) {
        await pMap([...inScope], (ns) => cluster.list(t, { namespace: ns, each: take, dropStatus: true }), { concurrency: 4 });
      } else {
        await cluster.list(t, { onPage, each: take, dropStatus: true });
      }
    },
    { concurrency: WORKLOAD_KINDS.length },
  );

  // Pod Security Admission: what each namespace enforces, and what the server says a stricter level would reject.
  const templateChecks = new Map<string, Set<string>>();
  for (const f of findings) {
    const ns = f.ref.namespace;
    if (!ns) continue;
    const set = templateChecks.get(ns) ?? new Set<string>();
    set.add(f.check);
    templateChecks.set(ns, set);
  }
  ctx.onProgress?.('asking the API server about Pod Security levels (dry-run)');
  const psa = await pMap(
    nsObjects,
    async (ns): Promise<NamespacePsa> => {
      const name = ns.metadata.name;
      const hasPods = nsWithPods.has(name);
      const [restricted, baseline] = hasPods
        ? await Promise.all([probeLevel(cluster, ns, 'restricted'), probeLevel(cluster, ns, 'baseline')])
        : [[], []];
      return { namespace: name, ...psaLabels(ns), violations: { restricted, baseline }, templateChecks: [...(templateChecks.get(name) ?? [])] };
    },
    { concurrency: cluster.concurrency },
  );
  for (const p of psa) {
    if (p.enforce !== 'restricted' && p.enforce !== 'baseline') {
      const ns = nsObjects.find((n) => n.metadata.name === p.namespace)!;
      findings.push({
        id: `workloads/podSecurityAdmission/Namespace//${p.namespace}`,
        area: 'workloads',
        check: 'podSecurityAdmission',
        severity: 'medium',
        ref: refOf(ns),
        message: p.enforce ? `namespace enforces only "${p.enforce}" Pod Security` : 'namespace enforces no Pod Security level',
        why: 'Pod Security Admission labels make the API server itself refuse insecure pods in this namespace.',
        fixable: true,
      });
    }
  }
  objects.push(...nsObjects);
  const facts: WorkloadFacts = { namespaces: [...inScope].sort(), psa };
  return { area: 'workloads', findings, objects, facts: facts as unknown as Record<string, unknown> };
}
