#!/usr/bin/env node
// The composition root: the core (dist/src) and the terminal UI (dist/screens) meet here.
// Everything is compiled to dist/ by `npm run build` (which `npm install` runs through `prepare`).
import { main } from '../dist/src/cli.js';

const ui = {
  harden: async (opts) => (await import('../dist/ui/run.js')).runHarden(opts),
};

const code = await main(process.argv, ui);
process.exitCode = code;
// Keep-alive sockets and timers must not hold the process open once a command is done.
setTimeout(() => process.exit(code), 50).unref();
