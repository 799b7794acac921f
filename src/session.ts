/**
 * One connection to one cluster and everything the pipeline does on it: the shared scope and LIST cache,
 * each area's inspection, questions and plan, the composed changes, pre-flight, guards, dry-run, apply,
 * verify. The order of these steps lives in pipeline.ts; this class never renders anything.
 */
import pMap from 'p-map';
import { Cluster, type AccessCheck, type AccessResult, type ConnectOptions, type Identity, type ServerVersion } from './cluster/client.js';
import { isClusterError } from './cluster/errors.js';
import { Helm } from './cluster/helm.js';
import type { KubeObject } from './cluster/types.js';
import { AREAS } from './areas/registry.js';
import { infrastructureNamespaces, isSystemNamespace } from './areas/infrastructure.js';
import { isHistory } from './areas/pod-template.js';
import {
  AREA_IDS,
  type AreaId,
  type Answers,
  type Area,
  type Finding,
  type GuardVerdict,
  type Inspection,
  type Question,
  type ReadSpec,
  type ReviewSection,
  type Scope,
  type SessionAreaOptions,
} from './areas/types.js';
import { applyPlan, type ApplyEvent, type ApplyResult, type RolloutDecision } from './engine/apply.js';
import type { Change, DryRunResult } from './engine/change.js';
import { compose, type Edit } from './engine/compose.js';
import type { EngineContext } from './engine/kinds/index.js';
import { dryRunPlan, DryRunCache, preflight, type Preflight } from './engine/preview.js';
import { SnapshotStore } from './engine/snapshot-store.js';
import type { ClusterIdentity } from './engine/stored.js';
import { UsageError } from './errors.js';

export interface SessionOptions extends ConnectOptions, SessionAreaOptions {
  preview?: boolean;
  areas?: string[];
  namespaces?: string[];
  store?: SnapshotStore;
}

export interface AreaState {
  area: Area;
  inspection: Inspection;
  questions: Question[];
}

export function selectAreas(ids?: string[]): Area[] {
  if (!ids || ids.length === 0) return AREAS;
  const out: Area[] = [];
  for (const id of ids) {
    const a = AREAS.find((x) => x.id === id);
    if (!a) {
      if ((AREA_IDS as readonly string[]).includes(id))
        throw new UsageError(`area "${id}" is not available yet (available: ${AREAS.map((x) => x.id).join(', ')})`);
      throw new UsageError(`unknown area "${id}" (areas: ${AREAS.map((x) => x.id).join(', ')})`);
    }
    if (!out.includes(a)) out.push(a);
  }
  // Always in the order of the pipeline, whatever the order asked.
  return AREAS.filter((a) => out.includes(a));
}

const GVK = (apiVersion: string, kind: string) => `${apiVersion}/${kind}`;

/**
 * History ReplicaSets (isHistory) are kept as their metadata: only that links pods to owners. A large
 * cluster holds several of them per Deployment, so its read becomes several times smaller in memory.
 */
function slimHistory(o: KubeObject): KubeObject {
  if (!isHistory(o)) return o;
  const { name, namespace, uid, labels, ownerReferences, creationTimestamp, generation, resourceVersion } = o.metadata;
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: { name, namespace, uid, labels, ownerReferences, creationTimestamp, generation, resourceVersion },
    spec: { replicas: 0 },
  };
}

/** One paginated LIST per kind per session, shared by every area that reads it. */
class ObjectCache {
  private lists = new Map<string, Promise<KubeObject[]>>();
  constructor(
    private readonly cluster: Cluster,
    private readonly specs: ReadSpec[],
    private readonly onProgress?: (kind: string, n: number) => void,
  ) {}

  list(kind: string, apiVersion?: string): Promise<KubeObject[]> {
    const spec = this.specs.find((s) => s.kind === kind && (!apiVersion || s.apiVersion === apiVersion));
    const av = apiVersion ?? spec?.apiVersion;
    if (!av) throw new Error(`no area declares that it reads ${kind}: add it to the area's \`reads\``);
    const key = GVK(av, kind);
    let p = this.lists.get(key);
    if (!p) {
      const keepStatus = this.specs.some((s) => s.kind === kind && s.apiVersion === av && s.status);
      const optional = this.specs.filter((s) => s.kind === kind && s.apiVersion === av).every((s) => s.optional);
      p = (async () => {
        try {
          const t = await this.cluster.typeOf(av, kind);
          return await this.cluster.list(t, {
            dropStatus: !keepStatus,
            slim: kind === 'ReplicaSet' ? slimHistory : undefined,
            onPage: (n) => this.onProgress?.(kind, n),
          });
        } catch (e) {
          if (optional && isClusterError(e, 'NotFound')) return [];
          throw e;
        }
      })();
      this.lists.set(key, p);
    }
    return p;
  }
}

export class Session {
  readonly cluster: Cluster;
  readonly helm: Helm;
  readonly version: ServerVersion;
  readonly identity: Identity;
  readonly clusterIdentity: ClusterIdentity;
  readonly preview: boolean;
  readonly areas: Area[];
  readonly store: SnapshotStore;
  readonly dryRunCache = new DryRunCache();
  private readonly opts: SessionOptions;
  states: AreaState[] = [];
  scope?: Scope;

  private constructor(cluster: Cluster, version: ServerVersion, identity: Identity, uid: string | undefined, opts: SessionOptions, areas: Area[]) {
    this.cluster = cluster;
    this.version = version;
    this.identity = identity;
    this.clusterIdentity = { context: cluster.contextName, server: cluster.server, uid };
    this.preview = !!opts.preview;
    this.areas = areas;
    this.opts = opts;
    this.store = opts.store ?? new SnapshotStore();
    this.helm = new Helm({ kubeconfig: opts.kubeconfig, context: cluster.contextName, readOnly: !!opts.preview });
  }

  static async open(opts: SessionOptions = {}): Promise<Session> {
    const areas = selectAreas(opts.areas);
    const cluster = await Cluster.connect({ ...opts, readOnly: opts.preview });
    try {
      const [version, identity, uid] = await Promise.all([cluster.version(), cluster.whoami(), cluster.clusterUid()]);
      return new Session(cluster, version, identity, uid, opts, areas);
    } catch (e) {
      await cluster.close();
      throw e;
    }
  }

  get contextName(): string {
    return this.cluster.contextName;
  }

  get engine(): EngineContext {
    return { cluster: this.cluster, helm: this.helm, readOnly: this.preview };
  }

  private reads(areas = this.areas): ReadSpec[] {
    const base: ReadSpec[] = [{ apiVersion: 'v1', kind: 'Namespace' }];
    return [...base, ...areas.flatMap((a) => a.reads)];
  }

  /** Can we read what the areas inspect? Answered before any LIST, so a 403 is named, not stumbled on. */
  async readAccess(): Promise<AccessResult[]> {
    const checks: AccessCheck[] = [];
    const seen = new Set<string>();
    for (const r of this.reads()) {
      if (seen.has(GVK(r.apiVersion, r.kind))) continue;
      seen.add(GVK(r.apiVersion, r.kind));
      let t;
      try {
        t = await this.cluster.typeOf(r.apiVersion, r.kind);
      } catch (e) {
        if (r.optional && isClusterError(e, 'NotFound')) continue;
        throw e;
      }
      checks.push({ verb: 'list', group: t.group, resource: t.plural });
    }
    return this.cluster.canI(checks);
  }

  /** Inspect every area concurrently over one shared scope and LIST cache. */
  async inspect(onProgress?: (area: Area | undefined, message: string) => void): Promise<AreaState[]> {
    const cache = new ObjectCache(this.cluster, this.reads(), (kind, n) => onProgress?.(undefined, `read ${n} ${kind.toLowerCase()}(s)`));
    const all = await cache.list('Namespace', 'v1');
    const wanted = this.opts.namespaces ? new Set(this.opts.namespaces) : undefined;
    if (wanted) {
      const missing = [...wanted].filter((n) => !all.some((x) => x.metadata.name === n));
      if (missing.length) throw new UsageError(`no such namespace: ${missing.join(', ')}`);
    }
    const workloads = (
      await Promise.all(
        ['DaemonSet', 'Deployment'].map((k) => (this.reads().some((r) => r.kind === k) ? cache.list(k, 'apps/v1') : Promise.resolve([] as KubeObject[]))),
      )
    ).flat();
    const infrastructure = infrastructureNamespaces(all, workloads);
    const inScope = new Set(all.map((n) => n.metadata.name).filter((n) => (wanted ? wanted.has(n) : !isSystemNamespace(n))));
    this.scope = { all, namespaces: [...inScope].sort(), inScope: (ns) => ns !== undefined && inScope.has(ns), infrastructure };
    const ctx = {
      cluster: this.cluster,
      helm: this.helm,
      version: this.version,
      identity: this.identity,
      scope: this.scope,
      options: { apiserverManifest: this.opts.apiserverManifest, rolloutTimeoutMs: this.opts.rolloutTimeoutMs, scanImages: this.opts.scanImages },
      list: (kind: string, apiVersion?: string) => cache.list(kind, apiVersion),
    };
    this.states = await pMap(
      this.areas,
      async (area) => {
        const inspection = await area.inspect({ ...ctx, onProgress: (m) => onProgress?.(area, m) });
        return { area, inspection, questions: area.questions(inspection) };
      },
      { concurrency: this.areas.length },
    );
    return this.states;
  }

  state(area: AreaId): AreaState {
    const s = this.states.find((x) => x.area.id === area);
    if (!s) throw new Error(`area ${area} was not inspected`);
    return s;
  }

  get findings(): Finding[] {
    return this.states.flatMap((s) => s.inspection.findings);
  }

  get questions(): Question[] {
    return this.states.flatMap((s) => s.questions);
  }

  /**
   * Answers of a profile or the command line that fit no question: refused the same way by every driver
   * (exit 2), naming them. Keys of areas not selected for this session are ignored.
   */
  checkAnswerKeys(given: Answers): void {
    const known = new Set(this.questions.map((q) => q.id));
    const areaIds = new Set(this.areas.map((a) => a.id));
    const unknownAreas = [...new Set(Object.keys(given).map((k) => k.split('.')[0]))].filter((a) => !(AREA_IDS as string[]).includes(a));
    if (unknownAreas.length) throw new UsageError(`the profile answers unknown area(s): ${unknownAreas.join(', ')} (areas: ${AREA_IDS.join(', ')})`);
    const unknown = Object.keys(given).filter((k) => !known.has(k) && areaIds.has(k.split('.')[0] as AreaId));
    if (unknown.length) throw new UsageError(`the profile has answer(s) no question asks: ${unknown.join(', ')}`);
  }

  /** The edits of some areas for these answers. */
  edits(answers: Answers, areas: AreaId[] = this.areas.map((a) => a.id)): Edit[] {
    return this.states.filter((s) => areas.includes(s.area.id)).flatMap((s) => s.area.plan(s.inspection, answers));
  }

  /** The plan: every area's edits, composed into one change per target. */
  plan(answers: Answers, areas?: AreaId[]): Change[] {
    return compose(this.edits(answers, areas));
  }

  preflight(changes: Change[]): Promise<Preflight> {
    return preflight(this.engine, changes);
  }

  async guards(changes: Change[]): Promise<GuardVerdict[]> {
    const out: GuardVerdict[] = [];
    for (const s of this.states) {
      if (!s.area.guard) continue;
      out.push(...(await s.area.guard({ cluster: this.cluster, identity: this.identity, changes, inspection: s.inspection })));
    }
    return out;
  }

  review(changes: Change[], dry: Map<string, DryRunResult>, answers: Answers): ReviewSection[] {
    return this.states.flatMap(
      (s) =>
        s.area.review?.(
          s.inspection,
          changes.filter((c) => c.areas.includes(s.area.id)),
          dry,
          answers,
        ) ?? [],
    );
  }

  dryRun(changes: Change[], onProgress?: (done: number, total: number) => void): Promise<Map<string, DryRunResult>> {
    return dryRunPlan(this.engine, changes, onProgress, this.dryRunCache);
  }

  apply(
    changes: Change[],
    dry: Map<string, DryRunResult>,
    opts: {
      onEvent?: (e: ApplyEvent) => void;
      onRolloutFailure?: (f: import('./engine/rollout.js').RolloutState[]) => Promise<RolloutDecision>;
      afterEach?: (c: Change, i: number) => Promise<void> | void;
      note?: (t: string) => void;
    } = {},
  ): Promise<ApplyResult> {
    return applyPlan({ ...this.engine, note: opts.note }, changes, {
      store: this.store,
      dryRun: dry,
      cluster: this.clusterIdentity,
      user: this.identity.username,
      onEvent: opts.onEvent,
      onRolloutFailure: opts.onRolloutFailure,
      afterEach: opts.afterEach,
      rolloutTimeoutMs: this.opts.rolloutTimeoutMs,
    });
  }

  /** Re-inspect the areas a plan touched: per area, which of the findings it meant to fix are gone. */
  async verify(changes: Change[]): Promise<VerifyResult> {
    const touched = new Set(changes.flatMap((c) => c.areas));
    const fresh = await Session.reinspect(
      this,
      this.areas.filter((a) => touched.has(a.id)),
    );
    const nowIds = new Set(fresh.flatMap((s) => s.inspection.findings.map((f) => f.id)));
    const perArea: VerifyResult['perArea'] = {};
    for (const s of fresh) {
      const meant = new Set(
        changes
          .filter((c) => c.areas.includes(s.area.id))
          .flatMap((c) => c.findingIds)
          .filter((id) => id.startsWith(`${s.area.id}/`)),
      );
      let fixed = 0;
      for (const id of meant) if (!nowIds.has(id)) fixed++;
      perArea[s.area.id] = { fixed, remaining: s.inspection.findings.length, meantButRemaining: meant.size - fixed };
    }
    const fixed = Object.values(perArea).reduce((n, a) => n + a.fixed, 0);
    const meant = new Set(changes.flatMap((c) => c.findingIds)).size;
    return { fixed, remaining: meant - fixed, perArea };
  }

  private static async reinspect(s: Session, areas: Area[]): Promise<AreaState[]> {
    const again = new Session(s.cluster, s.version, s.identity, s.clusterIdentity.uid, { ...s.opts, store: s.store }, areas);
    return again.inspect();
  }

  close(): Promise<void> {
    return this.cluster.close();
  }
}

export interface VerifyResult {
  /** Findings the plan meant to fix that are gone. */
  fixed: number;
  /** Findings the plan meant to fix that are still there. */
  remaining: number;
  perArea: Partial<Record<AreaId, { fixed: number; remaining: number; meantButRemaining: number }>>;
}
