// The safety net around writes, against the real API server: a rollback only on the cluster the snapshot
// was taken on; a write whose answer is lost is not mistaken for someone else's; a journal that fails
// mid-apply stops and undoes it; no two writers at once; a full disk never leaves a truncated snapshot.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import pMap from 'p-map';
import { parse } from 'yaml';
import { Cluster } from '../../src/cluster/client.js';
import { Helm } from '../../src/cluster/helm.js';
import type { KubeObject } from '../../src/cluster/types.js';
import { applyPlan } from '../../src/engine/apply.js';
import { compose, type Edit } from '../../src/engine/compose.js';
import type { EngineContext } from '../../src/engine/kinds/index.js';
import { dryRunPlan } from '../../src/engine/preview.js';
import { Journal, SnapshotStore } from '../../src/engine/snapshot-store.js';
import { privateTestbed } from '../cluster/testbed.js';
import { deploymentManifest, namespaceState, runCli, tempHome, uniqueNs, withCluster } from '../helpers.js';

const t = withCluster();

const harden = (o: KubeObject): KubeObject => {
  const spec = structuredClone(o.spec) as { template: { spec: { securityContext?: Record<string, unknown> } } };
  spec.template.spec.securityContext = { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } };
  return { ...o, spec };
};
const editOf = (base: KubeObject): Edit => ({
  kind: 'object',
  op: 'mutate',
  base,
  area: 'workloads',
  reason: 'harden',
  mutate: harden,
  findingIds: [],
  risk: 'medium',
  phase: 'update',
});

async function namespaceWith(prefix: string, n: number): Promise<{ ns: string; deps: KubeObject[] }> {
  const ns = uniqueNs(prefix);
  await t.cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const deps = await pMap(
    Array.from({ length: n }, (_, i) => i),
    async (i) => (await t.cluster.create(deploymentManifest(`app-${String(i).padStart(3, '0')}`, ns))).object!,
    { concurrency: 8 },
  );
  return { ns, deps };
}

test('a snapshot rolls back only on its own cluster: another cluster behind the same context name, or the same address with a new cluster, is refused', async () => {
  const { ns } = await namespaceWith('identity', 2);
  const home = tempHome();
  const applied = await runCli(['apply', '--profile', 'restricted', '--areas', 'workloads', '--yes', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns], {
    home,
  });
  assert.equal(applied.code, 0, applied.stderr);
  const id = /snapshot (\S+);/.exec(applied.stdout)![1];

  const other = await privateTestbed();
  // Both beds name their context kube-harden-testbed: only the address and the cluster's uid tell them apart.
  const r = await runCli(['rollback', id, '--yes', '--kubeconfig', other.kubeconfig], { home });
  assert.equal(r.code, 4, r.stderr);
  assert.match(
    r.stderr,
    /was taken on context "kube-harden-testbed" and its API server was https:\/\/127\.0\.0\.1:\d+, this one is .*nothing was restored\. Pass the --context/,
  );

  // The same address, but not the same cluster any more (rebuilt): the kube-system uid differs.
  const file = path.join(home, 'snapshots', `${id}.json`);
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  assert.ok(snap.cluster.uid, 'the snapshot records the cluster uid');
  snap.cluster.uid = '00000000-0000-0000-0000-000000000000';
  writeFileSync(file, JSON.stringify(snap));
  const r2 = await runCli(['rollback', id, '--yes', '--kubeconfig', t.bed.kubeconfig], { home });
  assert.equal(r2.code, 4);
  assert.match(r2.stderr, /is not the same cluster any more \(kube-system uid/);
});

/** An HTTP proxy to the test bed that forwards everything but answers 503 to the first real PUT of `name`, after it landed. */
async function lossyProxy(name: string): Promise<{ kubeconfig: string; close(): void; lost: () => number }> {
  const kc = parse(readFileSync(t.bed.kubeconfig, 'utf8'));
  const b64 = (s: string) => Buffer.from(s, 'base64');
  const agent = new https.Agent({
    ca: b64(kc.clusters[0].cluster['certificate-authority-data']),
    cert: b64(kc.users[0].user['client-certificate-data']),
    key: b64(kc.users[0].user['client-key-data']),
  });
  let lost = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const up = https.request(
        new URL(req.url!, t.bed.server),
        { method: req.method, headers: { ...req.headers, host: new URL(t.bed.server).host }, agent },
        (r) => {
          const body: Buffer[] = [];
          r.on('data', (c: Buffer) => body.push(c));
          r.on('end', () => {
            const drop =
              req.method === 'PUT' && !/dryRun=All/.test(req.url!) && req.url!.includes(`/deployments/${name}?`) && lost === 0 && r.statusCode === 200;
            if (drop) {
              lost++;
              res
                .writeHead(503, { 'content-type': 'application/json' })
                .end(JSON.stringify({ kind: 'Status', status: 'Failure', message: 'proxy timed out', code: 503 }));
            } else res.writeHead(r.statusCode!, r.headers).end(Buffer.concat(body));
          });
        },
      );
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const file = path.join(tempHome(), 'kubeconfig');
  writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\nclusters: [{name: proxy, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: anyone, user: {}}]\ncontexts: [{name: proxy, context: {cluster: proxy, user: anyone}}]\ncurrent-context: proxy\n`,
  );
  return { kubeconfig: file, close: () => server.close(), lost: () => lost };
}

test('a write that landed but whose answer was lost (503) counts as ours: applied, not a conflict, and rolled back exactly', async () => {
  const { ns, deps } = await namespaceWith('lost-answer', 3);
  const before = await namespaceState(t.cluster, ns);
  const proxy = await lossyProxy('app-001');
  after(() => proxy.close());
  const cluster = await Cluster.connect({ kubeconfig: proxy.kubeconfig });
  try {
    const ctx: EngineContext = { cluster, helm: new Helm({ readOnly: false }), readOnly: false };
    const changes = compose(deps.map(editOf));
    const dry = await dryRunPlan(ctx, changes);
    const store = new SnapshotStore(path.join(tempHome(), 'snapshots'));
    const r = await applyPlan(ctx, changes, { store, dryRun: dry, cluster: { context: cluster.contextName, server: cluster.server } });
    assert.equal(proxy.lost(), 1, 'the proxy dropped one answer');
    assert.equal(r.failed, undefined, r.failed?.error);
    assert.equal(r.applied, 3);
    const events = await store.events(r.snapshot.id);
    assert.ok(
      events.some((e) => e.event === 'done' && e.late),
      'recorded as a write found landed on re-read',
    );
    const rb = await runCli(['rollback', r.snapshot.id, '--yes', '--kubeconfig', proxy.kubeconfig], { home: path.dirname(store.dir) });
    assert.equal(rb.code, 0, rb.stderr);
    assert.deepEqual(await namespaceState(t.cluster, ns), before);
  } finally {
    await cluster.close();
  }
});

test('the journal fails mid-apply (disk full): no new write starts, the ones in flight settle, everything applied is rolled back', async () => {
  const { ns, deps } = await namespaceWith('journal-full', 30);
  const before = await namespaceState(t.cluster, ns);
  const home = tempHome();
  class FullDiskStore extends SnapshotStore {
    override async journal(id: string): Promise<Journal> {
      const real = (await super.journal(id)) as unknown as { fh: FileHandle };
      let writes = 0;
      const fh = new Proxy(real.fh, {
        get: (target, p) =>
          p === 'appendFile'
            ? async (data: string) => {
                if (++writes > 3) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
                return target.appendFile(data);
              }
            : (target as unknown as Record<string | symbol, unknown>)[p] instanceof Function
              ? ((target as unknown as Record<string | symbol, (...a: unknown[]) => unknown>)[p] as (...a: unknown[]) => unknown).bind(target)
              : (target as unknown as Record<string | symbol, unknown>)[p],
      });
      return new Journal(fh);
    }
  }
  const ctx: EngineContext = { cluster: t.cluster, helm: new Helm({ readOnly: false }), readOnly: false };
  const changes = compose(deps.map(editOf));
  const dry = await dryRunPlan(ctx, changes);
  const store = new FullDiskStore(path.join(home, 'snapshots'));
  const r = await applyPlan(ctx, changes, { store, dryRun: dry, cluster: { context: t.cluster.contextName, server: t.cluster.server } });
  assert.match(r.journalError ?? '', /ENOSPC/);
  assert.ok(r.applied > 0 && r.applied < 30, `applied ${r.applied} before stopping`);
  assert.ok(r.rollback, r.rollbackError);
  assert.equal(r.rollback.failed.length, 0);
  assert.deepEqual(await namespaceState(t.cluster, ns), before);
});

test('no two writers: a rollback while the apply of the same snapshot runs is refused naming the process; after kill -9 the stale lock is taken over', async () => {
  const { ns } = await namespaceWith('locks', 150);
  const before = await namespaceState(t.cluster, ns);
  const home = tempHome();
  let id = '';
  let refused: Awaited<ReturnType<typeof runCli>> | undefined;
  const applying = runCli(
    ['apply', '--profile', 'restricted', '--areas', 'workloads', '--yes', '--concurrency', '1', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns],
    {
      home,
      onStderr: (all, kill) => {
        const m = /snapshot (\S+) saved/.exec(all);
        if (m && !id) {
          id = m[1];
          void runCli(['rollback', id, '--yes', '--kubeconfig', t.bed.kubeconfig], { home }).then((r) => {
            refused = r;
            kill();
          });
        }
      },
    },
  );
  const killed = await applying;
  assert.equal(killed.signal, 'SIGKILL', `the apply ended before the second writer came: ${killed.stdout}`);
  assert.ok(refused);
  assert.equal(refused.code, 4, refused.stderr);
  assert.match(refused.stderr, /refusing: process \d+ is running `apply (on|of snapshot) /);
  // The apply was killed holding its locks: they are stale now, and rollback takes them over.
  const r = await runCli(['rollback', id, '--yes', '--kubeconfig', t.bed.kubeconfig], { home });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await namespaceState(t.cluster, ns), before);
});

test('a full disk when the snapshot is written: the apply refuses to start, nothing is written to the cluster, no truncated snapshot is left', async (tt) => {
  const mnt = path.join(tempHome(), 'small-disk');
  mkdirSync(mnt);
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', mnt]);
  if (m.status !== 0) return tt.skip(`cannot mount a small tmpfs here (${String(m.stderr).trim()})`);
  after(() => spawnSync('umount', [mnt]));
  const { ns } = await namespaceWith('full-disk', 40);
  const before = await namespaceState(t.cluster, ns);
  const r = await runCli(['apply', '--profile', 'restricted', '--areas', 'workloads', '--yes', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns], {
    home: mnt,
  });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /ENOSPC|no space/i);
  assert.equal(
    r.stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('kube-harden:')).length,
    1,
  );
  assert.deepEqual(await namespaceState(t.cluster, ns), before);
  const snapshots = path.join(mnt, 'snapshots');
  const left = existsSync(snapshots) ? readdirSync(snapshots).filter((f) => f.endsWith('.json')) : [];
  for (const f of left) assert.doesNotThrow(() => JSON.parse(readFileSync(path.join(snapshots, f), 'utf8')), `${f} is whole`);
  const list = await runCli(['snapshots', 'list'], { home: mnt });
  assert.equal(list.code, 0, list.stderr);
});

test('one damaged snapshot is listed as damaged without hiding the others; a snapshot without its journal is refused, not "nothing to undo"', async () => {
  const home = tempHome();
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    const { ns } = await namespaceWith('damaged', 2);
    const r = await runCli(['apply', '--profile', 'restricted', '--areas', 'workloads', '--yes', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns], {
      home,
    });
    assert.equal(r.code, 0, r.stderr);
    ids.push(/snapshot (\S+);/.exec(r.stdout)![1]);
  }
  const dir = path.join(home, 'snapshots');
  const good = readFileSync(path.join(dir, `${ids[0]}.json`), 'utf8');
  writeFileSync(path.join(dir, `${ids[0]}.json`), good.slice(0, good.length / 2));
  const list = await runCli(['snapshots', 'list'], { home });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`${ids[0]} .*damaged: snapshot ${ids[0]} is damaged`));
  assert.match(list.stdout, new RegExp(`${ids[1]} .*applied`));
  const rb = await runCli(['rollback', ids[0], '--yes', '--kubeconfig', t.bed.kubeconfig], { home });
  assert.equal(rb.code, 2);
  assert.match(rb.stderr, /is damaged/);

  unlinkSync(path.join(dir, `${ids[1]}.journal.jsonl`));
  const rb2 = await runCli(['rollback', ids[1], '--yes', '--kubeconfig', t.bed.kubeconfig], { home });
  assert.equal(rb2.code, 2);
  assert.match(rb2.stderr, /journal .* is missing, so what was applied is unknown/);
  rmSync(dir, { recursive: true });
});
