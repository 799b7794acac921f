/**
 * Probes that work on any cluster, managed ones included, because they only need the API server's
 * address: anonymous requests to well-known paths, TLS handshakes with the version and the cipher suite
 * forced, the serving certificate, and the old insecure port. Each result is a fact; a probe that cannot
 * be made (no network, a refused connection, a local TLS library without the suite) is "unknown", never
 * an error.
 */
import http from 'node:http';
import { isIP } from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';
import pMap from 'p-map';
import type { Cluster } from '../../cluster/client.js';

export type Verdict = 'accepted' | 'refused' | 'unknown';
export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
export const TLS_VERSIONS: TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** Paths an anonymous client should not be able to read (health and version are public by default). */
export const ANONYMOUS_PATHS = ['/version', '/healthz', '/readyz', '/livez', '/api', '/apis', '/metrics', '/debug/pprof/'];
export const PUBLIC_INFO_PATHS = ['/version', '/healthz', '/readyz', '/livez'];

export interface AnonymousResult {
  path: string;
  /** HTTP status of a request without credentials (401: anonymous auth off, 403: on but not allowed). */
  status: number | 'unknown';
  detail?: string;
}

export interface CertFacts {
  subject: string;
  issuer: string;
  selfSigned: boolean;
  notAfter: string;
  daysLeft: number;
  sans: string[];
  keyType: string;
  keyBits?: number;
  curve?: string;
  /** Does it chain to the CA the kubeconfig trusts? */
  trusted: boolean;
  trustError?: string;
}

/** [OpenSSL name, IANA/Go name, strong per CIS 1.2.29] for the TLS 1.2 suites worth asking about. */
export const TLS12_SUITES: Array<[string, string, boolean]> = [
  ['ECDHE-ECDSA-AES128-GCM-SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', true],
  ['ECDHE-ECDSA-AES256-GCM-SHA384', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', true],
  ['ECDHE-ECDSA-CHACHA20-POLY1305', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', true],
  ['ECDHE-RSA-AES128-GCM-SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', true],
  ['ECDHE-RSA-AES256-GCM-SHA384', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', true],
  ['ECDHE-RSA-CHACHA20-POLY1305', 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', true],
  ['ECDHE-ECDSA-AES128-SHA', 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', false],
  ['ECDHE-ECDSA-AES256-SHA', 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', false],
  ['ECDHE-RSA-AES128-SHA', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', false],
  ['ECDHE-RSA-AES256-SHA', 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', false],
  ['ECDHE-ECDSA-AES128-SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', false],
  ['ECDHE-RSA-AES128-SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', false],
  ['AES128-GCM-SHA256', 'TLS_RSA_WITH_AES_128_GCM_SHA256', false],
  ['AES256-GCM-SHA384', 'TLS_RSA_WITH_AES_256_GCM_SHA384', false],
  ['AES128-SHA', 'TLS_RSA_WITH_AES_128_CBC_SHA', false],
  ['AES256-SHA', 'TLS_RSA_WITH_AES_256_CBC_SHA', false],
  ['AES128-SHA256', 'TLS_RSA_WITH_AES_128_CBC_SHA256', false],
  ['ECDHE-RSA-DES-CBC3-SHA', 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA', false],
  ['DES-CBC3-SHA', 'TLS_RSA_WITH_3DES_EDE_CBC_SHA', false],
];

export interface TlsFacts {
  /** host:port probed. */
  endpoint: string;
  versions: Record<TlsVersion, Verdict>;
  /** TLS 1.2 suites (Go names) by verdict; suites the local TLS library cannot offer are `untested`. */
  ciphers: { accepted: string[]; refused: string[]; untested: string[] };
  cert?: CertFacts;
  /** Why the certificate is unknown. */
  certError?: string;
}

export interface InsecurePortFacts {
  state: 'open' | 'closed' | 'unknown';
  endpoint: string;
  detail: string;
}

export interface ProbeFacts {
  anonymous: AnonymousResult[];
  tls?: TlsFacts;
  tlsError?: string;
  insecurePort: InsecurePortFacts;
}

/**
 * Anonymous requests to each path; a failed request is `unknown` with why. One at a time, and retried
 * on a GOAWAY: the API server closes HTTP/2 connections of unauthenticated clients after a refusal (its
 * mitigation of HTTP/2 rapid reset), which fails the requests already queued on that connection.
 */
export async function probeAnonymous(cluster: Cluster, paths = ANONYMOUS_PATHS): Promise<AnonymousResult[]> {
  const out: AnonymousResult[] = [];
  for (const path of paths) {
    let last = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const r = await cluster.rest.anonymous(path);
        out.push({ path, status: r.status });
        last = '';
        break;
      } catch (e) {
        last = (e as Error).message;
        if (!/GOAWAY|other side closed|socket hang up|ECONNRESET/i.test(last)) break;
      }
    }
    if (last) out.push({ path, status: 'unknown', detail: last });
  }
  return out;
}

export function endpointOf(server: string): { host: string; port: number } {
  const u = new URL(server);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) || (u.protocol === 'http:' ? 80 : 443) };
}

interface Trust {
  ca?: string;
  servername?: string;
  /** false: the kubeconfig skips verification (insecure-skip-tls-verify). */
  rejectUnauthorized?: boolean;
}

type Handshake = { ok: true; socket: tls.TLSSocket } | { ok: false; verdict: Verdict; error: string };

/** Errors that say the server refused what we offered (an alert), as opposed to "could not ask". */
function refusedByServer(e: NodeJS.ErrnoException): boolean {
  const code = e.code ?? '';
  if (/NO_PROTOCOLS_AVAILABLE|NO_CIPHER_MATCH|NO_CIPHERS_AVAILABLE|UNSUPPORTED_PROTOCOL/.test(code)) return false; // local limits
  return /^ERR_SSL_/.test(code) || /alert|handshake failure|wrong version|protocol version/i.test(e.message);
}

/** One TLS handshake with the options given; the socket is left open for the caller to read and end. */
function handshake(target: { host: string; port: number }, trust: Trust, opts: ConnectionOptions, timeoutMs = 4000): Promise<Handshake> {
  return new Promise((resolve) => {
    let socket: tls.TLSSocket;
    const servername = trust.servername ?? (isIP(target.host) ? undefined : target.host);
    try {
      socket = tls.connect({ host: target.host, port: target.port, servername, ca: trust.ca, ...opts, rejectUnauthorized: false });
    } catch (e) {
      resolve({ ok: false, verdict: 'unknown', error: (e as Error).message });
      return;
    }
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, verdict: 'unknown', error: `no answer in ${timeoutMs / 1000} s` });
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      resolve({ ok: true, socket });
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: false, verdict: refusedByServer(e) ? 'refused' : 'unknown', error: e.message });
    });
  });
}

function certOf(socket: tls.TLSSocket, now: Date, trust: Trust): CertFacts | undefined {
  const x = socket.getPeerX509Certificate();
  if (!x) return undefined;
  const key = x.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  const notAfter = new Date(x.validTo);
  let selfSigned: boolean;
  try {
    selfSigned = x.checkIssued(x) && x.verify(key);
  } catch {
    selfSigned = false;
  }
  const authErr = trust.rejectUnauthorized === false ? 'the kubeconfig skips TLS verification (insecure-skip-tls-verify)' : socket.authorizationError;
  return {
    subject: x.subject.replace(/\n/g, ', '),
    issuer: x.issuer.replace(/\n/g, ', '),
    selfSigned,
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000),
    sans: (x.subjectAltName ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    keyType: key.asymmetricKeyType ?? 'unknown',
    keyBits: details.modulusLength,
    curve: details.namedCurve,
    trusted: trust.rejectUnauthorized !== false && socket.authorized,
    trustError: authErr ? String(authErr) : undefined,
  };
}

/** Which TLS versions and TLS 1.2 suites the endpoint accepts, and its serving certificate. */
export async function probeTls(target: { host: string; port: number }, trust: Trust, now = new Date()): Promise<TlsFacts> {
  const endpoint = `${target.host}:${target.port}`;
  // The certificate, from an ordinary handshake.
  let cert: CertFacts | undefined;
  let certError: string | undefined;
  const first = await handshake(target, trust, {});
  if (first.ok) {
    cert = certOf(first.socket, now, trust);
    first.socket.end();
  } else certError = first.error;

  // Old versions need the lowest security level of the local TLS library, or it will not even offer them.
  const versions = {} as Record<TlsVersion, Verdict>;
  await pMap(
    TLS_VERSIONS,
    async (v) => {
      const legacy = v === 'TLSv1' || v === 'TLSv1.1';
      const h = await handshake(target, trust, { minVersion: v, maxVersion: v, ...(legacy ? { ciphers: 'DEFAULT:@SECLEVEL=0' } : {}) });
      if (h.ok) {
        versions[v] = h.socket.getProtocol() === v ? 'accepted' : 'unknown';
        h.socket.end();
      } else versions[v] = h.verdict;
    },
    { concurrency: 4 },
  );

  const ciphers: TlsFacts['ciphers'] = { accepted: [], refused: [], untested: [] };
  const results = await pMap(
    TLS12_SUITES,
    async ([openssl, iana]) => {
      const h = await handshake(target, trust, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: `${openssl}:@SECLEVEL=0` });
      if (h.ok) h.socket.end();
      return [iana, h.ok ? 'accepted' : h.verdict] as const;
    },
    { concurrency: 4 },
  );
  for (const [iana, v] of results) (v === 'accepted' ? ciphers.accepted : v === 'refused' ? ciphers.refused : ciphers.untested).push(iana);
  return { endpoint, versions, ciphers, cert, certError };
}

/**
 * The insecure port (plain HTTP, no authentication or authorization at all; removed in Kubernetes 1.20):
 * open when a plain HTTP request to it is answered by a Kubernetes API server.
 */
export function probeInsecurePort(host: string, port = 8080, timeoutMs = 2000): Promise<InsecurePortFacts> {
  const endpoint = `${host}:${port}`;
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/version', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d.slice(0, 4096)));
      res.on('end', () => {
        const isApi = /"gitVersion"\s*:/.test(body);
        resolve(
          isApi
            ? { state: 'open', endpoint, detail: `plain HTTP on ${endpoint} is answered by the API server (HTTP ${res.statusCode})` }
            : { state: 'closed', endpoint, detail: `${endpoint} answers HTTP ${res.statusCode}, but not as a Kubernetes API server` },
        );
      });
    });
    req.on('timeout', () => {
      req.destroy();
      resolve({ state: 'closed', endpoint, detail: `no answer on ${endpoint}` });
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') resolve({ state: 'closed', endpoint, detail: `${endpoint} refuses connections` });
      else if (e.code === 'ECONNRESET' || e.code === 'HPE_INVALID_CONSTANT')
        resolve({ state: 'closed', endpoint, detail: `${endpoint} does not speak plain HTTP` });
      else resolve({ state: 'unknown', endpoint, detail: e.message });
    });
  });
}

/** Every probe, concurrently, each degrading to unknown on its own. */
export async function probeAll(cluster: Cluster, insecurePort?: number): Promise<ProbeFacts> {
  const target = endpointOf(cluster.server);
  let trust: Trust | undefined;
  let trustError: string | undefined;
  try {
    // The fixture cluster of the contract test answers every call with a refusal (a rejected promise).
    trust = await Promise.resolve(cluster.rest.trust());
  } catch (e) {
    trustError = (e as Error).message;
  }
  const [anonymous, tlsFacts, insecure] = await Promise.all([
    probeAnonymous(cluster),
    trust ? probeTls(target, trust).catch((e: Error) => e) : Promise.resolve(new Error(trustError ?? 'no TLS trust')),
    trust
      ? probeInsecurePort(target.host, insecurePort ?? 8080)
      : Promise.resolve<InsecurePortFacts>({ state: 'unknown', endpoint: `${target.host}:${insecurePort ?? 8080}`, detail: trustError ?? 'not probed' }),
  ]);
  return {
    anonymous,
    ...(tlsFacts instanceof Error ? { tlsError: tlsFacts.message } : { tls: tlsFacts }),
    insecurePort: insecure,
  };
}
