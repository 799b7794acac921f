// The first frame must not wait for @kubernetes/client-node: screens/run.tsx's static import graph holds
// only Ink, React and the small, dependency-free parts of src/. The session, the cluster client and the
// profile store are loaded with `await import()` once the first frame is up.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('run.tsx statically imports no client-node, no session, no cluster client', async () => {
  const r = await build({
    entryPoints: [path.join(repo, 'screens/run.tsx')],
    absWorkingDir: repo,
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    jsx: 'automatic',
    packages: 'external',
    logLevel: 'silent',
  });
  const inputs = r.metafile.inputs;
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (f: string) => {
    if (files.has(f)) return;
    files.add(f);
    for (const i of inputs[f]?.imports ?? []) {
      if (i.kind !== 'import-statement') continue; // `await import()` is the point
      if (i.external) packages.add(i.path);
      else visit(i.path);
    }
  };
  visit('screens/run.tsx');
  const fromSrc = [...files].filter((f) => f.startsWith('src/')).sort();
  assert.deepEqual(fromSrc, ['src/areas/types.ts', 'src/cluster/errors.ts', 'src/engine/change.ts', 'src/errors.ts', 'src/port.ts']);
  assert.deepEqual([...packages].filter((p) => !p.startsWith('node:')).sort(), ['ink', 'ink-select-input', 'react', 'react/jsx-runtime']);
});
