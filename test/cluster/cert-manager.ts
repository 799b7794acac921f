// cert-manager, real, beside the test bed: its Helm chart packaged from the Go module, its CRDs, and its
// controllers built from the module (test/certmanager) and run as a process against a bed's kubeconfig.
// Everything is built once and cached under cacheRoot() like the bed itself. See README-real-parts.md.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { parseDocument } from 'yaml';
import { loadCrds } from './kube.js';
import { buildOnce, cacheRoot, ensureTool, goBinary, goModuleDir, tail } from './tools.js';

export const CERT_MANAGER_MODULE = 'github.com/cert-manager/cert-manager';
/** The release whose chart, CRDs and controllers the tests use (one version for all three). */
export const CERT_MANAGER_VERSION = 'v1.21.2';

/** Bump when the way the chart is packaged changes, so a cached .tgz is not reused. */
const CHART_RECIPE = 'r1';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The Go module whose main runs cert-manager's controllers. */
const controllersSource = path.resolve(here, '../certmanager');

function log(msg: string): void {
  process.stderr.write(`testbed: ${msg}\n`);
}

/** cert-manager's module in the Go module cache (read-only), downloaded through the proxy if needed. */
export function certManagerModuleDir(): Promise<string> {
  return goModuleDir(CERT_MANAGER_MODULE, CERT_MANAGER_VERSION);
}

/**
 * The module's `deploy/crds`: the six CRDs as plain YAML (no templating), the same schemas the chart
 * installs with `crds.enabled=true` minus the chart's labels and its `helm.sh/resource-policy: keep`.
 */
export async function certManagerCrdsDir(): Promise<string> {
  return path.join(await certManagerModuleDir(), 'deploy', 'crds');
}

/** Create cert-manager's CRDs (v1.21.2, from the module) on a bed and wait until Established. */
export async function loadCertManagerCrds(kubeconfig: string): Promise<string[]> {
  return loadCrds(kubeconfig, await certManagerCrdsDir());
}

/** Make every file and directory under `dir` writable by us (the module cache is read-only). */
async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await makeWritable(p);
    else await chmod(p, 0o644);
  }
}

/** HELM_*_HOME under `dir`, so helm never reads or writes the user's helm config, cache or plugins. */
export function helmEnv(dir: string): Record<string, string> {
  return {
    HELM_CONFIG_HOME: path.join(dir, 'config'),
    HELM_CACHE_HOME: path.join(dir, 'cache'),
    HELM_DATA_HOME: path.join(dir, 'data'),
  };
}

/**
 * The cert-manager chart as released: a packaged .tgz (chart version and appVersion v1.21.2, so the
 * images are quay.io/jetstack/cert-manager-*:v1.21.2), built once from the module's
 * deploy/charts/cert-manager with helm, the way cert-manager's make/manifests.mk does it: Chart.yaml
 * gets the artifacthub signKey and prerelease annotations, README.md is rendered from README.template.md,
 * and the chart's own tests and lint files stay out. Resolves to the path of the cached .tgz.
 */
export async function certManagerChart(): Promise<string> {
  const tgz = path.join(cacheRoot(), 'tools', `cert-manager-chart-${CERT_MANAGER_VERSION}-${CHART_RECIPE}`, `cert-manager-${CERT_MANAGER_VERSION}.tgz`);
  if (existsSync(tgz)) return tgz;
  const helm = await ensureTool('helm');
  const src = path.join(await certManagerModuleDir(), 'deploy', 'charts', 'cert-manager');
  return buildOnce(tgz, async (tmp) => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'cert-manager-chart-'));
    try {
      const chart = path.join(work, 'cert-manager');
      await mkdir(chart);
      for (const f of ['values.yaml', 'values.schema.json', '.helmignore', 'templates']) {
        await cp(path.join(src, f), path.join(chart, f), { recursive: true });
      }
      await makeWritable(chart);
      const readme = await readFile(path.join(src, 'README.template.md'), 'utf8');
      await writeFile(path.join(chart, 'README.md'), readme.replaceAll('{{RELEASE_VERSION}}', CERT_MANAGER_VERSION));
      const doc = parseDocument(await readFile(path.join(src, 'Chart.yaml'), 'utf8'));
      doc.setIn(['annotations', 'artifacthub.io/signKey'], await readFile(path.join(src, 'signkey_annotation.txt'), 'utf8'));
      doc.setIn(['annotations', 'artifacthub.io/prerelease'], 'false');
      doc.set('version', CERT_MANAGER_VERSION);
      doc.set('appVersion', CERT_MANAGER_VERSION);
      await writeFile(path.join(chart, 'Chart.yaml'), doc.toString());
      const out = path.join(work, 'out');
      const r = await execa(helm, ['package', chart, '--version', CERT_MANAGER_VERSION, '--app-version', CERT_MANAGER_VERSION, '--destination', out], {
        env: helmEnv(path.join(work, 'helm')),
        reject: false,
        all: true,
      });
      if (r.exitCode !== 0) throw new Error(`helm package of the cert-manager chart failed:\n${tail(String(r.all ?? ''), 20)}`);
      await rename(path.join(out, `cert-manager-${CERT_MANAGER_VERSION}.tgz`), tmp);
      log(`packaged the cert-manager chart ${CERT_MANAGER_VERSION}: ${tgz}`);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
}

function controllersLdflags(): string {
  return `-s -w -X github.com/cert-manager/cert-manager/pkg/util.AppVersion=${CERT_MANAGER_VERSION}`;
}

async function controllersSourceHash(): Promise<string> {
  const files = (await readdir(controllersSource)).filter((f) => f.endsWith('.go') || f === 'go.mod' || f === 'go.sum').sort();
  const h = createHash('sha256');
  h.update(controllersLdflags());
  for (const f of files) {
    h.update(`\0${f}\0`);
    h.update(await readFile(path.join(controllersSource, f)));
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * Path of the cert-manager controllers binary (test/certmanager), building it first if needed. Keyed by
 * a hash of test/certmanager/{go.mod,go.sum,*.go}; concurrent callers wait for one build.
 */
export async function ensureCertManagerControllers(): Promise<string> {
  const bin = path.join(cacheRoot(), `certmanager-${await controllersSourceHash()}`, 'cert-manager-controllers');
  return buildOnce(bin, async (tmp) => {
    log(`building cert-manager ${CERT_MANAGER_VERSION} controllers (first time only, 4-13 min on 2 cores; cached in ${path.dirname(bin)})…`);
    const started = Date.now();
    const r = await execa(goBinary(), ['build', '-p', '2', '-trimpath', '-ldflags', controllersLdflags(), '-o', tmp, '.'], {
      cwd: controllersSource,
      env: { CGO_ENABLED: '0' },
      reject: false,
      all: true,
    });
    if (r.exitCode !== 0) {
      throw new Error(`go build of the cert-manager controllers failed (exit ${r.exitCode}):\n${tail(String(r.all ?? ''), 40)}`);
    }
    log(`built the cert-manager controllers in ${Math.round((Date.now() - started) / 1000)} s: ${bin}`);
  });
}

export interface CertManagerControllersOptions {
  /** Where ClusterIssuers find their Secrets (default `cert-manager`, as the chart installs it). */
  clusterResourceNamespace?: string;
  /** Which controllers to run (default: all the binary has, see test/certmanager/main.go). */
  controllers?: string[];
  /** Watch only this namespace (default: all). */
  namespace?: string;
  /** Where the controllers log (default: a new temp dir). Appended to, kept after stop(). */
  logFile?: string;
  /** klog verbosity (default 2, cert-manager's info level). */
  verbosity?: number;
  /** Give up waiting for the caches to sync after this long (default 60 s). */
  timeoutMs?: number;
}

export interface CertManagerControllers {
  pid: number;
  logFile: string;
  /** SIGTERM, then SIGKILL after 10 s; resolves once the process is gone. Idempotent. */
  stop(): Promise<void>;
}

const running = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of running) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
}

/**
 * Start cert-manager's controllers (issuers, clusterissuers, the certificates controllers, the
 * certificaterequests approver and the ca and selfsigned signers, the ingress-shim) against
 * `kubeconfig`, leader election off, and resolve once every controller runs and its caches are synced.
 * The CRDs must already be on the server (loadCertManagerCrds). The process is killed by stop(), when
 * this process exits, and (it watches our pid) within a second of this process dying any other way.
 */
export async function startCertManagerControllers(kubeconfig: string, opts: CertManagerControllersOptions = {}): Promise<CertManagerControllers> {
  const bin = await ensureCertManagerControllers();
  const logFile = opts.logFile ?? path.join(await mkdtemp(path.join(os.tmpdir(), 'cert-manager-controllers-')), 'controllers.log');
  await mkdir(path.dirname(logFile), { recursive: true });
  const readyFile = `${logFile}.ready-${process.pid}-${Date.now()}`;
  const args = [
    '--kubeconfig',
    kubeconfig,
    '--cluster-resource-namespace',
    opts.clusterResourceNamespace ?? 'cert-manager',
    '--ready-file',
    readyFile,
    '--watch-pid',
    String(process.pid),
    `--v=${opts.verbosity ?? 2}`,
  ];
  if (opts.controllers) args.push('--controllers', opts.controllers.join(','));
  if (opts.namespace) args.push('--namespace', opts.namespace);
  const fd = openSync(logFile, 'a');
  const child = spawn(bin, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exited: string | undefined;
  const gone = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = signal ? `signal ${signal}` : `exit code ${code}`;
      if (child.pid) running.delete(child.pid);
      resolve();
    });
    child.on('error', (e) => {
      exited = e.message;
      resolve();
    });
  });
  if (child.pid) running.add(child.pid);
  installExitHook();

  const stop = async (): Promise<void> => {
    if (exited || !child.pid) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(killer);
    await rm(readyFile, { force: true });
  };

  const timeoutMs = opts.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(readyFile)) break;
    const why = exited ?? (Date.now() > deadline ? `caches not synced after ${timeoutMs / 1000} s` : undefined);
    if (why) {
      await stop();
      let text = '';
      try {
        text = tail(readFileSync(logFile, 'utf8').trimEnd(), 30);
      } catch {
        /* no log */
      }
      throw new Error(`cert-manager controllers failed to start: ${why}\n--- ${logFile} (tail)\n${text}`);
    }
    await sleep(100);
  }
  return { pid: child.pid!, logFile, stop };
}
