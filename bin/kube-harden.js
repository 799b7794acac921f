#!/usr/bin/env node
// @ts-check
// The composition root: the core (dist/cli.js, an esbuild bundle of src/) and the terminal UI
// (dist/ui.js, of screens/) meet here. `npm run build` makes both (`npm install` in a clone runs it
// through `prepare`, `npm pack` through `prepack`).

// First, before anything that needs Node 22 is loaded: an older Node gets one line, not a stack trace
// from deep inside undici. This part must parse and run on any Node.
const NEEDED = [22, 19];
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < NEEDED[0] || (major === NEEDED[0] && minor < NEEDED[1])) {
  process.stderr.write(
    `kube-harden: needs Node.js >= ${NEEDED.join('.')}, but this is Node.js ${process.versions.node} (${process.execPath}); ` +
      'install Node 22 or newer (https://nodejs.org/, or `nvm install 22`)\n',
  );
  process.exit(2);
}

// A reader that goes away (`kube-harden apply ... | head`) must not kill an apply halfway: ignore EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (/** @type {NodeJS.ErrnoException} */ e) => {
    if (e.code !== 'EPIPE') throw e;
  });
}

// The bundles are loaded by path; their types are the sources' (type-checked by `npm run typecheck`).
const CLI = '../dist/cli.js';
const UI = '../dist/ui.js';
const { main } = /** @type {typeof import('../src/cli.js')} */ (await import(CLI));
/** @type {import('../src/harden.js').WizardLauncher} */
const ui = {
  harden: async (opts) => /** @type {typeof import('../screens/run.js')} */ (await import(UI)).runHarden(opts),
};

const code = await main(process.argv, ui);
process.exitCode = code;
// Keep-alive sockets must not hold the process open once a command is done, but a report piped to
// another program must not be cut short either: exit only once stdout and stderr are flushed.
process.stdout.write('', () => process.stderr.write('', () => setTimeout(() => process.exit(code), 20).unref()));
