// The Pod Security Standards as the API server's PodSecurity admission enforces them: every control of
// the baseline and restricted levels, for every policy version, with the server's own check ids and
// messages. A pure evaluator (no I/O, never mutates its input) ported from the upstream policy package
// k8s.io/pod-security-admission@v0.34.4 (policy/registry.go, api/helpers.go); the controls themselves
// are in pod-security-controls.ts (helpers, baseline) and pod-security-restricted.ts. Proven equal to
// upstream's own fixtures (test/unit/pod-security.test.ts) and to a real kube-apiserver
// (test/integration/pod-security-differential.test.ts).
import type { PodSpec } from './pod-spec.js';
import * as b from './pod-security-controls.js';
import { goCompare, type CheckFn, type CheckInput, type PsaPodSpec } from './pod-security-controls.js';
import * as r from './pod-security-restricted.js';

export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

/** One failed control: the upstream check id, and the reason and detail the API server prints. */
export interface PodSecurityViolation {
  control: string;
  reason: string;
  detail: string;
}

/** A pod, or a pod template (metadata + spec). Only annotations are read from the metadata (AppArmor, seccomp before 1.19). */
export interface PodSecurityInput {
  metadata?: { annotations?: Record<string, string> | null; labels?: Record<string, string> | null } | null;
  spec: PodSpec;
}

export interface PodSecurityOptions {
  /**
   * The UserNamespacesPodSecurityStandards feature gate (alpha, off by default): pods with
   * hostUsers=false are exempt from runAsNonRoot, runAsUser and procMount. Default false, as in the server.
   */
  relaxPolicyForUserNamespacePods?: boolean;
  /** A server emulating a version before 1.34 (ProbeHostPodSecurityStandards off) skips hostProbesAndHostLifecycle. */
  skipProbeHostEnforcement?: boolean;
}

/** A policy version: `latest`, or `v1.N` (parsed like the namespace label `pod-security.kubernetes.io/*-version`). */
export type PodSecurityVersion = { latest: true } | { latest: false; minor: number };

interface VersionedCheck {
  minimumVersion: number; // minor of v1.N
  check: CheckFn;
  overrides?: string[];
}

export interface PodSecurityCheck {
  id: string;
  level: 'baseline' | 'restricted';
  versions: VersionedCheck[];
}

const v = (minor: number, check: CheckFn, overrides?: string[]): VersionedCheck => ({ minimumVersion: minor, check, overrides });

/** The checks and their versions, as registered upstream (policy/check_*.go). */
export const POD_SECURITY_CHECKS: readonly PodSecurityCheck[] = [
  { id: 'allowPrivilegeEscalation', level: 'restricted', versions: [v(8, r.allowPrivilegeEscalation_1_8), v(25, r.allowPrivilegeEscalation_1_25)] },
  { id: 'appArmorProfile', level: 'baseline', versions: [v(0, b.appArmorProfile_1_0)] },
  { id: 'capabilities_baseline', level: 'baseline', versions: [v(0, b.capabilitiesBaseline_1_0)] },
  {
    id: 'capabilities_restricted',
    level: 'restricted',
    versions: [v(22, r.capabilitiesRestricted_1_22, ['capabilities_baseline']), v(25, r.capabilitiesRestricted_1_25, ['capabilities_baseline'])],
  },
  { id: 'hostNamespaces', level: 'baseline', versions: [v(0, b.hostNamespaces_1_0)] },
  { id: 'hostPathVolumes', level: 'baseline', versions: [v(0, b.hostPathVolumes_1_0)] },
  { id: 'hostPorts', level: 'baseline', versions: [v(0, b.hostPorts_1_0)] },
  { id: 'hostProbesAndHostLifecycle', level: 'baseline', versions: [v(34, b.hostProbesAndHostLifecycle_1_34)] },
  { id: 'privileged', level: 'baseline', versions: [v(0, b.privileged_1_0)] },
  { id: 'procMount', level: 'baseline', versions: [v(0, b.procMount_1_0)] },
  { id: 'restrictedVolumes', level: 'restricted', versions: [v(0, r.restrictedVolumes_1_0, ['hostPathVolumes'])] },
  { id: 'runAsNonRoot', level: 'restricted', versions: [v(0, r.runAsNonRoot_1_0)] },
  { id: 'runAsUser', level: 'restricted', versions: [v(23, r.runAsUser_1_23)] },
  { id: 'seLinuxOptions', level: 'baseline', versions: [v(0, b.seLinuxOptions_1_0), v(31, b.seLinuxOptions_1_31)] },
  { id: 'seccompProfile_baseline', level: 'baseline', versions: [v(0, b.seccompProfileBaseline_1_0), v(19, b.seccompProfileBaseline_1_19)] },
  {
    id: 'seccompProfile_restricted',
    level: 'restricted',
    versions: [v(19, r.seccompProfileRestricted_1_19, ['seccompProfile_baseline']), v(25, r.seccompProfileRestricted_1_25, ['seccompProfile_baseline'])],
  },
  { id: 'sysctls', level: 'baseline', versions: [v(0, b.sysctls_1_0), v(27, b.sysctls_1_27), v(29, b.sysctls_1_29), v(32, b.sysctls_1_32)] },
  { id: 'windowsHostProcess', level: 'baseline', versions: [v(0, b.windowsHostProcess_1_0)] },
];

/** The newest policy version with its own definitions: `latest` and any later `v1.N` evaluate as this one. */
export const MAX_POLICY_MINOR = Math.max(...POD_SECURITY_CHECKS.flatMap((k) => k.versions.map((x) => x.minimumVersion)));

/** Parse `latest` or `v1.N` exactly as the admission plugin does; undefined when the text is neither. */
export function parsePodSecurityVersion(text: string): PodSecurityVersion | undefined {
  if (text === 'latest') return { latest: true };
  const m = /^v1\.([0-9]|[1-9][0-9]*)$/.exec(text);
  if (!m) return undefined;
  const minor = Number(m[1]);
  return Number.isSafeInteger(minor) ? { latest: false, minor } : undefined;
}

// Order of evaluation (and of the server's message): baseline ids sorted, then restricted ids sorted.
const ORDERED = [
  ...POD_SECURITY_CHECKS.filter((k) => k.level === 'baseline').sort((a, b) => goCompare(a.id, b.id)),
  ...POD_SECURITY_CHECKS.filter((k) => k.level === 'restricted').sort((a, b) => goCompare(a.id, b.id)),
];

/** The definition of a check in effect at a policy version (minor), if the check exists there. */
const definitionAt = (check: PodSecurityCheck, minor: number): VersionedCheck | undefined => check.versions.filter((x) => x.minimumVersion <= minor).at(-1);

type Plan = Array<{ id: string; check: CheckFn }>;
const plans = new Map<string, Plan>();

/** The checks run for a level at a version (minor): restricted runs every baseline check it does not override. */
export function checksFor(level: 'baseline' | 'restricted', minor: number): Plan {
  const key = `${level}:${minor}`;
  let plan = plans.get(key);
  if (!plan) {
    const overridden = new Set<string>();
    if (level === 'restricted') {
      for (const k of POD_SECURITY_CHECKS) if (k.level === 'restricted') for (const o of definitionAt(k, minor)?.overrides ?? []) overridden.add(o);
    }
    plan = [];
    for (const k of ORDERED) {
      if (level === 'baseline' && k.level !== 'baseline') continue;
      if (overridden.has(k.id)) continue;
      const def = definitionAt(k, minor);
      if (def) plan.push({ id: k.id, check: def.check });
    }
    plans.set(key, plan);
  }
  return plan;
}

function resolveVersion(version: string): number {
  const parsed = parsePodSecurityVersion(version);
  if (!parsed) throw new RangeError(`Pod Security version must be "latest" or "v1.x", not ${JSON.stringify(version)}`);
  return parsed.latest ? MAX_POLICY_MINOR : Math.min(parsed.minor, MAX_POLICY_MINOR);
}

/**
 * Every control the pod fails at this level and policy version, in the order the API server lists
 * them. Empty when the pod is allowed (always for `privileged`). Throws RangeError on a version that is
 * neither `latest` nor `v1.N`.
 */
export function evaluatePodSecurity(level: PodSecurityLevel, version: string, pod: PodSecurityInput, options: PodSecurityOptions = {}): PodSecurityViolation[] {
  const minor = resolveVersion(version);
  if (level === 'privileged') return [];
  if (level !== 'baseline' && level !== 'restricted') throw new RangeError(`unknown Pod Security level ${JSON.stringify(level)}`);
  const input: CheckInput = {
    annotations: pod.metadata?.annotations ?? {},
    spec: pod.spec as unknown as PsaPodSpec,
    relaxForUserNamespaces: options.relaxPolicyForUserNamespacePods ?? false,
    skipProbeHostEnforcement: options.skipProbeHostEnforcement ?? false,
  };
  const out: PodSecurityViolation[] = [];
  for (const { id, check } of checksFor(level, minor)) {
    const failure = check(input);
    if (failure) out.push({ control: id, reason: failure.reason, detail: failure.detail });
  }
  return out;
}

/** The strictest level the pod passes at this policy version (it passes every less strict level too). */
export function podSecurityLevelOf(pod: PodSecurityInput, version: string, options: PodSecurityOptions = {}): PodSecurityLevel {
  if (evaluatePodSecurity('baseline', version, pod, options).length) return 'privileged';
  if (evaluatePodSecurity('restricted', version, pod, options).length) return 'baseline';
  return 'restricted';
}

/** The violations as the API server joins them: `reason (detail), reason, ...`. */
export function formatPodSecurityViolations(violations: readonly PodSecurityViolation[]): string {
  return violations.map((x) => (x.detail ? `${x.reason} (${x.detail})` : x.reason)).join(', ');
}

/** The server's refusal text for a pod (after `pods "NAME" is forbidden: `), or undefined if it is allowed. */
export function podSecurityRefusal(level: PodSecurityLevel, version: string, violations: readonly PodSecurityViolation[]): string | undefined {
  return violations.length ? `violates PodSecurity "${level}:${version}": ${formatPodSecurityViolations(violations)}` : undefined;
}

/**
 * The pod as PodSecurity admission sees it on create: the API server first applies defaults and
 * syncs deprecated fields, and two of those changes show in the checks' messages (never in the
 * verdict): with hostNetwork every container port's hostPort defaults to its containerPort, and a
 * container's AppArmor annotation is copied to its securityContext.appArmorProfile field when the
 * field is unset and differs from the pod-level profile. Returns a new object; the input is untouched.
 */
export function asAdmittedPod<P extends PodSecurityInput>(pod: P): P {
  const spec = pod.spec as unknown as PsaPodSpec & Record<string, unknown>;
  const out = { ...pod, spec: { ...spec } } as P;
  const outSpec = out.spec as unknown as PsaPodSpec & Record<string, unknown>;
  if (spec.hostNetwork === true) {
    const withPorts = (list: PsaPodSpec['containers']) =>
      list?.map((ctr) =>
        ctr.ports ? { ...ctr, ports: ctr.ports.map((p: Record<string, unknown>) => (p.hostPort ? p : { ...p, hostPort: p.containerPort })) } : ctr,
      );
    if (spec.containers) outSpec.containers = withPorts(spec.containers);
    if (spec.initContainers) outSpec.initContainers = withPorts(spec.initContainers);
  }
  const annotations = pod.metadata?.annotations ?? {};
  if (spec.os?.name !== 'windows' && Object.keys(annotations).some((k) => k.startsWith(APPARMOR_PREFIX))) {
    const podProfile = spec.securityContext?.appArmorProfile ?? undefined;
    const sync = (list: PsaPodSpec['containers']) =>
      list?.map((ctr) => {
        const key = APPARMOR_PREFIX + ctr.name;
        if (!Object.prototype.hasOwnProperty.call(annotations, key) || ctr.securityContext?.appArmorProfile != null) return ctr;
        const field = appArmorFieldForAnnotation(annotations[key]);
        if (!field || (podProfile && podProfile.type === field.type && (podProfile.localhostProfile ?? undefined) === field.localhostProfile)) return ctr;
        return { ...ctr, securityContext: { ...(ctr.securityContext ?? {}), appArmorProfile: field } };
      });
    for (const k of ['initContainers', 'containers', 'ephemeralContainers'] as const) if (outSpec[k]) outSpec[k] = sync(outSpec[k]);
  }
  return out;
}

const APPARMOR_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

/** podutil.ApparmorFieldForAnnotation, keeping only values the API server's validation accepts. */
function appArmorFieldForAnnotation(value: string): { type: string; localhostProfile?: string } | undefined {
  if (value === 'unconfined') return { type: 'Unconfined' };
  if (value === 'runtime/default') return { type: 'RuntimeDefault' };
  if (value.startsWith('localhost/')) {
    const profile = value.slice('localhost/'.length);
    const valid = profile !== '' && profile.trim() === profile && Buffer.byteLength(profile) <= 4095;
    return valid ? { type: 'Localhost', localhostProfile: profile } : undefined;
  }
  return undefined;
}
