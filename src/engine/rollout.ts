/**
 * Follow the rollouts of the workloads a wave changed, until each is complete at the generation we
 * wrote (updated, ready and available replicas), or stalls: a pod of the new template waiting in
 * CreateContainerConfigError, CrashLoopBackOff, ImagePullBackOff..., pods refused by admission, the
 * Deployment's progress deadline, or the time-out.
 */
import pMap from 'p-map';
import type { Cluster } from '../cluster/client.js';
import { builtinByKind } from '../cluster/resources.js';
import type { KubeObject, ObjectRef } from '../cluster/types.js';

export const STALL_REASONS = new Set([
  'CreateContainerConfigError',
  'CreateContainerError',
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'RunContainerError',
]);

export interface RolloutTarget {
  id: string;
  ref: ObjectRef;
  /** metadata.generation after our write. */
  generation?: number;
  /** When we wrote it: pods older than this are the previous template's. */
  since: number;
}

export interface RolloutState {
  id: string;
  ref: ObjectRef;
  state: 'waiting' | 'ready' | 'failed';
  /** Progress ("2/3 updated") or, for a failure, the pod's reason and message. */
  detail: string;
}

type Status = Record<string, number | string | undefined | unknown[]>;

/** Complete, still going (with a progress line), or failed by the controller's own account. */
export function rolloutStatus(obj: KubeObject, generation?: number): { done: boolean; detail: string; failed?: string } {
  const spec = (obj.spec ?? {}) as Record<string, unknown>;
  const st = (obj.status ?? {}) as Status;
  const observed = Number(st.observedGeneration ?? 0);
  const want = generation ?? obj.metadata.generation ?? 0;
  if (observed < want) return { done: false, detail: 'waiting for the controller' };
  const num = (k: string) => Number(st[k] ?? 0);
  const conditions = (st.conditions ?? []) as Array<{ type: string; status: string; reason?: string; message?: string }>;
  switch (obj.kind) {
    case 'Deployment': {
      const replicas = Number(spec.replicas ?? 1);
      const failure = conditions.find((c) => (c.type === 'ReplicaFailure' && c.status === 'True') || (c.type === 'Progressing' && c.status === 'False'));
      if (failure)
        return {
          done: false,
          detail: failure.message ?? failure.reason ?? failure.type,
          failed: `${failure.reason ?? failure.type}: ${failure.message ?? ''}`.trim(),
        };
      const done =
        num('updatedReplicas') >= replicas &&
        num('replicas') === num('updatedReplicas') &&
        num('availableReplicas') >= replicas &&
        num('readyReplicas') >= replicas;
      return { done, detail: `${num('updatedReplicas')}/${replicas} updated, ${num('readyReplicas')} ready, ${num('availableReplicas')} available` };
    }
    case 'StatefulSet': {
      const replicas = Number(spec.replicas ?? 1);
      const strategy = (spec.updateStrategy as { type?: string } | undefined)?.type;
      if (strategy === 'OnDelete') return { done: true, detail: 'OnDelete: pods change when they are deleted' };
      const done =
        num('updatedReplicas') >= replicas &&
        num('readyReplicas') >= replicas &&
        (st.currentRevision === undefined || st.currentRevision === st.updateRevision);
      return { done, detail: `${num('updatedReplicas')}/${replicas} updated, ${num('readyReplicas')} ready` };
    }
    case 'DaemonSet': {
      const desired = num('desiredNumberScheduled');
      const done = num('updatedNumberScheduled') >= desired && num('numberAvailable') >= desired && num('numberReady') >= desired;
      return { done, detail: `${num('updatedNumberScheduled')}/${desired} updated, ${num('numberReady')} ready` };
    }
    default:
      // CronJobs roll out at their next run; other kinds have no rollout.
      return { done: true, detail: 'no rollout' };
  }
}

function matchLabelsOf(obj: KubeObject): Record<string, string> | undefined {
  const sel = (obj.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector?.matchLabels;
  return sel && Object.keys(sel).length ? sel : undefined;
}

const matches = (labels: Record<string, string> | undefined, sel: Record<string, string>) => Object.entries(sel).every(([k, v]) => labels?.[k] === v);

/** The reason a pod of the new template cannot start, if one is waiting in a stall state. */
export function stalledPod(pods: KubeObject[], since: number): string | undefined {
  for (const p of pods) {
    const created = Date.parse(p.metadata.creationTimestamp ?? '') || 0;
    if (created < since - 2000) continue;
    const st = (p.status ?? {}) as { containerStatuses?: unknown[]; initContainerStatuses?: unknown[] };
    const statuses = [...(st.initContainerStatuses ?? []), ...(st.containerStatuses ?? [])] as Array<{
      name: string;
      state?: { waiting?: { reason?: string; message?: string } };
    }>;
    for (const c of statuses) {
      const w = c.state?.waiting;
      if (w?.reason && STALL_REASONS.has(w.reason)) return `pod ${p.metadata.name}, container ${c.name}: ${w.reason}${w.message ? `: ${w.message}` : ''}`;
    }
  }
  return undefined;
}

export interface FollowOptions {
  /** Give up on the rollouts still going when none of them has made progress for this long. */
  timeoutMs: number;
  intervalMs?: number;
  onUpdate?: (states: RolloutState[]) => void;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Follow every target until it is ready or failed. Each round reads the workloads (one LIST per kind
 * when there are many) and, for those a few seconds past their write, their pods (one LIST per
 * namespace, matched here) to fail a stalled pod at once. The time-out counts from the last progress of
 * any target (one ready, or its replica counts moving): a wave of thousands rolls out at the pace of the
 * controller-manager, and is not failed for being large; what has not moved for that long fails.
 */
export async function followRollouts(cluster: Cluster, targets: RolloutTarget[], opts: FollowOptions): Promise<RolloutState[]> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const states = new Map<string, RolloutState>(targets.map((t) => [t.id, { id: t.id, ref: t.ref, state: 'waiting', detail: 'waiting' }]));
  let lastProgress = Date.now();
  const many = (n: number) => n > 50;
  const interval = opts.intervalMs ?? (targets.length > 200 ? 3000 : 1000);
  for (;;) {
    const pending = targets.filter((t) => states.get(t.id)!.state === 'waiting');
    if (!pending.length) break;
    // Many targets: one LIST per kind instead of a GET each.
    const byKind = new Map<string, Map<string, KubeObject>>();
    if (many(pending.length)) {
      await Promise.all(
        [...new Set(pending.map((t) => t.ref.kind))].map(async (kind) => {
          const m = new Map<string, KubeObject>();
          await cluster.list(builtinByKind(kind), { each: (o) => m.set(`${o.metadata.namespace}/${o.metadata.name}`, o) });
          byKind.set(kind, m);
        }),
      );
    }
    const objects = await pMap(
      pending,
      async (t) => byKind.get(t.ref.kind)?.get(`${t.ref.namespace}/${t.ref.name}`) ?? (many(pending.length) ? undefined : await cluster.tryGet(t.ref)),
      { concurrency: cluster.concurrency },
    );
    const going: Array<{ t: RolloutTarget; obj: KubeObject; detail: string; selector?: Record<string, string> }> = [];
    const now = Date.now();
    for (const [i, t] of pending.entries()) {
      const obj = objects[i];
      const s = states.get(t.id)!;
      if (!obj) {
        states.set(t.id, { ...s, state: 'failed', detail: 'deleted during its rollout' });
        continue;
      }
      const r = rolloutStatus(obj, t.generation);
      if (r.done) {
        states.set(t.id, { ...s, state: 'ready', detail: r.detail });
        lastProgress = now;
      } else if (r.failed) states.set(t.id, { ...s, state: 'failed', detail: r.failed });
      else {
        if (r.detail !== s.detail && s.detail !== 'waiting') lastProgress = now;
        going.push({ t, obj, detail: r.detail, selector: now - t.since > 3000 ? matchLabelsOf(obj) : undefined });
      }
    }
    // A pod of the new template stuck in a state it will not leave on its own: fail now, not at the time-out.
    const namespaces = [...new Set(going.filter((g) => g.selector).map((g) => g.t.ref.namespace!))];
    const podsByNs = new Map<string, KubeObject[]>();
    await pMap(namespaces, async (ns) => podsByNs.set(ns, await cluster.list(builtinByKind('Pod'), { namespace: ns })), { concurrency: cluster.concurrency });
    const expired = Date.now() - lastProgress > opts.timeoutMs;
    for (const g of going) {
      const s = states.get(g.t.id)!;
      const stall = g.selector
        ? stalledPod(
            (podsByNs.get(g.t.ref.namespace!) ?? []).filter((p) => matches(p.metadata.labels, g.selector!)),
            g.t.since,
          )
        : undefined;
      if (stall) states.set(g.t.id, { ...s, state: 'failed', detail: stall });
      else if (expired) states.set(g.t.id, { ...s, state: 'failed', detail: `no progress for ${Math.round(opts.timeoutMs / 1000)} s (${g.detail})` });
      else states.set(g.t.id, { ...s, detail: g.detail });
    }
    opts.onUpdate?.([...states.values()]);
    if ([...states.values()].every((s) => s.state !== 'waiting')) break;
    await sleep(interval);
  }
  return [...states.values()];
}
