// The network area against the real API server (a private test bed), through the real CLI:
// - bookinfo in a namespace: default-deny both ways plus DNS and same-namespace allows; the preview's
//   impact table lists the paths lost; the impact (lost, kept, opened) and the verdicts on the live
//   policies agree with cyclonus (an independent evaluator) on the real pods; audit before and after;
//   rollback removes exactly what was created.
// - a namespace with existing allow policies: the plan keeps them, adds only what is missing, and the
//   preview says what it reused.
// - the CNI: none on the bed ("no CNI detected"), then a Flannel DaemonSet: a high finding.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { NetworkFacts } from '../../src/areas/network/inspect.js';
import { compileModel, evaluateCompiled, type NamespaceInfo, type NetworkPolicy, type Peer, type Protocol } from '../../src/areas/network/evaluate.js';
import { impactOf, policiesAfter, UNDECLARED } from '../../src/areas/network/impact.js';
import { dnsPeers, OUTSIDE, OUTSIDE_PORTS, peerOfGroup } from '../../src/areas/network/model.js';
import { withDefaults, type Answers, type Inspection } from '../../src/areas/types.js';
import { builtinByKind } from '../../src/cluster/resources.js';
import type { KubeObject } from '../../src/cluster/types.js';
import { Session } from '../../src/session.js';
import { createObject, pollUntil } from '../cluster/testbed.js';
import { auditOffset, auditSince, BOOKINFO, MUTATING, namespaceState, runCli, seedFixture, tempHome, uniqueNs, withCluster } from '../helpers.js';
import { FOR_CYCLONUS, parseProbe, parseQueryTraffic, rewritePolicies, startCyclonus, type Cyclonus } from './cyclonus.js';

const t = withCluster();
const NAME_LABEL = 'kubernetes.io/metadata.name';

const BOTH = { 'network.defaultDeny': 'both', 'network.allow': ['dns', 'same-namespace'] };

function profileFile(home: string, answers: Answers): string {
  const file = path.join(home, 'network.yaml');
  const lines = Object.entries(answers).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`);
  writeFileSync(file, `version: 1\nname: network-test\nareas: [network]\nanswers:\n${lines.join('\n')}\n`);
  return file;
}

async function seedBookinfo(ns: string): Promise<void> {
  await seedFixture(t.bed, BOOKINFO, ns);
  await pollUntil('6 bookinfo pods with IPs', async () => {
    const pods = await t.cluster.list(builtinByKind('Pod'), { namespace: ns });
    return pods.length === 6 && pods.every((p) => (p.status as { podIP?: string } | undefined)?.podIP) ? pods : undefined;
  });
}

const policiesIn = async (ns: string) =>
  (await t.cluster.list(builtinByKind('NetworkPolicy'), { namespace: ns })) as unknown as Array<NetworkPolicy & KubeObject>;

/** The network area's inspection and plan for some answers, in-process (as the CLI computes them). */
async function planInProcess(ns: string, given: Answers) {
  const session = await Session.open({ kubeconfig: t.bed.kubeconfig, areas: ['network'], namespaces: [ns], preview: true });
  try {
    await session.inspect();
    const state = session.state('network');
    const answers = withDefaults(state.questions, given);
    const changes = session.plan(answers);
    return { facts: (state.inspection as Inspection<NetworkFacts>).facts, answers, changes };
  } finally {
    await session.close();
  }
}

interface Conn {
  src: Peer;
  dst: Peer;
  port: number;
  protocol: Protocol;
}

/** cyclonus's verdicts on connections (query-traffic mode), the policies rewritten to Kubernetes' selector semantics. */
async function cyclonusAllows(cyc: Cyclonus, tag: string, namespaces: NamespaceInfo[], policies: NetworkPolicy[], conns: Conn[]): Promise<boolean[]> {
  const labelsOf = (ns: string) => ({ ...(namespaces.find((n) => n.name === ns)?.labels ?? {}), [NAME_LABEL]: ns });
  const end = (p: Peer) =>
    p.kind === 'pod' ? { Internal: { PodLabels: p.labels, NamespaceLabels: labelsOf(p.namespace), Namespace: p.namespace }, IP: p.ip ?? '' } : { IP: p.ip };
  const traffic = conns.map((c) => ({
    Source: end(c.src),
    Destination: end(c.dst),
    ResolvedPort: c.port,
    ResolvedPortName: c.dst.kind === 'pod' ? (c.dst.ports?.find((p) => p.containerPort === c.port && (p.protocol ?? 'TCP') === c.protocol)?.name ?? '') : '',
    Protocol: c.protocol,
  }));
  const file = path.join(cyc.dir, `traffic-${tag}.json`);
  await writeFile(file, JSON.stringify(traffic));
  const dir = await cyc.writePolicies(`policies-${tag}`, rewritePolicies(policies, FOR_CYCLONUS, true));
  const verdicts = parseQueryTraffic(await cyc.run(['--mode', 'query-traffic', '--policy-path', dir, '--traffic-path', file]));
  assert.equal(verdicts.length, conns.length, 'one cyclonus verdict per connection');
  return verdicts.map((v) => v.allowed);
}

const pathKey = (from: string, to: string, port: string) => `${from} -> ${to} ${port}`;
const keyOf = (p: Peer) => (p.kind === 'pod' ? `${p.namespace}/${p.name}` : p.ip);

test('bookinfo: default-deny both ways with DNS and same-namespace allows; impact and verdicts agree with cyclonus; rollback removes exactly what was created', async () => {
  const ns = uniqueNs('net-bookinfo');
  await seedBookinfo(ns);
  const home = tempHome();
  const profile = profileFile(home, BOTH);
  const K = t.bed.kubeconfig;
  const before = await namespaceState(t.cluster, ns);

  // audit: both directions open, and no CNI to enforce anything on the bed
  const audit0 = await runCli(['audit', '--output', 'json', '--areas', 'network', '--kubeconfig', K, '--namespaces', ns], { home });
  assert.equal(audit0.code, 0, audit0.stderr);
  const findings0 = (JSON.parse(audit0.stdout) as { findings: Array<{ rule: string; ref: { name: string }; message: string }> }).findings;
  assert.deepEqual(
    findings0
      .filter((f) => f.ref.name === ns)
      .map((f) => f.rule)
      .sort(),
    ['defaultDenyEgress', 'defaultDenyIngress'],
  );
  assert.match(findings0.find((f) => f.rule === 'defaultDenyIngress')!.message, /6 of 6 pod\(s\) accept connections from any pod or address/);
  assert.ok(findings0.some((f) => f.rule === 'cniUnknown' && /no CNI detected: policies may not be enforced/.test(f.message)));

  // the preview: the plan, the impact table, nothing written
  const preview = await runCli(['apply', '--profile', profile, '--preview', '--kubeconfig', K, '--namespaces', ns], { home });
  assert.equal(preview.code, 0, preview.stderr);
  const out = preview.stdout;
  assert.match(out, /preview only: 5 change\(s\), 0 failed the dry-run/);
  assert.match(out, /no CNI detected: policies may not be enforced/);
  assert.match(out, new RegExp(`Network paths in ${ns}`));
  assert.match(out, /pod groups: details ×1, productpage ×1, ratings ×1, reviews\[version=v1\] ×1, reviews\[version=v2\] ×1, reviews\[version=v3\] ×1/);
  assert.match(out, /lost:\n\s+FROM\s+TO\s+PORTS/);
  assert.match(out, /outside \(203\.0\.113\.10\)[^\n]*\s+all 6 pod groups\s+TCP\/9080/, 'the outside loses its way in');
  assert.match(out, /all 6 pod groups\s+API server 10\.96\.0\.1, outside \(203\.0\.113\.10\)\s+TCP\/443/, 'the pods lose their way out');
  assert.doesNotMatch(out, /all 6 pod groups\s+all 6 pod groups/, 'same-namespace traffic is kept');
  assert.equal((await policiesIn(ns)).length, 0, 'the preview wrote nothing');

  // The same plan in-process: the impact, checked path by path against cyclonus.
  const { facts, changes } = await planInProcess(ns, BOTH);
  const after = policiesAfter(facts.policies, changes);
  const impact = impactOf(facts, facts.policies, after, ns);
  const cyc = await startCyclonus();
  try {
    const groups = facts.groups.map(peerOfGroup);
    const apis = [...new Set(facts.apiServer.addresses.map((a) => a.ip))].map((ip): Peer => ({ kind: 'external', ip }));
    const dns = dnsPeers(facts.dns, facts.groups).filter((p) => !facts.groups.some((g) => g.id === keyOf(p)));
    const inNs = (p: Peer) => p.kind === 'pod' && p.namespace === ns && !dns.includes(p);
    const portsOf = (p: Peer) =>
      p.kind === 'pod'
        ? p.ports?.length
          ? p.ports.map((c) => ({ port: c.containerPort, protocol: (c.protocol ?? 'TCP') as Protocol }))
          : [UNDECLARED]
        : p === OUTSIDE
          ? OUTSIDE_PORTS.map((x) => ({ port: Number(x.port), protocol: x.protocol }))
          : facts.apiServer.addresses.filter((a) => a.ip === p.ip).map((a) => ({ port: a.port, protocol: 'TCP' as Protocol }));
    const sources = [...groups, OUTSIDE, ...apis.filter((a) => a.kind === 'external' && facts.apiServer.endpoints.includes(a.ip))];
    const destinations = [...groups, ...dns, OUTSIDE, ...apis];
    const conns: Conn[] = [];
    for (const src of sources)
      for (const dst of destinations) {
        if (src === dst && src.kind !== 'pod') continue;
        if (!inNs(src) && !inNs(dst)) continue;
        if (src.kind !== 'pod' && dst.kind !== 'pod') continue;
        for (const p of portsOf(dst)) conns.push({ src, dst, ...p });
      }
    const cBefore = await cyclonusAllows(cyc, 'before', facts.namespaceInfos, facts.policies, conns);
    const cAfter = await cyclonusAllows(cyc, 'after', facts.namespaceInfos, after, conns);
    const theirs = { lost: new Set<string>(), gained: new Set<string>(), kept: 0 };
    conns.forEach((c, i) => {
      const k = pathKey(keyOf(c.src), keyOf(c.dst), `${c.protocol}/${c.port}`);
      if (cBefore[i] && !cAfter[i]) theirs.lost.add(k);
      if (!cBefore[i] && cAfter[i]) theirs.gained.add(k);
      if (cBefore[i] && cAfter[i]) theirs.kept++;
    });
    const ours = {
      lost: new Set(impact.diff.lost.map((p) => pathKey(p.from, p.to, p.port))),
      gained: new Set(impact.diff.gained.map((p) => pathKey(p.from, p.to, p.port))),
      kept: impact.diff.kept,
    };
    assert.deepEqual([...ours.lost].sort(), [...theirs.lost].sort(), 'the paths lost');
    assert.deepEqual([...ours.gained].sort(), [...theirs.gained].sort(), 'the paths opened');
    assert.equal(ours.kept, theirs.kept, 'the paths kept');
    assert.ok(theirs.lost.size >= 18 && theirs.kept >= 36, `a real impact: ${theirs.lost.size} lost, ${theirs.kept} kept`);
    // DNS stays reachable from every pod, by both evaluators
    const dnsConns = conns.filter((c) => dns.includes(c.dst));
    assert.ok(dnsConns.length >= 12);
    for (const c of dnsConns) assert.ok(cAfter[conns.indexOf(c)], `cyclonus: ${keyOf(c.src)} reaches DNS on ${c.protocol}/${c.port}`);

    // apply for real
    const applied = await runCli(['apply', '--profile', profile, '--yes', '--kubeconfig', K, '--namespaces', ns], { home });
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /applied 5 change\(s\)/);
    const id = /snapshot (\S+); undo with: kube-harden rollback \1/.exec(applied.stdout)?.[1];
    assert.ok(id, applied.stdout);
    const live = await policiesIn(ns);
    assert.deepEqual(live.map((p) => p.metadata.name).sort(), [
      'allow-dns-egress',
      'allow-same-namespace-egress',
      'allow-same-namespace-ingress',
      'default-deny-egress',
      'default-deny-ingress',
    ]);
    for (const p of live) assert.equal(p.metadata.labels?.['app.kubernetes.io/managed-by'], 'kube-harden');

    // the verdicts on the live policies and the real pods (each pod, not groups), by cyclonus's probe mode
    const pods = await t.cluster.list(builtinByKind('Pod'), { namespace: ns });
    const allPolicies = (await t.cluster.list(builtinByKind('NetworkPolicy'))) as unknown as NetworkPolicy[];
    const nsInfos: NamespaceInfo[] = facts.namespaceInfos;
    const real = pods.map((p): Extract<Peer, { kind: 'pod' }> => {
      const spec = p.spec as { containers: Array<{ ports?: Array<{ containerPort: number; name?: string; protocol?: string }> }> };
      return {
        kind: 'pod',
        namespace: ns,
        name: p.metadata.name,
        labels: p.metadata.labels ?? {},
        ip: (p.status as { podIP: string }).podIP,
        ports: spec.containers.flatMap((c) => c.ports ?? []),
      };
    });
    const keys = real.map((p) => `${p.namespace}/${p.name}`).sort();
    const byKey = new Map(real.map((p) => [`${p.namespace}/${p.name}`, p]));
    const probeFile = path.join(cyc.dir, 'probe.json');
    await writeFile(
      probeFile,
      JSON.stringify({
        Resources: {
          Namespaces: Object.fromEntries(nsInfos.map((n) => [n.name, { ...(n.labels ?? {}), [NAME_LABEL]: n.name }])),
          Pods: real.map((p) => ({
            Namespace: p.namespace,
            Name: p.name,
            Labels: p.labels,
            IP: p.ip,
            Containers: (p.ports ?? []).map((c, i) => ({ Name: `c${i}`, Port: c.containerPort, Protocol: c.protocol ?? 'TCP', PortName: c.name ?? '' })),
          })),
        },
        Probes: [{ Port: 9080, Protocol: 'TCP' }],
      }),
    );
    const policyDir = await cyc.writePolicies('live', rewritePolicies(allPolicies, FOR_CYCLONUS, true));
    const [tables] = parseProbe(await cyc.run(['--mode', 'probe', '--policy-path', policyDir, '--probe-path', probeFile]), keys, 1);
    const m = compileModel({ namespaces: nsInfos, policies: allPolicies });
    let cells = 0;
    keys.forEach((fk, i) =>
      keys.forEach((tk, j) => {
        const ours = evaluateCompiled(m, byKey.get(fk)!, byKey.get(tk)!, 9080, 'TCP');
        assert.equal(tables.combined[i][j], ours.allowed ? '.' : 'X', `${fk} -> ${tk}`);
        assert.equal(tables.ingress[i][j], ours.ingress.allowed ? '.' : 'X');
        assert.equal(tables.egress[i][j], ours.egress.allowed ? '.' : 'X');
        cells++;
      }),
    );
    assert.equal(cells, 36);
  } finally {
    await cyc.close();
  }

  // audit again: both directions denied by default now
  const audit1 = await runCli(['audit', '--output', 'json', '--areas', 'network', '--kubeconfig', K, '--namespaces', ns], { home });
  const findings1 = (JSON.parse(audit1.stdout) as { findings: Array<{ rule: string; ref: { name: string } }> }).findings;
  assert.deepEqual(
    findings1.filter((f) => f.ref.name === ns),
    [],
  );

  // rollback: exactly the five policies go, nothing else is written
  const offset = auditOffset(t.bed);
  const rolled = await runCli(['rollback', '--yes', '--kubeconfig', K], { home });
  assert.equal(rolled.code, 0, rolled.stderr);
  assert.match(rolled.stdout, /5 restored/);
  assert.deepEqual(await policiesIn(ns), []);
  assert.deepEqual(await namespaceState(t.cluster, ns), before);
  const writes = auditSince(t.bed, offset).filter(
    (e) => MUTATING.has(e.verb) && e.stage === 'ResponseComplete' && e.userAgent?.startsWith('kube-harden/') && !/dryRun=All/.test(e.requestURI),
  );
  assert.deepEqual(writes.map((e) => `${e.verb} ${e.requestURI.split('?')[0]}`).sort(), [
    `delete /apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/allow-dns-egress`,
    `delete /apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/allow-same-namespace-egress`,
    `delete /apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/allow-same-namespace-ingress`,
    `delete /apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/default-deny-egress`,
    `delete /apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/default-deny-ingress`,
  ]);
});

test('existing allow policies: the plan keeps them, adds only what is missing, and the preview says so', async () => {
  const ns = uniqueNs('net-existing');
  await seedBookinfo(ns);
  const K = t.bed.kubeconfig;
  const mine = [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-same-namespace', namespace: ns },
      spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: {} }] }] },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'productpage-public', namespace: ns },
      spec: { podSelector: { matchLabels: { app: 'productpage' } }, ingress: [{ ports: [{ port: 9080 }] }] },
    },
  ];
  for (const p of mine) await createObject(K, p, ns);
  const existing = await policiesIn(ns);
  const versions = Object.fromEntries(existing.map((p) => [p.metadata.name, p.metadata.resourceVersion]));
  const home = tempHome();
  const profile = profileFile(home, BOTH);

  const preview = await runCli(['apply', '--profile', profile, '--preview', '--kubeconfig', K, '--namespaces', ns], { home });
  assert.equal(preview.code, 0, preview.stderr);
  const out = preview.stdout;
  assert.match(out, /preview only: 3 change\(s\)/);
  assert.match(out, new RegExp(`reused existing networkpolicy/allow-same-namespace in ${ns}: it already does what default-deny-ingress would`));
  assert.match(out, new RegExp(`reused existing networkpolicy/allow-same-namespace in ${ns}: it already does what allow-same-namespace-ingress would`));
  assert.match(out, /kept as they are: networkpolicy\/allow-same-namespace, networkpolicy\/productpage-public/);
  // Ingress was already isolated by the existing policies: no way into the namespace is lost (productpage
  // stays public); only the ways out are.
  const section = out.slice(out.indexOf(`Network paths in ${ns}`));
  const table = section.slice(section.indexOf('lost:\n')).split('\n').slice(2);
  const rows = table
    .slice(
      0,
      table.findIndex((l) => !/^ {6}\S/.test(l)),
    )
    .map((l) => l.trim().split(/\s{2,}/));
  assert.ok(rows.length >= 1, section);
  for (const [from, to] of rows) {
    assert.match(from, /^all 6 pod groups$/, section);
    assert.doesNotMatch(to, /×\d|pod groups/, section);
  }
  assert.match(out, /all 6 pod groups\s+API server 10\.96\.0\.1, outside \(203\.0\.113\.10\)\s+TCP\/443/);

  const applied = await runCli(['apply', '--profile', profile, '--yes', '--kubeconfig', K, '--namespaces', ns], { home });
  assert.equal(applied.code, 0, applied.stderr);
  assert.match(applied.stdout, /applied 3 change\(s\)/);
  const live = await policiesIn(ns);
  assert.deepEqual(live.map((p) => p.metadata.name).sort(), [
    'allow-dns-egress',
    'allow-same-namespace',
    'allow-same-namespace-egress',
    'default-deny-egress',
    'productpage-public',
  ]);
  for (const p of live.filter((x) => x.metadata.name in versions))
    assert.equal(p.metadata.resourceVersion, versions[p.metadata.name], `${p.metadata.name} untouched`);

  // a second run plans nothing: what it wants now exists
  const again = await runCli(['apply', '--profile', profile, '--preview', '--kubeconfig', K, '--namespaces', ns], { home });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /nothing to change/);

  const rolled = await runCli(['rollback', '--yes', '--kubeconfig', K], { home });
  assert.equal(rolled.code, 0, rolled.stderr);
  const left = await policiesIn(ns);
  assert.deepEqual(Object.fromEntries(left.map((p) => [p.metadata.name, p.metadata.resourceVersion])), versions);
});

test('the CNI: a Flannel DaemonSet alone is a high finding and the review says the policies would do nothing', async () => {
  const ns = uniqueNs('net-flannel');
  await seedBookinfo(ns);
  const K = t.bed.kubeconfig;
  const flannelNs = uniqueNs('kube-flannel');
  await t.cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: flannelNs } });
  await createObject(
    K,
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'kube-flannel-ds', namespace: flannelNs },
      spec: {
        selector: { matchLabels: { app: 'flannel' } },
        template: { metadata: { labels: { app: 'flannel' } }, spec: { containers: [{ name: 'kube-flannel', image: 'ghcr.io/flannel-io/flannel:v0.26.1' }] } },
      },
    },
    flannelNs,
  );
  try {
    const home = tempHome();
    const audit = await runCli(['audit', '--output', 'json', '--areas', 'network', '--kubeconfig', K, '--namespaces', ns], { home });
    assert.equal(audit.code, 0, audit.stderr);
    const findings = (JSON.parse(audit.stdout) as { findings: Array<{ rule: string; severity: string; message: string; ref: { name: string } }> }).findings;
    const f = findings.find((x) => x.rule === 'cniNoEnforcement');
    assert.ok(f, JSON.stringify(findings));
    assert.equal(f.severity, 'high');
    assert.equal(f.ref.name, 'kube-flannel-ds');
    assert.match(f.message, /Flannel does not enforce NetworkPolicy: every policy of the cluster does nothing/);
    assert.ok(!findings.some((x) => x.rule === 'cniUnknown'));
    const preview = await runCli(
      ['apply', '--profile', profileFile(home, { 'network.defaultDeny': 'ingress' }), '--preview', '--kubeconfig', K, '--namespaces', ns],
      { home },
    );
    assert.equal(preview.code, 0, preview.stderr);
    assert.match(preview.stdout, /network: These policies will NOT be enforced\n\s+CNI: Flannel DOES NOT ENFORCE NetworkPolicy/);
  } finally {
    await t.cluster.delete({ apiVersion: 'v1', kind: 'Namespace', name: flannelNs });
  }
});
