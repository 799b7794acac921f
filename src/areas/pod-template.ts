/**
 * Where each workload kind keeps its pod template: read by every area that looks at containers
 * (workloads, network, images, the infrastructure detection), written by those that patch them.
 */
import type { KubeObject } from '../cluster/types.js';

/** The least every pod spec has; an area narrows it to the fields it reads. */
export interface TemplateContainer {
  name: string;
  image?: string;
  [k: string]: unknown;
}
export interface TemplatePodSpec {
  containers: TemplateContainer[];
  initContainers?: TemplateContainer[];
  [k: string]: unknown;
}

type Fields = Record<string, unknown>;
const at = (o: unknown, key: string): Fields | undefined => (o as Fields | undefined)?.[key] as Fields | undefined;

/** The pod spec inside any workload kind (a Pod is its own template; a CronJob's is in its job template). */
export function podSpecOf<T extends object = TemplatePodSpec>(obj: KubeObject): T | undefined {
  const spec = obj.spec as Fields | undefined;
  if (!spec) return undefined;
  if (obj.kind === 'Pod') return spec as T;
  const template = obj.kind === 'CronJob' ? at(at(at(spec, 'jobTemplate'), 'spec'), 'template') : at(spec, 'template');
  return at(template, 'spec') as T | undefined;
}

/** The metadata of the pods a workload makes (its template's), where AppArmor annotations live. */
export function templateMetadataOf(obj: KubeObject): { annotations?: Record<string, string>; labels?: Record<string, string> } | undefined {
  const spec = obj.spec as Fields | undefined;
  if (!spec) return undefined;
  if (obj.kind === 'Pod') return obj.metadata as { annotations?: Record<string, string> };
  const template = obj.kind === 'CronJob' ? at(at(at(spec, 'jobTemplate'), 'spec'), 'template') : at(spec, 'template');
  return at(template, 'metadata') as { annotations?: Record<string, string>; labels?: Record<string, string> } | undefined;
}

/**
 * The workload with a new pod spec at its kind's path. Copies only the path down to the pod spec and
 * shares the rest with the original (plans and changes are never mutated), which halves a
 * 10,000-workload plan's memory.
 */
export function withPodSpec(obj: KubeObject, pod: object): KubeObject {
  const spec = (obj.spec ?? {}) as Fields;
  const withTemplate = (t: Fields | undefined): Fields => ({ ...t, template: { ...at(t, 'template'), spec: pod } });
  const jobTemplate = at(spec, 'jobTemplate');
  const newSpec =
    obj.kind === 'Pod'
      ? pod
      : obj.kind === 'CronJob'
        ? { ...spec, jobTemplate: { ...jobTemplate, spec: withTemplate(at(jobTemplate, 'spec')) } }
        : withTemplate(spec);
  return { ...obj, metadata: { ...obj.metadata }, spec: newSpec } as KubeObject;
}

/**
 * Old ReplicaSets a Deployment keeps as rollout history (scaled to zero; ten by default): the image policy
 * judges them too (a `rollout undo` to such a revision is refused, as it should be), but nothing of them
 * runs, and no area looks at their template.
 */
export const isHistory = (o: KubeObject): boolean =>
  o.kind === 'ReplicaSet' && (o.spec as { replicas?: number } | undefined)?.replicas === 0 && (o.metadata.ownerReferences ?? []).some((r) => r.controller);
