/**
 * The local scan: `trivy image --format json` per image in use, through execa, a few at a time, each
 * with a time-out, progress per image, and trivy's JSON kept on disk for CI. It is slow and runs a tool,
 * so it runs only when asked (`--scan-images`), never in a plain `audit` and never from fixtures. A
 * missing trivy, a trivy without its vulnerability database, an unreachable registry or a time-out never
 * fails the session: each image gets a status and a reason.
 */
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import pMap from 'p-map';
import { parseTrivyReport, type TrivyReport, type VulnSummary } from './vulns.js';

export interface LocalScanOptions {
  /** The trivy binary (default: `trivy` on PATH). */
  bin?: string;
  concurrency?: number;
  /** Per image. */
  timeoutMs?: number;
  /** Where trivy's JSON per image (and summary.json) is kept. */
  dir?: string;
  /** trivy's --cache-dir (its database lives there). */
  cacheDir?: string;
  onProgress?: (message: string) => void;
  env?: Record<string, string>;
}

export interface ImageScan {
  image: string;
  status: 'scanned' | 'not-scanned';
  /** Why not scanned: one line. */
  reason?: string;
  ms: number;
  summary?: VulnSummary;
  /** trivy's JSON report, when kept. */
  jsonPath?: string;
}

export const TRIVY_INSTALL_HINT =
  'trivy is not on PATH: install it (https://trivy.dev/latest/getting-started/installation/: a release binary, `brew install trivy`, or `go install github.com/aquasecurity/trivy/cmd/trivy@latest` with GOEXPERIMENT=jsonv2), or let trivy-operator scan inside the cluster';

/** The path of an executable on PATH, without running anything. */
export function which(bin: string, envPath = process.env.PATH ?? ''): string | undefined {
  if (bin.includes('/')) return canRun(bin) ? bin : undefined;
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, bin);
    if (canRun(p)) return p;
  }
  return undefined;
}

function canRun(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The one-line reason for a failed `trivy image`, from its output. */
export function failureReason(output: string, exitCode: number | undefined): string {
  const text = output.replace(/\x1b\[[0-9;]*m/g, '');
  const has = (re: RegExp) => re.test(text);
  if (has(/skip-db-update cannot be specified on the first run|vulnerability DB|vuln(erability)? db|trivy-db|failed to download .*db|DB error/i)) {
    return 'no vulnerability database: trivy could not download it (offline?); run `trivy image --download-db-only` where the network allows, or point --cache-dir at a copied database';
  }
  // trivy says "unable to find the specified image" whenever every source failed: the cause follows.
  if (has(/no such host|dial tcp|connection refused|i\/o timeout|TLS handshake|network is unreachable|lookup .* on/i)) return 'registry unreachable from here';
  if (has(/UNAUTHORIZED|DENIED|authentication required|401 Unauthorized|403 Forbidden/)) return 'the registry refused access (credentials needed?)';
  if (has(/MANIFEST_UNKNOWN|NAME_UNKNOWN|manifest unknown|404 Not Found/i)) return 'image not found in its registry';
  if (has(/context deadline exceeded|timeout/i)) return 'timed out';
  const last = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .filter((l) => !/^\s*(\d{4}-\d\d-\d\dT|INFO|WARN)/.test(l))
    .at(-1);
  return last ? `trivy failed: ${last.slice(0, 200)}` : `trivy failed (exit ${exitCode ?? '?'})`;
}

const isDbFailure = (reason: string) => reason.startsWith('no vulnerability database');

const safeName = (image: string) => image.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 180);

/** Scan each image; resolves with one result per image (in the order given), never rejects for a scan failure. */
export async function scanImages(images: string[], opts: LocalScanOptions = {}): Promise<ImageScan[]> {
  const bin = opts.bin ?? 'trivy';
  const found = which(bin);
  if (!found) return images.map((image) => ({ image, status: 'not-scanned', reason: TRIVY_INSTALL_HINT, ms: 0 }));
  const timeoutMs = opts.timeoutMs ?? 300_000;
  if (opts.dir) mkdirSync(opts.dir, { recursive: true });
  let dbMissing: string | undefined;
  let done = 0;
  const results = await pMap(
    images,
    async (image): Promise<ImageScan> => {
      const t0 = Date.now();
      const finish = (r: Omit<ImageScan, 'image' | 'ms'>): ImageScan => {
        const out = { image, ms: Date.now() - t0, ...r };
        done++;
        opts.onProgress?.(
          `trivy ${done}/${images.length} ${image}: ${out.status === 'scanned' ? `scanned in ${(out.ms / 1000).toFixed(1)} s` : `not scanned (${out.reason})`}`,
        );
        return out;
      };
      // Without a database no image can be scanned: the first failure says so for all that follow.
      if (dbMissing) return finish({ status: 'not-scanned', reason: dbMissing });
      opts.onProgress?.(`trivy: scanning ${image}`);
      const args = [
        'image',
        '--format',
        'json',
        '--quiet',
        '--scanners',
        'vuln',
        '--skip-version-check',
        '--disable-telemetry',
        '--timeout',
        `${Math.ceil(timeoutMs / 1000)}s`,
        ...(opts.cacheDir ? ['--cache-dir', opts.cacheDir] : []),
        image,
      ];
      const r = await execa(found, args, { reject: false, timeout: timeoutMs + 2_000, env: opts.env, stdin: 'ignore', maxBuffer: 512 * 1024 * 1024 });
      if (r.timedOut) return finish({ status: 'not-scanned', reason: `timed out after ${Math.round(timeoutMs / 1000)} s` });
      if (r.exitCode !== 0) {
        const reason = failureReason(`${String(r.stderr)}\n${String(r.stdout)}`, r.exitCode);
        if (isDbFailure(reason)) dbMissing = reason;
        return finish({ status: 'not-scanned', reason });
      }
      let report: TrivyReport;
      try {
        report = JSON.parse(String(r.stdout)) as TrivyReport;
      } catch {
        return finish({ status: 'not-scanned', reason: 'trivy printed no JSON report' });
      }
      let jsonPath: string | undefined;
      if (opts.dir) {
        jsonPath = path.join(opts.dir, `${safeName(image)}.json`);
        writeFileSync(jsonPath, String(r.stdout));
      }
      return finish({ status: 'scanned', summary: parseTrivyReport(report), jsonPath });
    },
    { concurrency: opts.concurrency ?? 2 },
  );
  if (opts.dir) {
    const summary = results.map(({ image, status, reason, ms, summary: s, jsonPath }) => ({
      image,
      status,
      reason,
      seconds: Math.round(ms / 100) / 10,
      counts: s?.counts,
      fixable: s?.fixable,
      worst: s?.cves.slice(0, 5).map((c) => c.id),
      report: jsonPath && path.basename(jsonPath),
    }));
    writeFileSync(path.join(opts.dir, 'summary.json'), JSON.stringify({ scanner: 'trivy', images: summary }, null, 2) + '\n');
  }
  return results;
}
