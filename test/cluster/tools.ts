// The real parts beside the test bed, each built from the Go module proxy once and cached like the test
// bed itself (~/.cache/kube-harden-testbed/tools/NAME-VERSION/). Tests ask for a tool by name and get the
// path of its binary; a fresh machine builds it on first use. Nothing here is used at run time by kube-harden.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface GoTool {
  /** The binary's name. */
  name: string;
  /** `module/path/cmd/x` as given to `go install`. */
  pkg: string;
  version: string;
  /** Extra environment for the build (e.g. GOEXPERIMENT). */
  env?: Record<string, string>;
  /** Rough cold-build time on 2 cores, for the log line. */
  estimate: string;
}

/** Every tool the tests use, pinned. */
export const TOOLS = {
  kwok: { name: 'kwok', pkg: 'sigs.k8s.io/kwok/cmd/kwok', version: 'v0.8.0', estimate: '2-6 min' },
  helm: { name: 'helm', pkg: 'helm.sh/helm/v3/cmd/helm', version: 'v3.22.0', estimate: '3-4 min' },
  cyclonus: { name: 'cyclonus', pkg: 'github.com/mattfenwick/cyclonus/cmd/cyclonus', version: 'v0.5.6', estimate: '1-2 min' },
  trivy: {
    name: 'trivy',
    pkg: 'github.com/aquasecurity/trivy/cmd/trivy',
    version: 'v0.74.0',
    env: { GOEXPERIMENT: 'jsonv2' },
    estimate: '9-15 min',
  },
} satisfies Record<string, GoTool>;

export type ToolName = keyof typeof TOOLS;

export function cacheRoot(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'kube-harden-testbed');
}

export function goBinary(): string {
  return process.env.GO ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : 'go');
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function log(msg: string): void {
  process.stderr.write(`testbed: ${msg}\n`);
}

export function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n');
}

/**
 * Make `target` exist by running `build(tmpPath)` at most once across concurrent processes: a lock
 * directory beside it (taken over when its owner died), the build writes to a temp path, then rename.
 */
export async function buildOnce(target: string, build: (tmp: string) => Promise<void>): Promise<string> {
  if (existsSync(target)) return target;
  const dir = path.dirname(target);
  await mkdir(dir, { recursive: true });
  const lock = `${target}.lock`;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (existsSync(target)) return target;
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
    if (existsSync(target)) return target;
    const tmp = `${target}.tmp-${process.pid}`;
    try {
      await build(tmp);
      await rename(tmp, target);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    return target;
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** `go install pkg@version` into the cache, once; resolves to the binary's path. */
export async function ensureTool(name: ToolName): Promise<string> {
  const t: GoTool = TOOLS[name];
  const bin = path.join(cacheRoot(), 'tools', `${t.name}-${t.version}`, t.name);
  if (existsSync(bin)) return bin;
  return buildOnce(bin, async (tmp) => {
    log(`building ${t.name} ${t.version} from the Go module proxy (first time only, ${t.estimate} on 2 cores)…`);
    const started = Date.now();
    const gobin = `${tmp}.d`;
    await mkdir(gobin, { recursive: true });
    const r = await execa(goBinary(), ['install', '-p', '2', '-trimpath', '-ldflags=-s -w', `${t.pkg}@${t.version}`], {
      env: { CGO_ENABLED: '0', GOBIN: gobin, GOFLAGS: '-mod=mod', ...t.env },
      cwd: os.tmpdir(),
      reject: false,
      all: true,
    });
    if (r.exitCode !== 0) {
      await rm(gobin, { recursive: true, force: true });
      throw new Error(`go install ${t.pkg}@${t.version} failed (exit ${r.exitCode}):\n${tail(String(r.all ?? ''), 40)}`);
    }
    await rename(path.join(gobin, t.name), tmp);
    await rm(gobin, { recursive: true, force: true });
    log(`built ${t.name} in ${Math.round((Date.now() - started) / 1000)} s`);
  });
}

/** The directory of a module in the Go module cache (downloaded through the proxy if needed). */
export async function goModuleDir(module: string, version: string): Promise<string> {
  const r = await execa(goBinary(), ['mod', 'download', '-json', `${module}@${version}`], { cwd: os.tmpdir(), reject: false });
  if (r.exitCode !== 0) throw new Error(`go mod download ${module}@${version} failed: ${tail(String(r.stdout || r.stderr), 10)}`);
  const info = JSON.parse(String(r.stdout)) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download ${module}@${version}: ${info.Error ?? 'no directory'}`);
  return info.Dir;
}

/** A PATH with the given tools' directories first (for running kube-harden with a real helm or trivy). */
export async function pathWith(...names: ToolName[]): Promise<string> {
  const dirs = await Promise.all(names.map(async (n) => path.dirname(await ensureTool(n))));
  return [...dirs, process.env.PATH ?? ''].join(path.delimiter);
}

export { here as clusterDir };
