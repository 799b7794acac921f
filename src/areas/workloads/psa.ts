import type { Cluster } from '../../cluster/client.js';
import { isClusterError } from '../../cluster/errors.js';
import type { KubeObject } from '../../cluster/types.js';
import { guardedReplace } from '../../engine/kinds/object.js';

export type PsaLevel = 'privileged' | 'baseline' | 'restricted';
export const PSA_PREFIX = 'pod-security.kubernetes.io/';
const RANK: Record<string, number> = { privileged: 0, baseline: 1, restricted: 2 };

export interface NamespacePsa {
  namespace: string;
  enforce?: string;
  warn?: string;
  audit?: string;
  /** What the API server's dry-run said existing pods would violate, per enforce level; null if it could not be asked. */
  violations: Record<'baseline' | 'restricted', string[] | null>;
  /**
   * Checks that fail in the namespace's pod templates. The server only judges pods that exist: a
   * Deployment scaled to zero, or one whose pods are not created yet, would be refused later.
   */
  templateChecks?: string[];
}

/** The checks that break each Pod Security level (the rest of a profile's rules kube-harden does not check). */
export const LEVEL_CHECKS: Record<'baseline' | 'restricted', string[]> = {
  baseline: ['privileged', 'hostNamespaces', 'hostPath', 'dangerousCapabilities'],
  restricted: [
    'privileged',
    'hostNamespaces',
    'hostPath',
    'dangerousCapabilities',
    'allowPrivilegeEscalation',
    'runAsNonRoot',
    'capabilitiesDropAll',
    'seccomp',
  ],
};

export const stricter = (a: string | undefined, b: string) => (RANK[a ?? 'privileged'] ?? 0) >= (RANK[b] ?? 0);

export function psaLabels(ns: KubeObject): { enforce?: string; warn?: string; audit?: string } {
  const l = ns.metadata.labels ?? {};
  return { enforce: l[`${PSA_PREFIX}enforce`], warn: l[`${PSA_PREFIX}warn`], audit: l[`${PSA_PREFIX}audit`] };
}

/**
 * Ask the API server which existing pods a given enforce level would reject: a dry-run update of the
 * namespace label. Pod Security Admission answers with Warning headers naming the pods. Nothing is stored.
 */
export async function probeLevel(cluster: Cluster, ns: KubeObject, level: PsaLevel): Promise<string[] | null> {
  const body = structuredClone(ns);
  body.metadata.labels = { ...(body.metadata.labels ?? {}), [`${PSA_PREFIX}enforce`]: level, [`${PSA_PREFIX}enforce-version`]: 'latest' };
  try {
    const r = await guardedReplace(cluster, ns, body, { dryRun: true });
    return r.warnings;
  } catch (e) {
    if (isClusterError(e, 'Forbidden') || isClusterError(e, 'Conflict')) return null;
    throw e;
  }
}
