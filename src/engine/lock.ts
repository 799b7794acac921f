/**
 * No two writers at once: an apply and a rollback of the same snapshot (or two applies to one cluster
 * from this machine) must never interleave. A lock is a file created with O_EXCL holding who owns it; a
 * lock whose owner died (kill -9, a closed terminal) is detected and taken over.
 */
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import os from 'node:os';
import { dirname } from 'node:path';
import { SafetyError } from '../errors.js';

interface Owner {
  pid: number;
  host: string;
  /** The process's start time (Linux /proc), so a recycled pid is not mistaken for the owner. */
  started?: string;
  since: string;
  what: string;
}

function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime), counted after the command name, which may contain spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function alive(o: Owner): boolean {
  if (o.host !== os.hostname()) return true; // cannot tell: assume it is
  try {
    process.kill(o.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const started = procStart(o.pid);
  return !(o.started && started && started !== o.started);
}

export interface Lock {
  release(): Promise<void>;
}

/** Take the lock at `file`, or refuse (exit 4) naming the process that holds it. */
export async function acquireLock(file: string, what: string): Promise<Lock> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const me: Owner = { pid: process.pid, host: os.hostname(), started: procStart(process.pid), since: new Date().toISOString(), what };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(file, 'wx', 0o600);
      try {
        await fh.writeFile(JSON.stringify(me));
        await fh.sync();
      } finally {
        await fh.close();
      }
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          await unlink(file).catch(() => undefined);
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner: Owner | undefined;
    try {
      owner = JSON.parse(await readFile(file, 'utf8')) as Owner;
    } catch {
      // Torn or empty (its writer died while writing): stale.
    }
    if (owner && alive(owner)) {
      const where = owner.host === os.hostname() ? `process ${owner.pid}` : `process ${owner.pid} on ${owner.host}`;
      throw new SafetyError(
        `refusing: ${where} is running \`${owner.what}\` on the same ${/snapshot/.test(what) ? 'snapshot' : 'cluster'} (since ${owner.since}); wait for it, or stop it${owner.host === os.hostname() ? ` (kill ${owner.pid})` : ''}. Lock: ${file}`,
      );
    }
    // The owner is gone: take the lock over.
    await unlink(file).catch(() => undefined);
  }
  throw new SafetyError(`could not take the lock ${file}: another kube-harden keeps taking it`);
}
