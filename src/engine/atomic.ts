import { chown, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** fsync a folder, so a rename or a new entry in it survives a power cut. */
export async function syncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/**
 * Write `text` to `path` atomically: a temp file in the same folder (dot-prefixed, so a kubelet watching
 * the folder ignores it), same mode and owner, fsync, read back and compared (a full disk can make a
 * short write that nothing reports), rename, folder fsync. On any failure the old file is untouched.
 */
export async function writeAtomic(path: string, text: string, keep: { mode?: number; uid?: number; gid?: number } = {}): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.kube-harden-${process.pid}-${Date.now().toString(36)}`);
  try {
    const fh = await open(tmp, 'wx', keep.mode ?? 0o600);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (keep.uid !== undefined && keep.gid !== undefined && process.getuid?.() === 0) await chown(tmp, keep.uid, keep.gid);
    if ((await readFile(tmp, 'utf8')) !== text) throw new Error(`writing ${path}: the file read back differs from what was written (disk full?)`);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await syncDir(dir);
}
