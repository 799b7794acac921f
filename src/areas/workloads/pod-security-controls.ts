// The Pod Security Standards controls, one function per upstream check version, transcribed from
// k8s.io/pod-security-admission@v0.34.4 policy/check_*.go: the shared helpers and the baseline controls
// here, the restricted controls in pod-security-restricted.ts. Reasons and details are the exact strings
// the API server puts in its refusal. Every function only reads its input.
//
// Go semantics kept on purpose: a pointer field is "set" when present and not null; a Go set's List()
// is sorted byte-wise; slices keep their order; containers are visited init, regular, ephemeral.

/** A check's verdict on one pod: undefined when it passes. */
export interface ControlFailure {
  reason: string;
  detail: string;
}

// The subset of the core/v1 Pod API the checks read. Fields may be null in JSON (a nil pointer).
type Opt<T> = T | null | undefined;
interface SELinuxOptions {
  user?: Opt<string>;
  role?: Opt<string>;
  type?: Opt<string>;
  level?: Opt<string>;
}
interface Profile {
  type?: Opt<string>;
  localhostProfile?: Opt<string>;
}
interface WindowsOptions {
  hostProcess?: Opt<boolean>;
}
export interface PsaContainerSecurityContext {
  privileged?: Opt<boolean>;
  allowPrivilegeEscalation?: Opt<boolean>;
  runAsNonRoot?: Opt<boolean>;
  runAsUser?: Opt<number>;
  capabilities?: Opt<{ add?: Opt<string[]>; drop?: Opt<string[]> }>;
  seccompProfile?: Opt<Profile>;
  appArmorProfile?: Opt<Profile>;
  seLinuxOptions?: Opt<SELinuxOptions>;
  windowsOptions?: Opt<WindowsOptions>;
  procMount?: Opt<string>;
}
interface Handler {
  httpGet?: Opt<{ host?: Opt<string> }>;
  tcpSocket?: Opt<{ host?: Opt<string> }>;
}
export interface PsaContainer {
  name: string;
  ports?: Opt<Array<{ hostPort?: Opt<number> }>>;
  securityContext?: Opt<PsaContainerSecurityContext>;
  livenessProbe?: Opt<Handler>;
  readinessProbe?: Opt<Handler>;
  startupProbe?: Opt<Handler>;
  lifecycle?: Opt<{ postStart?: Opt<Handler>; preStop?: Opt<Handler> }>;
}
export interface PsaPodSpec {
  containers?: Opt<PsaContainer[]>;
  initContainers?: Opt<PsaContainer[]>;
  ephemeralContainers?: Opt<PsaContainer[]>;
  volumes?: Opt<Array<{ name: string } & Record<string, unknown>>>;
  hostNetwork?: Opt<boolean>;
  hostPID?: Opt<boolean>;
  hostIPC?: Opt<boolean>;
  hostUsers?: Opt<boolean>;
  os?: Opt<{ name?: Opt<string> }>;
  securityContext?: Opt<{
    runAsNonRoot?: Opt<boolean>;
    runAsUser?: Opt<number>;
    seccompProfile?: Opt<Profile>;
    appArmorProfile?: Opt<Profile>;
    seLinuxOptions?: Opt<SELinuxOptions>;
    windowsOptions?: Opt<WindowsOptions>;
    sysctls?: Opt<Array<{ name: string }>>;
  }>;
}

/** The context a check runs in. */
export interface CheckInput {
  annotations: Record<string, string>;
  spec: PsaPodSpec;
  /** UserNamespacesPodSecurityStandards (alpha, off by default): relax for hostUsers=false pods. */
  relaxForUserNamespaces: boolean;
  /** The server emulates a version before 1.34 (ProbeHostPodSecurityStandards off). */
  skipProbeHostEnforcement: boolean;
}

export type CheckFn = (pod: CheckInput) => ControlFailure | undefined;

// ---- helpers (policy/helpers.go, visitor.go) ------------------------------------------------------

export const set = (v: unknown): boolean => v !== undefined && v !== null;

/** Go's sort.Strings: byte-wise order of the UTF-8 encoding. */
export const goCompare = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
/** sets.String.List(): distinct values in byte-wise order. */
export const sorted = (values: Iterable<string>): string[] => [...new Set(values)].sort(goCompare);

export const joinQuote = (items: string[]): string => (items.length === 0 ? '' : `"${items.join('", "')}"`);
export const pluralize = (singular: string, plural: string, count: number): string => (count === 1 ? singular : plural);
export const containers = (n: number) => pluralize('container', 'containers', n);

export function visitContainers(spec: PsaPodSpec, visit: (c: PsaContainer) => void): void {
  for (const c of spec.initContainers ?? []) visit(c);
  for (const c of spec.containers ?? []) visit(c);
  for (const c of spec.ephemeralContainers ?? []) visit(c);
}

export const isWindows = (spec: PsaPodSpec) => spec.os?.name === 'windows';
export const relaxed = (p: CheckInput) => p.relaxForUserNamespaces && p.spec.hostUsers === false;

const GO_NAMED_ESCAPES: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v' };
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
/** Go's %q (strconv.Quote) for a well-formed string. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (PRINTABLE.test(ch)) out += ch;
    else if (GO_NAMED_ESCAPES[r]) out += GO_NAMED_ESCAPES[r];
    else if (r < 0x20 || r === 0x7f) out += `\\x${r.toString(16).padStart(2, '0')}`;
    // A lone surrogate cannot come from the API server's JSON decoder, which turns it into U+FFFD.
    else if (r >= 0xd800 && r <= 0xdfff) out += '\ufffd';
    else if (r < 0x10000) out += `\\u${r.toString(16).padStart(4, '0')}`;
    else out += `\\U${r.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

// ---- baseline -------------------------------------------------------------------------------------

export function hostNamespaces_1_0({ spec }: CheckInput): ControlFailure | undefined {
  const found: string[] = [];
  if (spec.hostNetwork === true) found.push('hostNetwork=true');
  if (spec.hostPID === true) found.push('hostPID=true');
  if (spec.hostIPC === true) found.push('hostIPC=true');
  return found.length ? { reason: 'host namespaces', detail: found.join(', ') } : undefined;
}

export function privileged_1_0({ spec }: CheckInput): ControlFailure | undefined {
  const bad: string[] = [];
  visitContainers(spec, (c) => {
    if (c.securityContext?.privileged === true) bad.push(c.name);
  });
  return bad.length ? { reason: 'privileged', detail: `${containers(bad.length)} ${joinQuote(bad)} must not set securityContext.privileged=true` } : undefined;
}

const CAPABILITIES_ALLOWED_1_0 = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

export function capabilitiesBaseline_1_0({ spec }: CheckInput): ControlFailure | undefined {
  const bad: string[] = [];
  const caps: string[] = [];
  visitContainers(spec, (c) => {
    let valid = true;
    for (const cap of c.securityContext?.capabilities?.add ?? []) {
      if (!CAPABILITIES_ALLOWED_1_0.has(cap)) {
        valid = false;
        caps.push(cap);
      }
    }
    if (!valid) bad.push(c.name);
  });
  return bad.length
    ? {
        reason: 'non-default capabilities',
        detail: `${containers(bad.length)} ${joinQuote(bad)} must not include ${joinQuote(sorted(caps))} in securityContext.capabilities.add`,
      }
    : undefined;
}

export function hostPathVolumes_1_0({ spec }: CheckInput): ControlFailure | undefined {
  const bad = (spec.volumes ?? []).filter((v) => set(v.hostPath)).map((v) => v.name);
  return bad.length ? { reason: 'hostPath volumes', detail: `${pluralize('volume', 'volumes', bad.length)} ${joinQuote(bad)}` } : undefined;
}

export function hostPorts_1_0({ spec }: CheckInput): ControlFailure | undefined {
  const bad: string[] = [];
  const ports: string[] = [];
  visitContainers(spec, (c) => {
    let valid = true;
    for (const p of c.ports ?? []) {
      if (p.hostPort) {
        valid = false;
        ports.push(String(p.hostPort));
      }
    }
    if (!valid) bad.push(c.name);
  });
  if (!bad.length) return undefined;
  const distinct = sorted(ports);
  return {
    reason: 'hostPort',
    detail: `${containers(bad.length)} ${joinQuote(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('hostPort', 'hostPorts', distinct.length)} ${distinct.join(', ')}`,
  };
}

const probeHosts = (h: Opt<Handler>): string[] => {
  const hosts: string[] = [];
  if (h?.httpGet?.host) hosts.push(h.httpGet.host);
  if (h?.tcpSocket?.host) hosts.push(h.tcpSocket.host);
  return hosts;
};

export function hostProbesAndHostLifecycle_1_34(p: CheckInput): ControlFailure | undefined {
  if (p.skipProbeHostEnforcement) return undefined;
  const bad = new Set<string>();
  const hosts = new Set<string>();
  visitContainers(p.spec, (c) => {
    for (const h of [c.livenessProbe, c.readinessProbe, c.startupProbe, c.lifecycle?.postStart, c.lifecycle?.preStop]) {
      const found = probeHosts(h);
      if (found.length) {
        bad.add(c.name);
        for (const x of found) hosts.add(x);
      }
    }
  });
  if (!bad.size) return undefined;
  return {
    reason: 'probe or lifecycle host',
    detail: `${containers(bad.size)} ${joinQuote(sorted(bad))} ${pluralize('uses', 'use', bad.size)} ${pluralize('probe or lifecycle host', 'probe or lifecycle hosts', hosts.size)} ${joinQuote(sorted(hosts))}`,
  };
}

const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';
const allowedAppArmorAnnotation = (v: string) => v.length === 0 || v === 'runtime/default' || v.startsWith('localhost/');
const allowedAppArmorType = (t: Opt<string>) => t === 'RuntimeDefault' || t === 'Localhost';

export function appArmorProfile_1_0({ spec, annotations }: CheckInput): ControlFailure | undefined {
  const setters: string[] = [];
  const values: string[] = [];
  const podProfile = spec.securityContext?.appArmorProfile;
  if (set(podProfile) && !allowedAppArmorType(podProfile!.type)) {
    setters.push('pod');
    values.push(podProfile!.type ?? '');
  }
  const bad: string[] = [];
  visitContainers(spec, (c) => {
    const prof = c.securityContext?.appArmorProfile;
    if (set(prof) && !allowedAppArmorType(prof!.type)) {
      bad.push(c.name);
      values.push(prof!.type ?? '');
    }
  });
  if (bad.length) setters.push(`${containers(bad.length)} ${joinQuote(bad)}`);
  const forbidden = Object.entries(annotations)
    .filter(([k, v]) => k.startsWith(APPARMOR_ANNOTATION_PREFIX) && !allowedAppArmorAnnotation(v))
    .map(([k, v]) => `${k}=${goQuote(v)}`)
    .sort(goCompare);
  const list = [...sorted(values), ...forbidden];
  if (forbidden.length) setters.push(pluralize('annotation', 'annotations', forbidden.length));
  if (!setters.length) return undefined;
  return {
    reason: pluralize('forbidden AppArmor profile', 'forbidden AppArmor profiles', list.length),
    detail: `${setters.join(' and ')} must not set AppArmor profile type to ${joinQuote(list)}`,
  };
}

function seLinuxOptions(allowedTypes: Set<string>): CheckFn {
  return ({ spec }) => {
    const badTypes: string[] = [];
    let setUser = false;
    let setRole = false;
    const valid = (o: SELinuxOptions): boolean => {
      let ok = true;
      const type = o.type ?? '';
      if (!allowedTypes.has(type)) {
        ok = false;
        badTypes.push(type);
      }
      if (o.user) {
        ok = false;
        setUser = true;
      }
      if (o.role) {
        ok = false;
        setRole = true;
      }
      return ok;
    };
    const setters: string[] = [];
    const podOpts = spec.securityContext?.seLinuxOptions;
    if (set(podOpts) && !valid(podOpts!)) setters.push('pod');
    const bad: string[] = [];
    visitContainers(spec, (c) => {
      const o = c.securityContext?.seLinuxOptions;
      if (set(o) && !valid(o!)) bad.push(c.name);
    });
    if (bad.length) setters.push(`${containers(bad.length)} ${joinQuote(bad)}`);
    if (!setters.length) return undefined;
    const data: string[] = [];
    const types = sorted(badTypes);
    if (types.length) data.push(`${pluralize('type', 'types', types.length)} ${joinQuote(types)}`);
    if (setUser) data.push('user may not be set');
    if (setRole) data.push('role may not be set');
    return { reason: 'seLinuxOptions', detail: `${setters.join(' and ')} set forbidden securityContext.seLinuxOptions: ${data.join('; ')}` };
  };
}
const SELINUX_TYPES_1_0 = ['', 'container_t', 'container_init_t', 'container_kvm_t'];
export const seLinuxOptions_1_0 = seLinuxOptions(new Set(SELINUX_TYPES_1_0));
export const seLinuxOptions_1_31 = seLinuxOptions(new Set([...SELINUX_TYPES_1_0, 'container_engine_t']));

export function procMount_1_0(p: CheckInput): ControlFailure | undefined {
  if (relaxed(p)) return undefined;
  const bad: string[] = [];
  const types: string[] = [];
  visitContainers(p.spec, (c) => {
    const pm = c.securityContext?.procMount;
    if (set(pm) && pm !== 'Default') {
      bad.push(c.name);
      types.push(pm!);
    }
  });
  return bad.length
    ? { reason: 'procMount', detail: `${containers(bad.length)} ${joinQuote(bad)} must not set securityContext.procMount to ${joinQuote(sorted(types))}` }
    : undefined;
}

const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_ANNOTATION_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';
const validSeccompAnnotation = (v: string) => v === 'runtime/default' || v === 'docker/default' || v.startsWith('localhost/');
const validSeccomp = (t: Opt<string>) => t === 'Localhost' || t === 'RuntimeDefault';
const has = (o: Record<string, string>, k: string) => Object.prototype.hasOwnProperty.call(o, k);

export function seccompProfileBaseline_1_0({ spec, annotations }: CheckInput): ControlFailure | undefined {
  const forbidden: string[] = [];
  if (has(annotations, SECCOMP_POD_ANNOTATION) && !validSeccompAnnotation(annotations[SECCOMP_POD_ANNOTATION])) {
    forbidden.push(`${SECCOMP_POD_ANNOTATION}=${goQuote(annotations[SECCOMP_POD_ANNOTATION])}`);
  }
  visitContainers(spec, (c) => {
    const key = SECCOMP_CONTAINER_ANNOTATION_PREFIX + c.name;
    if (has(annotations, key) && !validSeccompAnnotation(annotations[key])) forbidden.push(`${key}=${goQuote(annotations[key])}`);
  });
  const list = sorted(forbidden);
  return list.length ? { reason: 'seccompProfile', detail: `forbidden ${pluralize('annotation', 'annotations', list.length)} ${list.join(', ')}` } : undefined;
}

/** Shared by seccompProfile_baseline 1.19 (requireSet=false) and seccompProfile_restricted 1.19. */
export function seccompFields(spec: PsaPodSpec, requireSet: boolean): ControlFailure | undefined {
  const setters: string[] = [];
  const values: string[] = [];
  let podSet = false;
  const podProfile = spec.securityContext?.seccompProfile;
  if (set(podProfile)) {
    if (!validSeccomp(podProfile!.type)) {
      setters.push('pod');
      values.push(podProfile!.type ?? '');
    } else podSet = true;
  }
  const explicit: string[] = [];
  const implicit: string[] = [];
  visitContainers(spec, (c) => {
    const prof = c.securityContext?.seccompProfile;
    if (set(prof)) {
      if (!validSeccomp(prof!.type)) {
        explicit.push(c.name);
        values.push(prof!.type ?? '');
      }
    } else if (!podSet) implicit.push(c.name);
  });
  if (explicit.length) setters.push(`${containers(explicit.length)} ${joinQuote(explicit)}`);
  if (setters.length) {
    return {
      reason: 'seccompProfile',
      detail: `${setters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sorted(values))}`,
    };
  }
  if (requireSet && implicit.length) {
    return {
      reason: 'seccompProfile',
      detail: `pod or ${containers(implicit.length)} ${joinQuote(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
    };
  }
  return undefined;
}

export const seccompProfileBaseline_1_19: CheckFn = ({ spec }) => seccompFields(spec, false);

function sysctls(allowed: Set<string>): CheckFn {
  return ({ spec }) => {
    const bad = (spec.securityContext?.sysctls ?? []).map((s) => s.name).filter((n) => !allowed.has(n));
    return bad.length ? { reason: 'forbidden sysctls', detail: bad.join(', ') } : undefined;
  };
}
const SYSCTLS_1_0 = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
];
const SYSCTLS_1_27 = [...SYSCTLS_1_0, 'net.ipv4.ip_local_reserved_ports'];
const SYSCTLS_1_29 = [
  ...SYSCTLS_1_27,
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
];
const SYSCTLS_1_32 = [...SYSCTLS_1_29, 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'];
export const sysctls_1_0 = sysctls(new Set(SYSCTLS_1_0));
export const sysctls_1_27 = sysctls(new Set(SYSCTLS_1_27));
export const sysctls_1_29 = sysctls(new Set(SYSCTLS_1_29));
export const sysctls_1_32 = sysctls(new Set(SYSCTLS_1_32));

export function windowsHostProcess_1_0({ spec }: CheckInput): ControlFailure | undefined {
  const bad: string[] = [];
  visitContainers(spec, (c) => {
    if (c.securityContext?.windowsOptions?.hostProcess === true) bad.push(c.name);
  });
  const setters: string[] = [];
  if (spec.securityContext?.windowsOptions?.hostProcess === true) setters.push('pod');
  if (bad.length) setters.push(`${containers(bad.length)} ${joinQuote(bad)}`);
  return setters.length
    ? { reason: 'hostProcess', detail: `${setters.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true` }
    : undefined;
}
