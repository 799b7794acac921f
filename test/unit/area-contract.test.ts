// The area contract, over every registered area: every finding's rule is declared; every rule has a
// failing, a passing and a fixed fixture (or is a probe of the live API server, tested against the test
// bed instead, or needs a person and says so); plan is pure and never mutates what it is given.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { AREAS } from '../../src/areas/registry.js';
import { withDefaults, type AreaFixtures, type Finding, type InspectContext, type Inspection, type SessionAreaOptions } from '../../src/areas/types.js';
import { ClusterError } from '../../src/cluster/errors.js';
import type { KubeObject } from '../../src/cluster/types.js';
import { compose } from '../../src/engine/compose.js';

/** A cluster made of objects, and nothing else: any live request is refused like a user without rights would be. */
function fixtureContext(objects: KubeObject[], options: SessionAreaOptions = {}): InspectContext {
  const refuse = () => Promise.reject(new ClusterError('Forbidden', 'fixture cluster: no API server behind it'));
  const known: Record<string, unknown> = { concurrency: 4, server: 'https://fixture.invalid', contextName: 'fixture', readOnly: true };
  const cluster = new Proxy(known, {
    get: (t, p: string) => (p in t ? t[p] : p === 'rest' ? new Proxy({}, { get: () => refuse }) : p === 'then' ? undefined : refuse),
  }) as unknown as InspectContext['cluster'];
  const helm = new Proxy({}, { get: (_t, p) => (p === 'then' ? undefined : async () => undefined) }) as InspectContext['helm'];
  const all = objects.filter((o) => o.kind === 'Namespace');
  const names = new Set(all.map((n) => n.metadata.name).filter((n) => !['kube-system', 'kube-public', 'kube-node-lease'].includes(n)));
  return {
    cluster,
    helm,
    version: { gitVersion: 'v1.34.4', major: '1', minor: '34' },
    identity: { username: 'fixture-admin', groups: ['system:authenticated'] },
    scope: { all, namespaces: [...names].sort(), inScope: (ns) => ns !== undefined && names.has(ns), infrastructure: new Map() },
    list: async (kind, apiVersion) => objects.filter((o) => o.kind === kind && (!apiVersion || o.apiVersion === apiVersion)).map((o) => structuredClone(o)),
    options,
  };
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

const key = (o: { apiVersion: string; kind: string; metadata: { namespace?: string; name: string } }) =>
  `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

for (const area of AREAS) {
  test(`${area.id}: every rule has fixtures; every finding's rule is declared; fixtures fail, pass and get fixed; plan is pure`, async (t) => {
    const { fixtures } = (await import(`../../src/areas/${area.id}/fixtures.js`)) as { fixtures: AreaFixtures };
    const declared = new Set(area.rules.map((r) => r.id));
    const covered = new Set([...Object.keys(fixtures.rules), ...Object.keys(fixtures.probed ?? {})]);
    assert.deepEqual(
      [...declared].filter((r) => !covered.has(r)),
      [],
      'rules without fixtures',
    );
    assert.deepEqual(
      [...covered].filter((r) => !declared.has(r)),
      [],
      'fixtures of undeclared rules',
    );
    // Local files (a static-pod manifest): each fixture in a temp folder of its own, removed at the end.
    const dirs: string[] = [];
    const local = (files: Record<string, string> | undefined): { dir?: string; options: SessionAreaOptions } => {
      if (!files || !fixtures.local) return { options: {} };
      const dir = mkdtempSync(path.join(os.tmpdir(), `kube-harden-contract-${area.id}-`));
      dirs.push(dir);
      for (const [name, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        writeFileSync(path.join(dir, name), text);
      }
      return { dir, options: fixtures.local.options(dir) };
    };
    t.after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
    const inspect = async (objects: KubeObject[], options: SessionAreaOptions = {}): Promise<Inspection> => {
      const ins = await area.inspect(fixtureContext(objects, options));
      const undeclared = ins.findings.filter((f) => !declared.has(f.rule));
      assert.deepEqual(
        undeclared.map((f) => f.rule),
        [],
        'findings of undeclared rules',
      );
      return ins;
    };
    let fixedCount = 0;
    for (const [rule, fx] of Object.entries(fixtures.rules)) {
      const here = local(fx.files);
      const failing = await inspect(fx.failing, here.options);
      const hits = failing.findings.filter((f: Finding) => f.rule === rule);
      assert.ok(hits.length > 0, `${rule}: the failing fixture is not found`);
      const passing = await inspect(fx.passing);
      assert.deepEqual(
        passing.findings.filter((f) => f.rule === rule).map((f) => f.message),
        [],
        `${rule}: the passing fixture is found`,
      );
      if (!fx.fix) {
        assert.ok(
          hits.every((f) => !f.fixable && f.manual),
          `${rule}: without a fix its findings must say they need a person`,
        );
        continue;
      }
      // Plan on frozen inputs: a plan (or an edit's mutate) that writes to them throws here.
      const questions = area.questions(failing);
      const undocumented = questions.map((q) => q.id).filter((id) => !area.answerDocs?.[id]);
      assert.deepEqual(undocumented, [], `${rule}: questions without an entry in answerDocs (profiles show needs them)`);
      const answers = deepFreeze(withDefaults(questions, { ...fixtures.answers, ...fx.fix }));
      deepFreeze(failing);
      const changes = compose(area.plan(failing, answers));
      assert.ok(changes.length > 0, `${rule}: the fix plans nothing`);
      // The cluster as the plan leaves it (object changes), inspected again.
      const after = new Map(fx.failing.map((o) => [key(o), o]));
      for (const c of changes) {
        if (c.kind === 'file') {
          // Written where the fixture's files are, and nowhere else.
          assert.ok(here.dir && c.path.startsWith(here.dir + path.sep), `${rule}: a file change outside the fixture's folder: ${c.path}`);
          mkdirSync(path.dirname(c.path), { recursive: true });
          writeFileSync(c.path, c.after);
          continue;
        }
        if (c.kind !== 'object') continue;
        if (c.action === 'delete') after.delete(key(c.before!));
        else after.set(key(c.after!), c.after!);
      }
      const settled = here.dir && fixtures.local ? fixtures.local.settle([...after.values()], here.dir) : [...after.values()];
      const fixed = await inspect(settled, here.options);
      assert.deepEqual(
        fixed.findings.filter((f) => f.rule === rule).map((f) => f.message),
        [],
        `${rule}: still found after its fix`,
      );
      fixedCount++;
    }
    assert.ok(fixedCount > 0 || Object.keys(fixtures.rules).length === 0);
  });
}
