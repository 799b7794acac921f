// The apiserver area on a bed whose API server runs the kubelet's way, from a kubeadm-style static-pod
// manifest: audit (JSON) names the CIS items; --preview writes nothing; a good edit comes back healthy
// with its flags in force, and rollback puts the old text back; bad edits (an unknown flag, a missing
// file) never come up and are reverted by the health gate; kill -9 during the gate, then rollback,
// restores the file and a healthy API server, even when the API server is down at that moment.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Cluster } from '../../src/cluster/client.js';
import { Helm } from '../../src/cluster/helm.js';
import { applyPlan } from '../../src/engine/apply.js';
import { flagsOf } from '../../src/engine/gates.js';
import { dryRunPlan } from '../../src/engine/preview.js';
import { SnapshotStore } from '../../src/engine/snapshot-store.js';
import { down, kubeRequest, pollUntil, privateTestbed, type Testbed } from '../cluster/testbed.js';
import { auditOffset, auditSince, builtCliCopy, MUTATING, repo, runCli, tempHome } from '../helpers.js';
import { extraArgChange } from './apiserver-bad-edit.js';

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('apiserver area, static-pod API server', () => {
  let bed: Testbed;
  let original: string;
  let mirror: string;
  let cluster: Cluster;
  let bin: string;
  const manifest = () => bed.apiserverManifest!;
  const cli = (args: string[], home: string, onStderr?: (all: string, kill: () => void) => void) =>
    runCli([...args, '--kubeconfig', bed.kubeconfig], { home, timeoutMs: 400_000, onStderr, bin });
  const profile = (fixes: string[]) => {
    const file = path.join(tempHome(), 'profile.yaml');
    writeFileSync(file, `version: 2\nname: apiserver-test\nareas: [apiserver]\nanswers:\n  apiserver.fixes: [${fixes.join(', ')}]\n`);
    return file;
  };
  const healthy = async () => {
    try {
      return (await kubeRequest(bed.kubeconfig, 'GET', '/readyz')).status === 200;
    } catch {
      return false;
    }
  };
  const runningFlags = async () => {
    const pod = await cluster.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'kube-system', name: mirror });
    return flagsOf((pod.spec as { containers: Array<{ command: string[] }> }).containers[0].command);
  };
  /** Profiling in force: an admin may read /debug/pprof/ (404 when --profiling=false). */
  const pprof = async () => (await kubeRequest(bed.kubeconfig, 'GET', '/debug/pprof/')).status;
  const backToOriginal = async () => {
    assert.equal(readFileSync(manifest(), 'utf8'), original, 'the manifest is byte for byte what it was');
    await pollUntil('the API server healthy with its old flags', async () => (await healthy()) && (await runningFlags()).profiling === 'true', {
      timeoutMs: 120_000,
    });
    assert.equal(await pprof(), 200);
  };

  before(async () => {
    bin = await builtCliCopy();
    // Profiling on and AlwaysAllow among the modes: the bed's own flags are otherwise CIS-clean where it matters here.
    bed = await privateTestbed({ nodes: 1, staticApiserver: true, apiserverArgs: ['--profiling=true', '--authorization-mode=Node,RBAC,AlwaysAllow'] });
    original = readFileSync(manifest(), 'utf8');
    mirror = `kube-apiserver-${bed.controlPlaneNode}`;
    cluster = await Cluster.connect({ kubeconfig: bed.kubeconfig });
  });
  after(async () => {
    await cluster?.close();
    if (bed) await down({ dir: bed.dir });
  });

  test('audit --output json: the flag findings name their CIS items', async () => {
    const r = await cli(['audit', '--output', 'json', '--areas', 'apiserver'], tempHome());
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { findings: Array<{ rule: string; message: string; ref: { name: string }; fixable: boolean; manual?: string }> };
    const by = (rule: string) => report.findings.find((f) => f.rule === rule);
    assert.match(by('profiling')?.message ?? '', /--profiling is true \(CIS 1\.2\.15\)/);
    assert.match(by('authorizationAlwaysAllow')?.message ?? '', /Node,RBAC,AlwaysAllow \(CIS 1\.2\.6\)/);
    assert.match(by('admissionNodeRestriction')?.message ?? '', /\(CIS 1\.2\.14\)/);
    assert.match(by('auditRetention')?.message ?? '', /\(CIS 1\.2\.17, 1\.2\.18, 1\.2\.19\)/);
    assert.match(by('encryptionAtRest')?.message ?? '', /\(CIS 1\.2\.27, 1\.2\.28\)/);
    assert.equal(by('profiling')?.ref.name, mirror);
    // What the bed has right is not reported.
    for (const rule of ['authorizationNode', 'authorizationRbac', 'auditLog', 'serviceAccountKeys', 'tokenAuthFile']) assert.equal(by(rule), undefined, rule);
    // Audit runs where no manifest is readable: nothing is fixable from here, and each finding says why.
    assert.ok(by('profiling')?.manual && !by('profiling')?.fixable);
  });

  test('--preview writes nothing: the manifest untouched, no snapshot, no write to the cluster', async () => {
    const home = tempHome();
    const before = { sha: sha(manifest()), mtime: statSync(manifest()).mtimeMs };
    const offset = auditOffset(bed);
    const r = await cli(['apply', '--profile', profile(['profiling', 'authorizationMode']), '--preview', '--diff', '--apiserver-manifest', manifest()], home);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\s+-\s+- --profiling=true$/m);
    assert.match(r.stdout, /^\s+\+\s+- --profiling=false$/m);
    assert.match(r.stdout, /^\s+\+\s+- --authorization-mode=Node,RBAC$/m);
    assert.match(r.stdout, /nothing was written/);
    assert.deepEqual({ sha: sha(manifest()), mtime: statSync(manifest()).mtimeMs }, before);
    assert.deepEqual(readdirSync(path.join(bed.dir, 'manifests')), ['kube-apiserver.yaml'], 'no temp file left beside the manifest');
    const writes = auditSince(bed, offset).filter(
      (e) => e.userAgent?.startsWith('kube-harden') && MUTATING.has(e.verb) && e.stage === 'ResponseComplete' && !/dryRun=All/.test(e.requestURI),
    );
    assert.ok(
      auditSince(bed, offset).some((e) => e.userAgent?.startsWith('kube-harden') && /dryRun=All/.test(e.requestURI)),
      "the preview's server dry-run is in the audit log",
    );
    assert.deepEqual(
      writes.map((e) => `${e.verb} ${e.requestURI}`),
      [],
    );
    let snapshots: string[] = [];
    try {
      snapshots = readdirSync(path.join(home, 'snapshots')).filter((f) => !f.startsWith('locks'));
    } catch {
      /* no folder: nothing written */
    }
    assert.deepEqual(snapshots, []);
  });

  test('a good edit comes back healthy with its flags in force; rollback puts the old text back', async () => {
    const home = tempHome();
    assert.equal(await pprof(), 200);
    const r = await cli(
      ['apply', '--profile', profile(['profiling', 'authorizationMode', 'tlsMinVersion']), '--yes', '--apiserver-manifest', manifest()],
      home,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /waiting for the API server/);
    const now = readFileSync(manifest(), 'utf8');
    assert.match(now, /- --profiling=false\n/);
    assert.match(now, /- --authorization-mode=Node,RBAC\n/);
    assert.match(now, /- --tls-min-version=VersionTLS12\n/);
    // Comments and everything else of the file are kept: only the three flag lines differ.
    const changed = now.split('\n').filter((l) => !original.split('\n').includes(l));
    assert.deepEqual(changed.sort(), ['    - --authorization-mode=Node,RBAC', '    - --profiling=false', '    - --tls-min-version=VersionTLS12']);
    assert.ok(await healthy());
    const flags = await runningFlags();
    assert.equal(flags.profiling, 'false');
    assert.equal(flags['authorization-mode'], 'Node,RBAC');
    assert.equal(await pprof(), 404, 'profiling is off in the running API server');

    const rb = await cli(['rollback', '--yes'], home);
    assert.equal(rb.code, 0, rb.stderr);
    assert.match(rb.stdout, /1 restored/);
    await backToOriginal();
  });

  for (const [what, arg] of [
    ['an unknown flag', '--no-such-flag=1'],
    ['a flag naming a missing file', '--encryption-provider-config=/nonexistent/kube-harden/encryption.yaml'],
  ] as const) {
    test(`a bad edit (${what}) does not come up and is reverted by the gate`, async () => {
      const ctx = { cluster, helm: new Helm({ kubeconfig: bed.kubeconfig, readOnly: false }), readOnly: false, note: () => undefined };
      const change = extraArgChange(manifest(), original, arg, mirror, 25_000);
      const dry = await dryRunPlan(ctx, [change]);
      assert.equal(dry.get(change.id)?.ok, true, 'the server dry-run of the manifest as a Pod cannot see a bad flag');
      const store = new SnapshotStore(path.join(tempHome(), 'snapshots'));
      const t0 = Date.now();
      const r = await applyPlan(ctx, [change], {
        store,
        dryRun: dry,
        cluster: { context: cluster.contextName, server: cluster.server, uid: await cluster.clusterUid() },
      });
      assert.ok(r.failed, 'the apply must fail');
      assert.match(r.failed.error, /the old text was restored and it is healthy again/);
      assert.ok(Date.now() - t0 >= 25_000, 'it waited the whole time-out');
      assert.ok(await healthy());
      await backToOriginal();
      const log = readFileSync(path.join(bed.dir, 'apiserver.log'), 'utf8');
      assert.match(log, arg.startsWith('--no-such') ? /unknown flag: --no-such-flag/ : /\/nonexistent\/kube-harden\/encryption\.yaml/);
    });
  }

  test('kill -9 during the health gate, then rollback: the old text back and the API server healthy', async () => {
    const home = tempHome();
    const killed = await cli(['apply', '--profile', profile(['profiling']), '--yes', '--apiserver-manifest', manifest()], home, (all, kill) => {
      if (/waiting for the API server/.test(all)) kill();
    });
    assert.equal(killed.signal, 'SIGKILL', `the apply finished before it could be killed: ${killed.stderr}`);
    assert.match(readFileSync(manifest(), 'utf8'), /- --profiling=false\n/, 'killed after the write');
    const rb = await cli(['rollback', '--yes'], home);
    assert.equal(rb.code, 0, rb.stderr);
    await backToOriginal();
  });

  test('kill -9 during the gate of a bad edit: rollback restores the file while the API server is down', async () => {
    const home = tempHome();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(repo, 'test/integration/apiserver-apply-child.ts'),
        bed.kubeconfig,
        manifest(),
        path.join(home, 'snapshots'),
        '--no-such-flag=2',
        mirror,
        '600000',
      ],
      { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)));
    await pollUntil('the child to wait in the health gate', async () => /waiting for the API server/.test(err), { timeoutMs: 60_000 });
    await pollUntil('the API server to go down with the bad flag', async () => !(await healthy()), { timeoutMs: 60_000 });
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    assert.match(readFileSync(manifest(), 'utf8'), /--no-such-flag=2/);
    assert.equal(await healthy(), false, 'the API server is down when the rollback starts');

    const rb = await cli(['rollback', '--yes'], home);
    assert.equal(rb.code, 0, `${rb.stdout}\n${rb.stderr}`);
    assert.match(rb.stderr, /connection refused|cannot reach/);
    await backToOriginal();
    // The snapshot is done: nothing of it is left to undo.
    const store = new SnapshotStore(path.join(home, 'snapshots'));
    const [id] = await store.ids();
    assert.equal((await store.summary(id)).state, 'rolled-back');
  });
});

describe('apiserver area, static-pod API server without an audit log', () => {
  let bed: Testbed;
  let original: string;
  let bin: string;
  before(async () => {
    bin = await builtCliCopy();
    // Empty values turn the bed's audit log off (the flags' defaults).
    bed = await privateTestbed({ nodes: 1, staticApiserver: true, apiserverArgs: ['--audit-log-path=', '--audit-policy-file='] });
    original = readFileSync(bed.apiserverManifest!, 'utf8');
  });
  after(() => bed && down({ dir: bed.dir }));

  test('the audit fix writes the policy file first, the API server logs with it, rollback removes both', async () => {
    const home = tempHome();
    const policy = path.join(bed.dir, 'kube-harden', 'audit-policy.yaml');
    const log = path.join(bed.dir, 'kube-harden-audit', 'audit.log');
    const file = path.join(home, 'profile.yaml');
    writeFileSync(
      file,
      `version: 2\nname: audit\nareas: [apiserver]\nanswers:\n  apiserver.fixes: [auditLog]\n  apiserver.auditPolicyFile: ${policy}\n  apiserver.auditLogPath: ${log}\n`,
    );
    mkdirSync(path.dirname(policy));
    const r = await runCli(['apply', '--profile', file, '--yes', '--apiserver-manifest', bed.apiserverManifest!, '--kubeconfig', bed.kubeconfig], {
      home,
      bin,
      timeoutMs: 400_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(policy, 'utf8'), /^kind: Policy$/m);
    const manifest = readFileSync(bed.apiserverManifest!, 'utf8');
    for (const flag of [
      `--audit-policy-file=${policy}`,
      `--audit-log-path=${log}`,
      '--audit-log-maxage=30',
      '--audit-log-maxbackup=10',
      '--audit-log-maxsize=100',
    ])
      assert.ok(manifest.includes(`- ${flag}\n`), flag);
    assert.ok(manifest.includes(`path: ${policy}`) && manifest.includes(`path: ${path.dirname(log)}`), 'both mounted into the static pod');
    // The running API server audits with the policy: a write is logged at Metadata (no body), health checks are not.
    await kubeRequest(bed.kubeconfig, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'audited' }, data: { secret: 'not-in-the-log' } });
    await kubeRequest(bed.kubeconfig, 'GET', '/healthz');
    const events = await pollUntil('the configmap create in the new audit log', async () => {
      const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
      const all = lines.map((l) => JSON.parse(l) as { verb: string; level: string; requestURI: string; requestObject?: unknown });
      return all.some((e) => e.verb === 'create' && e.requestURI.includes('/configmaps')) ? all : undefined;
    });
    const create = events.find((e) => e.verb === 'create' && e.requestURI.includes('/configmaps'))!;
    assert.equal(create.level, 'Metadata');
    assert.equal(create.requestObject, undefined);
    assert.ok(!readFileSync(log, 'utf8').includes('not-in-the-log'));
    assert.ok(!events.some((e) => e.requestURI.startsWith('/healthz')));

    const rb = await runCli(['rollback', '--yes', '--kubeconfig', bed.kubeconfig], { home, bin, timeoutMs: 400_000 });
    assert.equal(rb.code, 0, rb.stderr);
    assert.match(rb.stdout, /2 restored/);
    assert.equal(readFileSync(bed.apiserverManifest!, 'utf8'), original);
    assert.throws(() => statSync(policy), /ENOENT/, 'the policy kube-harden created is gone');
  });
});
