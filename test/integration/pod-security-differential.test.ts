// Differential test: our Pod Security evaluator against the real API server's PodSecurity admission.
// Each generated pod is created with dryRun=All in namespaces that enforce baseline and restricted at
// `latest` and at pinned versions; the server's verdict (allowed or refused), the names of the failed
// checks, and the full refusal text must equal ours for every pod in every namespace.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pMap from 'p-map';
import { Cluster, isClusterError, type KubeObject } from '../../src/cluster/client.js';
import {
  asAdmittedPod,
  checksFor,
  evaluatePodSecurity,
  MAX_POLICY_MINOR,
  POD_SECURITY_CHECKS,
  podSecurityRefusal,
  type PodSecurityInput,
} from '../../src/areas/workloads/pod-security.js';
import { sharedTestbed } from '../cluster/testbed.js';
import { catalog, randomPods, type GeneratedPod } from './pod-security-specs.js';

const SEED = 0x5eed;
const RANDOM_PODS = 480;
const LEVELS = ['baseline', 'restricted'] as const;
/**
 * latest, and pinned versions on each side of the policy's changes: allowPrivilegeEscalation (1.8),
 * seccomp fields (1.19), capabilities (1.22), runAsUser (1.23), Windows exemptions (1.25), sysctls
 * (1.27, 1.29, 1.32), SELinux container_engine_t (1.31), probe and lifecycle hosts (1.34).
 */
const VERSIONS = ['latest', 'v1.7', 'v1.18', 'v1.22', 'v1.24', 'v1.27', 'v1.30', 'v1.33'];

interface Bed {
  level: (typeof LEVELS)[number];
  version: string;
  namespace: string;
}

let cluster: Cluster;
const beds: Bed[] = [];
const run = `${process.pid}-${Date.now().toString(36).slice(-5)}`;

before(async () => {
  const tb = await sharedTestbed();
  cluster = await Cluster.connect({ kubeconfig: tb.kubeconfig, concurrency: 8 });
  for (const level of LEVELS) {
    for (const version of VERSIONS) {
      const namespace = `psa-${level.slice(0, 4)}-${version.replace('.', '-')}-${run}`;
      await cluster.create({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: namespace,
          labels: { 'pod-security.kubernetes.io/enforce': level, 'pod-security.kubernetes.io/enforce-version': version },
        },
      });
      beds.push({ level, version, namespace });
    }
  }
  // The ServiceAccount admission plugin (before PodSecurity) refuses pods until `default` exists.
  await pMap(beds, async (b) => {
    const deadline = Date.now() + 60_000;
    while (!(await cluster.tryGet({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: b.namespace, name: 'default' }))) {
      if (Date.now() > deadline) throw new Error(`no default ServiceAccount in ${b.namespace} after 60 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });
});

after(async () => {
  if (!cluster) return;
  await pMap(beds, (b) => cluster.delete({ apiVersion: 'v1', kind: 'Namespace', name: b.namespace }).catch(() => undefined), { concurrency: 4 });
  await cluster.close();
});

/** The check ids the server named: its refusal text split at the reasons of the checks run at this level/version. */
function serverCheckNames(text: string, level: 'baseline' | 'restricted', version: string): string[] | undefined {
  const minor = version === 'latest' ? MAX_POLICY_MINOR : Math.min(Number(version.slice(3)), MAX_POLICY_MINOR);
  const plan = checksFor(level, minor);
  // Every reason a check can give, with the check id (reasons are distinct within one plan).
  const REASONS: Record<string, string> = {
    'host namespaces': 'hostNamespaces',
    privileged: 'privileged',
    'non-default capabilities': 'capabilities_baseline',
    'hostPath volumes': 'hostPathVolumes',
    hostPort: 'hostPorts',
    'probe or lifecycle host': 'hostProbesAndHostLifecycle',
    'forbidden AppArmor profiles': 'appArmorProfile',
    'forbidden AppArmor profile': 'appArmorProfile',
    seLinuxOptions: 'seLinuxOptions',
    procMount: 'procMount',
    seccompProfile: plan.some((p) => p.id === 'seccompProfile_restricted') ? 'seccompProfile_restricted' : 'seccompProfile_baseline',
    'forbidden sysctls': 'sysctls',
    hostProcess: 'windowsHostProcess',
    'allowPrivilegeEscalation != false': 'allowPrivilegeEscalation',
    'unrestricted capabilities': 'capabilities_restricted',
    'restricted volume types': 'restrictedVolumes',
    'runAsNonRoot != true': 'runAsNonRoot',
    'runAsUser=0': 'runAsUser',
  };
  const reasons = Object.keys(REASONS).sort((a, b) => b.length - a.length);
  const names: string[] = [];
  let rest = text;
  while (rest.length) {
    const reason = reasons.find((r) => rest.startsWith(r) && (rest.length === r.length || rest.startsWith(`${r} (`) || rest.startsWith(`${r}, `)));
    if (!reason) return undefined;
    names.push(REASONS[reason]);
    rest = rest.slice(reason.length);
    if (rest.startsWith(' (')) {
      // the detail runs to the ")" followed by ", <a known reason>" or by the end
      let end = -1;
      for (let i = rest.indexOf(')'); i >= 0; i = rest.indexOf(')', i + 1)) {
        const after = rest.slice(i + 1);
        if (after === '' || (after.startsWith(', ') && reasons.some((r) => after.slice(2).startsWith(r)))) {
          end = i;
          break;
        }
      }
      if (end < 0) return undefined;
      rest = rest.slice(end + 1);
    }
    if (rest.startsWith(', ')) rest = rest.slice(2);
  }
  return names;
}

type Outcome = { allowed: true } | { allowed: false; text: string } | { invalid: string };

async function serverVerdict(pod: GeneratedPod, name: string, bed: Bed): Promise<Outcome> {
  const obj: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: bed.namespace, ...(Object.keys(pod.annotations).length ? { annotations: pod.annotations } : {}) },
    spec: pod.spec,
  };
  try {
    await cluster.create(obj, { dryRun: true });
    return { allowed: true };
  } catch (e) {
    const marker = `violates PodSecurity "${bed.level}:${bed.version}": `;
    if (isClusterError(e, 'Forbidden') && e.message.includes(marker)) return { allowed: false, text: e.message.slice(e.message.indexOf(marker)) };
    if (isClusterError(e)) return { invalid: `${e.kind}: ${e.message}` };
    throw e;
  }
}

test('the evaluator agrees with the API server on every generated pod, level and version', async () => {
  const pods = [...catalog(), ...randomPods(SEED, RANDOM_PODS)];
  const jobs = pods.flatMap((pod, i) => beds.map((bed) => ({ pod, i, bed })));
  const mismatches: string[] = [];
  const invalid: string[] = [];
  const stats = { compared: 0, refused: 0, exactText: 0, namesCompared: 0, defaulted: 0 };
  const refusedBy = new Map<string, number>();
  const started = Date.now();
  await pMap(
    jobs,
    async ({ pod, i, bed }) => {
      const input: PodSecurityInput = { metadata: { annotations: pod.annotations }, spec: pod.spec };
      const ours = evaluatePodSecurity(bed.level, bed.version, input);
      const server = await serverVerdict(pod, `ps-${i}`, bed);
      const where = `${bed.level}:${bed.version} ${pod.label}`;
      if ('invalid' in server) {
        invalid.push(`${where}: ${server.invalid}`);
        return;
      }
      stats.compared++;
      if (server.allowed !== (ours.length === 0)) {
        mismatches.push(
          `${where}: server ${server.allowed ? 'allowed' : `refused: ${server.text}`}; ours ${ours.length ? ours.map((x) => x.control).join(', ') : 'allowed'}`,
        );
        return;
      }
      if (server.allowed) return;
      stats.refused++;
      // Names and text: ours on the pod as admission sees it, after the server's defaults (asAdmittedPod).
      // Those defaults may only add hostPorts to a hostNetwork pod (hostPort := containerPort) and
      // reword appArmorProfile (annotation copied to the field); anything else is a mismatch.
      const admitted = evaluatePodSecurity(bed.level, bed.version, asAdmittedPod(input));
      const rawNames = ours.map((x) => x.control);
      const ourNames = admitted.map((x) => x.control);
      if (rawNames.join() !== ourNames.join()) {
        stats.defaulted++;
        const explained = pod.spec.hostNetwork === true && ourNames.filter((n) => n !== 'hostPorts').join() === rawNames.join();
        if (!explained) mismatches.push(`${where}: server defaults changed more than hostPorts: [${rawNames}] -> [${ourNames}]`);
      }
      const names = serverCheckNames(server.text.slice(server.text.indexOf('": ') + 3), bed.level, bed.version);
      if (!names || names.join() !== ourNames.join()) {
        mismatches.push(`${where}: server failed [${names ?? `unparsed: ${server.text}`}], ours [${ourNames}]`);
        return;
      }
      stats.namesCompared++;
      for (const n of names) refusedBy.set(n, (refusedBy.get(n) ?? 0) + 1);
      const expected = podSecurityRefusal(bed.level, bed.version, admitted);
      if (expected === server.text) stats.exactText++;
      else mismatches.push(`${where}: text differs\n  server: ${server.text}\n  ours:   ${expected}`);
    },
    { concurrency: 8 },
  );
  console.log(
    `pod-security differential: ${pods.length} pods x ${beds.length} namespaces (${LEVELS.join(', ')} at ${VERSIONS.join(', ')}) = ${jobs.length} dry-run creates ` +
      `in ${((Date.now() - started) / 1000).toFixed(1)} s; ${stats.compared} compared, ${stats.compared - stats.refused} allowed and ${stats.refused} refused by both, ` +
      `${stats.namesCompared} with the same failed checks (${stats.defaulted} of them only once hostNetwork's hostPort default is applied), ` +
      `${stats.exactText} with the same refusal text; ${mismatches.length} mismatches; ${invalid.length} refused by validation`,
  );
  console.log(
    `server refusals per check: ${[...refusedBy]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
  );
  if (process.env.KUBE_HARDEN_PSA_DUMP) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(process.env.KUBE_HARDEN_PSA_DUMP, JSON.stringify({ invalid, mismatches }, null, 1));
  }
  assert.deepEqual(invalid.slice(0, 20), [], `${invalid.length} generated pods did not pass the API server's validation`);
  assert.deepEqual(mismatches.slice(0, 30), [], `${mismatches.length} mismatches`);
  assert.equal(stats.compared, jobs.length);
  // Every control was seen failing on the real server (and, by the catalog, passing).
  assert.deepEqual(
    POD_SECURITY_CHECKS.map((k) => k.id).filter((id) => !refusedBy.has(id)),
    [],
  );
});
