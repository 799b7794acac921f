#!/usr/bin/env node
// @ts-check
// Build step (not a user command): bundle the core (src/cli.ts) and the terminal UI (screens/run.tsx)
// with esbuild straight from the TypeScript sources, in one build with shared chunks: the wizard's lazy
// import of the session reuses the core's chunks, so the package holds one copy of everything. One file
// to load instead of hundreds of modules makes `--help` and the wizard's first frame fast, and the
// bundle needs nothing from node_modules at run time (the installed package has no dependencies).
// `tsc` only type-checks (npm run typecheck).
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const shims = [
  "import { createRequire as __cr } from 'module';",
  "import { fileURLToPath as __fu } from 'url';",
  'const require = __cr(import.meta.url);',
  'const __filename = __fu(import.meta.url);',
  "const __dirname = __fu(new URL('.', import.meta.url));",
].join(' ');

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: { cli: 'src/cli.ts', ui: 'screens/run.tsx' },
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  jsx: 'automatic',
  logLevel: 'warning',
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: 'none',
  define: { 'process.env.NODE_ENV': '"production"' },
  // Ink loads react-devtools-core only when DEV is set; it is not shipped.
  external: ['react-devtools-core'],
  banner: { js: shims },
});
