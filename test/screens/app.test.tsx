// The whole wizard with ink-testing-library: the real App, the real pipeline (src/pipeline.ts), a fake
// session in place of the cluster (test/screens/fake-session.ts).
// test/ is outside tsconfig's include, so tsx compiles this JSX with the classic runtime: React must be in scope.
import './force-color.js';
import test from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import React from 'react';
import { App } from '../../screens/App.js';
import type { WizardCore } from '../../screens/core.js';
import type { HardenOptions } from '../../src/harden.js';
import { ClusterError } from '../../src/cluster/errors.js';
import { diffOf } from '../../src/engine/kinds/index.js';
import { runPipeline } from '../../src/pipeline.js';
import type { Profile } from '../../src/profiles/profile.js';
import { fakeSession, type FakeOptions, type FakeRecord } from './fake-session.js';
import { multiQ, patchChange, selectQ } from './fixtures.js';
import { frameHas, KEY, strip, tick, waitFor } from './helpers.js';

const LEFT = '\u001B[D';

interface Fake {
  core: WizardCore;
  rec: FakeRecord;
  saved: Array<{ name: string; profile: Profile }>;
  opened: string[];
}

function fake(o: FakeOptions & { openError?: Error; contexts?: number; profile?: Profile } = {}): Fake {
  const rec: FakeRecord = { calls: [], closed: 0 };
  const saved: Fake['saved'] = [];
  const opened: string[] = [];
  const questions = o.questions ?? [{ ...selectQ, details: [] }, multiQ];
  const core: WizardCore = {
    async listContexts() {
      const all = [
        { name: 'kind-dev', cluster: 'dev', user: 'admin', server: 'https://127.0.0.1:6443', current: true },
        { name: 'prod', cluster: 'prod', user: 'ops', server: 'https://prod:6443', current: false },
      ];
      return all.slice(0, o.contexts ?? 2);
    },
    runPipeline: (opts, port) =>
      runPipeline(opts, port, async (so) => {
        opened.push(`${so.context ?? '(current)'} preview=${!!so.preview}`);
        if (o.openError) throw o.openError;
        const s = fakeSession({ ...o, questions, changes: o.changes ?? [patchChange('web')] }, rec);
        (s as unknown as { preview: boolean }).preview = !!so.preview;
        return s;
      }),
    async loadProfile() {
      if (!o.profile) throw new Error('no profile');
      return o.profile;
    },
    async saveProfile(name, profile) {
      saved.push({ name, profile });
    },
    async loadDiff() {
      return diffOf;
    },
  };
  return { core, rec, saved, opened };
}

function start(opts: HardenOptions, f: Fake) {
  let code: number | undefined;
  const r = render(<App opts={opts} core={f.core} onExit={(c) => (code = c)} />);
  return { ...r, code: () => code, text: () => strip(r.lastFrame()) };
}

async function press(stdin: { write: (s: string) => void }, key: string) {
  await tick();
  stdin.write(key);
}

test('app, preview mode: pick a context, choose areas, questions, the area plan, the review; nothing applied; exit 0', async () => {
  const f = fake();
  const a = start({ preview: true }, f);
  await frameHas(a.lastFrame, 'Which cluster context');
  await press(a.stdin, KEY.down);
  await frameHas(a.lastFrame, 'prod');
  await press(a.stdin, KEY.up);
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'Which areas should the session walk?');
  let t = a.text();
  assert.match(t, /kube-harden\s+PREVIEW\s+context kind-dev\s+server v1\.34\.4\s+user admin/);
  assert.match(t, /✓ connected to kind-dev \(https:\/\/127\.0\.0\.1:6443\): Kubernetes v1\.34\.4, as admin/);
  assert.match(t, /groups: system:masters, system:authenticated/);
  assert.match(t, /read permissions: 2\/2 allowed/);
  assert.match(t, /\[x\] Pod security \(workloads\)\s+2 finding\(s\), 2 fixable/);
  assert.match(t, /critical 1\s+high 0\s+medium 1\s+low 0/);
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'PSA level?');
  assert.match(a.text(), /question 1 of 2 · Pod security/);
  await press(a.stdin, KEY.enter); // baseline (the default)
  await frameHas(a.lastFrame, 'Which fixes?');
  await press(a.stdin, ' '); // Alpha off
  await frameHas(a.lastFrame, '0 of 3 selected');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'Pod security: 1 change');
  t = a.text();
  assert.match(t, /✓ PSA level\? → baseline/);
  assert.match(t, /✓ Which fixes\? → \(none\)/);
  assert.match(t, /@@ -5,3 \+5,4 @@\n {3}namespace: shop/);
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'Review: 1 change across 1 area (preview: nothing will be written)');
  assert.match(a.text(), /planned 1 change; server dry-run: 1 ok/);
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'Save these answers as a profile');
  await press(a.stdin, KEY.enter); // empty: do not save
  await waitFor(() => a.code() !== undefined, a.text);
  assert.equal(a.code(), 0);
  assert.match(a.text(), /Preview only: 1 change; nothing was written to the cluster or to disk/);
  assert.deepEqual(f.opened, ['kind-dev preview=true']);
  assert.ok(!f.rec.calls.includes('apply'));
  assert.deepEqual(f.rec.answers, { 'workloads.psa': 'baseline', 'workloads.fixes': [] });
  assert.deepEqual(f.saved, []);
  assert.equal(f.rec.closed, 1);
  a.unmount();
});

test('app: back from a question keeps the answers; back from the first question of an area shows the previous area plan', async () => {
  const second = { questions: [{ ...selectQ, id: 'images.registry', area: 'images' as const, title: 'Registry?', default: 'auto', details: [] }] };
  const f = fake({ contexts: 1, second });
  const a = start({ preview: true }, f);
  await frameHas(a.lastFrame, 'Which areas should the session walk?');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'PSA level?');
  await press(a.stdin, KEY.down); // baseline → restricted
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'Which fixes?');
  await press(a.stdin, LEFT); // back
  await frameHas(a.lastFrame, '❯ restricted');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'Which fixes?');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'Pod security: 1 change');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'Registry?');
  await press(a.stdin, LEFT); // back into the previous area: its plan
  await frameHas(a.lastFrame, 'Pod security: 1 change');
  await press(a.stdin, LEFT); // and its last question
  await frameHas(a.lastFrame, 'question 2 of 2 · Pod security');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'Pod security: 1 change');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'question 1 of 1 · Images');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'Images: 0 changes');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'Review: 1 change');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'Save these answers');
  for (const ch of 'team-a') await press(a.stdin, ch);
  await press(a.stdin, KEY.enter);
  await waitFor(() => a.code() !== undefined, a.text);
  assert.equal(a.code(), 0);
  assert.deepEqual(f.saved, [
    {
      name: 'team-a',
      profile: {
        version: 2,
        name: 'team-a',
        areas: ['workloads', 'images'],
        answers: { 'workloads.psa': 'restricted', 'workloads.fixes': ['a'], 'images.registry': 'auto' },
      },
    },
  ]);
  assert.match(a.text(), /the answers were saved as profile\s+"team-a", as asked/);
  a.unmount();
});

test('app, apply: profile answers are the defaults and marked, confirm y, apply, verify, summary with the undo command, profile saved', async () => {
  const profile: Profile = { version: 2, name: 'base', answers: { 'workloads.psa': 'restricted', 'workloads.fixes': ['a', 'b'] } };
  const f = fake({ contexts: 1, profile });
  const a = start({ preview: false, profile: 'base', saveProfile: 'mine', kubeconfig: '/tmp/my kube/config' }, f);
  await frameHas(a.lastFrame, 'Which areas');
  assert.doesNotMatch(a.text(), /PREVIEW/);
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, '❯ restricted');
  assert.match(a.text(), /answer from the profile/);
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, '2 of 3 selected');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'Pod security: 1 change');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'Review: 1 change');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'Apply 1 change to kind-dev? (y/N)');
  await press(a.stdin, 'y');
  await waitFor(() => a.code() !== undefined, a.text);
  assert.equal(a.code(), 0);
  const t = a.text();
  assert.match(t, /✓ profile base: 2 answers as defaults/);
  assert.match(t, /✓ PSA level\? → restricted \(from the profile\)/);
  assert.match(t, /✓ snapshot 20261129-101010-abcdef saved/);
  assert.match(t, /✓ patch deployment\/web in shop/);
  assert.match(t, /✓ applied 1 of 1 change/);
  assert.match(t, /Pod security: 1 change, 2 fixed/);
  assert.match(t, /undo with: kube-harden rollback 20261129-101010-abcdef --context kind-dev --kubeconfig\s+'\/tmp\/my\s+kube\/config'/);
  assert.match(t, /answers saved as profile "mine"/);
  assert.deepEqual(f.saved, [
    { name: 'mine', profile: { version: 2, name: 'mine', areas: ['workloads'], answers: { 'workloads.psa': 'restricted', 'workloads.fixes': ['a', 'b'] } } },
  ]);
  assert.ok(f.rec.calls.includes('verify'));
  a.unmount();
});

async function walkDefaults(a: ReturnType<typeof start>) {
  await frameHas(a.lastFrame, 'Which areas');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'PSA level?');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'Which fixes?');
  await press(a.stdin, KEY.enter);
}

test('app: a conflict during apply exits 4 and shows the automatic rollback', async () => {
  const f = fake({ contexts: 1, failApply: true });
  const a = start({ preview: false, context: 'kind-dev' }, f);
  await walkDefaults(a);
  await frameHas(a.lastFrame, 'Pod security: 1 change');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'Review');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, '(y/N)');
  await press(a.stdin, 'y');
  await frameHas(a.lastFrame, 'Save these answers');
  await press(a.stdin, KEY.enter);
  await waitFor(() => a.code() !== undefined, a.text);
  assert.equal(a.code(), 4);
  assert.match(a.text(), /✗ apply failed: object:apps\/v1\/Deployment\/shop\/web: changed since the preview/);
  assert.match(a.text(), /rollback: 0 restored/);
  assert.ok(!f.rec.calls.includes('verify'));
  a.unmount();
});

test('app: a denied read permission is named and exits 4', async () => {
  const f = fake({ deniedRead: true, contexts: 1 });
  const a = start({ preview: false }, f);
  await waitFor(() => a.code() !== undefined, a.text);
  assert.equal(a.code(), 4);
  assert.match(a.text(), /missing permissions to inspect the cluster \(nothing was changed\): list pods/);
  a.unmount();
});

test('app: an unreachable cluster is one red line and exit 3', async () => {
  const f = fake({ contexts: 1, openError: new ClusterError('Unreachable', 'cannot reach https://127.0.0.1:6443: connect ECONNREFUSED\n    at somewhere') });
  const a = start({ preview: false }, f);
  await waitFor(() => a.code() !== undefined, a.text);
  assert.equal(a.code(), 3);
  const raw = a.lastFrame() ?? '';
  const line = raw.split('\n').find((l) => strip(l).startsWith('error: cannot reach'));
  assert.ok(line?.includes('\u001B[31m'), 'red');
  assert.doesNotMatch(strip(raw), /at somewhere/);
  a.unmount();
});

test('app: q at the overview leaves with exit 0, closes the session, writes nothing', async () => {
  const f = fake({ contexts: 1 });
  const a = start({ preview: false }, f);
  await frameHas(a.lastFrame, 'Which areas');
  await press(a.stdin, 'q');
  await waitFor(() => a.code() !== undefined, a.text);
  assert.equal(a.code(), 0);
  assert.match(a.text(), /quit: nothing was written/);
  await waitFor(() => f.rec.closed === 1);
  assert.ok(!f.rec.calls.includes('apply'));
  a.unmount();
});

test('app: an empty plan says nothing to change and exits 0', async () => {
  const f = fake({ contexts: 1, changes: [] });
  const a = start({ preview: false }, f);
  await walkDefaults(a);
  await frameHas(a.lastFrame, 'Pod security: 0 changes');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'Save these answers');
  await press(a.stdin, KEY.enter);
  await waitFor(() => a.code() !== undefined, a.text);
  assert.equal(a.code(), 0);
  assert.match(a.text(), /nothing to change/);
  a.unmount();
});
