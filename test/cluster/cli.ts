// npm run testbed -- up --dir DIR [options] | down --dir DIR | build
import path from 'node:path';
import { down, ensureAllBuilt, up, type UpOptions } from './testbed.js';

const USAGE = `usage: testbed up --dir DIR [--nodes N] [--static-apiserver] [--anonymous-auth=true|false] [--apiserver-arg=--flag=value ...]
       testbed down --dir DIR
       testbed build            (the test bed binary and kwok, cached)`;

function fail(msg: string): never {
  process.stderr.write(`testbed: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

interface Parsed {
  dir?: string;
  up: Omit<UpOptions, 'dir'>;
}

function parse(args: string[], allowUpOptions: boolean): Parsed & { dir: string } {
  const out: Parsed = { up: {} };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined || v === '') fail(`${name} needs a value`);
      return v;
    };
    if (name === '--dir') {
      out.dir = value();
    } else if (!allowUpOptions) {
      fail(`unknown argument: ${a}`);
    } else if (name === '--nodes') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 0) fail('--nodes needs a whole number >= 0');
      out.up.nodes = n;
    } else if (name === '--static-apiserver') {
      if (inline !== undefined) fail('--static-apiserver takes no value');
      out.up.staticApiserver = true;
    } else if (name === '--anonymous-auth') {
      const v = value();
      if (v !== 'true' && v !== 'false') fail('--anonymous-auth needs true or false');
      out.up.anonymousAuth = v === 'true';
    } else if (name === '--apiserver-arg') {
      const v = value();
      if (!v.startsWith('--')) fail(`--apiserver-arg needs a --flag=value, got ${v}`);
      (out.up.apiserverArgs ??= []).push(v);
    } else if (name === '--controller-manager-arg') {
      const v = value();
      if (!v.startsWith('--')) fail(`--controller-manager-arg needs a --flag=value, got ${v}`);
      (out.up.controllerManagerArgs ??= []).push(v);
    } else {
      fail(`unknown argument: ${a}`);
    }
  }
  if (!out.dir) fail('--dir DIR is required');
  return { ...out, dir: path.resolve(out.dir) };
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'up': {
      const { dir, up: opts } = parse(rest, true);
      const started = Date.now();
      const bed = await up({ dir, ...opts });
      const extra = bed.apiserverManifest ? `; API server manifest: ${bed.apiserverManifest}` : '';
      process.stderr.write(
        `testbed: ready at ${bed.server} in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${bed.pid}; nodes: ${bed.nodes.join(', ') || 'none'}${extra}); stop with: npm run testbed -- down --dir ${bed.dir}\n`,
      );
      process.stdout.write(`${bed.kubeconfig}\n`);
      return;
    }
    case 'down':
      await down({ dir: parse(rest, false).dir });
      return;
    case 'build': {
      if (rest.length) fail(`unknown argument: ${rest[0]}`);
      const built = await ensureAllBuilt();
      process.stdout.write(`${built.testbed}\n${built.kwok}\n`);
      return;
    }
    default:
      fail(cmd ? `unknown command: ${cmd}` : 'missing command');
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`testbed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
