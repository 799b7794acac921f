import { Command, CommanderError, Option } from 'commander';
import { exitCodeFor, EXIT, oneLine } from './errors.js';
import type { WizardLauncher } from './harden.js';

/**
 * The command-line contract (DESIGN.md). Only commander is loaded up front so `--help` is fast;
 * each command imports what it needs when it runs.
 */
const csv = (v: string, prev: string[] = []) => [
  ...prev,
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];
const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new CommanderError(2, 'usage', `--concurrency must be 1..64, not "${v}"`);
  return n;
};
const seconds = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 1 || n > 86_400) throw new CommanderError(2, 'usage', `--rollout-timeout must be a number of seconds (1..86400), not "${v}"`);
  return n;
};

function globals(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <path>', 'kubeconfig file (default: KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: the current one)')
    .option('--namespaces <a,b>', 'only these namespaces (default: all but kube-system, kube-public, kube-node-lease)', csv)
    .option('--concurrency <n>', 'parallel requests to the API server', int, 8);
}

export type { HardenOptions } from './harden.js';
export type Ui = WizardLauncher;

export function buildProgram(run: (code: number) => void, ui: Ui): Command {
  const program = new Command('kube-harden')
    .description('Harden a live Kubernetes cluster, one reviewed, dry-run-validated, reversible step at a time.')
    .version(process.env.KUBE_HARDEN_VERSION ?? '0.1.0')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, outputError: () => undefined });

  const harden = globals(
    program
      .command('harden', { isDefault: true })
      .description('the guided session in the terminal (default)')
      .option('--preview', 'show what would change; write nothing to the cluster or to disk')
      .option('--profile <name|file>', 'answer profile whose answers become the defaults')
      .option('--save-profile <name>', 'save the answers as a profile at the end')
      .option('--areas <a,b>', 'only these areas (rbac, apiserver, tls, network, workloads, images)', csv)
      .option('--apiserver-manifest <path>', "the API server's static-pod manifest (default: /etc/kubernetes/manifests/kube-apiserver.yaml when readable)")
      .option('--rollout-timeout <seconds>', 'give up on rollouts of changed workloads that make no progress this long (default 300)', seconds)
      .option('--scan-images', 'scan the images in use with the local trivy (slow: runs trivy once per image)'),
  ).action(async (o) => {
    run(
      await ui.harden({
        kubeconfig: o.kubeconfig,
        context: o.context,
        preview: !!o.preview,
        profile: o.profile,
        saveProfile: o.saveProfile,
        areas: o.areas,
        namespaces: o.namespaces,
        concurrency: o.concurrency,
        apiserverManifest: o.apiserverManifest,
        rolloutTimeout: o.rolloutTimeout,
        scanImages: !!o.scanImages,
      }),
    );
  });
  // The top-level help shows the session's own options and a few examples, as kubectl and gh do: a new
  // user reads `kube-harden --help` first, and the session is what they came for.
  program.addHelpText('after', () => {
    const help = harden.createHelp();
    const opts = help.visibleOptions(harden).filter((o) => o.long !== '--help');
    const width = Math.max(...opts.map((o) => help.optionTerm(o).length));
    return [
      '',
      'The guided session (the default command; also `kube-harden harden`) takes:',
      ...opts.map((o) => `  ${help.optionTerm(o).padEnd(width)}  ${help.optionDescription(o)}`),
      '',
      'Examples:',
      '  kube-harden                                   walk the cluster of the current context, area by area',
      '  kube-harden --preview --context staging       the same session; nothing is written, anywhere',
      '  kube-harden audit --output sarif --fail-on high > kube-harden.sarif    a CI gate',
      '  kube-harden apply --profile restricted --yes  replay saved answers without a terminal',
      '  kube-harden rollback                          undo the newest apply',
      '',
      'Exit codes: 0 done, 1 findings at --fail-on or a change failed, 2 usage or input error,',
      '3 cluster unreachable or credentials rejected, 4 refused for safety.',
    ].join('\n');
  });

  globals(program.command('audit').description('report findings, change nothing'))
    .addOption(new Option('--output <format>', 'report format').choices(['table', 'json', 'sarif', 'junit']).default('table'))
    .addOption(
      new Option('--fail-on <severity>', 'exit 1 when a finding kube-harden can fix is at or above this severity').choices([
        'low',
        'medium',
        'high',
        'critical',
      ]),
    )
    .option('--include-manual', '--fail-on also counts the findings that need a person')
    .option('--areas <a,b>', 'only these areas', csv)
    .option('--scan-images', 'also scan the images in use with the local trivy (slow: runs trivy once per image)')
    .option('--scan-dir <dir>', "with --scan-images: keep trivy's JSON report per image and summary.json here")
    .option('--scan-timeout <seconds>', 'with --scan-images: give up on one image after this long (default 300)', seconds)
    .option(
      '--apiserver-manifest <path>',
      "the API server's static-pod manifest, to report its flags as fixable (default: /etc/kubernetes/manifests/kube-apiserver.yaml when readable)",
    )
    .action(async (o) => {
      const { audit } = await import('./commands/audit.js');
      const scanImages = o.scanImages || o.scanDir ? { dir: o.scanDir, timeoutMs: o.scanTimeout ? o.scanTimeout * 1000 : undefined } : undefined;
      run(await audit({ ...o, scanImages }));
    });

  program
    .command('apply')
    .description('replay an answer profile on one or more clusters')
    .requiredOption('--profile <name|file>', 'answer profile (a saved name, a built-in, or a YAML file)')
    .option('--yes', 'apply without asking (needed when not on a terminal)')
    .option('--preview', 'show the plan and the server dry-run; write nothing')
    .option('--diff', 'print the full diff of each change')
    .option('--areas <a,b>', 'only these areas', csv)
    .option('--kubeconfig <path>', 'kubeconfig file')
    .option('--context <name>', 'a context to apply to; repeat for a fleet', (v: string, p: string[] = []) => [...p, v])
    .option('--namespaces <a,b>', 'only these namespaces', csv)
    .option('--concurrency <n>', 'parallel requests to the API server', int, 8)
    .option('--allow-lockout', 'apply even when the rbac guard says the plan removes your own access')
    .option('--keep-failed', 'keep workloads whose rollout stalls (default: roll them back)')
    .option('--rollout-timeout <seconds>', 'give up on rollouts of changed workloads that make no progress this long (default 300)', seconds)
    .option('--apiserver-manifest <path>', "the API server's static-pod manifest (when kube-harden runs on the control-plane node)")
    .option('--all-contexts', 'every context of the kubeconfig, one after the other (listed and confirmed first)')
    .option('--continue-on-error', 'with several contexts: go on after a cluster that failed')
    .option('--out <dir>', 'write the plan as files (a kustomization: new manifests, JSON patches against the live objects, a README) instead of applying it')
    .action(async (o) => {
      const { applyProfile } = await import('./commands/apply.js');
      run(await applyProfile({ ...o, contexts: o.context }));
    });

  globals(program.command('rollback [snapshot]').description('restore what a snapshot recorded (default: the newest)'))
    .option('--yes', 'do not ask')
    .option('--force', 'restore even objects that changed again since kube-harden wrote them')
    .action(async (id, o) => {
      const { rollback } = await import('./commands/rollback.js');
      run(await rollback(id, o));
    });

  program
    .command('snapshots [action] [id]')
    .description('list | show ID')
    .action(async (action, id) => {
      const { snapshots } = await import('./commands/snapshots.js');
      run(await snapshots(action, id));
    });

  program
    .command('profiles [action] [args...]')
    .description('list | show NAME | rm NAME | export NAME FILE | import FILE [NAME]')
    .action(async (action, args) => {
      const { profiles } = await import('./commands/profiles.js');
      run(await profiles(action, args ?? []));
    });

  program
    .command('demo')
    .description('start a real local API server seeded with insecure workloads, then the guided session on it')
    .option('--down', 'stop the demo cluster')
    .option('--preview', 'run the session in preview mode')
    .action(async (o) => {
      const { demo } = await import('./commands/demo.js');
      run(await demo(o, ui));
    });

  return program;
}

export async function main(argv: string[], ui: Ui): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram((c) => {
    code = c;
  }, ui);
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return EXIT.ok;
      process.stderr.write(`kube-harden: ${e.message.replace(/^error: /, '')}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`kube-harden: ${oneLine(e)}\n`);
    if (process.env.KUBE_HARDEN_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return exitCodeFor(e);
  }
}
