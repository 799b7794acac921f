import pMap from 'p-map';
import { apiVersionOf, builtinByKind } from '../../cluster/resources.js';
import type { KubeObject } from '../../cluster/types.js';
import { refOf } from '../../cluster/types.js';
import type { Finding, InspectContext, Inspection, ReadSpec } from '../types.js';
import { CHECKS, type Check } from './checks.js';
import { allContainers, isOwned, isPatchable, podSpecOf, WORKLOAD_KINDS, type PodSpec } from './pod-spec.js';
import { probeLevel, psaLabels, type NamespacePsa } from './psa.js';

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
    rule: check.id,
    severity: check.severity,
    ref,
    container,
    message: container ? `container ${container} ${check.message}` : `pod ${check.message}`,
    fixable: patchable && check.fixId !== undefined,
    manual: check.fixId === undefined ? check.fix : patchable ? undefined : `the pod template of a ${ref.kind} cannot be changed in place: fix its source`,
  };
}

export interface WorkloadFacts {
  namespaces: string[];
  psa: NamespacePsa[];
  /** The workloads in scope (Deployments, StatefulSets, DaemonSets, CronJobs, standalone Jobs, bare Pods). */
  objects: KubeObject[];
  /** The Namespace objects in scope. */
  namespaceObjects: KubeObject[];
}

export const WORKLOAD_READS: ReadSpec[] = WORKLOAD_KINDS.map((kind) => ({ apiVersion: apiVersionOf(builtinByKind(kind)), kind }));

export async function inspectWorkloads(ctx: InspectContext): Promise<Inspection<WorkloadFacts>> {
  const { cluster, scope } = ctx;
  ctx.onProgress?.('reading workloads');
  const objects: KubeObject[] = [];
  const findings: Finding[] = [];
  const nsWithPods = new Set<string>();
  const lists = await Promise.all(WORKLOAD_READS.map((r) => ctx.list(r.kind, r.apiVersion)));
  for (const o of lists.flat()) {
    if (!scope.inScope(o.metadata.namespace)) continue;
    if (o.kind === 'Pod') nsWithPods.add(o.metadata.namespace!);
    // Pods of a ReplicaSet and Jobs of a CronJob are judged through the template that made them.
    if ((o.kind === 'Pod' || o.kind === 'Job') && isOwned(o)) continue;
    objects.push(o);
    for (const f of evaluate(o)) findings.push(f);
  }
  const nsObjects = scope.all.filter((n) => scope.inScope(n.metadata.name));

  // Pod Security Admission: what each namespace enforces, and what the server says a stricter level would reject.
  const templateChecks = new Map<string, Set<string>>();
  for (const f of findings) {
    const ns = f.ref.namespace;
    if (!ns) continue;
    const set = templateChecks.get(ns) ?? new Set<string>();
    set.add(f.rule);
    templateChecks.set(ns, set);
  }
  ctx.onProgress?.('asking the API server about Pod Security levels (dry-run)');
  const psa = await pMap(
    nsObjects,
    async (ns): Promise<NamespacePsa> => {
      const name = ns.metadata.name;
      const hasPods = nsWithPods.has(name);
      const [restricted, baseline] = hasPods ? await Promise.all([probeLevel(cluster, ns, 'restricted'), probeLevel(cluster, ns, 'baseline')]) : [[], []];
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
        rule: 'podSecurityAdmission',
        severity: 'medium',
        ref: refOf(ns),
        message: p.enforce ? `namespace enforces only "${p.enforce}" Pod Security` : 'namespace enforces no Pod Security level',
        fixable: true,
      });
    }
  }
  return { area: 'workloads', findings, facts: { namespaces: scope.namespaces, psa, objects, namespaceObjects: nsObjects } };
}
