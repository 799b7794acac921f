import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import envPaths from 'env-paths';
import writeFileAtomic from 'write-file-atomic';
import { UsageError } from '../errors.js';
import type { Change, DryRunResult, StoredChange } from './change.js';
import { objectHash, slim } from './normalise.js';

export interface Snapshot {
  version: 1;
  id: string;
  createdAt: string;
  context: string;
  server: string;
  user?: string;
  /** The plan, each change with the object as it was before (or absent) and what the server said it would store. */
  changes: StoredChange[];
}

export type JournalEvent =
  | { t: string; event: 'apply-start' }
  | { t: string; event: 'start'; change: string }
  | { t: string; event: 'done'; change: string; writtenHash?: string; uid?: string }
  | { t: string; event: 'failed'; change: string; error: string; answered?: boolean }
  | { t: string; event: 'apply-end'; ok: boolean }
  | { t: string; event: 'rolled-back'; change: string; outcome: 'restored' | 'unchanged' | 'forced' }
  | { t: string; event: 'rollback-end'; ok: boolean };

export interface SnapshotSummary {
  id: string;
  createdAt: string;
  context: string;
  changes: number;
  applied: number;
  state: 'applied' | 'partial' | 'failed' | 'rolled-back' | 'empty';
}

export function dataDir(): string {
  return process.env.KUBE_HARDEN_HOME ?? envPaths('kube-harden', { suffix: '' }).data;
}

export function newSnapshotId(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const d = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `${d}-${randomBytes(3).toString('hex')}`;
}

/**
 * Snapshots live in the user's data directory, one JSON file per apply (written atomically: temp file,
 * fsync, rename; mode 0600) and one append-only journal beside it (each line fsynced as it lands), so
 * a rollback after a crash knows exactly which writes may have happened.
 */
export class SnapshotStore {
  readonly dir: string;
  constructor(dir = join(dataDir(), 'snapshots')) {
    this.dir = dir;
  }

  private file(id: string) {
    return join(this.dir, `${id}.json`);
  }
  private journalFile(id: string) {
    return join(this.dir, `${id}.journal.jsonl`);
  }

  async write(snapshot: Snapshot): Promise<string> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const path = this.file(snapshot.id);
    await writeFileAtomic(path, JSON.stringify(snapshot), { mode: 0o600, fsync: true });
    // fsync the directory too, so the rename itself survives a power cut.
    const dh = await open(this.dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
    return path;
  }

  async create(context: string, server: string, user: string | undefined, changes: Change[], dry: Map<string, DryRunResult>): Promise<Snapshot> {
    const snapshot: Snapshot = {
      version: 1,
      id: newSnapshotId(),
      createdAt: new Date().toISOString(),
      context,
      server,
      user,
      changes: changes.map((c): StoredChange => {
        const oursHash = c.action === 'delete' ? undefined : (dry.get(c.id)?.expectedHash ?? objectHash(c.after));
        if (c.action === 'patch') return { ...c, before: slim(c.before), after: undefined, oursHash };
        if (c.action === 'delete') return { ...c, before: slim(c.before) };
        return { ...c, oursHash };
      }),
    };
    await this.write(snapshot);
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
    } catch {
      throw new UsageError(`no snapshot "${id}" in ${this.dir} (see: kube-harden snapshots list)`);
    }
    try {
      const s = JSON.parse(text) as Snapshot;
      if (s.version !== 1 || !Array.isArray(s.changes)) throw new Error('bad shape');
      return s;
    } catch {
      throw new UsageError(`snapshot "${id}" is damaged: ${this.file(id)}`);
    }
  }

  async events(id: string): Promise<JournalEvent[]> {
    let text = '';
    try {
      text = await readFile(this.journalFile(id), 'utf8');
    } catch {
      return [];
    }
    const out: JournalEvent[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line));
      } catch {
        // A torn last line after kill -9: the write it described is treated as possibly landed.
      }
    }
    return out;
  }

  async ids(): Promise<string[]> {
    let names: string[] = [];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => n.endsWith('.json'))
      .map((n) => n.slice(0, -5))
      .sort();
  }

  async summary(id: string): Promise<SnapshotSummary> {
    const s = await this.read(id);
    const ev = await this.events(id);
    return summarise(s, ev);
  }

  async list(): Promise<SnapshotSummary[]> {
    const ids = await this.ids();
    return Promise.all(ids.map((id) => this.summary(id)));
  }

  /** The newest snapshot that still has writes to undo. */
  async newestUndoable(): Promise<string | undefined> {
    const all = await this.list();
    const undoable = all.filter((s) => s.state === 'applied' || s.state === 'partial' || s.state === 'failed');
    return undoable.at(-1)?.id;
  }
}

export function summarise(s: Snapshot, ev: JournalEvent[]): SnapshotSummary {
  const started = new Set(ev.filter((e) => e.event === 'start').map((e) => (e as { change: string }).change));
  const done = new Set(ev.filter((e) => e.event === 'done').map((e) => (e as { change: string }).change));
  const rolledEnd = ev.filter((e) => e.event === 'rollback-end').at(-1) as { ok: boolean } | undefined;
  const applyEnd = ev.filter((e) => e.event === 'apply-end').at(-1) as { ok: boolean } | undefined;
  let state: SnapshotSummary['state'];
  if (started.size === 0) state = 'empty';
  else if (rolledEnd?.ok) state = 'rolled-back';
  else if (!applyEnd) state = 'partial';
  else state = applyEnd.ok ? 'applied' : 'failed';
  return { id: s.id, createdAt: s.createdAt, context: s.context, changes: s.changes.length, applied: done.size, state };
}

/**
 * An append-only, fsynced journal, one JSON object per line. `record` resolves only once its line is
 * on disk. Records that arrive while a flush is in progress are written and fsynced together (group
 * commit), so concurrent changes do not queue behind one fsync each.
 */
export class Journal {
  private pending: Array<{ line: string; resolve: () => void; reject: (e: unknown) => void }> = [];
  private flushing?: Promise<void>;
  constructor(private readonly fh: import('node:fs/promises').FileHandle) {}

  record(e: Omit<JournalEvent, 't'> & Record<string, unknown>): Promise<void> {
    const line = JSON.stringify({ t: new Date().toISOString(), ...e }) + '\n';
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ line, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.fh.appendFile(batch.map((b) => b.line).join(''));
        await this.fh.datasync();
        for (const b of batch) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    this.flushing = undefined;
  }

  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.fh.close();
  }
}
