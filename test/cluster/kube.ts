// Helpers to talk to a test bed: raw requests, exact object creation, fixtures (CRDs, manifests), waits.
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

/** Repository root (two levels above test/cluster). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Root of the test fixtures inside the repository (test/fixtures; see its README for provenance). */
export function fixturesRoot(): string {
  return path.join(repoRoot, 'test/fixtures');
}

/** Istio's bookinfo: the demo's data (src/demo), which the tests share. */
export const BOOKINFO = path.join(repoRoot, 'src/demo/bookinfo/bookinfo.yaml');

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
export async function createObject<T extends k8s.KubernetesObject>(kubeconfig: string, obj: T, namespace?: string): Promise<T> {
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
        if (!isConflict(e)) throw new Error(`${path.join(root, f)}: ${errorText(e)}`, { cause: e });
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
    if (!isConflict(e)) throw new Error(`creating namespace ${namespace}: ${errorText(e)}`, { cause: e });
  }
}

/**
 * Create every object of a multi-document YAML file (absolute or relative to the fixtures root,
 * e.g. BOOKINFO) in `namespace`, creating the namespace first. Namespaced
 * objects are put in `namespace` whatever their manifest says. Returns the created objects.
 */
export async function applyManifests(kubeconfig: string, file: string, namespace: string): Promise<k8s.KubernetesObject[]> {
  const full = resolveFixture(file);
  await ensureNamespace(kubeconfig, namespace);
  const created: k8s.KubernetesObject[] = [];
  for (const obj of await readManifests(full)) {
    try {
      created.push(await createObject(kubeconfig, obj, namespace));
    } catch (e) {
      throw new Error(`${full}: ${errorText(e)}`, { cause: e });
    }
  }
  return created;
}

/**
 * Wait until `namespace` has at least `n` Pods (created: they may still be Pending; the bed's simulated
 * nodes make them Running and Ready within seconds, see waitForRollout).
 */
export async function waitForPods(kubeconfig: string, namespace: string, n: number, timeoutMs = 60_000): Promise<k8s.V1Pod[]> {
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
export async function kubeRequest(kubeconfig: string, method: string, apiPath: string, body?: unknown, contentType = 'application/json'): Promise<RawResponse> {
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

/**
 * Poll `check` every `intervalMs` until it returns a value other than undefined/false, and return it;
 * throw after `timeoutMs` with `what` and the last value `describe` gives (for the failure message).
 */
export async function pollUntil<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  opts: { timeoutMs?: number; intervalMs?: number; describe?: () => Promise<string> | string } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const detail = opts.describe ? await opts.describe() : lastError ? errorText(lastError) : '';
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${detail ? `: ${detail}` : ''}`);
    }
    await sleep(opts.intervalMs ?? 250);
  }
}

/**
 * Whether a Deployment's rollout is complete, as `kubectl rollout status` decides: the controller has
 * seen the latest generation, every replica is updated, no old replica is left, all updated ones are
 * available.
 */
export function rolloutComplete(d: k8s.V1Deployment): boolean {
  const want = d.spec?.replicas ?? 1;
  const st = d.status ?? {};
  return (
    (st.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    (st.updatedReplicas ?? 0) === want &&
    (st.replicas ?? 0) === want &&
    (st.availableReplicas ?? 0) === want &&
    (st.readyReplicas ?? 0) === want
  );
}

/** Wait until the Deployment's rollout is complete (see rolloutComplete); returns the Deployment. */
export async function waitForRollout(kubeconfig: string, namespace: string, name: string, timeoutMs = 60_000): Promise<k8s.V1Deployment> {
  const apps = loadKubeConfig(kubeconfig).makeApiClient(k8s.AppsV1Api);
  let last: k8s.V1Deployment | undefined;
  return pollUntil(
    `the rollout of Deployment ${namespace}/${name}`,
    async () => {
      last = await apps.readNamespacedDeployment({ name, namespace });
      return rolloutComplete(last) ? last : undefined;
    },
    { timeoutMs, describe: () => `generation ${last?.metadata?.generation}, status ${JSON.stringify(last?.status ?? {})}` },
  );
}
