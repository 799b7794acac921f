/**
 * The API server's own verdict on the objects the installed image policy judges: with the binding in
 * Warn mode, a dry-run update of an unchanged object is admitted with the policy's warnings (nothing is
 * stored). Compared with the preview evaluated here, it proves the two agree, or names where they do not.
 */
import pMap from 'p-map';
import type { Cluster } from '../../cluster/client.js';
import { isClusterError } from '../../cluster/errors.js';
import type { KubeObject } from '../../cluster/types.js';
import { refKey, refLabel, refOf } from '../../cluster/types.js';
import { POLICY_KINDS } from './inventory.js';
import { MESSAGE_PREFIX, POLICY_NAME, preview, selectsNamespace, type ImagePolicy } from './policy.js';

export interface ServerCheck {
  state: 'agree' | 'disagree' | 'unknown' | 'not-installed' | 'deny-mode';
  /** Objects dry-run / selected by the policy. */
  checked: number;
  total: number;
  /** "object\tmessage" pairs: what we predict and what the server said. */
  ours: string[];
  server: string[];
  detail?: string;
}

/** The policy's warning text in an API server warning, or undefined for another warning. */
export function policyWarning(warning: string, policyName = POLICY_NAME): string | undefined {
  const m = warning.match(/^Validation failed for ValidatingAdmissionPolicy '([^']+)' with binding '[^']*': (.*)$/s);
  if (!m || m[1] !== policyName || !m[2].startsWith(MESSAGE_PREFIX)) return undefined;
  return m[2];
}

export const pairOf = (o: KubeObject, message: string) => `${refLabel(refOf(o))}\t${message}`;

/** At most this many dry-runs per inspection (a note says when the check is partial). */
export const MAX_SERVER_CHECKS = 2000;

/**
 * Dry-run updates of the objects the policy selects; `policy` must be the one installed in Warn mode.
 * Never throws: a user who may not update them gets `unknown` with the reason.
 */
export async function confirmWithServer(cluster: Cluster, policy: ImagePolicy, objects: KubeObject[]): Promise<ServerCheck> {
  const ours = preview(objects, policy)
    .flatMap((p) => p.violations.map((v) => pairOf(p.object, v.message)))
    .sort();
  if (policy.mode !== 'warn') return { state: 'deny-mode', checked: 0, total: objects.length, ours, server: [] };
  const inScope = objects.filter(
    (o) => o.metadata.resourceVersion && (POLICY_KINDS as readonly string[]).includes(o.kind) && selectsNamespace(policy.namespaces, o.metadata.namespace),
  );
  const batch = inScope.slice(0, MAX_SERVER_CHECKS);
  const server: string[] = [];
  let refused: string | undefined;
  let skipped = 0;
  await pMap(
    batch,
    async (o) => {
      if (refused) return;
      try {
        const r = await cluster.replace(o, { dryRun: true });
        for (const w of r.warnings) {
          const m = policyWarning(w);
          if (m) server.push(pairOf(o, m));
        }
      } catch (e) {
        if (isClusterError(e, 'Conflict') || isClusterError(e, 'NotFound')) skipped++;
        else refused = (e as Error).message;
      }
    },
    { concurrency: cluster.concurrency },
  );
  server.sort();
  if (refused) return { state: 'unknown', checked: 0, total: inScope.length, ours, server: [], detail: refused };
  const checkedKeys = new Set(batch.map((o) => refLabel(refOf(o))));
  const oursChecked = ours.filter((p) => checkedKeys.has(p.split('\t')[0]));
  const agree = oursChecked.length === server.length && oursChecked.every((p, i) => p === server[i]);
  const partial = batch.length < inScope.length ? `checked ${batch.length} of ${inScope.length} objects` : undefined;
  const changed = skipped ? `${skipped} changed while checking` : undefined;
  return {
    state: agree ? 'agree' : 'disagree',
    checked: batch.length - skipped,
    total: inScope.length,
    ours: oursChecked,
    server,
    detail: [partial, changed].filter(Boolean).join('; ') || undefined,
  };
}

export const keyOf = (o: KubeObject) => refKey(refOf(o));
