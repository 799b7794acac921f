// microservices-demo is already hardened (non-root, no escalation, drop ALL, read-only root):
// the plan must touch only what is genuinely missing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ObjectChange } from '../../src/engine/change.js';
import { diffOf } from '../../src/engine/kinds/index.js';
import { withDefaults } from '../../src/areas/types.js';
import { Session } from '../../src/session.js';
import { seedFixture, sharedTestbed, uniqueNs, type Testbed } from '../helpers.js';

let bed: Testbed;
let session: Session;
before(async () => {
  bed = await sharedTestbed();
});
after(() => session?.close());

test('microservices-demo: the restricted plan only adds the missing seccomp profile and namespace labels', async () => {
  const ns = uniqueNs('boutique');
  await seedFixture(bed, 'workloads/microservices-demo/kubernetes-manifests.yaml', ns);
  session = await Session.open({ kubeconfig: bed.kubeconfig, namespaces: [ns], preview: true, areas: ['workloads'] });
  await session.inspect();
  const answers = withDefaults(session.questions, { 'workloads.fixes': ['noEscalation', 'dropAll', 'seccomp', 'runAsNonRoot'] });
  const changes = session.plan(answers) as ObjectChange[];
  const workloadChanges = changes.filter((c) => c.ref.kind !== 'Namespace');
  // It sets no security context beyond seccomp: every diff adds exactly the 3 seccompProfile lines.
  for (const c of workloadChanges) {
    assert.deepEqual(c.reasons, [{ area: 'workloads', text: 'set seccomp RuntimeDefault' }], c.ref.name);
    const lines = diffOf(c);
    const added = lines.filter((l) => l.type === 'add').map((l) => l.text.slice(1).trim());
    const removed = lines.filter((l) => l.type === 'del').map((l) => l.text.slice(1).trim());
    assert.ok(
      added.some((l) => l === 'type: RuntimeDefault'),
      `${c.ref.name}: ${added.join(' | ')}`,
    );
    assert.ok(added.length <= 4 && removed.length <= 1, `${c.ref.name}: +${added.length} -${removed.length}`);
  }
  assert.equal(changes.filter((c) => c.ref.kind === 'Namespace').length, 1);
  const dry = await session.dryRun(changes);
  assert.ok([...dry.values()].every((d) => d.ok));
});
