import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import type { HardenOptions } from '../cli.js';
import { Cluster } from '../cluster/client.js';
import { isClusterError } from '../cluster/errors.js';
import type { KubeObject } from '../cluster/types.js';
import { dataDir } from '../engine/snapshot-store.js';
import { EXIT, UsageError } from '../errors.js';
import { progress } from './io.js';

function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (d !== '/' && !existsSync(join(d, 'package.json'))) d = dirname(d);
  return d;
}

export function fixturesDir(): string {
  return process.env.KUBE_HARDEN_FIXTURES ?? resolve(repoRoot(), '../shared/fixtures');
}

/** A few insecure extras beside bookinfo, each one a kind of finding the wizard should handle. */
export const DEMO_EXTRAS = `
apiVersion: v1
kind: Namespace
metadata: { name: legacy }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: log-shipper, namespace: legacy }
spec:
  replicas: 1
  selector: { matchLabels: { app: log-shipper } }
  template:
    metadata: { labels: { app: log-shipper } }
    spec:
      hostPID: true
      containers:
        - name: shipper
          image: docker.io/fluent/fluent-bit:3.0
          securityContext: { privileged: true }
          volumeMounts: [{ name: varlog, mountPath: /var/log }]
      volumes: [{ name: varlog, hostPath: { path: /var/log } }]
---
apiVersion: batch/v1
kind: CronJob
metadata: { name: nightly-report, namespace: legacy }
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: report
              image: docker.io/library/busybox:1.36
              command: [sh, -c, "echo report"]
              securityContext: { capabilities: { add: [NET_ADMIN] } }
---
apiVersion: v1
kind: Pod
metadata: { name: debug-shell, namespace: legacy }
spec:
  containers:
    - name: shell
      image: docker.io/library/busybox:1.36
      command: [sleep, infinity]
`;

export async function seed(cluster: Cluster, docs: KubeObject[], namespace?: string): Promise<number> {
  let created = 0;
  for (const d of docs) {
    if (namespace && d.kind !== 'Namespace') d.metadata.namespace ??= namespace;
    try {
      await cluster.create(d);
      created++;
    } catch (e) {
      if (!isClusterError(e, 'AlreadyExists')) throw e;
    }
  }
  return created;
}

export const parseDocs = (text: string): KubeObject[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject)
    .filter((d) => d && d.kind);

export async function demo(opts: { down?: boolean; preview?: boolean }, ui: { harden(o: HardenOptions): Promise<number> }): Promise<number> {
  const dir = join(dataDir(), 'demo');
  const cli = join(repoRoot(), 'test/cluster/cli.ts');
  if (!existsSync(cli)) throw new UsageError('the demo needs the source checkout (test/cluster) and Go; run it from the repository');
  const run = (args: string[]) =>
    execa('node', ['--import', 'tsx', cli, ...args], { cwd: repoRoot(), stderr: 'inherit', preferLocal: true });
  if (opts.down) {
    await run(['down', '--dir', dir]);
    process.stdout.write('demo cluster stopped\n');
    return EXIT.ok;
  }
  progress('starting the demo cluster (a real kube-apiserver, etcd and controller manager on 127.0.0.1)…');
  const up = await run(['up', '--dir', dir]);
  const kubeconfig = up.stdout.trim().split('\n').at(-1)!;
  const cluster = await Cluster.connect({ kubeconfig });
  try {
    const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bookinfo' } };
    await seed(cluster, [ns]);
    const bookinfo = parseDocs(readFileSync(join(fixturesDir(), 'workloads/bookinfo/bookinfo.yaml'), 'utf8'));
    const n = (await seed(cluster, bookinfo, 'bookinfo')) + (await seed(cluster, parseDocs(DEMO_EXTRAS)));
    progress(n ? `seeded bookinfo and a few insecure extras (${n} objects)` : 'demo workloads already there');
  } finally {
    await cluster.close();
  }
  const code = await ui.harden({ kubeconfig, preview: !!opts.preview });
  process.stderr.write(
    `\nThe demo cluster keeps running. Try:\n  KUBECONFIG=${kubeconfig} npx kube-harden audit\n  npx kube-harden rollback --kubeconfig ${kubeconfig}\nStop it with: npx kube-harden demo --down\n`,
  );
  return code;
}
