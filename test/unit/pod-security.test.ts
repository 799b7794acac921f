// The Pod Security evaluator against the Kubernetes authors' own fixtures: every pod under
// {level}/{version}/pass must pass that level at that version, every pod under fail must fail it, and a
// fail fixture named after a check (`<check>N.yaml`) must fail that check (or, at restricted, the
// restricted check that replaces it). Fixtures: test/fixtures/pod-security (see PROVENANCE.md).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import {
  MAX_POLICY_MINOR,
  POD_SECURITY_CHECKS,
  asAdmittedPod,
  evaluatePodSecurity,
  formatPodSecurityViolations,
  parsePodSecurityVersion,
  podSecurityLevelOf,
  podSecurityRefusal,
  type PodSecurityInput,
} from '../../src/areas/workloads/pod-security.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'pod-security');

interface Fixture {
  level: 'baseline' | 'restricted';
  version: string;
  outcome: 'pass' | 'fail';
  file: string;
  pod: PodSecurityInput;
}

function loadFixtures(): Fixture[] {
  const out: Fixture[] = [];
  for (const level of ['baseline', 'restricted'] as const) {
    for (const f of readdirSync(path.join(root, level)).filter((x) => x.endsWith('.json'))) {
      const version = f.replace(/\.json$/, '');
      const doc = JSON.parse(readFileSync(path.join(root, level, f), 'utf8')) as Record<'pass' | 'fail', Record<string, string>>;
      for (const outcome of ['pass', 'fail'] as const) {
        for (const [file, text] of Object.entries(doc[outcome])) out.push({ level, version, outcome, file, pod: parse(text) });
      }
    }
  }
  return out;
}

const deepFreeze = <T>(o: T): T => {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
};

const minorOf = (version: string) => Number(version.slice(3));
const checkByLowerId = new Map(POD_SECURITY_CHECKS.map((k) => [k.id.toLowerCase(), k]));

/** The controls that may report a failure of `checkId` at this level and version (itself, or what overrides it at restricted). */
function acceptableControls(checkId: string, level: string, minor: number): Set<string> {
  const ok = new Set([checkId]);
  if (level === 'restricted') {
    for (const k of POD_SECURITY_CHECKS) {
      const def = k.versions.filter((x) => x.minimumVersion <= minor).at(-1);
      if (def?.overrides?.includes(checkId)) ok.add(k.id);
    }
  }
  return ok;
}

test('every upstream Pod Security fixture: pass passes, fail fails the check it is named after', () => {
  const fixtures = loadFixtures();
  const failures: string[] = [];
  let named = 0;
  let onlyNamed = 0;
  const counts = { pass: 0, fail: 0 };
  for (const fx of fixtures) {
    const where = `${fx.level}/${fx.version}/${fx.outcome}/${fx.file}`;
    const before = structuredClone(fx.pod);
    const violations = evaluatePodSecurity(fx.level, fx.version, deepFreeze(fx.pod));
    assert.deepEqual(fx.pod, before, `${where}: the input was changed`);
    counts[fx.outcome]++;
    if (fx.outcome === 'pass') {
      if (violations.length) failures.push(`${where}: expected to pass, got ${formatPodSecurityViolations(violations)}`);
      continue;
    }
    if (!violations.length) {
      failures.push(`${where}: expected a violation, got none`);
      continue;
    }
    const m = /^(.*?)(\d+)\.yaml$/.exec(fx.file);
    const check = m && checkByLowerId.get(m[1]);
    if (!check) continue;
    named++;
    const ok = acceptableControls(check.id, fx.level, minorOf(fx.version));
    const controls = violations.map((x) => x.control);
    if (!controls.some((c) => ok.has(c))) failures.push(`${where}: expected ${[...ok].join(' or ')}, got ${controls.join(', ')}`);
    else if (controls.every((c) => ok.has(c))) onlyNamed++;
  }
  console.log(
    `pod-security fixtures: ${fixtures.length} tested (${counts.pass} pass, ${counts.fail} fail; ${named} fail fixtures name their check, ` +
      `${onlyNamed} of them fail only that check), ${failures.length} mismatches`,
  );
  assert.deepEqual(failures, []);
  assert.equal(fixtures.length, 4093, 'the upstream v0.34.4 set has 4,093 fixtures');
  assert.equal(named, counts.fail, 'every upstream fail fixture is named after a check');
});

test('latest and any version past the newest definitions evaluate as the newest', () => {
  for (const fx of loadFixtures().filter((f) => f.version === `v1.${MAX_POLICY_MINOR}`)) {
    const expected = evaluatePodSecurity(fx.level, fx.version, fx.pod);
    assert.deepEqual(evaluatePodSecurity(fx.level, 'latest', fx.pod), expected, fx.file);
    assert.deepEqual(evaluatePodSecurity(fx.level, 'v1.99', fx.pod), expected, fx.file);
  }
});

const pod = (spec: Record<string, unknown>, annotations?: Record<string, string>): PodSecurityInput =>
  ({ metadata: { annotations }, spec: { containers: [{ name: 'app', image: 'x' }], ...spec } }) as PodSecurityInput;

test("messages are the API server's", () => {
  const p = pod({
    hostNetwork: true,
    containers: [
      {
        name: 'a',
        image: 'x',
        securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN', 'NET_RAW', 'CHOWN'] } },
        ports: [{ containerPort: 80, hostPort: 8080 }],
      },
      { name: 'b', image: 'x', securityContext: { allowPrivilegeEscalation: false, runAsUser: 0 } },
    ],
    volumes: [
      { name: 'h', hostPath: { path: '/' } },
      { name: 'n', nfs: { server: 's', path: '/' } },
    ],
  });
  assert.equal(
    podSecurityRefusal('restricted', 'latest', evaluatePodSecurity('restricted', 'latest', p)),
    'violates PodSecurity "restricted:latest": host namespaces (hostNetwork=true), hostPort (container "a" uses hostPort 8080), ' +
      'privileged (container "a" must not set securityContext.privileged=true), ' +
      'allowPrivilegeEscalation != false (container "a" must set securityContext.allowPrivilegeEscalation=false), ' +
      'unrestricted capabilities (containers "a", "b" must set securityContext.capabilities.drop=["ALL"]; container "a" must not include "CHOWN", "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add), ' +
      'restricted volume types (volumes "h", "n" use restricted volume types "hostPath", "nfs"), ' +
      'runAsNonRoot != true (pod or containers "a", "b" must set securityContext.runAsNonRoot=true), ' +
      'runAsUser=0 (container "b" must not set runAsUser=0), ' +
      'seccompProfile (pod or containers "a", "b" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
  );
  assert.deepEqual(
    evaluatePodSecurity('baseline', 'v1.30', p).map((x) => x.control),
    ['capabilities_baseline', 'hostNamespaces', 'hostPathVolumes', 'hostPorts', 'privileged'],
  );
  assert.equal(podSecurityRefusal('baseline', 'latest', []), undefined);
});

test('version-aware: sysctls, seLinux types, probe hosts, runAsUser, seccomp annotations, Windows exemptions', () => {
  const sysctl = pod({ securityContext: { sysctls: [{ name: 'net.ipv4.tcp_rmem', value: '1' }] } });
  assert.deepEqual(
    evaluatePodSecurity('baseline', 'v1.31', sysctl).map((x) => x.control),
    ['sysctls'],
  );
  assert.deepEqual(evaluatePodSecurity('baseline', 'v1.32', sysctl), []);
  const engine = pod({ securityContext: { seLinuxOptions: { type: 'container_engine_t' } } });
  assert.equal(evaluatePodSecurity('baseline', 'v1.30', engine).length, 1);
  assert.equal(evaluatePodSecurity('baseline', 'v1.31', engine).length, 0);
  const probe = pod({ containers: [{ name: 'app', image: 'x', livenessProbe: { httpGet: { host: '10.0.0.1', port: 80 } } }] });
  assert.equal(evaluatePodSecurity('baseline', 'v1.33', probe).length, 0);
  assert.deepEqual(evaluatePodSecurity('baseline', 'v1.34', probe)[0], {
    control: 'hostProbesAndHostLifecycle',
    reason: 'probe or lifecycle host',
    detail: 'container "app" uses probe or lifecycle host "10.0.0.1"',
  });
  assert.equal(evaluatePodSecurity('baseline', 'v1.33', probe, { skipProbeHostEnforcement: true }).length, 0);
  const annotated = pod({}, { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined' });
  assert.deepEqual(
    evaluatePodSecurity('baseline', 'v1.18', annotated).map((x) => x.detail),
    ['forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined"'],
  );
  assert.deepEqual(evaluatePodSecurity('baseline', 'v1.19', annotated), []);
  const restrictedish = (extra: Record<string, unknown>) =>
    pod({
      securityContext: { runAsNonRoot: true, runAsUser: 0 },
      containers: [{ name: 'app', image: 'x', securityContext: { allowPrivilegeEscalation: false } }],
      ...extra,
    });
  assert.deepEqual(evaluatePodSecurity('restricted', 'v1.18', restrictedish({})), []);
  assert.deepEqual(
    evaluatePodSecurity('restricted', 'v1.19', restrictedish({})).map((x) => x.control),
    ['seccompProfile_restricted'],
  );
  assert.deepEqual(
    evaluatePodSecurity('restricted', 'v1.23', restrictedish({})).map((x) => x.control),
    ['capabilities_restricted', 'runAsUser', 'seccompProfile_restricted'],
  );
  const windows = restrictedish({ os: { name: 'windows' }, securityContext: { runAsNonRoot: true } });
  assert.deepEqual(
    evaluatePodSecurity('restricted', 'v1.24', windows).map((x) => x.control),
    ['capabilities_restricted', 'seccompProfile_restricted'],
  );
  assert.deepEqual(evaluatePodSecurity('restricted', 'v1.25', windows), []);
  const userns = pod({ hostUsers: false, containers: [{ name: 'app', image: 'x', securityContext: { procMount: 'Unmasked' } }] });
  assert.equal(evaluatePodSecurity('baseline', 'latest', userns).length, 1);
  assert.equal(evaluatePodSecurity('baseline', 'latest', userns, { relaxPolicyForUserNamespacePods: true }).length, 0);
});

test('podSecurityLevelOf is the strictest level passed; versions parse like the namespace labels', () => {
  assert.equal(podSecurityLevelOf(pod({ hostPID: true }), 'latest'), 'privileged');
  assert.equal(podSecurityLevelOf(pod({}), 'latest'), 'baseline');
  const hardened = pod({
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{ name: 'app', image: 'x', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
  });
  assert.equal(podSecurityLevelOf(hardened, 'latest'), 'restricted');
  assert.equal(evaluatePodSecurity('privileged', 'latest', pod({ hostPID: true })).length, 0);
  assert.deepEqual(parsePodSecurityVersion('v1.30'), { latest: false, minor: 30 });
  for (const bad of ['v1.030', '1.30', 'v2.1', 'v1.', 'Latest', '']) {
    assert.equal(parsePodSecurityVersion(bad), undefined, bad);
    assert.throws(() => evaluatePodSecurity('baseline', bad, hardened), RangeError);
  }
});

test('asAdmittedPod applies the server-side defaults PSA sees, without touching its input', () => {
  const p = deepFreeze(
    pod(
      { hostNetwork: true, containers: [{ name: 'app', image: 'x', ports: [{ containerPort: 80 }] }] },
      { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' },
    ),
  );
  const admitted = asAdmittedPod(p);
  assert.deepEqual(
    evaluatePodSecurity('baseline', 'latest', admitted).map((x) => `${x.control}: ${x.detail}`),
    [
      'appArmorProfile: container "app" and annotation must not set AppArmor profile type to "Unconfined", "container.apparmor.security.beta.kubernetes.io/app="unconfined""',
      'hostNamespaces: hostNetwork=true',
      'hostPorts: container "app" uses hostPort 80',
    ],
  );
  assert.equal((p.spec.containers[0] as unknown as { ports: Array<{ hostPort?: number }> }).ports[0].hostPort, undefined);
});
