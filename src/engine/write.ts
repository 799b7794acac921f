import type { Cluster, WriteResult } from '../cluster/client.js';
import { ClusterError, isClusterError } from '../cluster/errors.js';
import type { KubeObject } from '../cluster/types.js';
import { sameObject } from './normalise.js';

/**
 * PUT `after` in place of `expected`, with optimistic concurrency that ignores what is not ours:
 * the resourceVersion we read is the precondition, and on a 409 we re-read the object. If only its
 * status or bookkeeping moved (controllers update a Deployment's status all the time), the write is
 * retried on the new version; if anything we compare (spec, labels, annotations...) changed, it is a
 * real conflict and the object is left alone.
 */
export async function guardedReplace(
  cluster: Cluster,
  expected: KubeObject,
  after: KubeObject,
  opts: { dryRun?: boolean } = {},
): Promise<WriteResult> {
  let rv = expected.metadata.resourceVersion;
  for (let attempt = 0; ; attempt++) {
    // A shallow copy is enough: nothing below metadata is changed, and JSON.stringify does not mutate.
    const { status: _status, ...rest } = after as KubeObject & { status?: unknown };
    const { managedFields: _mf, ...metadata } = after.metadata;
    const body: KubeObject = { ...rest, metadata: { ...metadata, resourceVersion: rv } };
    try {
      return await cluster.replace(body, opts);
    } catch (e) {
      if (!isClusterError(e, 'Conflict') || attempt >= 4) throw e;
      const current = await cluster.tryGet({ apiVersion: after.apiVersion, kind: after.kind, name: after.metadata.name, namespace: after.metadata.namespace });
      if (!current || !sameObject(current, expected)) {
        throw new ClusterError('Conflict', e.message, { status: 409 });
      }
      rv = current.metadata.resourceVersion;
    }
  }
}
