/** Typed errors for everything that can go wrong talking to an API server. */
export type ClusterErrorKind =
  | 'NotFound'
  | 'Conflict'
  | 'AlreadyExists'
  | 'Forbidden'
  | 'Invalid'
  | 'Unauthorized'
  | 'Unreachable'
  | 'Timeout'
  | 'TooManyRequests'
  | 'Gone'
  | 'Config'
  | 'Server';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export class ClusterError extends Error {
  readonly kind: ClusterErrorKind;
  readonly status?: number;
  readonly causes: StatusCause[];
  constructor(kind: ClusterErrorKind, message: string, opts: { status?: number; causes?: StatusCause[]; cause?: unknown } = {}) {
    super(message, opts.cause ? { cause: opts.cause } : undefined);
    this.name = 'ClusterError';
    this.kind = kind;
    this.status = opts.status;
    this.causes = opts.causes ?? [];
  }
}

/**
 * Statuses that prove a write was not made: the server refused it before storing anything. Any other
 * failure (500, 502, 503, 504, a time-out, a reset connection) leaves the outcome unknown: re-read.
 */
const NOT_WRITTEN = new Set([400, 401, 403, 404, 405, 409, 415, 422, 429]);
export const provesNotWritten = (e: unknown): boolean => e instanceof ClusterError && e.status !== undefined && NOT_WRITTEN.has(e.status);

export const isClusterError = (e: unknown, kind?: ClusterErrorKind): e is ClusterError => e instanceof ClusterError && (kind === undefined || e.kind === kind);

/** Map an HTTP status and a Kubernetes `Status` body to a typed error. */
export function errorFromResponse(status: number, bodyText: string, what: string): ClusterError {
  let parsed: { reason?: string; message?: string; details?: { causes?: StatusCause[] } } = {};
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    /* 401 has no body; some proxies answer HTML */
  }
  const message = parsed.message || bodyText.trim().split('\n')[0] || `HTTP ${status}`;
  const causes = parsed.details?.causes ?? [];
  const reason = parsed.reason;
  switch (status) {
    case 401:
      return new ClusterError('Unauthorized', `${what}: the cluster rejected the credentials (401 Unauthorized); they may have expired`, { status });
    case 403:
      return new ClusterError('Forbidden', `${what}: forbidden: ${message}`, { status });
    case 404:
      return new ClusterError('NotFound', `${what}: not found`, { status });
    case 409:
      return reason === 'AlreadyExists'
        ? new ClusterError('AlreadyExists', `${what}: already exists`, { status })
        : new ClusterError('Conflict', `${what}: changed by someone else since it was read (409 Conflict)`, { status });
    case 410:
      return new ClusterError('Gone', `${what}: ${message}`, { status });
    case 422:
      return new ClusterError('Invalid', `${what}: invalid: ${message}`, { status, causes });
    case 429:
      return new ClusterError('TooManyRequests', `${what}: too many requests`, { status });
    case 504:
      return new ClusterError('Timeout', `${what}: the server timed out`, { status });
    default:
      if (reason === 'Conflict') return new ClusterError('Conflict', `${what}: ${message}`, { status });
      return new ClusterError('Server', `${what}: HTTP ${status}: ${message}`, { status, causes });
  }
}

/** Map a low-level network failure (undici) to a typed error with a readable reason. */
export function errorFromNetwork(err: unknown, server: string): ClusterError {
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e?.code ?? e?.cause?.code;
  if (
    e?.name === 'TimeoutError' ||
    e?.name === 'AbortError' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  ) {
    return new ClusterError('Timeout', `cannot reach the cluster at ${server}: the request timed out`, { cause: err });
  }
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'DNS lookup failed',
    ECONNRESET: 'connection reset',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    CERT_HAS_EXPIRED: 'the server certificate has expired',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is self-signed and not trusted',
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server certificate is not trusted by the kubeconfig CA',
    SELF_SIGNED_CERT_IN_CHAIN: 'the server certificate is not trusted by the kubeconfig CA',
    ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate does not match its address',
  };
  const reason = (code && reasons[code]) || e?.cause?.message || e?.message || String(err);
  return new ClusterError('Unreachable', `cannot reach the cluster at ${server}: ${reason}`, { cause: err });
}
