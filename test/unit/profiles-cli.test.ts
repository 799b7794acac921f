// Answer profiles through the real CLI: export a built-in, import it under a new name, replay-ready.
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { runCli, tempHome } from '../helpers.js';

test('profiles: list, export, import, show, rm; built-ins cannot be removed', async () => {
  const home = tempHome();
  const list = await runCli(['profiles', 'list'], { home });
  assert.equal(list.code, 0);
  assert.match(list.stdout, /^baseline\s+built-in/m);
  assert.match(list.stdout, /^restricted\s+built-in/m);

  const file = path.join(home, 'mine.yaml');
  assert.equal((await runCli(['profiles', 'export', 'restricted', file], { home })).code, 0);
  const exported = parse(readFileSync(file, 'utf8'));
  assert.deepEqual(exported.answers['workloads.fixes'], ['noEscalation', 'dropAll', 'seccomp', 'runAsNonRoot']);

  exported.answers['workloads.psa'] = 'warn-only';
  writeFileSync(file, JSON.stringify(exported));
  const imp = await runCli(['profiles', 'import', file, 'team-a'], { home });
  assert.equal(imp.code, 0, imp.stderr);
  assert.equal(statSync(path.join(home, 'profiles.json')).mode & 0o777, 0o600);
  const show = await runCli(['profiles', 'show', 'team-a'], { home });
  assert.match(show.stdout, /workloads\.psa: warn-only/);
  assert.match((await runCli(['profiles', 'list'], { home })).stdout, /^team-a\s+user/m);

  const rmBuiltin = await runCli(['profiles', 'rm', 'baseline'], { home });
  assert.equal(rmBuiltin.code, 2);
  assert.match(rmBuiltin.stderr, /built-in profiles cannot be removed/);
  assert.equal((await runCli(['profiles', 'rm', 'team-a'], { home })).code, 0);
  assert.doesNotMatch((await runCli(['profiles', 'list'], { home })).stdout, /team-a/);

  writeFileSync(file, 'version: 3\nanswers: {}\n');
  const bad = await runCli(['profiles', 'import', file, 'x'], { home });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid: version/);
});

test('profile names that are also names of Object properties (constructor, toString, __proto__) are profiles like any other', async () => {
  const home = tempHome();
  const file = path.join(home, 'p.yaml');
  writeFileSync(file, 'version: 2\nanswers:\n  workloads.psa: warn-only\n');
  for (const name of ['constructor', 'toString', 'hasOwnProperty']) {
    const imp = await runCli(['profiles', 'import', file, name], { home });
    assert.equal(imp.code, 0, imp.stderr);
    const show = await runCli(['profiles', 'show', name], { home });
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /workloads\.psa: warn-only/);
  }
  const list = await runCli(['profiles', 'list'], { home });
  assert.match(list.stdout, /^constructor\s+user/m);
  assert.match(list.stdout, /^toString\s+user/m);
  const proto = await runCli(['profiles', 'import', file, '__proto__'], { home });
  assert.equal(proto.code, 2);
  assert.match(proto.stderr, /bad profile name "__proto__"/);
  const none = await runCli(['profiles', 'show', 'valueOf'], { home });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no profile "valueOf"/);
});

test('reading profiles never rewrites a hand-written profiles.json (a --preview session must leave the disk alone)', async () => {
  const home = tempHome();
  const text = JSON.stringify({ profiles: { mine: { version: 1, answers: { 'workloads.psa': 'baseline' } } } }, null, 1);
  writeFileSync(path.join(home, 'profiles.json'), text, { mode: 0o600 });
  const before = statSync(path.join(home, 'profiles.json')).mtimeMs;
  for (const args of [
    ['profiles', 'list'],
    ['profiles', 'show', 'mine'],
  ]) {
    const r = await runCli(args, { home });
    assert.equal(r.code, 0, r.stderr);
  }
  assert.equal(readFileSync(path.join(home, 'profiles.json'), 'utf8'), text);
  assert.equal(statSync(path.join(home, 'profiles.json')).mtimeMs, before);
});

test('snapshot IDs are checked before they touch the disk: `snapshots show ../../x` is a usage error', async () => {
  const home = tempHome();
  for (const args of [
    ['snapshots', 'show', '../../x'],
    ['rollback', '../../etc/passwd', '--yes'],
  ]) {
    const r = await runCli(args, { home });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /is not a snapshot ID/);
  }
});
