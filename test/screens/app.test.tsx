// test/ is outside tsconfig's include, so tsx compiles this JSX with the classic runtime: React must be in scope.
import './force-color.js';
import test from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import React from 'react';
import { App } from '../../screens/App.js';
import type { SessionLike, WizardCore } from '../../screens/core.js';
import type { HardenOptions } from '../../screens/flow.js';
import type { Answers, Area } from '../../src/areas/types.js';
import { ClusterError } from '../../src/cluster/errors.js';
import type { ApplyEvent } from '../../src/engine/apply.js';
import type { Change, DryRunResult } from '../../src/engine/change.js';
import { diffChange } from '../../src/engine/diff.js';
import type { Profile } from '../../src/profiles/profile.js';
import { multiQ, patchChange, selectQ } from './fixtures.js';
import { frameHas, KEY, strip, tick, waitFor } from './helpers.js';

interface Fake {
  core: WizardCore;
  calls: string[];
  saved: Array<{ name: string; profile: Profile }>;
  closed: () => number;
}

function fake(o: { changes?: Change[]; deniedRead?: boolean; openError?: Error; contexts?: number; profile?: Profile; failApply?: boolean } = {}): Fake {
  const calls: string[] = [];
  const saved: Fake['saved'] = [];
  let closed = 0;
  const changes = o.changes ?? [patchChange('web')];
  const area = { id: 'workloads', title: 'Pod security', summary: 'Security contexts.' } as Area;
  const questions = [{ ...selectQ, details: [] }, multiQ];
  const session = {
    contextName: 'kind-dev',
    version: { gitVersion: 'v1.34.4', major: '1', minor: '34' },
    identity: { username: 'admin', groups: ['system:masters', 'system:authenticated'] },
    areas: [area],
    async readAccess() {
      return [
        { verb: 'list', group: '', resource: 'namespaces', allowed: true },
        { verb: 'list', group: '', resource: 'pods', allowed: !o.deniedRead },
      ];
    },
    async inspect(onProgress?: (a: Area, m: string) => void) {
      onProgress?.(area, 'listing deployments');
      const findings = [
        { id: 'f1', area: 'workloads', check: 'privileged', severity: 'critical', ref: changes[0]?.ref, message: 'privileged', why: '', fixable: true },
        { id: 'f2', area: 'workloads', check: 'caps', severity: 'medium', ref: changes[0]?.ref, message: 'caps', why: '', fixable: true },
      ];
      return [{ area, inspection: { area: 'workloads', findings, objects: [], facts: {} }, questions }];
    },
    get questions() {
      return questions;
    },
    resolveAnswers(given: Answers) {
      calls.push(`resolve ${JSON.stringify(given)}`);
      return given;
    },
    plan() {
      return changes;
    },
    async dryRun(cs: Change[], onProgress?: (d: number, t: number) => void) {
      onProgress?.(cs.length, cs.length);
      return new Map<string, DryRunResult>(cs.map((c) => [c.id, { ok: true, warnings: [] }]));
    },
    async writeAccess() {
      return [{ verb: 'update', group: 'apps', resource: 'deployments', allowed: true }];
    },
    async apply(cs: Change[], _dry: Map<string, DryRunResult>, onEvent?: (e: ApplyEvent) => void) {
      calls.push('apply');
      onEvent?.({ type: 'preflight' });
      onEvent?.({ type: 'snapshot', id: 'snap-1' });
      for (const c of cs) {
        onEvent?.({ type: 'start', change: c });
        if (o.failApply) {
          onEvent?.({ type: 'failed', change: c, error: 'changed since the preview', conflict: true });
          return { snapshot: { id: 'snap-1' }, applied: 0, skipped: 0, failed: { change: c, error: 'changed since the preview', conflict: true }, rollback: { snapshotId: 'snap-1', restored: 0, unchanged: 0, failed: [] } };
        }
        onEvent?.({ type: 'done', change: c, warnings: [] });
      }
      return { snapshot: { id: 'snap-1' }, applied: cs.length, skipped: 0 };
    },
    async verify() {
      calls.push('verify');
      return { fixed: 2, remaining: 0, findings: [] };
    },
    async close() {
      closed++;
    },
  } as unknown as SessionLike;
  const core: WizardCore = {
    async listContexts() {
      const all = [
        { name: 'kind-dev', cluster: 'dev', user: 'admin', server: 'https://127.0.0.1:6443', current: true },
        { name: 'prod', cluster: 'prod', user: 'ops', server: 'https://prod:6443', current: false },
      ];
      return all.slice(0, o.contexts ?? 2);
    },
    async openSession(opts) {
      calls.push(`open ${opts.context ?? '(current)'} preview=${!!opts.preview}`);
      if (o.openError) throw o.openError;
      return session;
    },
    async loadProfile(name) {
      calls.push(`profile ${name}`);
      if (!o.profile) throw new Error('no profile');
      return o.profile;
    },
    async saveProfile(name, profile) {
      saved.push({ name, profile });
    },
    async loadDiff() {
      return diffChange;
    },
  };
  return { core, calls, saved, closed: () => closed };
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

/** From the overview, accept the default answer of both questions. */
async function answerDefaults(a: ReturnType<typeof start>) {
  await frameHas(a.lastFrame, 'Findings: 2');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'PSA level?');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'Which fixes?');
  await press(a.stdin, KEY.enter);
}

test('app, preview mode: pick a context, overview, questions, preview; nothing applied, exit 0', async () => {
  const f = fake();
  const a = start({ preview: true }, f);
  await frameHas(a.lastFrame, 'Which cluster context');
  await press(a.stdin, KEY.down);
  await frameHas(a.lastFrame, 'prod');
  await press(a.stdin, KEY.up);
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'Findings: 2');
  let t = a.text();
  assert.match(t, /context kind-dev\s+server v1\.34\.4\s+user admin\s+PREVIEW/);
  assert.match(t, /✓ connected to kind-dev \(https:\/\/127\.0\.0\.1:6443\): Kubernetes v1\.34\.4, as admin/);
  assert.match(t, /groups: system:masters, system:authenticated/);
  assert.match(t, /read permissions: 2\/2 allowed/);
  assert.match(t, /critical 1\s+high 0\s+medium 1\s+low 0/);
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'PSA level?');
  await press(a.stdin, KEY.enter); // baseline (the default)
  await frameHas(a.lastFrame, 'Which fixes?');
  await press(a.stdin, ' '); // Alpha off
  await frameHas(a.lastFrame, '0 of 3 selected');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'Plan: 1 change');
  t = a.text();
  assert.match(t, /✓ PSA level\? → baseline/);
  assert.match(t, /✓ Which fixes\? → \(none\)/);
  assert.match(t, /planned 1 change; server dry-run: 1 ok/);
  assert.match(t, /@@ -5,3 \+5,4 @@\n   namespace: shop/);
  await press(a.stdin, KEY.enter);
  await waitFor(() => a.code() !== undefined, a.text);
  assert.equal(a.code(), 0);
  assert.match(a.text(), /Preview only: 1 change, nothing was written to the cluster or to disk/);
  assert.deepEqual(f.calls.filter((c) => c.startsWith('open') || c === 'apply'), ['open kind-dev preview=true']);
  assert.ok(f.calls.includes('resolve {"workloads.psa":"baseline","workloads.fixes":[]}'), f.calls.join('\n'));
  assert.equal(f.closed(), 1);
  a.unmount();
});

test('app, apply: profile answers are the defaults, confirm y, apply, verify, summary with the rollback command, profile saved', async () => {
  const profile: Profile = { version: 1, name: 'base', answers: { 'workloads.psa': 'restricted', 'workloads.fixes': ['a', 'b'] } };
  const f = fake({ contexts: 1, profile });
  const a = start({ preview: false, profile: 'base', saveProfile: 'mine' }, f);
  await frameHas(a.lastFrame, 'Findings: 2');
  assert.doesNotMatch(a.text(), /PREVIEW/);
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, '❯ restricted');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, '2 of 3 selected');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'Plan: 1 change');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, 'Apply 1 change to kind-dev? (y/N)');
  await press(a.stdin, 'y');
  await waitFor(() => a.code() !== undefined, a.text);
  assert.equal(a.code(), 0);
  const t = a.text();
  assert.match(t, /✓ profile base: 2 answers as defaults/);
  assert.match(t, /✓ snapshot snap-1 saved/);
  assert.match(t, /✓ patch Deployment\/web in shop/);
  assert.match(t, /✓ applied 1 of 1 change/);
  assert.match(t, /fixed findings: 2/);
  assert.match(t, /undo with: kube-harden rollback snap-1 --context kind-dev/);
  assert.match(t, /answers saved as profile "mine"/);
  assert.deepEqual(f.saved, [{ name: 'mine', profile: { version: 1, name: 'mine', areas: ['workloads'], answers: { 'workloads.psa': 'restricted', 'workloads.fixes': ['a', 'b'] } } }]);
  assert.ok(f.calls.includes('verify'));
  a.unmount();
});

test('app: a conflict during apply exits 4 and shows the automatic rollback', async () => {
  const f = fake({ contexts: 1, failApply: true });
  const a = start({ preview: false, context: 'kind-dev' }, f);
  await answerDefaults(a);
  await frameHas(a.lastFrame, 'Plan: 1 change');
  await press(a.stdin, KEY.enter);
  await frameHas(a.lastFrame, '(y/N)');
  await press(a.stdin, 'y');
  await waitFor(() => a.code() !== undefined, a.text);
  assert.equal(a.code(), 4);
  assert.match(a.text(), /✗ apply failed: patch Deployment\/web in shop: changed since the preview/);
  assert.match(a.text(), /automatic rollback: 0 restored/);
  assert.ok(!f.calls.includes('verify'));
  a.unmount();
});

test('app: a denied read permission is named and exits 4', async () => {
  const f = fake({ deniedRead: true, contexts: 1 });
  const a = start({ preview: false }, f);
  await waitFor(() => a.code() !== undefined, a.text);
  assert.equal(a.code(), 4);
  assert.match(a.text(), /✗ cannot list pods/);
  assert.match(a.text(), /missing permissions: list pods/);
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
  await frameHas(a.lastFrame, 'Findings: 2');
  await press(a.stdin, 'q');
  await waitFor(() => a.code() !== undefined, a.text);
  assert.equal(a.code(), 0);
  assert.match(a.text(), /quit: nothing was written/);
  assert.equal(f.closed(), 1);
  assert.ok(!f.calls.includes('apply'));
  a.unmount();
});

test('app: an empty plan says nothing to change and exits 0', async () => {
  const f = fake({ contexts: 1, changes: [] });
  const a = start({ preview: false }, f);
  await answerDefaults(a);
  await waitFor(() => a.code() !== undefined, a.text);
  assert.equal(a.code(), 0);
  assert.match(a.text(), /nothing to change/);
  a.unmount();
});
