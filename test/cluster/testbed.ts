// The kube-harden test bed: a real kube-apiserver + kube-controller-manager + etcd on loopback,
// built from k8s.io/kubernetes (see main.go) and driven from here. See DESIGN.md "Test bed contract".
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

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
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** Repository root (two levels above test/cluster). */
export const repoRoot = path.resolve(here, '../..');

/** Root of the shared fixtures: $KUBE_HARDEN_FIXTURES or ../shared/fixtures next to the repo. */
export function fixturesRoot(): string {
  return process.env.KUBE_HARDEN_FIXTURES ?? path.resolve(repoRoot, '../shared/fixtures');
}

function log(msg: string): void {
  process.stderr.write(`testbed: ${msg}\n`);
}

function ldflags(): string {
  const parts = ['-s', '-w'];
  for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
    parts.push(
      `-X ${pkg}.gitVersion=${KUBERNETES_VERSION}`,
      `-X ${pkg}.gitMajor=1`,
      `-X ${pkg}.gitMinor=34`,
      `-X ${pkg}.gitTreeState=clean`,
    );
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

function cacheRoot(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'kube-harden-testbed');
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Path of the test bed binary, building it first if needed. The build is keyed by a hash of
 * test/cluster/{go.mod,go.sum,*.go}; concurrent callers wait for one build (lock directory).
 */
export async function ensureBuilt(): Promise<string> {
  const dir = path.join(cacheRoot(), await sourceHash());
  const bin = path.join(dir, 'testbed');
  if (existsSync(bin)) return bin;
  await mkdir(dir, { recursive: true });
  const lock = path.join(dir, 'build.lock');
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (existsSync(bin)) return bin;
      let owner = 0;
      try {
        owner = Number(readFileSync(path.join(lock, 'pid'), 'utf8')) || 0;
      } catch {
        /* lock just created, pid not written yet */
      }
      const age = Date.now() - (await stat(lock)).mtimeMs;
      if ((owner && !pidAlive(owner)) || (!owner && age > 60_000)) {
        await rm(lock, { recursive: true, force: true });
        continue;
      }
      await sleep(1000);
    }
  }
  try {
    writeFileSync(path.join(lock, 'pid'), String(process.pid));
    if (existsSync(bin)) return bin;
    log(`building the test bed (first time only, ~6 min on 2 cores; cached afterwards in ${dir})…`);
    const started = Date.now();
    const tmp = path.join(dir, `testbed.tmp-${process.pid}`);
    const go = process.env.GO ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : 'go');
    const result = await execa(go, ['build', '-p', '2', '-trimpath', '-ldflags', ldflags(), '-o', tmp, '.'], {
      cwd: here,
      env: { CGO_ENABLED: '0' },
      reject: false,
      all: true,
    });
    if (result.exitCode !== 0) {
      await rm(tmp, { force: true });
      throw new Error(`go build of the test bed failed (exit ${result.exitCode}):\n${tail(String(result.all ?? ''), 40)}`);
    }
    await rename(tmp, bin);
    log(`built in ${Math.round((Date.now() - started) / 1000)} s: ${bin}`);
    return bin;
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n');
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
}

/**
 * Start a test bed in `dir` (created if needed) and resolve once it is ready: /readyz is ok and the
 * controller manager has created the `default` ServiceAccount. The server keeps running after this
 * returns (detached); stop it with `down`. If a live bed already runs in `dir`, it is returned.
 */
export async function up(opts: UpOptions): Promise<Testbed> {
  const dir = path.resolve(opts.dir);
  const existing = readReady(dir);
  if (existing) return existing;
  const other = readPid(dir);
  if (other && pidAlive(other)) {
    throw new Error(`a test bed is already starting in ${dir} (pid ${other}); stop it with down({ dir })`);
  }
  const bin = await ensureBuilt();
  await mkdir(dir, { recursive: true });
  await rm(path.join(dir, 'ready'), { force: true });
  const logFile = path.join(dir, 'testbed.log');
  const fd = openSync(logFile, 'a');
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const args = ['up', '--dir', dir, '--timeout', `${Math.ceil(timeoutMs / 1000) + 5}s`];
  if (opts.watchPid) args.push('--watch-pid', String(opts.watchPid));
  if (opts.removeDir) args.push('--remove-dir');
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
      const logs = ['testbed.log', 'apiserver.log', 'controller-manager.log', 'etcd.log']
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

let shared: Promise<Testbed> | undefined;

/**
 * The test bed for this test run. If $KUBE_HARDEN_TESTBED_DIR names a live bed (see with-testbed.ts),
 * it is used. Otherwise a private bed is started in a temp dir for this process and stopped when the
 * process exits, so a single test file can run on its own (slower: ~20 s start).
 */
export function sharedTestbed(): Promise<Testbed> {
  shared ??= (async () => {
    const envDir = process.env.KUBE_HARDEN_TESTBED_DIR;
    if (envDir) {
      const bed = readReady(path.resolve(envDir));
      if (bed) return bed;
      log(`KUBE_HARDEN_TESTBED_DIR=${envDir} has no live test bed; starting a private one`);
    }
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kube-harden-testbed-'));
    const bed = await up({ dir, watchPid: process.pid, removeDir: true });
    process.on('exit', () => {
      try {
        process.kill(bed.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    });
    return bed;
  })();
  return shared;
}

// ---- fixture helpers -------------------------------------------------------------------------

/** A KubeConfig loaded from a file. */
export function loadKubeConfig(kubeconfig: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  return kc;
}

function resolveFixture(p: string, subdir?: string): string {
  if (path.isAbsolute(p)) return p;
  const direct = path.resolve(fixturesRoot(), p);
  if (existsSync(direct) || !subdir) return direct;
  return path.resolve(fixturesRoot(), subdir, p);
}

/** Every object of a (multi-document) YAML file; `kind: List` is flattened. */
export async function readManifests(file: string): Promise<k8s.KubernetesObject[]> {
  const text = await readFile(file, 'utf8');
  const out: k8s.KubernetesObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]!.message}`);
    const obj = doc.toJS() as (k8s.KubernetesObject & { items?: k8s.KubernetesObject[] }) | null;
    if (!obj || typeof obj !== 'object' || !obj.kind) continue;
    if (obj.kind.endsWith('List') && Array.isArray(obj.items)) out.push(...obj.items);
    else out.push(obj);
  }
  return out;
}

function errorText(e: unknown): string {
  if (e instanceof k8s.ApiException) {
    const body = typeof e.body === 'string' ? e.body : JSON.stringify(e.body);
    return `HTTP ${e.code}: ${body.slice(0, 500)}`;
  }
  return e instanceof Error ? e.message : String(e);
}

function isConflict(e: unknown): boolean {
  return (e instanceof k8s.ApiException || e instanceof CreateError) && e.code === 409;
}

/** A failed create: `code` is the HTTP status, `status` the apiserver's Status object if any. */
export class CreateError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly status?: { reason?: string; message?: string },
  ) {
    super(message);
  }
}

interface ResourceInfo {
  name: string;
  namespaced: boolean;
}

const discovery = new Map<string, Map<string, ResourceInfo>>();

async function resourceFor(kubeconfig: string, apiVersion: string, kind: string): Promise<ResourceInfo> {
  const key = `${kubeconfig}\0${apiVersion}`;
  let kinds = discovery.get(key);
  if (!kinds?.has(kind)) {
    const res = await kubeRequest(kubeconfig, 'GET', `/${apiVersion.includes('/') ? 'apis' : 'api'}/${apiVersion}`);
    if (res.status !== 200) throw new Error(`discovery of ${apiVersion} failed: HTTP ${res.status}`);
    const list = JSON.parse(res.body) as { resources: { name: string; kind: string; namespaced: boolean }[] };
    kinds = new Map(list.resources.filter((r) => !r.name.includes('/')).map((r) => [r.kind, r]));
    discovery.set(key, kinds);
  }
  const info = kinds.get(kind);
  if (!info) throw new Error(`the server has no resource for ${apiVersion} ${kind}`);
  return info;
}

/**
 * Create one object exactly as given (raw JSON POST: unlike KubernetesObjectApi.create, which runs
 * objects through client-node's typed serializer and silently drops fields such as
 * `x-kubernetes-preserve-unknown-fields` or fields newer than its models). Namespaced objects go to
 * `namespace` if given, else to their own or `default`. Returns the object the server stored.
 */
export async function createObject<T extends k8s.KubernetesObject>(
  kubeconfig: string,
  obj: T,
  namespace?: string,
): Promise<T> {
  const apiVersion = obj.apiVersion ?? 'v1';
  if (!obj.kind) throw new Error('object has no kind');
  const r = await resourceFor(kubeconfig, apiVersion, obj.kind);
  const body: k8s.KubernetesObject = { ...obj, apiVersion, metadata: { ...obj.metadata } };
  let url = `/${apiVersion.includes('/') ? 'apis' : 'api'}/${apiVersion}`;
  if (r.namespaced) {
    const ns = namespace ?? obj.metadata?.namespace ?? 'default';
    body.metadata!.namespace = ns;
    url += `/namespaces/${encodeURIComponent(ns)}`;
  } else {
    delete body.metadata!.namespace;
  }
  const res = await kubeRequest(kubeconfig, 'POST', `${url}/${r.name}`, body);
  if (res.status >= 200 && res.status < 300) return JSON.parse(res.body) as T;
  let status: { reason?: string; message?: string } | undefined;
  try {
    status = JSON.parse(res.body) as typeof status;
  } catch {
    /* not JSON */
  }
  throw new CreateError(
    `creating ${obj.kind} ${obj.metadata?.name ?? ''}: HTTP ${res.status}: ${status?.message ?? res.body.slice(0, 300)}`,
    res.status,
    status,
  );
}

/**
 * Create the CRDs found in `dir` (absolute, relative to the fixtures root, or relative to its
 * `crds/` folder, e.g. 'cert-manager-v1.21.1') and wait until each is Established. Existing CRDs are
 * left alone. Returns the CRD names.
 */
export async function loadCrds(kubeconfig: string, dir: string, timeoutMs = 60_000): Promise<string[]> {
  const root = resolveFixture(dir, 'crds');
  const files = (await readdir(root)).filter((f) => /\.ya?ml$/.test(f)).sort();
  const ext = loadKubeConfig(kubeconfig).makeApiClient(k8s.ApiextensionsV1Api);
  const names: string[] = [];
  for (const f of files) {
    for (const obj of await readManifests(path.join(root, f))) {
      if (obj.kind !== 'CustomResourceDefinition') continue;
      try {
        await createObject(kubeconfig, obj);
      } catch (e) {
        if (!isConflict(e)) throw new Error(`${path.join(root, f)}: ${errorText(e)}`);
      }
      names.push(obj.metadata!.name!);
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const crd = await ext.readCustomResourceDefinition({ name });
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after ${timeoutMs / 1000} s`);
      await sleep(100);
    }
  }
  return names;
}

/** Create `namespace` if it does not exist. */
export async function ensureNamespace(kubeconfig: string, namespace: string): Promise<void> {
  const core = loadKubeConfig(kubeconfig).makeApiClient(k8s.CoreV1Api);
  try {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  } catch (e) {
    if (!isConflict(e)) throw new Error(`creating namespace ${namespace}: ${errorText(e)}`);
  }
}

/**
 * Create every object of a multi-document YAML file (absolute or relative to the fixtures root,
 * e.g. 'workloads/bookinfo/bookinfo.yaml') in `namespace`, creating the namespace first. Namespaced
 * objects are put in `namespace` whatever their manifest says. Returns the created objects.
 */
export async function applyManifests(
  kubeconfig: string,
  file: string,
  namespace: string,
): Promise<k8s.KubernetesObject[]> {
  const full = resolveFixture(file);
  await ensureNamespace(kubeconfig, namespace);
  const created: k8s.KubernetesObject[] = [];
  for (const obj of await readManifests(full)) {
    try {
      created.push(await createObject(kubeconfig, obj, namespace));
    } catch (e) {
      throw new Error(`${full}: ${errorText(e)}`);
    }
  }
  return created;
}

/** Wait until `namespace` has at least `n` Pods (they stay Pending: there is no scheduler). */
export async function waitForPods(
  kubeconfig: string,
  namespace: string,
  n: number,
  timeoutMs = 60_000,
): Promise<k8s.V1Pod[]> {
  const core = loadKubeConfig(kubeconfig).makeApiClient(k8s.CoreV1Api);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pods = await core.listNamespacedPod({ namespace });
    if (pods.items.length >= n) return pods.items;
    if (Date.now() > deadline) {
      throw new Error(`namespace ${namespace} has ${pods.items.length} Pods, wanted ${n}, after ${timeoutMs / 1000} s`);
    }
    await sleep(200);
  }
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Warning headers, split (the apiserver sends one per warning). */
  warnings: string[];
  body: string;
}

/**
 * A raw HTTPS request to the API server with the kubeconfig's credentials, for what the typed
 * clients hide (headers such as `Warning`, exact status codes). `path` starts with '/'.
 */
export async function kubeRequest(
  kubeconfig: string,
  method: string,
  apiPath: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<RawResponse> {
  const kc = loadKubeConfig(kubeconfig);
  const url = new URL(apiPath, kc.getCurrentCluster()!.server);
  const opts: https.RequestOptions = { method, headers: { accept: 'application/json' } };
  await kc.applyToHTTPSOptions(opts);
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  if (payload !== undefined) opts.headers = { ...opts.headers, 'content-type': contentType };
  return new Promise((resolve, reject) => {
    const req = https.request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          warnings: res.headersDistinct.warning ?? [],
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}
