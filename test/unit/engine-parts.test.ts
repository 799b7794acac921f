// Pure parts of the engine: field paths, composition, waves, locks, the helm preview guard, manifest flags.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Helm } from '../../src/cluster/helm.js';
import type { KubeObject } from '../../src/cluster/types.js';
import { waves } from '../../src/engine/apply.js';
import { compose, ComposeError, type Edit } from '../../src/engine/compose.js';
import { fieldChanges, fieldState, getPath, pathText, setPath } from '../../src/engine/fields.js';
import { flagsOf, manifestFlags } from '../../src/engine/gates.js';
import { acquireLock } from '../../src/engine/lock.js';
import { SafetyError } from '../../src/errors.js';
import { tempHome } from '../helpers.js';

const pod = (containers: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}) => ({ spec: { template: { spec: { containers, ...extra } } } });

test('field changes: leaves only, list items matched by name not index, bookkeeping ignored', () => {
  const before = {
    metadata: { name: 'x', resourceVersion: '1' },
    ...pod([
      { name: 'a', image: 'a:1' },
      { name: 'b', image: 'b:1' },
    ]),
  };
  const after = {
    metadata: { name: 'x', resourceVersion: '9' },
    ...pod([
      { name: 'a', image: 'a:1', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } },
      { name: 'b', image: 'b:1' },
    ]),
  };
  const f = fieldChanges(before, after);
  assert.deepEqual(
    f.map((x) => pathText(x.path)),
    [
      'spec.template.spec.containers[name=a].securityContext.allowPrivilegeEscalation',
      'spec.template.spec.containers[name=a].securityContext.capabilities.drop',
    ],
  );
  assert.deepEqual(f[1].ours, ['ALL']);
  assert.equal(f[1].before, undefined);
});

test('restoring a path puts the old value back, removes what we created (and only the parents we created), leaves everything else', () => {
  const before = pod([{ name: 'a', image: 'a:1', securityContext: {} }], { securityContext: {} });
  const ours = pod([{ name: 'a', image: 'a:1', securityContext: { runAsNonRoot: true } }], { securityContext: { seccompProfile: { type: 'RuntimeDefault' } } });
  const fields = fieldChanges(before, ours);
  // Someone changes the image and adds a field beside ours since.
  let live = structuredClone(ours) as typeof ours & {
    spec: { template: { spec: { containers: Array<Record<string, unknown>>; securityContext: Record<string, unknown> } } };
  };
  live.spec.template.spec.containers[0].image = 'a:2';
  live.spec.template.spec.securityContext.fsGroup = 2000;
  for (const f of fields) {
    assert.equal(fieldState(live, f), 'ours');
    live = setPath(live, f.path, f.before, before);
  }
  assert.deepEqual(live, pod([{ name: 'a', image: 'a:2', securityContext: {} }], { securityContext: { fsGroup: 2000 } }));
  const frozen = Object.freeze(structuredClone(ours));
  assert.doesNotThrow(() => setPath(frozen, ['spec', 'template', 'spec', 'hostPID'], false), 'setPath copies, never writes into its input');
  assert.equal(getPath(frozen, ['spec', 'template', 'spec', 'hostPID']), undefined);
});

test('a path someone else changed is a conflict, not ours and not as before', () => {
  const f = { path: ['spec', 'x'], before: 1, ours: 2 };
  assert.equal(fieldState({ spec: { x: 2 } }, f), 'ours');
  assert.equal(fieldState({ spec: { x: 1 } }, f), 'before');
  assert.equal(fieldState({ spec: { x: 3 } }, f), 'conflict');
  assert.equal(fieldState({ spec: {} }, f), 'conflict');
});

const dep = (rv = '1'): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', resourceVersion: rv },
  spec: { replicas: 1 },
});
const base = { findingIds: [], risk: 'low' as const, phase: 'update' as const };

test('compose: edits of one target become one change; the phase and risk are the strictest; conflicting edits are refused', () => {
  const a: Edit = {
    ...base,
    kind: 'object',
    op: 'mutate',
    area: 'workloads',
    reason: 'a',
    base: dep(),
    mutate: (o) => ({ ...o, spec: { ...(o.spec as object), a: 1 } }),
    phase: 'rollout',
  };
  const b: Edit = {
    ...base,
    kind: 'object',
    op: 'mutate',
    area: 'images',
    reason: 'b',
    base: dep(),
    mutate: (o) => ({ ...o, spec: { ...(o.spec as object), b: 2 } }),
    risk: 'high',
  };
  const [c] = compose([a, b]);
  assert.equal(c.kind, 'object');
  assert.deepEqual(c.kind === 'object' && c.after?.spec, { replicas: 1, a: 1, b: 2 });
  assert.equal(c.phase, 'rollout');
  assert.equal(c.risk, 'high');
  assert.deepEqual(c.areas, ['workloads', 'images']);
  const del: Edit = { ...base, kind: 'object', op: 'delete', area: 'rbac', reason: 'd', base: dep() };
  assert.throws(() => compose([a, del]), ComposeError);
  assert.throws(() => compose([a, { ...b, base: dep('2') }]), /planned from different versions/);
  const mk = (x: number): Edit => ({ ...base, kind: 'object', op: 'create', area: x ? 'tls' : 'network', reason: 'c', object: { ...dep(), spec: { x } } });
  assert.throws(() => compose([mk(0), mk(1)]), /create it differently/);
  assert.equal(compose([{ ...a, mutate: (o: KubeObject) => o }]).length, 0, 'an edit that changes nothing is no change');
});

test('waves: one canary, then batches of a quarter of the rest (at least 5)', () => {
  assert.deepEqual(waves([]), []);
  assert.deepEqual(
    waves([1]).map((w) => w.length),
    [1],
  );
  assert.deepEqual(
    waves(Array.from({ length: 7 })).map((w) => w.length),
    [1, 5, 1],
  );
  assert.deepEqual(
    waves(Array.from({ length: 101 })).map((w) => w.length),
    [1, 25, 25, 25, 25],
  );
});

test("locks: a live holder refuses the second writer naming it; a dead holder's lock is taken over", async () => {
  const file = path.join(tempHome(), 'x.lock');
  const held = await acquireLock(file, 'apply of snapshot s1');
  await assert.rejects(
    acquireLock(file, 'rollback of snapshot s1'),
    (e: Error) => e instanceof SafetyError && /process \d+ is running `apply of snapshot s1`/.test(e.message),
  );
  await held.release();
  // A holder that died without releasing (kill -9).
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.on('exit', r));
  writeFileSync(file, JSON.stringify({ pid: child.pid, host: (await import('node:os')).hostname(), since: 'then', what: 'apply' }));
  const taken = await acquireLock(file, 'rollback');
  assert.match(readFileSync(file, 'utf8'), new RegExp(`"pid":${process.pid}`));
  await taken.release();
});

test('the helm preview guard: in preview only commands that change nothing run', async () => {
  const helm = new Helm({ readOnly: true, bin: '/bin/true' });
  await assert.rejects(helm.run(['upgrade', '--install', 'x', 'chart'], 'install x'), /refusing to run `helm upgrade` in preview mode/);
  await assert.rejects(helm.run(['uninstall', 'x'], 'uninstall x'), /preview mode/);
  assert.equal(await helm.run(['template', 'x', 'chart'], 'render'), '');
  assert.equal(await helm.run(['upgrade', '--install', 'x', 'chart', '--dry-run=server'], 'dry-run'), '');
  assert.equal(await new Helm({ readOnly: false, bin: '/nonexistent/helm' }).available(), undefined);
});

test('the flags of a static-pod manifest', () => {
  const text = `apiVersion: v1
kind: Pod
metadata: { name: kube-apiserver, namespace: kube-system }
spec:
  containers:
    - name: kube-apiserver
      command:
        - kube-apiserver
        - --anonymous-auth=false
        - --authorization-mode=Node,RBAC
        - --profiling
`;
  assert.deepEqual(manifestFlags(text), { 'anonymous-auth': 'false', 'authorization-mode': 'Node,RBAC', profiling: 'true' });
  assert.deepEqual(flagsOf(['--a', 'b', '--c=d', '--e']), { a: 'b', c: 'd', e: 'true' });
});
