import pMap from 'p-map';
import { ClusterError, isClusterError } from './errors.js';
import { loadKubeConfig, type KubeconfigOptions } from './kubeconfig.js';
import { RestClient, type RestOptions } from './rest.js';
import { apiVersionOf, builtinType, describeRef, rbacName, resourcePath, splitApiVersion, type ResourceType } from './resources.js';
import type { KubeObject, ObjectRef } from './types.js';

export interface ConnectOptions extends KubeconfigOptions, RestOptions {
  /** Concurrency for LISTs and writes. */
  concurrency?: number;
  /** Do not prove the server answers first (a rollback of local files works while the API server is down). */
  lazy?: boolean;
}

export interface ServerVersion {
  gitVersion: string;
  major: string;
  minor: string;
  platform?: string;
}

export interface Identity {
  username: string;
  groups: string[];
}

export interface AccessCheck {
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
  name?: string;
}

export interface AccessResult extends AccessCheck {
  allowed: boolean;
  reason?: string;
}

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
}

export interface WriteResult {
  object: KubeObject | undefined;
  warnings: string[];
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  pageSize?: number;
  onPage?: (count: number) => void;
  /** Stream the items page by page instead of collecting them (the list then resolves empty). */
  each?: (item: KubeObject) => void;
  /** Drop each item's status (for callers that only look at spec and metadata). */
  dropStatus?: boolean;
  /** Keep what this returns in place of each item (after managedFields and status are dropped). */
  slim?: (item: KubeObject) => KubeObject;
}

export const FIELD_MANAGER = 'kube-harden';

/**
 * The one door to the API server. Everything else in kube-harden talks to a cluster through this class.
 */
export class Cluster {
  readonly contextName: string;
  readonly server: string;
  readonly rest: RestClient;
  readonly concurrency: number;
  /** The kubeconfig file given with --kubeconfig (undefined: KUBECONFIG or ~/.kube/config), for helm. */
  readonly kubeconfigPath?: string;
  private discovered = new Map<string, ResourceType>();
  private versionCache?: ServerVersion;

  private constructor(contextName: string, rest: RestClient, concurrency: number, kubeconfigPath?: string) {
    this.contextName = contextName;
    this.kubeconfigPath = kubeconfigPath;
    this.rest = rest;
    this.server = rest.server;
    this.concurrency = concurrency;
  }

  /** Load the kubeconfig, pick the context, and prove the server answers (GET /version). */
  static async connect(opts: ConnectOptions = {}): Promise<Cluster> {
    const kc = loadKubeConfig(opts);
    const rest = new RestClient(kc, { timeoutMs: opts.timeoutMs ?? 15_000, ...opts });
    const c = new Cluster(kc.getCurrentContext(), rest, opts.concurrency ?? 8, opts.kubeconfig);
    if (!opts.lazy) await c.version();
    return c;
  }

  get readOnly(): boolean {
    return this.rest.readOnly;
  }

  async version(): Promise<ServerVersion> {
    if (!this.versionCache) {
      const r = await this.rest.request<ServerVersion>({ method: 'GET', path: '/version', what: 'read the server version' });
      this.versionCache = r.body;
    }
    return this.versionCache;
  }

  /**
   * The cluster's identity beside its address: the uid of the kube-system namespace, which a new
   * cluster behind the same address or context name does not share. Undefined when it cannot be read.
   */
  async clusterUid(): Promise<string | undefined> {
    try {
      const r = await this.rest.request<KubeObject>({ method: 'GET', path: '/api/v1/namespaces/kube-system', what: 'read namespace kube-system' });
      return r.body.metadata.uid;
    } catch (e) {
      if (isClusterError(e, 'Forbidden') || isClusterError(e, 'NotFound')) return undefined;
      throw e;
    }
  }

  /** Whether the cluster serves a kind (a CRD installed, an API group enabled). */
  async serves(apiVersion: string, kind: string): Promise<boolean> {
    try {
      await this.typeOf(apiVersion, kind);
      return true;
    } catch (e) {
      if (isClusterError(e, 'NotFound')) return false;
      throw e;
    }
  }

  /** Who the cluster thinks we are (SelfSubjectReview, GA since 1.28). */
  async whoami(): Promise<Identity> {
    const r = await this.rest.request<{ status?: { userInfo?: { username?: string; groups?: string[] } } }>({
      method: 'POST',
      path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      // Reviews store nothing; dryRun=All keeps even them out of the "writes" in the audit log.
      query: { dryRun: 'All' },
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      what: 'ask who I am',
    });
    const u = r.body.status?.userInfo ?? {};
    return { username: u.username ?? '(unknown)', groups: u.groups ?? [] };
  }

  /**
   * SelfSubjectAccessReview for each distinct check, concurrently. Namespaced checks are first asked
   * once cluster-wide: allowed there means allowed in every namespace, so an admin's plan over 500
   * namespaces costs a handful of reviews, not thousands.
   */
  async canI(checks: AccessCheck[]): Promise<AccessResult[]> {
    const key = (c: AccessCheck) => `${c.verb}|${c.group}|${c.resource}|${c.namespace ?? ''}|${c.name ?? ''}`;
    const uniq = new Map<string, AccessCheck>();
    for (const c of checks) uniq.set(key(c), c);
    const review = async (c: AccessCheck): Promise<AccessResult> => {
      const r = await this.rest.request<{ status?: { allowed?: boolean; reason?: string } }>({
        method: 'POST',
        path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
        query: { dryRun: 'All' },
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { verb: c.verb, group: c.group, resource: c.resource, namespace: c.namespace, name: c.name } },
        },
        what: 'check permissions',
      });
      return { ...c, allowed: !!r.body.status?.allowed, reason: r.body.status?.reason };
    };
    const wide = new Map<string, AccessCheck>();
    for (const c of uniq.values()) {
      const w = { ...c, namespace: undefined };
      wide.set(key(w), w);
    }
    const wideResults = new Map<string, boolean>();
    await pMap(
      [...wide.values()],
      async (c) => {
        wideResults.set(key(c), (await review(c)).allowed);
      },
      { concurrency: this.concurrency },
    );
    return pMap(
      [...uniq.values()],
      async (c) => (wideResults.get(key({ ...c, namespace: undefined })) ? { ...c, allowed: true } : c.namespace ? review(c) : { ...c, allowed: false }),
      { concurrency: this.concurrency },
    );
  }

  /** The resource type of an apiVersion/kind: built-ins from a table, others through discovery. */
  async typeOf(apiVersion: string, kind: string): Promise<ResourceType> {
    const b = builtinType(apiVersion, kind);
    if (b) return b;
    const key = `${apiVersion}/${kind}`;
    const cached = this.discovered.get(key);
    if (cached) return cached;
    const { group, version } = splitApiVersion(apiVersion);
    const path = group ? `/apis/${group}/${version}` : `/api/${version}`;
    const r = await this.rest.request<{ resources: Array<{ name: string; kind: string; namespaced: boolean }> }>({
      method: 'GET',
      path,
      what: `discover ${apiVersion}`,
    });
    const res = r.body.resources.find((x) => x.kind === kind && !x.name.includes('/'));
    if (!res) throw new ClusterError('NotFound', `the cluster does not serve ${kind} in ${apiVersion}`);
    const t = { group, version, kind, plural: res.name, namespaced: res.namespaced };
    this.discovered.set(key, t);
    return t;
  }

  accessCheck(t: ResourceType, verb: string, namespace?: string): AccessCheck {
    return { verb, group: t.group, resource: t.plural, namespace: t.namespaced ? namespace : undefined };
  }

  /** A paginated LIST (limit + continue), across all namespaces unless one is given. */
  async list(t: ResourceType, opts: ListOptions = {}): Promise<KubeObject[]> {
    const items: KubeObject[] = [];
    let seen = 0;
    let cont: string | undefined;
    const kind = t.kind;
    const apiVersion = apiVersionOf(t);
    for (;;) {
      let r;
      try {
        r = await this.rest.request<{ items: KubeObject[]; metadata?: { continue?: string } }>({
          method: 'GET',
          path: resourcePath(t, opts.namespace),
          query: { limit: opts.pageSize ?? 500, continue: cont, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector },
          what: `list ${rbacName(t)}${opts.namespace ? ` in namespace ${opts.namespace}` : ''}`,
          timeoutMs: 60_000,
        });
      } catch (e) {
        // An expired continue token: start over rather than return a partial list.
        if (isClusterError(e, 'Gone') && cont && !opts.each) {
          items.length = 0;
          cont = undefined;
          continue;
        }
        throw e;
      }
      for (const it of r.body.items) {
        // LIST items carry no apiVersion/kind; put them back so every object is self-describing.
        it.apiVersion = apiVersion;
        it.kind = kind;
        // managedFields are often the largest part of an object and kube-harden never uses them:
        // dropping them early keeps 10,000 workloads in memory cheaply.
        delete it.metadata.managedFields;
        if (opts.dropStatus) delete (it as Record<string, unknown>).status;
        const kept = opts.slim ? opts.slim(it) : it;
        if (opts.each) opts.each(kept);
        else items.push(kept);
      }
      seen += r.body.items.length;
      opts.onPage?.(seen);
      cont = r.body.metadata?.continue;
      if (!cont) return items;
    }
  }

  async get(ref: ObjectRef): Promise<KubeObject> {
    const t = await this.typeOf(ref.apiVersion, ref.kind);
    const r = await this.rest.request<KubeObject>({
      method: 'GET',
      path: resourcePath(t, ref.namespace, ref.name),
      what: `read ${describeRef(t, ref)}`,
    });
    return r.body;
  }

  /** GET that answers undefined for NotFound. */
  async tryGet(ref: ObjectRef): Promise<KubeObject | undefined> {
    try {
      return await this.get(ref);
    } catch (e) {
      if (isClusterError(e, 'NotFound')) return undefined;
      throw e;
    }
  }

  async create(obj: KubeObject, opts: WriteOptions = {}): Promise<WriteResult> {
    const t = await this.typeOf(obj.apiVersion, obj.kind);
    const r = await this.rest.request<KubeObject>({
      method: 'POST',
      path: resourcePath(t, obj.metadata.namespace),
      query: { dryRun: opts.dryRun ? 'All' : undefined, fieldManager: opts.fieldManager ?? FIELD_MANAGER },
      body: obj,
      what: `create ${describeRef(t, { ...obj, name: obj.metadata.name, namespace: obj.metadata.namespace })}`,
    });
    return { object: r.body, warnings: r.warnings };
  }

  /**
   * PUT the whole object. `metadata.resourceVersion` in the body is the precondition: if the object
   * changed since that version the server answers 409 and nothing is overwritten.
   */
  async replace(obj: KubeObject, opts: WriteOptions = {}): Promise<WriteResult> {
    if (!obj.metadata.resourceVersion) throw new Error('replace needs metadata.resourceVersion as its precondition');
    const t = await this.typeOf(obj.apiVersion, obj.kind);
    const ref = { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace };
    const r = await this.rest.request<KubeObject>({
      method: 'PUT',
      path: resourcePath(t, ref.namespace, ref.name),
      query: { dryRun: opts.dryRun ? 'All' : undefined, fieldManager: opts.fieldManager ?? FIELD_MANAGER },
      body: obj,
      what: `update ${describeRef(t, ref)}`,
    });
    return { object: r.body, warnings: r.warnings };
  }

  /** DELETE with preconditions (uid and/or resourceVersion) so we never delete a newer object. */
  async delete(ref: ObjectRef, opts: WriteOptions & { uid?: string; resourceVersion?: string } = {}): Promise<WriteResult> {
    const t = await this.typeOf(ref.apiVersion, ref.kind);
    const preconditions: Record<string, string> = {};
    if (opts.uid) preconditions.uid = opts.uid;
    if (opts.resourceVersion) preconditions.resourceVersion = opts.resourceVersion;
    const r = await this.rest.request<KubeObject>({
      method: 'DELETE',
      path: resourcePath(t, ref.namespace, ref.name),
      // The API server reads a DELETE's options from its body when it has one, and then ignores the
      // query: dryRun must be in the body too, or the "dry run" deletes for real.
      query: { dryRun: opts.dryRun ? 'All' : undefined },
      body: {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        propagationPolicy: 'Background',
        ...(opts.dryRun ? { dryRun: ['All'] } : {}),
        ...(Object.keys(preconditions).length ? { preconditions } : {}),
      },
      what: `delete ${describeRef(t, ref)}`,
    });
    return { object: r.body, warnings: r.warnings };
  }

  async close(): Promise<void> {
    await this.rest.close();
  }
}

export { ClusterError, isClusterError } from './errors.js';
export type { ResourceType } from './resources.js';
export { builtinByKind, rbacName, resourcePath, apiVersionOf } from './resources.js';
export type { KubeObject, ObjectRef } from './types.js';
export { refKey, refLabel, refOf } from './types.js';
