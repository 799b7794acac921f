import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import type { WizardLauncher } from '../harden.js';
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

/** The demo's data (src/demo: bookinfo and the insecure extras), shipped with the package. */
export const demoDataDir = (): string => join(repoRoot(), 'src/demo');

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

export async function demo(opts: { down?: boolean; preview?: boolean }, ui: WizardLauncher): Promise<number> {
  const dir = join(dataDir(), 'demo');
  const cli = join(repoRoot(), 'test/cluster/cli.ts');
  if (!existsSync(cli) || !existsSync(join(repoRoot(), 'node_modules/tsx'))) {
    throw new UsageError(
      'the demo builds a local Kubernetes API server from Go sources, which only a source checkout has: clone the kube-harden repository and run `npm install && npm run demo` there',
    );
  }
  const run = (args: string[]) => execa('node', ['--import', 'tsx', cli, ...args], { cwd: repoRoot(), stderr: 'inherit', preferLocal: true });
  if (opts.down) {
    await run(['down', '--dir', dir]);
    process.stdout.write('demo cluster stopped\n');
    return EXIT.ok;
  }
  progress('starting the demo cluster (a real kube-apiserver, etcd and controller manager on 127.0.0.1)…');
  // The API server runs from a static-pod manifest (like kubeadm's), with profiling on and TLS 1.0 accepted: the apiserver area
  // has flags to change, through the health gate.
  const up = await run(['up', '--dir', dir, '--static-apiserver', '--apiserver-arg=--profiling=true', '--apiserver-arg=--tls-min-version=VersionTLS10']);
  const kubeconfig = up.stdout.trim().split('\n').at(-1)!;
  const ready = JSON.parse(readFileSync(join(dir, 'ready'), 'utf8')) as { apiserverManifest?: string };
  const cluster = await Cluster.connect({ kubeconfig });
  try {
    const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bookinfo' } };
    await seed(cluster, [ns]);
    const data = (f: string) => parseDocs(readFileSync(join(demoDataDir(), f), 'utf8'));
    const n =
      (await seed(cluster, data('bookinfo/bookinfo.yaml'), 'bookinfo')) +
      (await seed(cluster, data('bookinfo/bookinfo-ingress.yaml'), 'bookinfo')) +
      (await seed(cluster, data('extras.yaml')));
    progress(n ? `seeded bookinfo and insecure extras for every area (${n} objects)` : 'demo objects already there');
  } finally {
    await cluster.close();
  }
  const code = await ui.harden({ kubeconfig, preview: !!opts.preview, apiserverManifest: ready.apiserverManifest });
  process.stderr.write(
    `\nThe demo cluster keeps running. Try:\n  KUBECONFIG=${kubeconfig} npx kube-harden audit\n  npx kube-harden rollback --kubeconfig ${kubeconfig}\nStop it with: npx kube-harden demo --down\n`,
  );
  return code;
}
