/**
 * Local files on the machine running kube-harden, such as the API server's static-pod manifest. The
 * precondition is the sha256 of the text previewed; the write is atomic (temp file in the same folder,
 * same mode and owner, fsync, rename, folder fsync); a health gate follows, and when it fails within its
 * time-out the old text is put back automatically and the gate waited for again.
 */
import { createHash } from 'node:crypto';
import { constants, statSync } from 'node:fs';
import { access, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeAtomic } from '../atomic.js';
import { parseDocument } from 'yaml';
import type { FileChange } from '../change.js';
import { diffTexts } from '../diff.js';
import { gateFor, waitForGate } from '../gates.js';
import { storedBase, type StoredFile } from '../stored.js';
import { ConflictError, type EngineContext, type KindHandler, type RollbackStep, type Written } from './types.js';

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

async function gateAfter(ctx: EngineContext, s: StoredFile, text: string | null): Promise<string | undefined> {
  if (!s.gate) return undefined;
  const r = await waitForGate(ctx.cluster, gateFor(s.gate, text), ctx.note);
  return r.ok ? undefined : `${r.detail} (after ${Math.round(r.ms / 1000)} s)`;
}

export const fileHandler: KindHandler<FileChange, StoredFile> = {
  diff(c) {
    return diffTexts(c.path, c.before, c.after);
  },

  async access(c) {
    // A static pod's mirror pod is read by the health gate.
    return c.gate ? [{ verb: 'get', group: '', resource: 'pods', namespace: 'kube-system' }] : [];
  },

  async preflight(c) {
    const problems: string[] = [];
    try {
      await access(c.before === null ? dirname(c.path) : c.path, constants.W_OK);
    } catch {
      problems.push(
        `cannot write ${c.before === null ? `to the folder of ${c.path}` : c.path} (run kube-harden as a user who can, e.g. with sudo on the control-plane node)`,
      );
    }
    return problems;
  },

  async dryRun(c, ctx) {
    const now = await readText(c.path);
    if (now !== c.before) return { ok: false, warnings: [], error: `${c.path} changed since it was read` };
    const doc = parseDocument(c.after);
    if (doc.errors.length) return { ok: false, warnings: [], error: `the new ${c.path} is not valid YAML: ${doc.errors[0].message}` };
    const obj = doc.toJS() as { apiVersion?: string; kind?: string; metadata?: { name?: string } } | null;
    if (obj?.kind === 'Pod') {
      // The API server validates the new manifest as a Pod (dry-run, nothing stored): a typo in a field
      // shows here, not as a control plane that does not come back.
      try {
        const probe = {
          ...obj,
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { ...obj.metadata, name: `${obj.metadata?.name ?? 'static'}-kube-harden-check`, namespace: 'kube-system' },
        };
        const r = await ctx.cluster.create(probe as never, { dryRun: true });
        return { ok: true, warnings: r.warnings, sha: sha256(c.after) };
      } catch (e) {
        return { ok: false, warnings: [], error: `the new manifest is not a valid Pod: ${(e as Error).message}` };
      }
    }
    return { ok: true, warnings: [], sha: sha256(c.after) };
  },

  store(c) {
    // Mode and owner to keep: a root-owned 0600 manifest stays root-owned 0600.
    const st = c.before === null ? undefined : statSync(c.path);
    return {
      mode: st ? st.mode & 0o7777 : undefined,
      uid: st?.uid,
      gid: st?.gid,
      kind: 'file',
      ...storedBase(c),
      path: c.path,
      before: c.before,
      beforeSha: c.before === null ? null : sha256(c.before),
      oursSha: sha256(c.after),
      gate: c.gate,
    };
  },

  async apply(c, s, ctx) {
    const now = await readText(c.path);
    if (now !== c.before) throw new ConflictError(`${c.path} changed since the preview; it was not overwritten`);
    await writeAtomic(c.path, c.after, s);
    const failed = await gateAfter(ctx, s, c.after);
    if (failed) {
      // The component did not come back: put the old text back and wait for it to recover.
      ctx.note?.(`${c.path}: ${failed}; restoring the old text`);
      if (c.before === null) await unlink(c.path);
      else await writeAtomic(c.path, c.before, s);
      const again = await gateAfter(ctx, s, c.before);
      throw new Error(
        `${c.path}: ${failed}; the old text was restored${again ? `, but the component is still not healthy: ${again}` : ' and it is healthy again'}`,
      );
    }
    return { written: { sha: s.oursSha }, warnings: [] };
  },

  async landed(s) {
    const now = await readText(s.path);
    return now !== null && sha256(now) === s.oursSha ? { sha: s.oursSha } : undefined;
  },

  async classify(s): Promise<RollbackStep> {
    const now = await readText(s.path);
    const sha = now === null ? null : sha256(now);
    if (sha === s.beforeSha) return { stored: s, verdict: 'unchanged' };
    if (sha === s.oursSha) return { stored: s, verdict: 'restore' };
    return { stored: s, verdict: 'conflict', detail: now === null ? 'deleted since kube-harden wrote it' : 'edited since kube-harden wrote it', state: now };
  },

  async restore(step, ctx) {
    const s = step.stored as StoredFile;
    if (s.before === null) await unlink(s.path).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
    else await writeAtomic(s.path, s.before, s);
    const failed = await gateAfter(ctx, s, s.before);
    if (failed) throw new Error(`${s.path} restored, but the component is not healthy: ${failed}`);
  },
};

export type { Written };
