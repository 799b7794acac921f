import { readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { HttpMethod, RequestContext } from '@kubernetes/client-node';
import { Agent, type Dispatcher } from 'undici';
import { ClusterError, errorFromNetwork, errorFromResponse } from './errors.js';
import { parseWarnings } from './warnings.js';

export interface RestRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** A short description used in error messages, e.g. `update deployments/web in shop`. */
  what?: string;
  timeoutMs?: number;
  /** Return the body as text, not parsed: health endpoints (/readyz, /livez) answer a plain `ok`. */
  raw?: boolean;
}

export interface RestResponse<T = unknown> {
  status: number;
  body: T;
  warnings: string[];
}

export interface RestStats {
  requests: number;
  retries: number;
  mutating: number;
}

export interface RestOptions {
  timeoutMs?: number;
  maxRetries?: number;
  /** Refuse every mutating request that is not a dry-run: the guarantee behind --preview. */
  readOnly?: boolean;
  /** Called for each warning the API server sends. */
  onWarning?: (warning: string, req: RestRequest) => void;
  sleep?: (ms: number) => Promise<void>;
}

/** Sent with every request, so the API server's audit log tells kube-harden's requests apart. */
export const USER_AGENT = `kube-harden/${process.env.KUBE_HARDEN_VERSION ?? '0.1.0'} (${process.platform}/${process.arch})`;

const sleepReal = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A thin REST layer over the kubeconfig's authentication (client-node does the kubeconfig, TLS,
 * tokens and exec plugins; we keep the raw JSON, the Warning headers, and the retry policy).
 * It retries 429 and 503 honouring Retry-After, and times every request out.
 */
export class RestClient {
  readonly server: string;
  readonly stats: RestStats = { requests: 0, retries: 0, mutating: 0 };
  private auth?: { headers: Record<string, string>; dispatcher: Dispatcher; at: number };
  private anonAgent?: Agent;
  private authPending?: Promise<{ headers: Record<string, string>; dispatcher: Dispatcher }>;

  constructor(
    private readonly kc: KubeConfig,
    private readonly opts: RestOptions = {},
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new ClusterError('Config', 'no cluster in the current context');
    this.server = cluster.server.replace(/\/+$/, '');
  }

  get readOnly(): boolean {
    return !!this.opts.readOnly;
  }

  private async authenticate(): Promise<{ headers: Record<string, string>; dispatcher: Dispatcher }> {
    // Tokens from exec plugins expire: refresh the headers every minute, keep one connection pool.
    if (this.auth && Date.now() - this.auth.at < 60_000) return this.auth;
    if (!this.authPending) {
      this.authPending = (async () => {
        const ctx = new RequestContext(this.server, HttpMethod.GET);
        try {
          await this.kc.applySecurityAuthentication(ctx);
        } catch (e) {
          throw new ClusterError('Unauthorized', `cannot get credentials for the cluster: ${(e as Error).message.split('\n')[0]}`);
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(ctx.getHeaders())) headers[k.toLowerCase()] = String(v);
        const dispatcher =
          this.auth?.dispatcher ??
          (ctx.getDispatcher() as Dispatcher | undefined) ??
          new Agent({ connect: { keepAlive: true, keepAliveInitialDelay: 30_000 } });
        this.auth = { headers, dispatcher, at: Date.now() };
        return this.auth;
      })().finally(() => {
        this.authPending = undefined;
      });
    }
    return this.authPending;
  }

  async request<T = unknown>(req: RestRequest): Promise<RestResponse<T>> {
    // A DELETE with a body takes its options (dryRun included) from the body alone: the query's is ignored.
    const bodyOptions = req.method === 'DELETE' && req.body && typeof req.body === 'object' ? (req.body as { dryRun?: unknown }) : undefined;
    const isDryRun = req.query?.dryRun === 'All' && (!bodyOptions || (Array.isArray(bodyOptions.dryRun) && bodyOptions.dryRun.includes('All')));
    const mutating = req.method !== 'GET';
    if (mutating && !isDryRun) {
      if (this.opts.readOnly) {
        throw new ClusterError('Config', `refusing to write in preview mode: ${req.method} ${req.path}`);
      }
      this.stats.mutating++;
    }
    const what = req.what ?? `${req.method} ${req.path}`;
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined && v !== '') qs.set(k, String(v));
    const url = new URL(this.server + req.path + (qs.size ? `?${qs}` : ''));
    const maxRetries = this.opts.maxRetries ?? 6;
    const sleep = this.opts.sleep ?? sleepReal;
    for (let attempt = 0; ; attempt++) {
      const { headers: authHeaders, dispatcher } = await this.authenticate();
      const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT, ...authHeaders };
      let body: string | undefined;
      if (req.body !== undefined) {
        body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
        headers['content-type'] = req.contentType ?? 'application/json';
      }
      this.stats.requests++;
      let res: Dispatcher.ResponseData;
      try {
        res = await dispatcher.request({
          origin: url.origin,
          path: url.pathname + url.search,
          method: req.method,
          headers,
          body,
          signal: AbortSignal.timeout(req.timeoutMs ?? this.opts.timeoutMs ?? 30_000),
        });
      } catch (e) {
        const err = errorFromNetwork(e, this.server);
        // Connection resets on idempotent reads are worth one more try.
        if (req.method === 'GET' && attempt < 2 && err.kind === 'Unreachable' && /reset/.test(err.message)) {
          this.stats.retries++;
          await sleep(200 * (attempt + 1));
          continue;
        }
        throw err;
      }
      const text = await res.body.text();
      const warnings = parseWarnings(res.headers['warning'] as string | string[] | undefined);
      for (const w of warnings) this.opts.onWarning?.(w, req);
      if (res.statusCode >= 200 && res.statusCode < 300) {
        return { status: res.statusCode, body: (req.raw ? text : text ? JSON.parse(text) : undefined) as T, warnings };
      }
      // 429 proves the request was not processed: always safe to send again. A 503 may come after a write
      // landed (a proxy timing out), so only reads retry it; writers re-read and classify (engine/apply).
      if ((res.statusCode === 429 || (res.statusCode === 503 && req.method === 'GET')) && attempt < maxRetries) {
        this.stats.retries++;
        const ra = Number(res.headers['retry-after']);
        const wait = Number.isFinite(ra) && ra > 0 ? Math.min(ra, 30) * 1000 : Math.min(250 * 2 ** attempt, 8000);
        await sleep(wait + Math.floor(Math.random() * 100));
        continue;
      }
      const err = errorFromResponse(res.statusCode, text, what);
      (err as ClusterError & { warnings?: string[] }).warnings = warnings;
      throw err;
    }
  }

  /** The TLS trust of the kubeconfig's cluster (its CA, or none when it skips verification), without credentials. */
  trust(): { ca?: string; rejectUnauthorized: boolean; servername?: string } {
    const c = this.kc.getCurrentCluster()!;
    let ca: string | undefined;
    if (c.caData) ca = Buffer.from(c.caData, 'base64').toString('utf8');
    else if (c.caFile) ca = readFileSync(c.caFile, 'utf8');
    return { ca, rejectUnauthorized: !c.skipTLSVerify, servername: c.tlsServerName };
  }

  /**
   * A request with no credentials at all, as an anonymous client would send it (the API server's
   * anonymous-auth probes and the health gate). Trusts the kubeconfig's CA. Never retried.
   */
  async anonymous(path: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
    this.anonAgent ??= new Agent({ connect: this.trust() });
    try {
      const res = await this.anonAgent.request({
        origin: this.server,
        path,
        method: 'GET',
        headers: { 'user-agent': USER_AGENT },
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { status: res.statusCode, body: await res.body.text() };
    } catch (e) {
      throw errorFromNetwork(e, this.server);
    }
  }

  async close(): Promise<void> {
    await this.auth?.dispatcher.close().catch(() => undefined);
    await this.anonAgent?.close().catch(() => undefined);
  }
}
