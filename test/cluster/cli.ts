// npm run testbed -- up --dir DIR | down --dir DIR | build
import path from 'node:path';
import { down, ensureBuilt, up } from './testbed.js';

const USAGE = 'usage: testbed up --dir DIR | testbed down --dir DIR | testbed build';

function fail(msg: string): never {
  process.stderr.write(`testbed: ${msg} (${USAGE})\n`);
  process.exit(2);
}

function parseDir(args: string[]): string {
  let dir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--dir') {
      dir = args[++i];
      if (!dir) fail('--dir needs a value');
    } else if (a.startsWith('--dir=')) {
      dir = a.slice('--dir='.length);
    } else {
      fail(`unknown argument: ${a}`);
    }
  }
  if (!dir) fail('--dir DIR is required');
  return path.resolve(dir);
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'up': {
      const bed = await up({ dir: parseDir(rest) });
      process.stderr.write(`testbed: ready at ${bed.server} (pid ${bed.pid}); stop with: npm run testbed -- down --dir ${bed.dir}\n`);
      process.stdout.write(`${bed.kubeconfig}\n`);
      return;
    }
    case 'down':
      await down({ dir: parseDir(rest) });
      return;
    case 'build':
      if (rest.length) fail(`unknown argument: ${rest[0]}`);
      process.stdout.write(`${await ensureBuilt()}\n`);
      return;
    default:
      fail(cmd ? `unknown command: ${cmd}` : 'missing command');
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`testbed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
