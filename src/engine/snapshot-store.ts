import { randomBytes, createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import envPaths from 'env-paths';
import { UsageError } from '../errors.js';
import { syncDir, writeAtomic } from './atomic.js';
import type { Change, DryRunResult } from './change.js';
import { handlerOf } from './kinds/index.js';
import { acquireLock, type Lock } from './lock.js';
import { parseSnapshot, type ClusterIdentity, type Snapshot } from './stored.js';

export type JournalEvent =
  | { t: string; event: 'apply-start'; pid?: number }
  | { t: string; event: 'start'; change: string }
  | { t: string; event: 'done'; change: string; uid?: string; sha?: string; revision?: number; late?: boolean }
  | { t: string; event: 'failed'; change: string; error: string; answered?: boolean }
  | { t: string; event: 'apply-end'; ok: boolean }
  | { t: string; event: 'rolled-back'; change: string; outcome: 'restored' | 'unchanged' | 'forced' | 'skipped' }
  | { t: string; event: 'rollback-end'; ok: boolean; conflicts?: number };

export type SnapshotState = 'applied' | 'partial' | 'failed' | 'rolled-back' | 'partly-rolled-back' | 'empty' | 'damaged';

export interface SnapshotSummary {
  id: string;
  createdAt: string;
  context: string;
  changes: number;
  applied: number;
  state: SnapshotState;
  /** Why it is damaged. */
  error?: string;
}

export function dataDir(): string {
  return process.env.KUBE_HARDEN_HOME ?? envPaths('kube-harden', { suffix: '' }).data;
}

export function newSnapshotId(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const d = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `${d}-${randomBytes(3).toString('hex')}`;
}

const ID = /^\d{8}-\d{6}-[0-9a-f]{6}$/;

/** Snapshot IDs become file names: anything else (`../../x`) is refused before it touches the disk. */
export function checkId(id: string): string {
  if (!ID.test(id)) throw new UsageError(`"${id}" is not a snapshot ID (they look like 20261129-043109-a1b2c3; see: kube-harden snapshots list)`);
  return id;
}

export class DamagedSnapshot extends UsageError {
  constructor(id: string, why: string) {
    super(`snapshot ${id} is damaged: ${why}`);
    this.name = 'DamagedSnapshot';
  }
}

/**
 * Snapshots live in the user's data directory, one JSON file per apply (written atomically and read
 * back: temp file, fsync, compare, rename, folder fsync; mode 0600) and one append-only journal beside
 * it (each line fsynced as it lands), so a rollback after a crash knows exactly which writes may have
 * happened. The journal is created first: a snapshot without its journal is damaged, never "nothing to undo".
 */
export class SnapshotStore {
  readonly dir: string;
  constructor(dir = join(dataDir(), 'snapshots')) {
    this.dir = dir;
  }

  private file(id: string) {
    return join(this.dir, `${checkId(id)}.json`);
  }
  private journalFile(id: string) {
    return join(this.dir, `${checkId(id)}.journal.jsonl`);
  }

  /** The per-snapshot lock, held by an apply or a rollback while it writes. */
  lockSnapshot(id: string, what: string): Promise<Lock> {
    return acquireLock(join(this.dir, `${checkId(id)}.lock`), `${what} of snapshot ${id}`);
  }

  /** The per-cluster lock: one apply or rollback per cluster at a time from this machine. */
  lockCluster(cluster: ClusterIdentity, what: string): Promise<Lock> {
    const key = createHash('sha256')
      .update(`${cluster.server}\0${cluster.uid ?? ''}`)
      .digest('hex')
      .slice(0, 16);
    return acquireLock(join(this.dir, 'locks', `cluster-${key}.lock`), `${what} on ${cluster.context}`);
  }

  async create(cluster: ClusterIdentity, user: string | undefined, changes: Change[], dry: Map<string, DryRunResult>): Promise<Snapshot> {
    const snapshot: Snapshot = {
      version: 2,
      id: newSnapshotId(),
      createdAt: new Date().toISOString(),
      cluster,
      user,
      changes: changes.map((c) => handlerOf(c).store(c, dry.get(c.id))),
    };
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const jf = await open(this.journalFile(snapshot.id), 'wx', 0o600);
    try {
      await jf.sync();
    } finally {
      await jf.close();
    }
    await writeAtomic(this.file(snapshot.id), JSON.stringify(snapshot), { mode: 0o600 });
    await syncDir(this.dir);
    return snapshot;
  }

  async journal(id: string): Promise<Journal> {
    const fh = await open(this.journalFile(id), 'a', 0o600);
    return new Journal(fh);
  }

  async read(id: string): Promise<Snapshot> {
    let text: string;
    try {
      text = await readFile(this.file(id), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`no snapshot "${id}" in ${this.dir} (see: kube-harden snapshots list)`);
      throw e;
    }
    try {
      return parseSnapshot(text);
    } catch (e) {
      throw new DamagedSnapshot(id, `${this.file(id)} cannot be read (${(e as Error).message})`);
    }
  }

  /** The journal's events. Only a missing journal is an error here (damage), never "nothing happened". */
  async events(id: string): Promise<JournalEvent[]> {
    let text: string;
    try {
      text = await readFile(this.journalFile(id), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        throw new DamagedSnapshot(id, `its journal ${this.journalFile(id)} is missing, so what was applied is unknown`);
      throw e;
    }
    const out: JournalEvent[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as JournalEvent);
      } catch {
        // A torn last line after kill -9: the write it described is treated as possibly landed.
      }
    }
    return out;
  }

  async ids(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => n.endsWith('.json') && ID.test(n.slice(0, -5)))
      .map((n) => n.slice(0, -5))
      .sort();
  }

  async summary(id: string): Promise<SnapshotSummary> {
    const s = await this.read(id);
    return summarise(s, await this.events(id));
  }

  /** Every snapshot; a damaged one is listed as damaged, never hiding the others. */
  async list(): Promise<SnapshotSummary[]> {
    const ids = await this.ids();
    return Promise.all(
      ids.map((id) =>
        this.summary(id).catch((e: Error): SnapshotSummary => ({
          id,
          createdAt: '',
          context: '?',
          changes: 0,
          applied: 0,
          state: 'damaged',
          error: e.message,
        })),
      ),
    );
  }

  /** The newest snapshot that still has writes to undo. */
  async newestUndoable(): Promise<string | undefined> {
    const all = await this.list();
    return all.filter((s) => s.state === 'applied' || s.state === 'partial' || s.state === 'failed' || s.state === 'partly-rolled-back').at(-1)?.id;
  }
}

export function summarise(s: Snapshot, ev: JournalEvent[]): SnapshotSummary {
  const started = new Set<string>();
  const done = new Set<string>();
  for (const e of ev) {
    if (e.event === 'start') started.add(e.change);
    if (e.event === 'done') done.add(e.change);
  }
  const rolledEnd = ev.filter((e) => e.event === 'rollback-end').at(-1) as { ok: boolean; conflicts?: number } | undefined;
  const applyEnd = ev.filter((e) => e.event === 'apply-end').at(-1) as { ok: boolean } | undefined;
  let state: SnapshotState;
  if (started.size === 0) state = 'empty';
  else if (rolledEnd?.ok) state = 'rolled-back';
  else if (rolledEnd) state = 'partly-rolled-back';
  else if (!applyEnd) state = 'partial';
  else state = applyEnd.ok ? 'applied' : 'failed';
  return { id: s.id, createdAt: s.createdAt, context: s.cluster.context, changes: s.changes.length, applied: done.size, state };
}

/**
 * An append-only, fsynced journal, one JSON object per line. `record` resolves only once its line is
 * on disk. Records that arrive while a flush is in progress are written and fsynced together (group
 * commit), so concurrent changes do not queue behind one fsync each. Once a write fails (disk full),
 * every later record fails at once: the apply stops starting writes.
 */
export class Journal {
  private pending: Array<{ line: string; resolve: () => void; reject: (e: unknown) => void }> = [];
  private flushing?: Promise<void>;
  private broken?: unknown;
  constructor(private readonly fh: import('node:fs/promises').FileHandle) {}

  record(e: Omit<JournalEvent, 't'> & Record<string, unknown>): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    const line = JSON.stringify({ t: new Date().toISOString(), ...e }) + '\n';
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ line, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  get failed(): unknown {
    return this.broken;
  }

  private async flush(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending;
      this.pending = [];
      try {
        if (this.broken) throw this.broken;
        await this.fh.appendFile(batch.map((b) => b.line).join(''));
        await this.fh.datasync();
        for (const b of batch) b.resolve();
      } catch (err) {
        this.broken ??= err;
        for (const b of batch) b.reject(err);
      }
    }
    this.flushing = undefined;
  }

  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.fh.close().catch(() => undefined);
  }
}
