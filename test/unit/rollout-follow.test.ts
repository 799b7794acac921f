// The rollout follower's time-out counts from the last progress: a large wave that keeps moving at the
// controller-manager's pace is not failed for its size; a rollout that stops moving is, with its counts.
// A stalled pod of the new template fails its workload at once, found with one pod LIST per namespace.
import assert from 'node:assert/strict';
import test from 'node:test';
import type { Cluster } from '../../src/cluster/client.js';
import type { KubeObject } from '../../src/cluster/types.js';
import { followRollouts, type RolloutTarget } from '../../src/engine/rollout.js';

function deployment(name: string, namespace: string, updated: number, replicas = 10): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, generation: 2 },
    spec: { replicas, selector: { matchLabels: { app: name } } },
    status: { observedGeneration: 2, replicas: updated, updatedReplicas: updated, readyReplicas: updated, availableReplicas: updated },
  };
}

/** Serves what `state()` says on each read, and counts the reads by kind. */
function fakeCluster(state: () => { deployments: KubeObject[]; pods: KubeObject[] }) {
  const reads = { list: new Map<string, number>(), get: 0 };
  const cluster = {
    concurrency: 4,
    async tryGet(ref: { name: string; namespace?: string }) {
      reads.get++;
      return state().deployments.find((d) => d.metadata.name === ref.name && d.metadata.namespace === ref.namespace);
    },
    async list(t: { kind: string }, opts: { namespace?: string; each?: (o: KubeObject) => void } = {}) {
      const key = `${t.kind}${opts.namespace ? `/${opts.namespace}` : ''}`;
      reads.list.set(key, (reads.list.get(key) ?? 0) + 1);
      const all = (t.kind === 'Pod' ? state().pods : state().deployments).filter((o) => !opts.namespace || o.metadata.namespace === opts.namespace);
      if (opts.each) all.forEach(opts.each);
      return all;
    },
  };
  return { cluster: cluster as unknown as Cluster, reads };
}

const target = (name: string, namespace = 'ns', since = Date.now()): RolloutTarget => ({
  id: `object:apps/v1/Deployment/${namespace}/${name}`,
  ref: { apiVersion: 'apps/v1', kind: 'Deployment', namespace, name },
  generation: 2,
  since,
});

test('a rollout that keeps moving outlives the time-out; the one that stopped fails after it, with its counts', async () => {
  let round = 0;
  const { cluster } = fakeCluster(() => ({
    // `slow` gains a replica per read (done after 10), `stuck` stays at 3 of 10.
    deployments: [deployment('slow', 'ns', Math.min(10, round)), deployment('stuck', 'ns', 3)],
    pods: [],
  }));
  const t0 = Date.now();
  const states = await followRollouts(cluster, [target('slow'), target('stuck')], {
    timeoutMs: 150,
    intervalMs: 40,
    sleep: async (ms) => {
      round++;
      await new Promise((r) => setTimeout(r, ms));
    },
  });
  const by = Object.fromEntries(states.map((s) => [s.ref.name, s]));
  assert.equal(by.slow.state, 'ready', 'ten rounds of 40 ms are longer than the time-out, but each one moved');
  assert.equal(by.stuck.state, 'failed');
  assert.match(by.stuck.detail, /no progress for 0 s \(3\/10 updated, 3 ready, 3 available\)/);
  assert.ok(Date.now() - t0 >= 400, 'the stuck one was not failed before the slow one stopped moving');
});

test('many targets: one LIST per kind and one pod LIST per namespace a round, a stalled pod fails its workload at once', async () => {
  const since = Date.now() - 10_000;
  const names = Array.from({ length: 60 }, (_, i) => `app-${i}`);
  const stalled: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'app-7-abc', namespace: 'ns-1', labels: { app: 'app-7' }, creationTimestamp: new Date().toISOString() },
    status: {
      containerStatuses: [
        { name: 'main', state: { waiting: { reason: 'CreateContainerConfigError', message: 'container has runAsNonRoot and image will run as root' } } },
      ],
    },
  };
  let rounds = 0;
  const { cluster, reads } = fakeCluster(() => ({
    deployments: names.map((n, i) => deployment(n, `ns-${i % 3}`, rounds >= 2 ? 10 : 0)),
    pods: [stalled],
  }));
  const states = await followRollouts(
    cluster,
    names.map((n, i) => target(n, `ns-${i % 3}`, since)),
    { timeoutMs: 60_000, intervalMs: 1, sleep: async () => void rounds++ },
  );
  const failed = states.filter((s) => s.state === 'failed');
  assert.deepEqual(
    failed.map((s) => s.ref.name),
    ['app-7'],
  );
  assert.match(failed[0]!.detail, /pod app-7-abc, container main: CreateContainerConfigError/);
  assert.equal(states.filter((s) => s.state === 'ready').length, 59);
  assert.equal(reads.get, 0, 'no GET per workload');
  assert.equal(reads.list.get('Deployment'), 3, 'one LIST of Deployments a round');
  // Rounds 1 and 2 list each namespace's pods once; round 3 finds every rollout done and lists none.
  for (const ns of ['ns-0', 'ns-1', 'ns-2']) assert.equal(reads.list.get(`Pod/${ns}`), 2, `pods of ${ns}`);
});
