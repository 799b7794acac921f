#!/usr/bin/env node
// The composition root: the core (dist/cli, an esbuild bundle of src/) and the terminal UI (dist/ui, of screens/)
// meet here. Everything is compiled by `npm run build` (which `npm install` runs through `prepare`).
import { main } from '../dist/cli/cli.js';

// A reader that goes away (`kube-harden apply ... | head`) must not kill an apply halfway: ignore EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code !== 'EPIPE') throw e;
  });
}

const ui = {
  harden: async (opts) => (await import('../dist/ui/run.js')).runHarden(opts),
};

const code = await main(process.argv, ui);
process.exitCode = code;
// Keep-alive sockets must not hold the process open once a command is done, but a report piped to
// another program must not be cut short either: exit only once stdout and stderr are flushed.
process.stdout.write('', () => process.stderr.write('', () => setTimeout(() => process.exit(code), 20).unref()));
