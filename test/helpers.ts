// Shared helpers for the integration and end-to-end tests: the real test bed, the real CLI.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Cluster } from '../src/cluster/client.js';
import { builtinByKind } from '../src/cluster/resources.js';
import type { KubeObject } from '../src/cluster/types.js';
import { normalise } from '../src/engine/normalise.js';

/** An object as kube-harden compares it: without status and server bookkeeping. */
export const normalised = (o: KubeObject): KubeObject => normalise(o);
import { applyManifests, BOOKINFO, sharedTestbed, type Testbed } from './cluster/testbed.js';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = path.join(repo, 'bin/kube-harden.js');

export { sharedTestbed, BOOKINFO, type Testbed };

let counter = 0;
/** A namespace name no other test uses. */
export const uniqueNs = (prefix: string) => `${prefix}-${process.pid}-${++counter}-${Date.now().toString(36).slice(-4)}`;

export const tempHome = () => mkdtempSync(path.join(os.tmpdir(), 'kube-harden-home-'));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * A copy of the built CLI (bin/ and dist/, which need nothing else at run time) in a temp folder, for
 * long tests in a checkout where `npm run build` may run concurrently (it removes dist/ first). Pass it
 * to runCli as `bin`.
 */
export async function builtCliCopy(): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kube-harden-cli-'));
  for (let i = 0; ; i++) {
    try {
      cpSync(path.join(repo, 'dist'), path.join(dir, 'dist'), { recursive: true });
      cpSync(path.join(repo, 'bin'), path.join(dir, 'bin'), { recursive: true });
      if (existsSync(path.join(dir, 'dist/cli.js')) && existsSync(path.join(dir, 'dist/ui.js'))) return path.join(dir, 'bin/kube-harden.js');
    } catch (e) {
      if (i > 60) throw e;
    }
    if (i > 60) throw new Error('no complete build in dist/: run npm run build');
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Run the built CLI (bin/kube-harden.js, or a copy from builtCliCopy) as a user would, with its own data directory. */
export function runCli(
  args: string[],
  opts: { home: string; env?: Record<string, string>; timeoutMs?: number; onStderr?: (chunk: string, kill: () => void) => void; bin?: string },
): Promise<CliResult> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [opts.bin ?? BIN, ...args], {
      env: { ...process.env, KUBE_HARDEN_HOME: opts.home, CI: 'true', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      opts.onStderr?.(stderr, () => child.kill('SIGKILL'));
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

export async function connect(kubeconfig: string): Promise<Cluster> {
  return Cluster.connect({ kubeconfig });
}

/** The shared test bed and an admin connection to it, for the tests of one file. */
export function withCluster(): { bed: Testbed; cluster: Cluster } {
  const ctx = {} as { bed: Testbed; cluster: Cluster };
  before(async () => {
    ctx.bed = await sharedTestbed();
    ctx.cluster = await connect(ctx.bed.kubeconfig);
  });
  after(() => ctx.cluster?.close());
  return ctx;
}

export async function seedFixture(bed: Testbed, file: string, namespace: string): Promise<void> {
  await applyManifests(bed.kubeconfig, file, namespace);
}

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob'];

/** The normalised state of every workload in a namespace, and of the namespace: what a rollback must restore. */
export async function namespaceState(cluster: Cluster, namespace: string): Promise<Record<string, KubeObject>> {
  const out: Record<string, KubeObject> = {};
  for (const kind of WORKLOAD_KINDS) {
    for (const o of await cluster.list(builtinByKind(kind), { namespace })) out[`${kind}/${o.metadata.name}`] = normalise(o);
  }
  out[`Namespace/${namespace}`] = normalise(await cluster.get({ apiVersion: 'v1', kind: 'Namespace', name: namespace }));
  return out;
}

export async function deployments(cluster: Cluster, namespace: string): Promise<KubeObject[]> {
  return cluster.list(builtinByKind('Deployment'), { namespace });
}

export interface AuditEvent {
  verb: string;
  requestURI: string;
  userAgent?: string;
  user: { username: string };
  requestReceivedTimestamp: string;
  stage: string;
  responseStatus?: { code?: number };
}

/** Audit events the test bed logged since a byte offset of its audit log. */
export function auditSince(bed: Testbed, offset: number): AuditEvent[] {
  const text = readFileSync(bed.auditLog, 'utf8').slice(offset);
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEvent);
}

export const auditOffset = (bed: Testbed) => readFileSync(bed.auditLog, 'utf8').length;

export const MUTATING = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/** Kubernetes objects generated in bulk for the fleet-sized tests and the benchmark. */
export function deploymentManifest(name: string, namespace: string, replicas = 0): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'registry.example/app:1.0', ports: [{ containerPort: 8080 }] }] },
      },
    },
  };
}
