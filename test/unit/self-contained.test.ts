// A clone, CI's clean clone and an installed package have nothing beside them: no file of the project
// may name a path outside the repository (the workspace's shared folder in particular).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { repo } from '../helpers.js';

const OUTSIDE = new RegExp(['\\.\\./', 'shared'].join('') + '|' + ['shared', 'fixtures'].join('/'));

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name === 'fixtures' || name.startsWith('.git')) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (/\.(ts|tsx|js|mjs|json|go|mod|sh|yaml|md)$|^run$/.test(name)) yield p;
  }
}

test('no source, test, build or CI file reads a path outside the repository', () => {
  const roots = ['src', 'screens', 'test', 'bin', 'profiles', '.ci'].map((d) => path.join(repo, d));
  const offenders: string[] = [];
  let scanned = 0;
  for (const root of roots) {
    for (const f of files(root)) {
      scanned++;
      if (OUTSIDE.test(readFileSync(f, 'utf8'))) offenders.push(path.relative(repo, f));
    }
  }
  for (const f of ['package.json', 'tsconfig.json', 'tsconfig.test.json']) {
    scanned++;
    if (OUTSIDE.test(readFileSync(path.join(repo, f), 'utf8'))) offenders.push(f);
  }
  assert.ok(scanned > 50, `scanned ${scanned} files`);
  assert.deepEqual(offenders, []);
});
