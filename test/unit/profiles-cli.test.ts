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
