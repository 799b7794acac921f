// The whole guided session over all six areas, in a real pty, on the demo's cluster: walk every area, go
// back twice, review once, decline, save the answers. Then the saved profile, replayed with
// `apply --profile --yes` on that cluster and on a fresh copy of it, plans what the session planned and
// leaves both clusters in the same state.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { Cluster } from '../../src/cluster/client.js';
import { builtinByKind } from '../../src/cluster/resources.js';
import type { KubeObject } from '../../src/cluster/types.js';
import { demoDataDir, parseDocs, seed } from '../../src/commands/demo.js';
import { manifestFlags } from '../../src/engine/gates.js';
import { normalise } from '../../src/engine/normalise.js';
import { privateTestbed, type Testbed } from '../cluster/testbed.js';
import { runCli, tempHome } from '../helpers.js';
import { spawnCli } from './pty.js';

const DEMO_NAMESPACES = ['bookinfo', 'legacy', 'shop'];

async function demoCluster(): Promise<Testbed> {
  const bed = await privateTestbed({ staticApiserver: true, apiserverArgs: ['--profiling=true'] });
  const c = await Cluster.connect({ kubeconfig: bed.kubeconfig });
  try {
    await seed(c, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bookinfo' } }]);
    const data = (f: string) => parseDocs(readFileSync(path.join(demoDataDir(), f), 'utf8'));
    await seed(c, data('bookinfo/bookinfo.yaml'), 'bookinfo');
    await seed(c, data('bookinfo/bookinfo-ingress.yaml'), 'bookinfo');
    await seed(c, data('extras.yaml'));
  } finally {
    await c.close();
  }
  return bed;
}

/** What the areas can change, normalised, with what differs between two beds by construction left out. */
async function state(bed: Testbed): Promise<Record<string, unknown>> {
  const c = await Cluster.connect({ kubeconfig: bed.kubeconfig });
  const out: Record<string, unknown> = {};
  const keep = (o: KubeObject) => {
    const n = normalise(o) as KubeObject & { secrets?: unknown };
    delete n.secrets;
    out[`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`] = n;
  };
  try {
    for (const ns of DEMO_NAMESPACES) {
      for (const kind of ['Deployment', 'CronJob', 'NetworkPolicy', 'RoleBinding', 'Ingress', 'ServiceAccount']) {
        for (const o of await c.list(builtinByKind(kind), { namespace: ns })) keep(o);
      }
      keep(await c.get({ apiVersion: 'v1', kind: 'Namespace', name: ns }));
    }
    for (const kind of ['ClusterRoleBinding', 'ClusterRole']) {
      for (const o of await c.list(builtinByKind(kind))) if (/^(demo-|kube-harden)/.test(o.metadata.name)) keep(o);
    }
    for (const kind of ['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']) {
      const t = await c.typeOf('admissionregistration.k8s.io/v1', kind);
      for (const o of await c.list(t)) if (o.metadata.name.startsWith('kube-harden')) keep(o);
    }
    // The API server's flags, without those that name the bed's own ports and folders.
    const flags = manifestFlags(readFileSync(bed.apiserverManifest!, 'utf8'));
    out.apiserverFlags = Object.fromEntries(Object.entries(flags).filter(([k, v]) => !/127\.0\.0\.1|\/tmp\/|^\//.test(v) && k !== 'secure-port'));
  } finally {
    await c.close();
  }
  return out;
}

const planLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => /^[~+-] /.test(l))
    .map((l) => l.replace(/ \[.*$/, '').replace(/file \/\S+kube-apiserver\.yaml/, 'file kube-apiserver.yaml'))
    .sort();

test('a whole session over six areas: walk, back twice, decline, save; the profile replays the same plan and end state on a fresh copy', async () => {
  const [a, b] = [await demoCluster(), await demoCluster()];
  const home = tempHome();
  const term = spawnCli(['--kubeconfig', a.kubeconfig, '--apiserver-manifest', a.apiserverManifest!], { KUBE_HARDEN_HOME: home }, { cols: 120, rows: 40 });
  after(() => term.kill());

  await term.waitFor(/Which areas should the session walk\?/);
  term.mark();
  await term.write('a'); // every area (tls has nothing fixable without helm: chosen anyway)
  await term.waitFor(/6 of 6 selected/);
  term.mark();
  await term.write('\r');

  const walked: string[] = [];
  let backInArea = false;
  let backAcrossAreas = false;
  let review = 0;
  for (let step = 0; step < 200; step++) {
    const screen = await term.waitFor(
      /question \d+ of \d+ · [^·\n]+ · \S+|^[^\n:]+: \d+ changes?\b|Review: \d+ changes?|type the context name|Apply \d+ changes? to/m,
      60_000,
    );
    const last = (re: RegExp) => {
      const all = [...screen.matchAll(new RegExp(re.source, `${re.flags.replace('g', '')}g`))];
      return all.length ? { m: all.at(-1)!, at: all.at(-1)!.index! } : undefined;
    };
    const q = last(/question (\d+) of (\d+) · ([^·\n]+) · (\S+)/);
    const plan = last(/^(.+): (\d+) changes?\b/m);
    const rev = last(/Review: (\d+) changes?/);
    const confirm = last(/type the context name|Apply \d+ changes? to/);
    const latest = [q, rev, confirm, plan].filter((x) => x).sort((x, y) => y!.at - x!.at)[0]!;
    term.mark();
    if (latest === confirm) {
      await term.write('\u001b'); // Esc: do not apply
      break;
    }
    if (latest === rev) {
      review = Number(rev!.m[1]);
      await term.write('\r');
      continue;
    }
    if (latest === q) {
      const [, index, , area, id] = q!.m;
      if (!walked.includes(area.trim())) walked.push(area.trim());
      if (!backInArea && id.startsWith('rbac.') && index === '2') {
        backInArea = true;
        await term.write('\u001b[D'); // ←: back to the first question, its answer kept
        continue;
      }
      if (!backAcrossAreas && id.startsWith('network.') && index === '1') {
        backAcrossAreas = true;
        await term.write('\u001b[D'); // ←: back to the previous area's plan
        continue;
      }
      await term.write('\r');
      continue;
    }
    await term.write('\r'); // an area's plan: continue
  }
  assert.ok(backInArea && backAcrossAreas, 'went back twice');
  assert.deepEqual(walked, ['RBAC: who may do what', 'API server', 'TLS certificates', 'Network policies', 'Pod security', 'Images']);
  assert.ok(review > 10, `the review had ${review} changes`);
  await term.waitFor(/Save these answers as a profile/);
  await term.write('session\r');
  const { exitCode } = await term.exit;
  assert.equal(exitCode, 0, term.text().slice(-3000));
  assert.match(term.text(), /not applied: nothing was written to the cluster/);
  const show = await runCli(['profiles', 'show', 'session'], { home });
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /areas:\n {2}- rbac\n {2}- apiserver\n {2}- tls\n {2}- network\n {2}- workloads\n {2}- images/);

  // Replayed: the same plan on both clusters, the same number of changes as the session reviewed.
  const previewA = await runCli(['apply', '--profile', 'session', '--preview', '--kubeconfig', a.kubeconfig, '--apiserver-manifest', a.apiserverManifest!], {
    home,
  });
  const previewB = await runCli(['apply', '--profile', 'session', '--preview', '--kubeconfig', b.kubeconfig, '--apiserver-manifest', b.apiserverManifest!], {
    home,
  });
  assert.equal(previewA.code, 0, previewA.stderr);
  assert.equal(previewB.code, 0, previewB.stderr);
  assert.equal(planLines(previewA.stdout).length, review);
  assert.deepEqual(planLines(previewB.stdout), planLines(previewA.stdout));

  // Applied on both: the same end state.
  for (const bed of [a, b]) {
    const r = await runCli(['apply', '--profile', 'session', '--yes', '--kubeconfig', bed.kubeconfig, '--apiserver-manifest', bed.apiserverManifest!], {
      home,
      timeoutMs: 600_000,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`applied ${review} change\\(s\\)`));
  }
  const [sa, sb] = [await state(a), await state(b)];
  assert.deepEqual(sb, sa);
  assert.equal((sa.apiserverFlags as Record<string, string>).profiling, 'false');
});
