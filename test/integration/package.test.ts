// The package as users get it: `npm pack`, installed into an empty prefix, run from there against the
// real test bed. And the one-line refusal of a Node that is too old.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { BIN, BOOKINFO, repo, seedFixture, tempHome, uniqueNs, withCluster } from '../helpers.js';

const t = withCluster();
const work = mkdtempSync(path.join(os.tmpdir(), 'kube-harden-pkg-'));
const prefix = path.join(work, 'prefix');
// npm and the installed bin run on the project's Node 22 (the one running this test).
const nodeDir = path.dirname(process.execPath);
const env = { ...process.env, PATH: `${path.join(prefix, 'bin')}${path.delimiter}${nodeDir}${path.delimiter}${process.env.PATH}` };

function run(cmd: string, args: string[], opts: { cwd?: string; home?: string } = {}) {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd ?? work,
    env: { ...env, KUBE_HARDEN_HOME: opts.home ?? tempHome(), CI: 'true', npm_config_loglevel: 'error' },
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

let tarball = '';

test('npm pack makes a complete, lean package', () => {
  const r = run('npm', ['pack', '--silent', '--pack-destination', work], { cwd: repo });
  assert.equal(r.code, 0, r.stderr);
  tarball = path.join(work, r.stdout.trim().split('\n').at(-1)!);
  assert.ok(existsSync(tarball), tarball);
  const list = run('tar', ['-tzf', tarball]).stdout.split('\n').filter(Boolean);
  for (const f of [
    'package/bin/kube-harden.js',
    'package/bin/kubectl-harden.js',
    'package/dist/cli.js',
    'package/dist/ui.js',
    'package/profiles/restricted.yaml',
    'package/src/demo/bookinfo/bookinfo.yaml',
    'package/src/demo/bookinfo/LICENSE',
    'package/LICENSE',
    'package/README.md',
  ]) {
    assert.ok(list.includes(f), `${f} is in the package`);
  }
  const stray = list.filter(
    (f) => /^package\/(test|screens)\//.test(f) || (/^package\/src\//.test(f) && !f.startsWith('package/src/demo/')) || f.endsWith('.ts'),
  );
  assert.deepEqual(stray, [], 'no tests or sources that nothing needs at run time');
  const kb = statSync(tarball).size / 1024;
  process.stderr.write(`package: ${path.basename(tarball)} ${kb.toFixed(0)} kB, ${list.length} files\n`);
  assert.ok(kb < 3000, `the tarball is ${kb.toFixed(0)} kB`);
});

test('the installed package runs --help, audit and a preview against the cluster; kubectl finds the plugin', async () => {
  assert.ok(tarball, 'packed');
  const inst = run('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', tarball]);
  assert.equal(inst.code, 0, inst.stderr);
  const bin = path.join(prefix, 'bin');
  assert.deepEqual(readdirSync(bin).sort(), ['kube-harden', 'kubectl-harden']);
  // Nothing to install beside it: the bundle carries what it needs.
  const deps = readdirSync(path.join(prefix, 'lib/node_modules/kube-harden')).filter((f) => f === 'node_modules');
  assert.deepEqual(deps, []);

  const help = run(path.join(bin, 'kube-harden'), ['--help']);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /--preview/);

  const ns = uniqueNs('pkg');
  await seedFixture(t.bed, BOOKINFO, ns);
  const audit = run(path.join(bin, 'kube-harden'), ['audit', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns, '--output', 'json']);
  assert.equal(audit.code, 0, audit.stderr);
  const report = JSON.parse(audit.stdout) as { findings: Array<{ ref: { namespace?: string } }> };
  assert.ok(
    report.findings.some((f) => f.ref.namespace === ns),
    'audit found bookinfo',
  );

  const home = tempHome();
  const preview = run(path.join(bin, 'kube-harden'), ['apply', '--profile', 'restricted', '--preview', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns], {
    home,
  });
  assert.equal(preview.code, 0, preview.stderr);
  assert.match(preview.stdout, /preview only/);
  assert.deepEqual(readdirSync(home), [], 'a preview writes nothing locally');

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  if (kubectl.status === 0) {
    const plugin = run('kubectl', ['harden', 'audit', '--kubeconfig', t.bed.kubeconfig, '--namespaces', ns]);
    assert.equal(plugin.code, 0, plugin.stderr);
    assert.match(plugin.stdout, /finding\(s\)/);
  }

  const demo = run(path.join(bin, 'kube-harden'), ['demo']);
  assert.equal(demo.code, 2);
  assert.equal(demo.stderr.trim().split('\n').length, 1, demo.stderr);
  assert.match(demo.stderr, /source checkout/);
  assert.doesNotMatch(demo.stderr, /tsx|test\/|at .*\.js:\d+/);
});

test('an older Node gets one line naming the Node it runs and the one it needs, exit 2', (t) => {
  // The system Node, not the project's: the first `node` on PATH outside node_modules/.bin that is older than 22.19.
  const old = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((d) => d && !d.includes('node_modules'))
    .map((d) => path.join(d, 'node'))
    .find((n) => existsSync(n) && Number(spawnSync(n, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).stdout.trim()) < 22);
  if (!old) return t.skip('no Node older than 22 on this machine');
  const r = spawnSync(old, [BIN, 'audit'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /needs Node\.js >= 22\.19, but this is Node\.js 2\d\.\d+\.\d+/);
});
