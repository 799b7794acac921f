// npm run bench [-- --deployments N --namespaces M --replicas R]
// Seeds N Deployments over M namespaces on the real test bed and measures, with the built CLI:
// audit wall time (vs kubectl get of the same kinds as JSON), plan+apply, rollback, peak RSS,
// `--help` time and the time to the wizard's first frame. A figure, not a test.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pMap from 'p-map';
import { fileURLToPath } from 'node:url';
import pty from '@lydell/node-pty';
import { Cluster } from '../../src/cluster/client.js';
import { builtinByKind } from '../../src/cluster/resources.js';
import type { KubeObject } from '../../src/cluster/types.js';
import { BIN, deploymentManifest } from '../helpers.js';
import { down, sharedTestbed, up, type Testbed } from '../cluster/testbed.js';
import { keystrokeRedraw } from './keystroke.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
const N = arg('deployments', 1000);
const M = arg('namespaces', 50);
const REPLICAS = arg('replicas', 0);
const RB = arg('rolebindings', Math.round(N / 5));
const NP = arg('networkpolicies', Math.round(N / 20));
const ING = arg('ingresses', Math.round(N / 20));
const home = mkdtempSync(path.join(os.tmpdir(), 'kube-harden-bench-'));
const here = path.dirname(fileURLToPath(import.meta.url));

interface Run {
  ms: number;
  peakRssMb: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command, polling /proc/PID/status for VmHWM (the peak resident set) until it exits. */
function measure(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, KUBE_HARDEN_HOME: home, CI: 'true', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let peak = 0;
    let stdout = '';
    let stderr = '';
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peak = Math.max(peak, Number(m[1]) / 1024);
      } catch {
        /* exited */
      }
    }, 20);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(poll);
      resolve({ ms: performance.now() - t0, peakRssMb: peak, code, stdout, stderr });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function firstFrame(kubeconfig: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = pty.spawn(process.execPath, [BIN, '--kubeconfig', kubeconfig, '--preview'], {
      cols: 120,
      rows: 40,
      env: { ...process.env, KUBE_HARDEN_HOME: home } as Record<string, string>,
    });
    let out = '';
    const timer = setTimeout(() => {
      p.kill();
      reject(new Error(`no frame after 10 s: ${out}`));
    }, 10_000);
    p.onData((d) => {
      out += d;
      if (/kube-harden/.test(out)) {
        const ms = performance.now() - t0;
        clearTimeout(timer);
        p.kill();
        resolve(ms);
      }
    });
  });
}

async function seed(bed: Testbed): Promise<void> {
  const cluster = await Cluster.connect({ kubeconfig: bed.kubeconfig, concurrency: 16 });
  const t0 = performance.now();
  await pMap(
    Array.from({ length: M }, (_, i) => `bench-${String(i).padStart(3, '0')}`),
    (name) => cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }).catch(() => undefined),
    { concurrency: 16 },
  );
  let done = 0;
  await pMap(
    Array.from({ length: N }, (_, i) => i),
    async (i) => {
      const ns = `bench-${String(i % M).padStart(3, '0')}`;
      await cluster.create(deploymentManifest(`app-${String(i).padStart(5, '0')}`, ns, REPLICAS)).catch((e) => {
        if (!/already exists/.test(String(e))) throw e;
      });
      if (++done % 1000 === 0) process.stderr.write(`  seeded ${done}/${N}\n`);
    },
    { concurrency: 16 },
  );
  // The rest of a real cluster's shape: RoleBindings, NetworkPolicies and Ingresses across the namespaces.
  const nsOf = (i: number) => `bench-${String(i % M).padStart(3, '0')}`;
  const ignoreExists = (e: unknown) => {
    if (!/already exists/.test(String(e))) throw e;
  };
  const createMany = (count: number, make: (i: number) => KubeObject) =>
    pMap(
      Array.from({ length: count }, (_, i) => i),
      (i) => cluster.create(make(i)).catch(ignoreExists),
      { concurrency: 16 },
    );
  await createMany(RB, (i) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: `team-${i}`, namespace: nsOf(i) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: i % 10 === 0 ? 'admin' : 'view' },
    subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: `team-${i % 50}` }],
  }));
  await createMany(NP, (i) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: `allow-web-${i}`, namespace: nsOf(i) },
    spec: { podSelector: { matchLabels: { app: `app-${String(i).padStart(5, '0')}` } }, ingress: [{ ports: [{ port: 8080 }] }] },
  }));
  await createMany(ING, (i) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: `web-${i}`, namespace: nsOf(i) },
    spec: {
      rules: [
        {
          host: `app-${i}.example.test`,
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] },
        },
      ],
    },
  }));
  process.stderr.write(
    `seeded ${N} deployments, ${RB} RoleBindings, ${NP} NetworkPolicies, ${ING} Ingresses in ${M} namespaces in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  // Measure a cluster at rest: wait until the controller-manager has caught up with what was just made
  // (every Deployment observed at its generation), as a running cluster is.
  const t1 = performance.now();
  for (;;) {
    let behind = 0;
    await cluster.list(builtinByKind('Deployment'), {
      each: (d) => {
        if (Number((d.status as { observedGeneration?: number } | undefined)?.observedGeneration ?? 0) < (d.metadata.generation ?? 1)) behind++;
      },
    });
    if (!behind) break;
    process.stderr.write(`  the controller-manager has ${behind} Deployments still to observe\n`);
    await new Promise((r) => setTimeout(r, 5000));
  }
  process.stderr.write(`settled in ${((performance.now() - t1) / 1000).toFixed(1)} s\n`);
  await cluster.close();
}

/**
 * The bench's own bed: the controller-manager with the API rate a large cluster gives it (its default,
 * 20 requests/s, takes ~25 minutes to roll out 10,000 Deployments, whoever changed them).
 */
const CONTROLLER_MANAGER_ARGS = ['--kube-api-qps=300', '--kube-api-burst=600', '--concurrent-deployment-syncs=10', '--concurrent-replicaset-syncs=10'];

async function main() {
  let bed: Testbed;
  let own: string | undefined;
  if (process.env.KUBE_HARDEN_TESTBED_DIR) bed = await sharedTestbed();
  else {
    own = mkdtempSync(path.join(os.tmpdir(), 'kube-harden-bench-bed-'));
    bed = await up({ dir: own, controllerManagerArgs: CONTROLLER_MANAGER_ARGS });
  }
  try {
    await seed(bed);
    const server = await Cluster.connect({ kubeconfig: bed.kubeconfig }).then(async (c) => {
      const v = await c.version();
      await c.close();
      return v.gitVersion;
    });
    const node = process.execPath;
    const help = [];
    for (let i = 0; i < 5; i++) help.push((await measure(node, [BIN, '--help'])).ms);
    const frames = [];
    for (let i = 0; i < 3; i++) frames.push(await firstFrame(bed.kubeconfig));

    const keys = await keystrokeRedraw();

    // The kinds the audit of every area lists (see the bed's audit log), as kubectl would fetch them; the
    // audit GETs only the Secrets Ingresses name, kubectl lists them all.
    const kinds = [
      'namespaces,nodes,deployments,replicasets,statefulsets,daemonsets,cronjobs,jobs,replicationcontrollers,pods,services,endpointslices',
      'serviceaccounts,roles,rolebindings,clusterroles,clusterrolebindings,networkpolicies,ingresses,ingressclasses,secrets',
      'validatingadmissionpolicies,validatingadmissionpolicybindings',
    ].join(',');
    const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
    const kget = kubectl ? await measure('kubectl', ['--kubeconfig', bed.kubeconfig, 'get', kinds, '-A', '-o', 'json']) : undefined;
    const audit = await measure(node, [BIN, 'audit', '--output', 'json', '--kubeconfig', bed.kubeconfig]);
    if (audit.code !== 0) throw new Error(`audit failed: ${audit.stderr}`);
    const findings = JSON.parse(audit.stdout).findings.length;
    const run = async (profile: string) => {
      const preview = await measure(node, [BIN, 'apply', '--profile', profile, '--preview', '--concurrency', '16', '--kubeconfig', bed.kubeconfig]);
      if (preview.code !== 0) throw new Error(`apply ${profile} --preview failed: ${preview.stderr.slice(-2000)}`);
      const apply = await measure(node, [BIN, 'apply', '--profile', profile, '--yes', '--concurrency', '16', '--kubeconfig', bed.kubeconfig]);
      if (apply.code !== 0) throw new Error(`apply ${profile} failed: ${apply.stderr.slice(-2000)}`);
      const applied = /applied (\d+) change/.exec(apply.stdout)?.[1];
      const rollback = await measure(node, [BIN, 'rollback', '--yes', '--concurrency', '16', '--kubeconfig', bed.kubeconfig]);
      if (rollback.code !== 0) throw new Error(`rollback failed: ${rollback.stderr.slice(-2000)}`);
      return { preview, apply, applied, rollback };
    };
    const restricted = await run('restricted');
    // Two areas composing one change on every workload: workloads' security context and images' pull policy.
    const composed = await run(path.join(here, 'two-areas.yaml'));

    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const rows: Array<[string, string]> = [
      ['cluster', `${N} Deployments (replicas ${REPLICAS}), ${RB} RoleBindings, ${NP} NetworkPolicies, ${ING} Ingresses in ${M} namespaces`],
      ['controller-manager', own ? CONTROLLER_MANAGER_ARGS.join(' ') : 'as the shared bed runs it'],
      ['--help (median of 5)', `${median(help).toFixed(0)} ms`],
      ['first frame of the wizard (median of 3)', `${median(frames).toFixed(0)} ms`],
      [`keystroke redraw, ${keys.diffLines}-line diff open`, `median ${keys.medianMs.toFixed(1)} ms, p95 ${keys.p95Ms.toFixed(1)} ms`],
      [
        `kubectl get (the ${kinds.split(',').length} kinds the audit lists) -A -o json`,
        kget ? `${s(kget.ms)} (peak RSS ${kget.peakRssMb.toFixed(0)} MB)` : 'kubectl not found',
      ],
      ['audit (all areas, JSON report)', `${s(audit.ms)} (peak RSS ${audit.peakRssMb.toFixed(0)} MB, ${findings} findings)`],
      ['audit / kubectl get', kget ? `${(audit.ms / kget.ms).toFixed(2)}x` : '-'],
      ['plan + server dry-run (restricted, --preview)', `${s(restricted.preview.ms)} (peak RSS ${restricted.preview.peakRssMb.toFixed(0)} MB)`],
      [
        'plan + apply (restricted profile, every area)',
        `${s(restricted.apply.ms)} (peak RSS ${restricted.apply.peakRssMb.toFixed(0)} MB, ${restricted.applied} changes)`,
      ],
      ['rollback', `${s(restricted.rollback.ms)} (peak RSS ${restricted.rollback.peakRssMb.toFixed(0)} MB)`],
      ['plan + server dry-run (two areas, --preview)', `${s(composed.preview.ms)} (peak RSS ${composed.preview.peakRssMb.toFixed(0)} MB)`],
      [
        'plan + apply (workloads and images on every workload)',
        `${s(composed.apply.ms)} (peak RSS ${composed.apply.peakRssMb.toFixed(0)} MB, ${composed.applied} changes)`,
      ],
      ['rollback', `${s(composed.rollback.ms)} (peak RSS ${composed.rollback.peakRssMb.toFixed(0)} MB)`],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    process.stdout.write(`\nkube-harden bench (${os.cpus().length} cores, Node ${process.version}, test bed kube-apiserver ${server})\n`);
    for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(w)}  ${v}\n`);
  } finally {
    if (own) await down({ dir: own });
  }
}

main().catch((e) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
