// tsx test/cluster/with-testbed.ts -- COMMAND [ARGS...]
// Starts one test bed in a temp dir, runs COMMAND with KUBE_HARDEN_TESTBED_DIR set (tests pick it up
// through sharedTestbed()), stops the bed, and exits with COMMAND's exit code.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { down, up } from './testbed.js';

async function main(): Promise<number> {
  const sep = process.argv.indexOf('--');
  const command = sep >= 0 ? process.argv.slice(sep + 1) : [];
  if (!command.length) {
    process.stderr.write('usage: with-testbed.ts -- COMMAND [ARGS...]\n');
    return 2;
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kube-harden-testbed-'));
  const started = Date.now();
  const bed = await up({ dir });
  process.stderr.write(`testbed: ready in ${((Date.now() - started) / 1000).toFixed(1)} s at ${bed.server} (${dir})\n`);
  let code: number;
  try {
    code = await new Promise<number>((resolve) => {
      const child = spawn(command[0]!, command.slice(1), {
        stdio: 'inherit',
        env: { ...process.env, KUBE_HARDEN_TESTBED_DIR: dir },
      });
      const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
      process.on('SIGINT', forward('SIGINT'));
      process.on('SIGTERM', forward('SIGTERM'));
      child.on('error', (e) => {
        process.stderr.write(`with-testbed: ${e.message}\n`);
        resolve(127);
      });
      child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1)));
    });
  } finally {
    await down({ dir });
    if (!process.env.KUBE_HARDEN_TESTBED_KEEP) await rm(dir, { recursive: true, force: true });
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`with-testbed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
