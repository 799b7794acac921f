// The local scan's plumbing with a stand-in trivy (a shell script: a fake is fine for pure logic; the
// real trivy binary is in test/integration/images-scan.test.ts): concurrency limit, time-out per image,
// progress per image, trivy's JSON kept with summary.json, failures reported per image, a missing
// database short-circuiting the rest, a missing trivy explained.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { scanImages } from '../../src/areas/images/local-scan.js';
import { repo } from '../helpers.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'kube-harden-scan-'));
const golden = path.join(repo, 'test/fixtures/trivy/debian-buster.json.golden');

function fakeTrivy(name: string, body: string): string {
  const bin = path.join(work, name);
  writeFileSync(bin, `#!/bin/sh\n${body}\n`);
  chmodSync(bin, 0o755);
  return bin;
}

test('concurrency, time-out, progress, JSON kept, failures per image', async () => {
  const log = path.join(work, 'calls.log');
  const bin = fakeTrivy(
    'trivy-a',
    `for last; do :; done
echo "start $last" >> '${log}'
trap 'echo "end $last" >> "${log}"' EXIT
trap 'echo "end $last" >> "${log}"; trap - EXIT; exit 1' TERM
case "$last" in
  slow*) sleep 5 & wait $! ;;
  bad*) echo 'unable to find the specified image "bad" in ["docker" "remote"]: dial tcp: lookup registry-1.docker.io: no such host' >&2; exit 1 ;;
  *) cat '${golden}' ;;
esac`,
  );
  const dir = path.join(work, 'out');
  const progress: string[] = [];
  const t0 = Date.now();
  const r = await scanImages(['ok:1', 'bad:1', 'slow:1', 'ok:2'], { bin, concurrency: 2, timeoutMs: 1000, dir, onProgress: (m) => progress.push(m) });
  assert.ok(Date.now() - t0 < 8000, 'the slow image is cut at its time-out');
  assert.deepEqual(
    r.map((x) => [x.image, x.status, x.reason ?? '']),
    [
      ['ok:1', 'scanned', ''],
      ['bad:1', 'not-scanned', 'registry unreachable from here'],
      ['slow:1', 'not-scanned', 'timed out after 1 s'],
      ['ok:2', 'scanned', ''],
    ],
  );
  assert.deepEqual(r[0].summary?.counts, { CRITICAL: 1, HIGH: 0, MEDIUM: 0, LOW: 1, UNKNOWN: 0 });
  assert.equal(progress.filter((p) => /^trivy \d\/4 /.test(p)).length, 4, progress.join('\n'));
  // Never more than 2 at once.
  let running = 0;
  let most = 0;
  for (const line of readFileSync(log, 'utf8').trim().split('\n')) {
    running += line.startsWith('start') ? 1 : -1;
    most = Math.max(most, running);
  }
  assert.ok(most <= 2, `at most 2 at once, saw ${most}`);
  assert.deepEqual(readdirSync(dir).sort(), ['ok_1.json', 'ok_2.json', 'summary.json']);
  const summary = JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8')) as { images: Array<{ image: string; status: string; worst?: string[] }> };
  assert.deepEqual(
    summary.images.map((i) => [i.image, i.status, i.worst?.[0]]),
    [
      ['ok:1', 'scanned', 'CVE-2019-18224'],
      ['bad:1', 'not-scanned', undefined],
      ['slow:1', 'not-scanned', undefined],
      ['ok:2', 'scanned', 'CVE-2019-18224'],
    ],
  );
});

test('no database: the first failure says so for every image, without running trivy again', async () => {
  const log = path.join(work, 'nodb.log');
  const bin = fakeTrivy('trivy-b', `echo run >> '${log}'\necho 'FATAL Fatal error: init error: DB error: failed to download vulnerability DB' >&2\nexit 1`);
  const r = await scanImages(['a:1', 'b:1', 'c:1'], { bin, concurrency: 1 });
  assert.deepEqual(
    r.map((x) => x.status),
    ['not-scanned', 'not-scanned', 'not-scanned'],
  );
  assert.ok(r.every((x) => x.reason?.startsWith('no vulnerability database')));
  assert.equal(readFileSync(log, 'utf8').trim().split('\n').length, 1);
});

test('trivy missing: every image says how to get it', async () => {
  const r = await scanImages(['a:1'], { bin: path.join(work, 'no-such-trivy') });
  assert.equal(r[0].status, 'not-scanned');
  assert.match(r[0].reason!, /trivy is not on PATH: install it/);
});
