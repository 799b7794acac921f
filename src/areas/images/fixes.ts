/**
 * The images area's pod-template fixes, pure: pin an image to the digest its running pods report, set
 * imagePullPolicy: Always for a mutable tag. Each returns a new object, sharing what it did not change,
 * and touches only the containers it names (another area may have changed the rest of the template).
 */
import type { KubeObject } from '../../cluster/types.js';
import { parseImage, pinnedReference } from './image-ref.js';
import { withPodSpec } from '../pod-template.js';
import { podSpecOf, type PodSpecLike } from './inventory.js';

/** Per container name: the fields to set. */
export type ContainerEdits = Record<string, { image?: string; imagePullPolicy?: string }>;

const LISTS = ['containers', 'initContainers'] as const;

/** The edits each container of a workload gets for the chosen fixes (empty when none applies). */
export function containerEdits(
  spec: PodSpecLike,
  opts: { pinDigests: boolean; pullAlways: boolean; digestOf: (container: string) => string | undefined },
): ContainerEdits {
  const out: ContainerEdits = {};
  for (const list of LISTS) {
    for (const c of spec[list] ?? []) {
      if (!c.image) continue;
      const ref = parseImage(c.image);
      const edit: { image?: string; imagePullPolicy?: string } = {};
      const digest = opts.digestOf(c.name);
      if (opts.pinDigests && digest && (!ref.pinned || ref.latest)) edit.image = pinnedReference(ref, digest);
      const pinnedAfter = edit.image !== undefined || ref.pinned;
      const policy = c.imagePullPolicy ?? (ref.latest && !ref.pinned ? 'Always' : 'IfNotPresent');
      if (opts.pullAlways && !pinnedAfter && policy !== 'Always') edit.imagePullPolicy = 'Always';
      if (Object.keys(edit).length) out[c.name] = edit;
    }
  }
  return out;
}

/** The pod spec with the edits applied to the containers of those names. */
export function applyEdits(spec: PodSpecLike, edits: ContainerEdits): PodSpecLike {
  const out: PodSpecLike = { ...spec };
  for (const list of LISTS) {
    if (!spec[list]) continue;
    out[list] = spec[list]!.map((c) => (edits[c.name] ? { ...c, ...edits[c.name] } : c));
  }
  return out;
}

/** A pure mutate: apply the container edits to whatever pod spec the object has now. */
export const mutateContainers =
  (edits: ContainerEdits) =>
  (o: KubeObject): KubeObject => {
    const pod = podSpecOf(o);
    return pod ? withPodSpec(o, applyEdits(pod, edits)) : o;
  };
