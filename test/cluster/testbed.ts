// The kube-harden test bed: a real kube-apiserver + kube-controller-manager + kube-scheduler + etcd on
// loopback, built from k8s.io/kubernetes (see main.go), with simulated nodes (kwok: pods are scheduled,
// become Running and Ready, rollouts finish; no containers run), driven from here. See DESIGN.md
// "Test bed contract".
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { buildOnce, cacheRoot, ensureTool, goBinary, pidAlive, tail } from './tools.js';

export * from './kube.js';

export const KUBERNETES_VERSION = 'v1.34.4';

/** A running test bed. All paths are absolute. */
export interface Testbed {
  dir: string;
  /** Admin kubeconfig (user kube-harden-admin, group system:masters). */
  kubeconfig: string;
  /** Kubeconfig of `limited-user`: authenticated, no RBAC grants. */
  limitedKubeconfig: string;
  /** Audit log, one JSON event per line, every request at level Metadata. */
  auditLog: string;
  /** https://127.0.0.1:PORT */
  server: string;
  /** pid of the supervisor process (`testbed up`); SIGTERM it to stop everything. */
  pid: number;
  /**
   * The simulated worker nodes (kwok-node-0, kwok-node-1, ...), Ready and schedulable when `up`
   * returns. Pods on them get Running and Ready (no container runs; see test/cluster/kwok/).
   */
  nodes: string[];
  /** Static-pod mode only: the node the API server's mirror pod is bound to (tainted NoSchedule). */
  controlPlaneNode?: string;
  /**
   * Static-pod mode only: DIR/manifests/kube-apiserver.yaml, the kubeadm-style manifest the API server
   * runs from. Editing it restarts the API server with the new flags (as a kubelet would); the mirror
   * pod kube-system/kube-apiserver-<controlPlaneNode> follows it.
   */
  apiserverManifest?: string;
}

/**
 * The marker of "an image that runs as root" for the simulated kubelet: a container whose image name
 * contains it and whose effective securityContext has `runAsNonRoot: true` (and no runAsUser) is left
 * waiting in CreateContainerConfigError, like the kubelet does; see test/cluster/kwok/pod-runs-as-root.yaml.
 */
export const RUNS_AS_ROOT_MARKER = 'runs-as-root';

const here = path.dirname(fileURLToPath(import.meta.url));

function log(msg: string): void {
  process.stderr.write(`testbed: ${msg}\n`);
}

function ldflags(): string {
  const parts = ['-s', '-w'];
  for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
    parts.push(`-X ${pkg}.gitVersion=${KUBERNETES_VERSION}`, `-X ${pkg}.gitMajor=1`, `-X ${pkg}.gitMinor=34`, `-X ${pkg}.gitTreeState=clean`);
  }
  return parts.join(' ');
}

async function sourceHash(): Promise<string> {
  const files = (await readdir(here)).filter((f) => f.endsWith('.go') || f === 'go.mod' || f === 'go.sum').sort();
  const h = createHash('sha256');
  h.update(ldflags());
  for (const f of files) {
    h.update(`\0${f}\0`);
    h.update(await readFile(path.join(here, f)));
  }
  return h.digest('hex').slice(0, 16);
}

/** Directory of the kwok Stages the bed's nodes play (committed in the repo). */
export const KWOK_STAGES_DIR = path.join(here, 'kwok');

/** Build (or find in the cache) everything `up` runs: the test bed binary, then kwok (one at a time). */
export async function ensureAllBuilt(): Promise<{ testbed: string; kwok: string }> {
  const testbed = await ensureBuilt();
  const kwok = await ensureTool('kwok');
  return { testbed, kwok };
}

/**
 * Path of the test bed binary, building it first if needed. The build is keyed by a hash of
 * test/cluster/{go.mod,go.sum,*.go}; concurrent callers wait for one build (lock directory).
 */
export async function ensureBuilt(): Promise<string> {
  const bin = path.join(cacheRoot(), await sourceHash(), 'testbed');
  return buildOnce(bin, async (tmp) => {
    log(`building the test bed (first time only: up to 25 min on 2 cores from empty Go caches; cached afterwards in ${path.dirname(bin)})…`);
    const started = Date.now();
    const result = await execa(goBinary(), ['build', '-p', '2', '-trimpath', '-ldflags', ldflags(), '-o', tmp, '.'], {
      cwd: here,
      env: { CGO_ENABLED: '0' },
      reject: false,
      all: true,
    });
    if (result.exitCode !== 0) {
      throw new Error(`go build of the test bed failed (exit ${result.exitCode}):\n${tail(String(result.all ?? ''), 40)}`);
    }
    log(`built in ${Math.round((Date.now() - started) / 1000)} s: ${bin}`);
  });
}

function fileTail(file: string, lines: number): string {
  try {
    return tail(readFileSync(file, 'utf8').trimEnd(), lines);
  } catch {
    return '';
  }
}

interface ReadyFile {
  server: string;
  pid: number;
  kubeconfig: string;
  limitedKubeconfig: string;
  auditLog: string;
  nodes?: string[];
  controlPlaneNode?: string;
  apiserverManifest?: string;
}

function readReady(dir: string): Testbed | undefined {
  let raw: string;
  try {
    raw = readFileSync(path.join(dir, 'ready'), 'utf8');
  } catch {
    return undefined;
  }
  const r = JSON.parse(raw) as ReadyFile;
  if (!pidAlive(r.pid)) return undefined;
  return {
    dir,
    kubeconfig: r.kubeconfig,
    limitedKubeconfig: r.limitedKubeconfig,
    auditLog: r.auditLog,
    server: r.server,
    pid: r.pid,
    nodes: r.nodes ?? [],
    ...(r.controlPlaneNode ? { controlPlaneNode: r.controlPlaneNode } : {}),
    ...(r.apiserverManifest ? { apiserverManifest: r.apiserverManifest } : {}),
  };
}

/** The test bed running in `dir`, if there is a live one. */
export function running(dir: string): Testbed | undefined {
  return readReady(path.resolve(dir));
}

export interface UpOptions {
  dir: string;
  /** Give up after this long (default 120 s). */
  timeoutMs?: number;
  /** Stop the bed automatically when this process exits (used by sharedTestbed's fallback). */
  watchPid?: number;
  /** Delete `dir` when the bed stops (used by sharedTestbed's fallback). */
  removeDir?: boolean;
  /** Number of simulated worker nodes (default 3). */
  nodes?: number;
  /**
   * Run the API server as a static pod: from DIR/manifests/kube-apiserver.yaml (kubeadm-style), restarted
   * with the new flags whenever the file changes, kept down (restarted with back-off) while its flags are
   * bad, with a mirror pod in kube-system. Same port and certificates across restarts.
   */
  staticApiserver?: boolean;
  /** `--anonymous-auth` of the API server (its default, and the bed's, is true). */
  anonymousAuth?: boolean;
  /**
   * Extra kube-apiserver flags, each `--flag=value`; one replaces the bed's own value of the same flag,
   * others are added (in static-pod mode they are written into the manifest).
   */
  apiserverArgs?: string[];
  /** Extra kube-controller-manager flags, each `--flag=value` (the bench raises its API QPS, as large clusters do). */
  controllerManagerArgs?: string[];
}

/**
 * Start a test bed in `dir` (created if needed) and resolve once it is ready: /readyz is ok, the
 * controller manager has created the `default` ServiceAccount, the scheduler answers /readyz, every
 * node is Ready and untainted and (static mode) the mirror pod is in step. The server keeps running after
 * this returns (detached); stop it with `down`. If a live bed already runs in `dir`, it is returned as
 * is (whatever the options).
 */
export async function up(opts: UpOptions): Promise<Testbed> {
  const dir = path.resolve(opts.dir);
  const existing = readReady(dir);
  if (existing) return existing;
  const other = readPid(dir);
  if (other && pidAlive(other)) {
    throw new Error(`a test bed is already starting in ${dir} (pid ${other}); stop it with down({ dir })`);
  }
  const { testbed: bin, kwok } = await ensureAllBuilt();
  await mkdir(dir, { recursive: true });
  await rm(path.join(dir, 'ready'), { force: true });
  const logFile = path.join(dir, 'testbed.log');
  const fd = openSync(logFile, 'a');
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const args = ['up', '--dir', dir, '--timeout', `${Math.ceil(timeoutMs / 1000) + 5}s`];
  if (opts.watchPid) args.push('--watch-pid', String(opts.watchPid));
  if (opts.removeDir) args.push('--remove-dir');
  args.push('--kwok', kwok, '--kwok-stages', KWOK_STAGES_DIR, '--nodes', String(opts.nodes ?? 3));
  if (opts.staticApiserver) args.push('--static-apiserver');
  const extra = [...(opts.apiserverArgs ?? [])];
  if (opts.anonymousAuth !== undefined) extra.unshift(`--anonymous-auth=${opts.anonymousAuth}`);
  for (const a of extra) {
    if (!a.startsWith('--')) throw new Error(`apiserverArgs: ${JSON.stringify(a)} must look like --flag=value`);
    args.push(`--apiserver-arg=${a}`);
  }
  for (const a of opts.controllerManagerArgs ?? []) {
    if (!a.startsWith('--')) throw new Error(`controllerManagerArgs: ${JSON.stringify(a)} must look like --flag=value`);
    args.push(`--controller-manager-arg=${a}`);
  }
  const child = spawn(bin, args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exited: string | undefined;
  child.on('exit', (code, signal) => {
    exited = signal ? `signal ${signal}` : `exit code ${code}`;
  });
  child.on('error', (e) => {
    exited = e.message;
  });
  child.unref();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const bed = readReady(dir);
    if (bed) return bed;
    const why = exited ?? (Date.now() > deadline ? `not ready after ${timeoutMs / 1000} s` : undefined);
    if (why) {
      if (!exited && child.pid) await stopPid(child.pid);
      const logs = ['testbed.log', 'apiserver.log', 'controller-manager.log', 'scheduler.log', 'kwok.log', 'etcd.log']
        .map((f) => [f, fileTail(path.join(dir, f), 15)] as const)
        .filter(([, t]) => t)
        .map(([f, t]) => `--- ${path.join(dir, f)} (tail)\n${t}`)
        .join('\n');
      throw new Error(`test bed in ${dir} failed to start: ${why}\n${logs}`);
    }
    await sleep(200);
  }
}

async function stopPid(pid: number, graceMs = 20_000): Promise<void> {
  if (!pidAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return;
    await sleep(100);
  }
  // The supervisor is a process-group leader (spawned detached): kill the whole group.
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

function readPid(dir: string): number | undefined {
  try {
    return Number(readFileSync(path.join(dir, 'testbed.pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** Stop the test bed running in `dir` (SIGTERM, then SIGKILL after 20 s). No-op if none runs. */
export async function down(opts: { dir: string }): Promise<void> {
  const dir = path.resolve(opts.dir);
  const pid = readPid(dir);
  if (pid) await stopPid(pid);
  await rm(path.join(dir, 'ready'), { force: true });
  await rm(path.join(dir, 'testbed.pid'), { force: true });
}

/**
 * A bed of this process's own, in a temp dir, with the given options (e.g. `{ staticApiserver: true }`
 * or `{ anonymousAuth: false }`): stopped and deleted when this process exits (even by SIGKILL: the
 * supervisor watches this pid). Stop it earlier with `down({ dir: bed.dir })`.
 */
export async function privateTestbed(opts: Omit<UpOptions, 'dir' | 'watchPid' | 'removeDir'> = {}): Promise<Testbed> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kube-harden-testbed-'));
  const bed = await up({ ...opts, dir, watchPid: process.pid, removeDir: true });
  process.on('exit', () => {
    try {
      process.kill(bed.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  });
  return bed;
}

let shared: Promise<Testbed> | undefined;

/**
 * The test bed for this test run. If $KUBE_HARDEN_TESTBED_DIR names a live bed (see with-testbed.ts),
 * it is used. Otherwise a private bed is started in a temp dir for this process and stopped when the
 * process exits, so a single test file can run on its own (slower: the start adds ~10-20 s).
 */
export function sharedTestbed(): Promise<Testbed> {
  shared ??= (async () => {
    const envDir = process.env.KUBE_HARDEN_TESTBED_DIR;
    if (envDir) {
      const bed = readReady(path.resolve(envDir));
      if (bed) return bed;
      log(`KUBE_HARDEN_TESTBED_DIR=${envDir} has no live test bed; starting a private one`);
    }
    return privateTestbed();
  })();
  return shared;
}
