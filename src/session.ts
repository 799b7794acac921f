import { Cluster, type AccessResult, type ConnectOptions, type Identity, type ServerVersion } from './cluster/client.js';
import { applyPlan, type ApplyEvent, type ApplyResult } from './engine/apply.js';
import type { Change, DryRunResult } from './engine/change.js';
import { dryRunPlan, requiredAccess } from './engine/preview.js';
import { SnapshotStore } from './engine/snapshot-store.js';
import { UsageError } from './errors.js';
import { AREAS, AREA_IDS } from './areas/registry.js';
import { validateAnswers, withDefaults, type Answers, type Area, type Finding, type Inspection, type Question } from './areas/types.js';

export interface SessionOptions extends ConnectOptions {
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
      if ((AREA_IDS as readonly string[]).includes(id)) throw new UsageError(`area "${id}" is not available yet (available: ${AREAS.map((x) => x.id).join(', ')})`);
      throw new UsageError(`unknown area "${id}" (available: ${AREAS.map((x) => x.id).join(', ')})`);
    }
    out.push(a);
  }
  return out;
}

/**
 * One run of the pipeline: connect, inspect, ask, plan, preview, apply, verify. The terminal UI and the
 * non-interactive commands both drive this; it never renders anything.
 */
export class Session {
  readonly cluster: Cluster;
  readonly version: ServerVersion;
  readonly identity: Identity;
  readonly preview: boolean;
  readonly areas: Area[];
  readonly store: SnapshotStore;
  private readonly namespaces?: string[];
  states: AreaState[] = [];

  private constructor(cluster: Cluster, version: ServerVersion, identity: Identity, opts: SessionOptions, areas: Area[]) {
    this.cluster = cluster;
    this.version = version;
    this.identity = identity;
    this.preview = !!opts.preview;
    this.areas = areas;
    this.namespaces = opts.namespaces;
    this.store = opts.store ?? new SnapshotStore();
  }

  static async open(opts: SessionOptions = {}): Promise<Session> {
    const areas = selectAreas(opts.areas);
    const cluster = await Cluster.connect({ ...opts, readOnly: opts.preview });
    try {
      const [version, identity] = await Promise.all([cluster.version(), cluster.whoami()]);
      return new Session(cluster, version, identity, opts, areas);
    } catch (e) {
      await cluster.close();
      throw e;
    }
  }

  get contextName(): string {
    return this.cluster.contextName;
  }

  /** Can we read what the areas inspect? Answered before any LIST, so a 403 is named, not stumbled on. */
  async readAccess(): Promise<AccessResult[]> {
    const kinds = [
      { group: '', resource: 'namespaces' },
      { group: 'apps', resource: 'deployments' },
      { group: 'apps', resource: 'statefulsets' },
      { group: 'apps', resource: 'daemonsets' },
      { group: 'batch', resource: 'cronjobs' },
      { group: 'batch', resource: 'jobs' },
      { group: '', resource: 'pods' },
    ];
    return this.cluster.canI(kinds.map((k) => ({ verb: 'list', ...k })));
  }

  async inspect(onProgress?: (area: Area, message: string) => void, opts: { keepObjects?: boolean } = {}): Promise<AreaState[]> {
    this.states = [];
    for (const area of this.areas) {
      const inspection = await area.inspect({
        cluster: this.cluster,
        namespaces: this.namespaces,
        onProgress: (m) => onProgress?.(area, m),
        keepObjects: opts.keepObjects,
      });
      this.states.push({ area, inspection, questions: area.questions(inspection) });
    }
    return this.states;
  }

  get findings(): Finding[] {
    return this.states.flatMap((s) => s.inspection.findings);
  }

  get questions(): Question[] {
    return this.states.flatMap((s) => s.questions);
  }

  /** Fill in defaults; refuse answers that do not fit the questions. */
  resolveAnswers(given: Answers): Answers {
    const qs = this.questions;
    const known = new Set(qs.map((q) => q.id));
    const areaIds = new Set(this.areas.map((a) => a.id));
    const unknown = Object.keys(given).filter((k) => !known.has(k) && areaIds.has(k.split('.')[0]));
    if (unknown.length) throw new UsageError(`unknown answer(s): ${unknown.join(', ')}`);
    const answers = withDefaults(qs, given);
    const errors = validateAnswers(qs, answers);
    if (errors.length) throw new UsageError(`bad answer: ${errors[0]}`);
    return answers;
  }

  plan(answers: Answers): Change[] {
    return this.states.flatMap((s) => s.area.plan(s.inspection, answers));
  }

  dryRun(changes: Change[], onProgress?: (done: number, total: number) => void): Promise<Map<string, DryRunResult>> {
    return dryRunPlan(this.cluster, changes, onProgress);
  }

  async writeAccess(changes: Change[]): Promise<AccessResult[]> {
    return this.cluster.canI(await requiredAccess(this.cluster, changes));
  }

  apply(changes: Change[], dry: Map<string, DryRunResult>, onEvent?: (e: ApplyEvent) => void, afterEach?: (c: Change, i: number) => Promise<void> | void): Promise<ApplyResult> {
    return applyPlan(this.cluster, changes, { store: this.store, dryRun: dry, user: this.identity.username, onEvent, afterEach });
  }

  /** Re-inspect the areas a plan touched: which of the findings it meant to fix are gone. */
  async verify(changes: Change[]): Promise<{ fixed: number; remaining: number; findings: Finding[] }> {
    const touched = new Set(changes.map((c) => c.area));
    const before = new Set(changes.flatMap((c) => c.findingIds));
    const now: Finding[] = [];
    for (const area of this.areas.filter((a) => touched.has(a.id))) {
      const ins = await area.inspect({ cluster: this.cluster, namespaces: this.namespaces, keepObjects: false });
      now.push(...ins.findings);
    }
    const nowIds = new Set(now.map((f) => f.id));
    let fixed = 0;
    for (const id of before) if (!nowIds.has(id)) fixed++;
    return { fixed, remaining: before.size - fixed, findings: now };
  }

  close(): Promise<void> {
    return this.cluster.close();
  }
}
