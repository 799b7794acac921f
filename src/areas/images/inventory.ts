/**
 * What runs: every image reference of every workload kind (containers, init and ephemeral
 * containers), the digest each running pod actually runs (status.containerStatuses[].imageID), and
 * which workloads use each image. Pods, ReplicaSets and Jobs are traced to the workload that made them
 * (a Deployment, a CronJob), so findings and reports speak of what a person edits.
 */
import type { KubeObject, ObjectRef } from '../../cluster/types.js';
import { refKey, refOf } from '../../cluster/types.js';
import { podSpecOf as podSpecAt } from '../pod-template.js';
import { parseImage, runningDigest, type ImageRef } from './image-ref.js';

/** Every kind the admission policy judges, with the path of its pod spec. */
export const POLICY_KINDS = ['Pod', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicationController'] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

/** The kinds a person edits: findings are about these. */
export const TOP_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'Job', 'Pod', 'ReplicaSet', 'ReplicationController'];

export type ContainerKind = 'container' | 'init' | 'ephemeral';

export interface ContainerImage {
  container: string;
  kind: ContainerKind;
  image: string;
  pullPolicy?: string;
}

export interface PodSpecLike {
  containers?: Array<{ name: string; image?: string; imagePullPolicy?: string }>;
  initContainers?: Array<{ name: string; image?: string; imagePullPolicy?: string }>;
  ephemeralContainers?: Array<{ name: string; image?: string; imagePullPolicy?: string }>;
  [k: string]: unknown;
}

/** The pod spec inside any kind the policy judges, typed for images. */
export const podSpecOf = (obj: KubeObject): PodSpecLike | undefined => podSpecAt<PodSpecLike>(obj);

/** Every container of a pod spec with its image, in the order the policy's CEL lists them. */
export function containerImages(spec: PodSpecLike | undefined): ContainerImage[] {
  if (!spec) return [];
  const out: ContainerImage[] = [];
  const add = (list: PodSpecLike['containers'], kind: ContainerKind) => {
    for (const c of list ?? []) out.push({ container: c.name, kind, image: c.image ?? '', pullPolicy: c.imagePullPolicy });
  };
  add(spec.containers, 'container');
  add(spec.initContainers, 'init');
  add(spec.ephemeralContainers, 'ephemeral');
  return out;
}

/** The pull policy the API server gives a container that names none (`Always` for :latest and untagged). */
export const defaultPullPolicy = (ref: ImageRef): string => (ref.latest && !ref.pinned ? 'Always' : 'IfNotPresent');

export interface ImageUse {
  /** The workload a person edits (a Deployment, not its ReplicaSet or pods). */
  workload: ObjectRef;
  container: string;
  containerKind: ContainerKind;
  pullPolicy: string;
  /** The pull policy was written in the spec (otherwise the default). */
  pullPolicyExplicit: boolean;
}

export interface ImageInfo extends ImageRef {
  uses: ImageUse[];
  /** Digests the running pods of this image report (containerStatuses[].imageID). */
  running: string[];
}

export interface Inventory {
  images: ImageInfo[];
  /** Per workload (refKey) and container name: the repository digests its running pods report. */
  runningDigests: Map<string, Map<string, string[]>>;
  /** The top-level workloads with a pod spec. */
  workloads: KubeObject[];
}

/** Resolves an object to the workload a person edits, through controller owner references. */
export function ownerResolver(objects: KubeObject[]): (ref: ObjectRef) => ObjectRef {
  const byKey = new Map<string, KubeObject>();
  for (const o of objects) byKey.set(`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o);
  const resolve = (ref: ObjectRef, depth = 0): ObjectRef => {
    if (depth > 4) return ref;
    const o = byKey.get(`${ref.kind}/${ref.namespace ?? ''}/${ref.name}`);
    const owner = o?.metadata.ownerReferences?.find((r) => r.controller);
    if (!owner || !TOP_KINDS.includes(owner.kind)) return ref;
    return resolve({ apiVersion: owner.apiVersion, kind: owner.kind, namespace: ref.namespace, name: owner.name }, depth + 1);
  };
  return resolve;
}

export { isHistory } from '../pod-template.js';

const isOwned = (o: KubeObject) => (o.metadata.ownerReferences ?? []).some((r) => r.controller && TOP_KINDS.includes(r.kind));

/**
 * The inventory of images in use from the objects of the policy kinds (any order, any namespaces;
 * the caller filters the scope). Pods owned by a workload add their running digests to it.
 */
export function buildInventory(objects: KubeObject[]): Inventory {
  const resolve = ownerResolver(objects);
  const images = new Map<string, ImageInfo>();
  const workloads: KubeObject[] = [];
  const runningDigests = new Map<string, Map<string, string[]>>();
  // One use per workload and container, found by key: thousands of workloads may share one image.
  const useKeys = new Set<string>();
  const addUse = (raw: string, use: ImageUse) => {
    let info = images.get(raw);
    if (!info) {
      info = { ...parseImage(raw), uses: [], running: [] };
      images.set(raw, info);
    }
    const key = `${raw}\u0000${refKey(use.workload)}\u0000${use.container}`;
    if (!useKeys.has(key)) {
      useKeys.add(key);
      info.uses.push(use);
    }
    return info;
  };
  for (const o of objects) {
    if (isOwned(o)) continue;
    const spec = podSpecOf(o);
    if (!spec) continue;
    workloads.push(o);
    for (const c of containerImages(spec)) {
      if (!c.image) continue;
      const ref = parseImage(c.image);
      addUse(c.image, {
        workload: refOf(o),
        container: c.container,
        containerKind: c.kind,
        pullPolicy: c.pullPolicy ?? defaultPullPolicy(ref),
        pullPolicyExplicit: c.pullPolicy !== undefined,
      });
    }
  }
  // What the running pods report: the digest behind each container's image.
  for (const pod of objects) {
    if (pod.kind !== 'Pod') continue;
    const status = pod.status as
      | {
          containerStatuses?: Array<{ name: string; image?: string; imageID?: string }>;
          initContainerStatuses?: Array<{ name: string; image?: string; imageID?: string }>;
        }
      | undefined;
    const spec = podSpecOf(pod);
    const wanted = new Map(containerImages(spec).map((c) => [c.container, c.image]));
    const workload = resolve(refOf(pod));
    for (const s of [...(status?.containerStatuses ?? []), ...(status?.initContainerStatuses ?? [])]) {
      const d = runningDigest(s.imageID);
      if (!d) continue;
      const image = wanted.get(s.name);
      if (!image) continue;
      const info = images.get(image);
      if (info && !info.running.includes(d)) info.running.push(d);
      const key = refKey(workload);
      const perContainer = runningDigests.get(key) ?? new Map<string, string[]>();
      const list = perContainer.get(s.name) ?? [];
      if (!list.includes(d)) list.push(d);
      perContainer.set(s.name, list);
      runningDigests.set(key, perContainer);
    }
  }
  return { images: [...images.values()].sort((a, b) => a.raw.localeCompare(b.raw)), runningDigests, workloads };
}

/** Registries in use, most used first (the allow-list question's suggestions). */
export function registriesInUse(images: ImageInfo[]): string[] {
  const count = new Map<string, number>();
  for (const i of images) count.set(i.registry, (count.get(i.registry) ?? 0) + i.uses.length);
  return [...count.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([r]) => r);
}
