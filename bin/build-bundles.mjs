#!/usr/bin/env node
// Build step (not a user command): bundle the compiled core (dist/src → dist/cli) and the UI
// (dist/screens → dist/ui) with esbuild. One file to load instead of hundreds of modules makes
// `--help` and the wizard's first frame fast, and tree-shaking keeps the generated Kubernetes API
// client, which the core only uses for kubeconfig and auth, out of memory.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const shims = [
  "import { createRequire as __cr } from 'module';",
  "import { fileURLToPath as __fu } from 'url';",
  'const require = __cr(import.meta.url);',
  'const __filename = __fu(import.meta.url);',
  "const __dirname = __fu(new URL('.', import.meta.url));",
].join(' ');

const common = {
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  logLevel: 'warning',
  banner: { js: shims },
};

for (const dir of ['dist/cli', 'dist/ui']) rmSync(dir, { recursive: true, force: true });
await Promise.all([
  build({ ...common, entryPoints: ['dist/src/cli.js'], outdir: 'dist/cli' }),
  build({
    ...common,
    entryPoints: ['dist/screens/run.js'],
    outdir: 'dist/ui',
    minify: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    // The UI reaches the cluster through the core's session, loaded lazily; react-devtools is optional.
    external: ['@kubernetes/client-node', 'undici', 'react-devtools-core'],
  }),
]);
