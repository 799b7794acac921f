// A process that applies one hand-made change of the API server's manifest through the engine (as the
// CLI would, snapshot first), for tests that kill it during the health gate. Not a test file itself.
//   node --import tsx apiserver-apply-child.ts KUBECONFIG MANIFEST SNAPSHOT_DIR ARG MIRROR_POD TIMEOUT_MS
import { readFileSync } from 'node:fs';
import { Cluster } from '../../src/cluster/client.js';
import { Helm } from '../../src/cluster/helm.js';
import { applyPlan } from '../../src/engine/apply.js';
import { dryRunPlan } from '../../src/engine/preview.js';
import { SnapshotStore } from '../../src/engine/snapshot-store.js';
import { extraArgChange } from './apiserver-bad-edit.js';

const [kubeconfig, manifest, snapshots, arg, mirrorPod, timeout] = process.argv.slice(2);
const cluster = await Cluster.connect({ kubeconfig });
const ctx = { cluster, helm: new Helm({ kubeconfig, readOnly: false }), readOnly: false, note: (t: string) => process.stderr.write(`${t}\n`) };
const before = readFileSync(manifest, 'utf8');
const change = extraArgChange(manifest, before, arg, mirrorPod, Number(timeout));
const dry = await dryRunPlan(ctx, [change]);
const uid = await cluster.clusterUid();
const r = await applyPlan(ctx, [change], {
  store: new SnapshotStore(snapshots),
  dryRun: dry,
  cluster: { context: cluster.contextName, server: cluster.server, uid },
  onEvent: (e) => e.type === 'snapshot' && process.stderr.write(`snapshot ${e.id}\n`),
});
process.stderr.write(`done: ${r.failed?.error ?? 'ok'}\n`);
await cluster.close();
