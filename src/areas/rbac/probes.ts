// Live probes of the rbac area: is RBAC served, and does the API server deny a made-up user and
// system:anonymous what nobody should get (SubjectAccessReviews)? And which namespaced resources the
// cluster serves (discovery), for a read-only role that leaves Secrets out. Every probe degrades to
// "unknown" when the cluster refuses or cannot answer: a user without the right to ask gets no crash.
import pMap from 'p-map';
import type { Cluster } from '../../cluster/client.js';
import { isClusterError } from '../../cluster/errors.js';
import type { RequestAttributes, UserInfo } from './evaluate.js';

/** A user nobody created, authenticated like any other. */
export const PROBE_USER: UserInfo = { username: 'kube-harden-probe:no-such-user', groups: ['system:authenticated'] };
export const ANONYMOUS: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

export const PROBE_REQUESTS: Array<{ label: string; attrs: RequestAttributes }> = [
  { label: 'get secrets in kube-system', attrs: { verb: 'get', resource: 'secrets', namespace: 'kube-system' } },
  { label: 'exec into pods in kube-system (create pods/exec)', attrs: { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'kube-system' } },
  { label: 'everything (* on *)', attrs: { verb: '*', apiGroup: '*', resource: '*' } },
];

export interface ProbeResult {
  who: 'unknownUser' | 'anonymous';
  user: UserInfo;
  label: string;
  attrs: RequestAttributes;
  /** undefined: the server could not be asked (no right to create SubjectAccessReviews, fixture cluster). */
  allowed?: boolean;
  reason?: string;
  error?: string;
}

export interface Enforcement {
  /** rbac.authorization.k8s.io/v1 served; undefined: unknown. */
  served?: boolean;
  servedError?: string;
  probes: ProbeResult[];
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function apiServed(cluster: Cluster): Promise<{ served?: boolean; error?: string }> {
  try {
    await cluster.rest.request({ method: 'GET', path: '/apis/rbac.authorization.k8s.io/v1', what: 'discover rbac.authorization.k8s.io/v1' });
    return { served: true };
  } catch (e) {
    if (isClusterError(e, 'NotFound')) return { served: false };
    if (isClusterError(e)) return { error: errorText(e) };
    throw e;
  }
}

async function review(cluster: Cluster, user: UserInfo, attrs: RequestAttributes): Promise<{ allowed?: boolean; reason?: string; error?: string }> {
  try {
    const r = await cluster.rest.request<{ status?: { allowed?: boolean; reason?: string } }>({
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      // A review stores nothing; dryRun keeps it out of the audit log's writes (and --preview's guarantee).
      query: { dryRun: 'All' },
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: user.username,
          groups: user.groups,
          resourceAttributes: {
            verb: attrs.verb,
            group: attrs.apiGroup ?? '',
            resource: attrs.resource,
            subresource: attrs.subresource,
            namespace: attrs.namespace,
          },
        },
      },
      what: `ask whether ${user.username} may ${attrs.verb} ${attrs.resource}`,
    });
    return { allowed: !!r.body.status?.allowed, reason: r.body.status?.reason };
  } catch (e) {
    if (isClusterError(e)) return { error: errorText(e) };
    throw e;
  }
}

export async function probeEnforcement(cluster: Cluster): Promise<Enforcement> {
  const cases = (['unknownUser', 'anonymous'] as const).flatMap((who) =>
    PROBE_REQUESTS.map((q) => ({ who, user: who === 'anonymous' ? ANONYMOUS : PROBE_USER, ...q })),
  );
  const [served, probes] = await Promise.all([
    apiServed(cluster),
    pMap(cases, async (c): Promise<ProbeResult> => ({ ...c, ...(await review(cluster, c.user, c.attrs)) }), { concurrency: 6 }),
  ]);
  return { ...(served.served !== undefined ? { served: served.served } : {}), ...(served.error ? { servedError: served.error } : {}), probes };
}

/** Namespaced resources the cluster serves that can be read (get or list), by API group; subresources left out. */
export interface Readable {
  apiGroup: string;
  resources: string[];
}

interface ApiResourceList {
  resources?: Array<{ name: string; namespaced?: boolean; verbs?: string[] }>;
}

function readableOf(list: ApiResourceList): string[] {
  return (list.resources ?? [])
    .filter((r) => r.namespaced && !r.name.includes('/') && (r.verbs ?? []).some((v) => v === 'get' || v === 'list'))
    .map((r) => r.name);
}

/** Discovery of the readable namespaced resources, or undefined when the cluster cannot be asked. */
export async function discoverReadable(cluster: Cluster): Promise<Readable[] | undefined> {
  try {
    const core = await cluster.rest.request<ApiResourceList>({ method: 'GET', path: '/api/v1', what: 'discover the core API' });
    const groups = await cluster.rest.request<{ groups?: Array<{ name: string; preferredVersion?: { groupVersion: string } }> }>({
      method: 'GET',
      path: '/apis',
      what: 'discover the API groups',
    });
    const out: Readable[] = [{ apiGroup: '', resources: readableOf(core.body) }];
    const lists = await pMap(
      groups.body.groups ?? [],
      async (g) => {
        if (!g.preferredVersion) return undefined;
        try {
          const r = await cluster.rest.request<ApiResourceList>({
            method: 'GET',
            path: `/apis/${g.preferredVersion.groupVersion}`,
            what: `discover ${g.name}`,
          });
          return { apiGroup: g.name, resources: readableOf(r.body) };
        } catch (e) {
          // An aggregated API that is down (metrics-server): leave its group out.
          if (isClusterError(e)) return undefined;
          throw e;
        }
      },
      { concurrency: Math.min(8, cluster.concurrency) },
    );
    for (const l of lists) if (l && l.resources.length) out.push(l);
    return out.map((r) => ({ apiGroup: r.apiGroup, resources: [...new Set(r.resources)].sort() })).sort((a, b) => (a.apiGroup < b.apiGroup ? -1 : 1));
  } catch (e) {
    if (isClusterError(e)) return undefined;
    throw e;
  }
}
