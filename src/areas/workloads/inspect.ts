import { apiVersionOf, builtinByKind } from '../../cluster/resources.js';
import type { KubeObject } from '../../cluster/types.js';
import { refKey, refOf } from '../../cluster/types.js';
import type { Finding, InspectContext, Inspection, ReadSpec } from '../types.js';
import { CHECKS, type Check } from './checks.js';
import { leftAlone, ownershipOf, type Ownership } from './ownership.js';
import { templateMetadataOf } from '../pod-template.js';
import { allContainers, isOwned, isPatchable, podSpecOf, WORKLOAD_KINDS, type PodSpec } from './pod-spec.js';
import { pinnedVersion, psaLabels, type NamespacePsa } from './psa.js';

/** The one generic evaluator: run every check over a workload's pod spec. */
export function evaluate(obj: KubeObject, checks: Check[] = CHECKS, why?: string): Finding[] {
  const pod = podSpecOf(obj);
  if (!pod) return [];
  const ref = refOf(obj);
  const base = `workloads/%c/${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
  const out: Finding[] = [];
  for (const check of checks) {
    if (check.scope === 'pod') {
      if (check.fails(pod)) out.push(finding(obj, check, base, ref, why));
    } else {
      for (const c of allContainers(pod as PodSpec)) {
        if (check.fails(pod, c)) out.push(finding(obj, check, base, ref, why, c.name));
      }
    }
  }
  return out;
}

function finding(obj: KubeObject, check: Check, base: string, ref: Finding['ref'], leftAloneWhy: string | undefined, container?: string): Finding {
  const manual =
    check.fixId === undefined
      ? check.fix
      : !isPatchable(obj)
        ? `the pod template of a ${obj.kind} cannot be changed in place: fix what creates it`
        : leftAloneWhy && !leftAloneWhy.startsWith('node agent')
          ? leftAloneWhy
          : undefined;
  return {
    id: base.replace('%c', check.id) + (container ? `/${container}` : ''),
    area: 'workloads',
    rule: check.id,
    severity: check.severity,
    ref,
    container,
    message: container ? `container ${container} ${check.message}` : `pod ${check.message}`,
    // A node agent can still be chosen explicitly; an operator's or a GitOps tool's object cannot be changed here.
    fixable: manual === undefined,
    manual: manual ?? (leftAloneWhy?.startsWith('node agent') ? leftAloneWhy : undefined),
  };
}

/** A pod the namespace will hold, as Pod Security Admission judges it. */
export interface JudgedPod {
  /** refKey of the workload (templates) or of the pod. */
  key: string;
  name: string;
  metadata?: { annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: PodSpec;
}

export interface WorkloadFacts {
  namespaces: string[];
  /** The namespaces in scope that hold cluster infrastructure, with why (never in the default plan). */
  infrastructure: Record<string, string>;
  psa: NamespacePsa[];
  /** The policy version to pin Pod Security labels to: the cluster's minor. */
  psaVersion: string;
  /** The workloads in scope (Deployments, StatefulSets, DaemonSets, CronJobs, standalone Jobs, bare Pods). */
  objects: KubeObject[];
  /** refKey → who else manages it (operator, GitOps, node agent). */
  ownership: Record<string, Ownership>;
  /** Per namespace, the pods no inspected template makes (bare pods, pods of an operator's own controller). */
  otherPods: Record<string, JudgedPod[]>;
  /** The Namespace objects in scope. */
  namespaceObjects: KubeObject[];
}

export const WORKLOAD_READS: ReadSpec[] = WORKLOAD_KINDS.map((kind) => ({ apiVersion: apiVersionOf(builtinByKind(kind)), kind }));

const INSPECTED_OWNERS = new Set(['ReplicaSet', 'Job']);

export async function inspectWorkloads(ctx: InspectContext): Promise<Inspection<WorkloadFacts>> {
  const { scope } = ctx;
  ctx.onProgress?.('reading workloads');
  const objects: KubeObject[] = [];
  const findings: Finding[] = [];
  const ownership: Record<string, Ownership> = {};
  const otherPods: Record<string, JudgedPod[]> = {};
  const lists = await Promise.all(WORKLOAD_READS.map((r) => ctx.list(r.kind, r.apiVersion)));
  for (const o of lists.flat()) {
    const ns = o.metadata.namespace;
    if (!scope.inScope(ns)) continue;
    if (o.kind === 'Pod' && isOwned(o)) {
      // Pods of a ReplicaSet or a Job are judged through the template that made them; pods of anything
      // else (an operator's own controller, a static pod) are judged as they are.
      const owner = (o.metadata.ownerReferences ?? []).find((r) => r.controller)!;
      if (!INSPECTED_OWNERS.has(owner.kind))
        (otherPods[ns!] ??= []).push({
          key: refKey(refOf(o)),
          name: `pod/${o.metadata.name}`,
          metadata: o.metadata as JudgedPod['metadata'],
          spec: o.spec as PodSpec,
        });
      continue;
    }
    if (o.kind === 'Job' && isOwned(o)) continue;
    objects.push(o);
    const own = ownershipOf(o);
    if (own.owner || own.gitops || own.nodeAgent) ownership[refKey(refOf(o))] = own;
    for (const f of evaluate(o, CHECKS, leftAlone(own))) findings.push(f);
  }
  const nsObjects = scope.all.filter((n) => scope.inScope(n.metadata.name));
  const psa = nsObjects.map(psaLabels);
  for (const p of psa) {
    if (p.enforce === 'restricted' || p.enforce === 'baseline') continue;
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
  const infrastructure = Object.fromEntries([...scope.infrastructure].filter(([ns]) => scope.inScope(ns)));
  return {
    area: 'workloads',
    findings,
    facts: {
      namespaces: scope.namespaces,
      infrastructure,
      psa,
      psaVersion: pinnedVersion(ctx.version.minor),
      objects,
      ownership,
      otherPods,
      namespaceObjects: nsObjects,
    },
    notes: Object.keys(infrastructure).length ? [`infrastructure namespaces left out by default: ${Object.keys(infrastructure).join(', ')}`] : undefined,
  };
}

/** The pods a namespace holds from this workload's template (a bare Pod: itself). */
export function judgedPod(obj: KubeObject, spec: PodSpec = podSpecOf(obj)!): JudgedPod {
  return { key: refKey(refOf(obj)), name: `${obj.kind.toLowerCase()}/${obj.metadata.name}`, metadata: templateMetadataOf(obj), spec };
}
