/**
 * Helm, through execa: the one other way kube-harden reaches the API server. It runs the user's `helm`
 * (found on PATH) against the same kubeconfig and context as the session. The preview guard covers it
 * like the REST layer: in preview only read-only commands run (`template`, `list`, `status`, `get`,
 * `history`, `version`, and `upgrade --install --dry-run=server`, which renders and validates with the
 * server and stores nothing).
 */
import { execa } from 'execa';
import { ClusterError } from './errors.js';

export interface HelmOptions {
  kubeconfig?: string;
  context?: string;
  readOnly: boolean;
  /** The helm binary (default: `helm` on PATH). */
  bin?: string;
  timeoutMs?: number;
}

export interface HelmRelease {
  name: string;
  namespace: string;
  revision: number;
  status: string;
  chart: string;
  app_version?: string;
}

const READ_ONLY = new Set(['template', 'list', 'status', 'get', 'history', 'version', 'show', 'search', 'package']);

export class HelmNotFound extends ClusterError {
  constructor() {
    super('Config', 'helm is not on PATH: install it (https://helm.sh/docs/intro/install/) or choose the static-manifest option');
  }
}

export class Helm {
  readonly calls: string[][] = [];
  constructor(private readonly opts: HelmOptions) {}

  private isReadOnly(args: string[]): boolean {
    if (READ_ONLY.has(args[0])) return true;
    return args[0] === 'upgrade' && args.includes('--dry-run=server');
  }

  /** Run helm with the session's kubeconfig and context; resolves to stdout. */
  async run(args: string[], what: string, input?: string): Promise<string> {
    if (this.opts.readOnly && !this.isReadOnly(args)) {
      throw new ClusterError('Config', `refusing to run \`helm ${args[0]}\` in preview mode (${what})`);
    }
    const full = [...args];
    if (this.opts.kubeconfig) full.push('--kubeconfig', this.opts.kubeconfig);
    if (this.opts.context) full.push('--kube-context', this.opts.context);
    this.calls.push(full);
    const r = await execa(this.opts.bin ?? 'helm', full, {
      reject: false,
      timeout: this.opts.timeoutMs ?? 600_000,
      ...(input === undefined ? { stdin: 'ignore' as const } : { input }),
    });
    if ((r as unknown as { code?: string }).code === 'ENOENT') throw new HelmNotFound();
    if (r.exitCode !== 0) {
      const msg =
        String(r.stderr || r.stdout || r.message)
          .trim()
          .split('\n')
          .filter(Boolean)
          .at(-1) ?? `exit ${r.exitCode}`;
      throw new ClusterError('Server', `${what}: helm ${args[0]} failed: ${msg.replace(/^Error: /, '')}`);
    }
    return String(r.stdout);
  }

  async available(): Promise<string | undefined> {
    try {
      return (await this.run(['version', '--short'], 'find helm')).trim();
    } catch (e) {
      if (e instanceof HelmNotFound) return undefined;
      throw e;
    }
  }

  /** The release, or undefined when there is none of that name. */
  async release(name: string, namespace: string): Promise<HelmRelease | undefined> {
    const out = await this.run(['list', '--namespace', namespace, '--filter', `^${name}$`, '--all', '--output', 'json'], `look up helm release ${name}`);
    const list = JSON.parse(out || '[]') as Array<Omit<HelmRelease, 'revision'> & { revision: string }>;
    const r = list.find((x) => x.name === name);
    return r && { ...r, revision: Number(r.revision) };
  }
}
