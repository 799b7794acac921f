// Bad input: one clear line, the right exit code, quickly, never a stack trace.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { before, test } from 'node:test';
import { runCli, sharedTestbed, tempHome, type Testbed } from '../helpers.js';

let bed: Testbed;
before(async () => {
  bed = await sharedTestbed();
});

function assertOneLine(stderr: string) {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0], /^kube-harden: /);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

test('unknown flag: exit 2', async () => {
  const r = await runCli(['audit', '--no-such-flag'], { home: tempHome() });
  assert.equal(r.code, 2);
  assertOneLine(r.stderr);
  assert.match(r.stderr, /unknown option '--no-such-flag'/);
});

test('missing kubeconfig: exit 2', async () => {
  const r = await runCli(['audit', '--kubeconfig', '/nonexistent/kubeconfig'], { home: tempHome() });
  assert.equal(r.code, 2);
  assertOneLine(r.stderr);
  assert.match(r.stderr, /kubeconfig not found: \/nonexistent\/kubeconfig/);
});

test('unknown context: exit 2, naming the known ones', async () => {
  const r = await runCli(['audit', '--kubeconfig', bed.kubeconfig, '--context', 'prod-eu'], { home: tempHome() });
  assert.equal(r.code, 2);
  assertOneLine(r.stderr);
  assert.match(r.stderr, /unknown context "prod-eu" \(contexts: kube-harden-testbed\)/);
});

test('a closed port: exit 3 within 10 s', async () => {
  const home = tempHome();
  const port = await closedPort();
  const kc = path.join(home, 'kubeconfig');
  writeFileSync(
    kc,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:${port}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: abc\ncontexts:\n- name: closed\n  context: { cluster: c, user: u }\ncurrent-context: closed\n`,
  );
  const r = await runCli(['audit', '--kubeconfig', kc], { home });
  assert.equal(r.code, 3);
  assertOneLine(r.stderr);
  assert.match(r.stderr, new RegExp(`cannot reach the cluster at https://127.0.0.1:${port}: connection refused`));
  assert.ok(r.ms < 10_000, `${r.ms} ms`);
});

test('credentials the server rejects: exit 3', async () => {
  const home = tempHome();
  const kc = path.join(home, 'kubeconfig');
  writeFileSync(
    kc,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${bed.server}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: expired-token\ncontexts:\n- name: bad\n  context: { cluster: c, user: u }\ncurrent-context: bad\n`,
  );
  const r = await runCli(['audit', '--kubeconfig', kc], { home });
  assert.equal(r.code, 3, r.stderr);
  assertOneLine(r.stderr);
  assert.match(r.stderr, /401 Unauthorized/);
});

test('a malformed profile: exit 2 naming the problem, nothing contacted', async () => {
  const home = tempHome();
  const bad = path.join(home, 'bad.yaml');
  writeFileSync(bad, 'version: 1\nanswers:\n  workloads.fixes: {oops: 1}\n');
  const r = await runCli(['apply', '--profile', bad, '--yes', '--kubeconfig', bed.kubeconfig], { home });
  assert.equal(r.code, 2);
  assertOneLine(r.stderr);
  assert.match(r.stderr, /profile .*bad\.yaml is invalid: answers\.workloads\.fixes/);
  writeFileSync(bad, 'version: 1\nanswers:\n  workloads.fixes: [noEscalation, makeItSafe]\n');
  const r2 = await runCli(['apply', '--profile', bad, '--yes', '--kubeconfig', bed.kubeconfig], { home });
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /bad answer: workloads\.fixes: unknown value\(s\) makeItSafe/);
});

test('KUBECONFIG with a file that does not exist: skipped like kubectl does, the others merged', async () => {
  const home = tempHome();
  const r = await runCli(['audit', '--namespaces', 'default'], { home, env: { KUBECONFIG: `${path.join(home, 'missing.yaml')}:${bed.kubeconfig}` } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /kube-harden-testbed/);
});

test('an unknown area and an unknown snapshot: exit 2', async () => {
  const home = tempHome();
  const a = await runCli(['audit', '--areas', 'dns', '--kubeconfig', bed.kubeconfig], { home });
  assert.equal(a.code, 2);
  assert.match(a.stderr, /unknown area "dns"/);
  const s = await runCli(['rollback', '20990101-000000-abcdef', '--yes'], { home });
  assert.equal(s.code, 2);
  assertOneLine(s.stderr);
  assert.match(s.stderr, /no snapshot "20990101-000000-abcdef"/);
});
