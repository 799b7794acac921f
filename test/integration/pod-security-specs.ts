// Pods for the Pod Security differential test: a catalog that sets every control to each of its
// interesting values once, then seeded random combinations. Every pod is meant to pass the API
// server's validation, so that it reaches PodSecurity admission (a 422 is a generator bug).

export interface GeneratedPod {
  /** What the pod exercises, for failure messages. */
  label: string;
  annotations: Record<string, string>;
  spec: any;
}

/** mulberry32: a small deterministic PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const IMAGE = 'registry.k8s.io/pause:3.10';

export const VOLUME_SOURCES: Record<string, unknown> = {
  emptyDir: {},
  configMap: { name: 'cm' },
  secret: { secretName: 's' },
  projected: { sources: [] },
  downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] },
  persistentVolumeClaim: { claimName: 'claim' },
  csi: { driver: 'csi.example.com' },
  ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } },
  hostPath: { path: '/var/log' },
  nfs: { server: 'nfs.example.com', path: '/exports' },
  gitRepo: { repository: 'https://example.com/repo.git' },
  iscsi: { targetPortal: '10.0.0.1:3260', iqn: 'iqn.2001-04.com.example:storage', lun: 0 },
  glusterfs: { endpoints: 'glusterfs', path: 'vol' },
  rbd: { monitors: ['10.0.0.1:6789'], image: 'img' },
  flexVolume: { driver: 'example.com/flex' },
  cinder: { volumeID: 'vol' },
  cephfs: { monitors: ['10.0.0.1:6789'] },
  flocker: { datasetName: 'ds' },
  fc: { targetWWNs: ['500a0982991b8dc5'], lun: 0 },
  azureFile: { secretName: 's', shareName: 'share' },
  vsphereVolume: { volumePath: '[ds] vol.vmdk' },
  quobyte: { registry: 'quobyte.example.com:7861', volume: 'vol' },
  azureDisk: { diskName: 'd', diskURI: 'https://example.com/d.vhd' },
  photonPersistentDisk: { pdID: 'pd' },
  portworxVolume: { volumeID: 'vol' },
  scaleIO: { gateway: 'https://gw.example.com', system: 'sys', secretRef: { name: 's' }, volumeName: 'vol' },
  storageos: { volumeName: 'vol' },
  gcePersistentDisk: { pdName: 'pd' },
  awsElasticBlockStore: { volumeID: 'vol' },
  '(none: defaulted to emptyDir)': undefined,
};

const SYSCTLS = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
  'kernel.msgmax',
  'net.core.somaxconn',
  'vm.swappiness',
];
const CAPS = ['NET_BIND_SERVICE', 'CHOWN', 'KILL', 'AUDIT_WRITE', 'SETUID', 'NET_RAW', 'SYS_ADMIN', 'SYS_TIME', 'NET_ADMIN', 'ALL'];
const SELINUX_TYPES = ['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t', 'spc_t', 'unconfined_t'];
const APPARMOR_ANNOTATIONS = ['runtime/default', 'localhost/k8s-profile', 'unconfined', ''];
const SECCOMP_ANNOTATIONS = ['runtime/default', 'docker/default', 'localhost/profile.json', 'unconfined'];
const PROFILE_TYPES = ['RuntimeDefault', 'Localhost', 'Unconfined'];

const profile = (type: string, name: string) => (type === 'Localhost' ? { type, localhostProfile: name } : { type });

function allContainers(spec: any): any[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}
const sc = (c: any) => (c.securityContext ??= {});
const podSc = (spec: any) => (spec.securityContext ??= {});

/** A pod with one regular container (and optionally an init container, a second container, a sidecar). */
function skeleton(rand: () => number): any {
  const spec: any = { containers: [{ name: 'app', image: IMAGE }] };
  if (rand() < 0.5) spec.initContainers = [{ name: 'init', image: IMAGE }];
  if (rand() < 0.3) spec.containers.push({ name: 'helper', image: IMAGE });
  if (rand() < 0.15) (spec.initContainers ??= []).push({ name: 'sidecar', image: IMAGE, restartPolicy: 'Always' });
  return spec;
}

/** Make a pod restricted-compliant (Linux or OS-neutral), or for Windows pods the part that applies. */
function harden(spec: any, windows: boolean): void {
  podSc(spec).runAsNonRoot = true;
  if (windows) return;
  podSc(spec).seccompProfile = { type: 'RuntimeDefault' };
  for (const c of allContainers(spec)) Object.assign(sc(c), { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
}

type Mutation = (d: GeneratedPod, rand: () => number) => string;
const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const someContainer = (d: GeneratedPod, rand: () => number) => pick(rand, allContainers(d.spec));
/** Containers that may carry probes and lifecycle hooks: regular ones and restartable init (sidecar) ones. */
const probeable = (spec: any) => [...spec.containers, ...(spec.initContainers ?? []).filter((c: any) => c.restartPolicy === 'Always')];

const MUTATIONS: Record<string, Mutation> = {
  hostNamespace: (d, r) => {
    const k = pick(r, ['hostNetwork', 'hostPID', 'hostIPC']);
    d.spec[k] = r() < 0.8;
    return `${k}=${d.spec[k]}`;
  },
  privileged: (d, r) => {
    const c = someContainer(d, r);
    sc(c).privileged = r() < 0.75;
    return `privileged=${c.securityContext.privileged} on ${c.name}`;
  },
  capabilitiesAdd: (d, r) => {
    const c = someContainer(d, r);
    const add = [...new Set([pick(r, CAPS), ...(r() < 0.3 ? [pick(r, CAPS)] : [])])];
    (sc(c).capabilities ??= {}).add = add;
    return `capabilities.add=${add} on ${c.name}`;
  },
  capabilitiesDrop: (d, r) => {
    const c = someContainer(d, r);
    const choice = pick(r, ['none', 'empty', 'NET_RAW', 'ALL', 'ALL+NET_RAW']);
    if (choice === 'none') delete sc(c).capabilities;
    else (sc(c).capabilities ??= {}).drop = choice === 'empty' ? [] : choice === 'ALL+NET_RAW' ? ['NET_RAW', 'ALL'] : [choice];
    return `capabilities.drop=${choice} on ${c.name}`;
  },
  volume: (d, r) => {
    const type = r() < 0.25 ? 'hostPath' : pick(r, Object.keys(VOLUME_SOURCES));
    const vols = (d.spec.volumes ??= []);
    const name = `vol${vols.length}`;
    vols.push(VOLUME_SOURCES[type] === undefined ? { name } : { name, [type]: structuredClone(VOLUME_SOURCES[type]) });
    return `volume ${type}`;
  },
  hostPort: (d, r) => {
    const i = allContainers(d.spec).length;
    const c = someContainer(d, r);
    const port: any = { containerPort: 8000 + (c.ports?.length ?? 0) * 10 + i };
    const choice = pick(r, ['hostPort', 'hostPort', 'same', 'zero', 'none']);
    if (choice === 'hostPort') port.hostPort = 9000 + Math.floor(r() * 900);
    if (choice === 'same') port.hostPort = port.containerPort;
    if (choice === 'zero') port.hostPort = 0;
    (c.ports ??= []).push(port);
    return `ports ${JSON.stringify(port)} on ${c.name}`;
  },
  appArmorAnnotation: (d, r) => {
    const c = someContainer(d, r);
    const v = pick(r, APPARMOR_ANNOTATIONS);
    d.annotations[`container.apparmor.security.beta.kubernetes.io/${c.name}`] = v;
    return `apparmor annotation ${JSON.stringify(v)} on ${c.name}`;
  },
  appArmorField: (d, r) => {
    const type = pick(r, [...PROFILE_TYPES, 'RuntimeDefault']);
    if (r() < 0.4) {
      podSc(d.spec).appArmorProfile = profile(type, 'k8s-profile');
      return `pod appArmorProfile ${type}`;
    }
    const c = someContainer(d, r);
    sc(c).appArmorProfile = profile(type, 'k8s-profile');
    return `appArmorProfile ${type} on ${c.name}`;
  },
  seLinux: (d, r) => {
    const opts: any = { type: pick(r, SELINUX_TYPES) };
    if (opts.type === '' && r() < 0.5) delete opts.type;
    if (r() < 0.2) opts.user = 'system_u';
    if (r() < 0.2) opts.role = 'system_r';
    if (r() < 0.3) opts.level = 's0:c123,c456';
    if (r() < 0.4) {
      podSc(d.spec).seLinuxOptions = opts;
      return `pod seLinuxOptions ${JSON.stringify(opts)}`;
    }
    const c = someContainer(d, r);
    sc(c).seLinuxOptions = opts;
    return `seLinuxOptions ${JSON.stringify(opts)} on ${c.name}`;
  },
  procMount: (d, r) => {
    const c = someContainer(d, r);
    sc(c).procMount = pick(r, ['Default', 'Unmasked', 'Unmasked']);
    return `procMount ${c.securityContext.procMount} on ${c.name}`;
  },
  seccompField: (d, r) => {
    const type = pick(r, [...PROFILE_TYPES, 'none']);
    if (r() < 0.5) {
      if (type === 'none') delete podSc(d.spec).seccompProfile;
      else podSc(d.spec).seccompProfile = profile(type, 'profile.json');
      return `pod seccompProfile ${type}`;
    }
    const c = someContainer(d, r);
    if (type === 'none') delete sc(c).seccompProfile;
    else sc(c).seccompProfile = profile(type, 'profile.json');
    return `seccompProfile ${type} on ${c.name}`;
  },
  seccompAnnotation: (d, r) => {
    const v = pick(r, SECCOMP_ANNOTATIONS);
    if (r() < 0.5) {
      d.annotations['seccomp.security.alpha.kubernetes.io/pod'] = v;
      return `pod seccomp annotation ${v}`;
    }
    const c = someContainer(d, r);
    d.annotations[`container.seccomp.security.alpha.kubernetes.io/${c.name}`] = v;
    return `seccomp annotation ${v} on ${c.name}`;
  },
  sysctls: (d, r) => {
    const names = [...new Set([pick(r, SYSCTLS), ...(r() < 0.4 ? [pick(r, SYSCTLS)] : [])])];
    podSc(d.spec).sysctls = names.map((name) => ({ name, value: '1' }));
    return `sysctls ${names}`;
  },
  hostProcess: (d, r) => {
    if (r() < 0.5) {
      (podSc(d.spec).windowsOptions ??= {}).hostProcess = r() < 0.85;
      return `pod hostProcess=${d.spec.securityContext.windowsOptions.hostProcess}`;
    }
    const c = someContainer(d, r);
    (sc(c).windowsOptions ??= {}).hostProcess = r() < 0.85;
    return `hostProcess=${c.securityContext.windowsOptions.hostProcess} on ${c.name}`;
  },
  probeHost: (d, r) => {
    const c = pick(r, probeable(d.spec));
    const where = pick(r, ['livenessProbe', 'readinessProbe', 'startupProbe', 'postStart', 'preStop']);
    const kind = where === 'postStart' || where === 'preStop' ? 'httpGet' : pick(r, ['httpGet', 'tcpSocket']);
    const action: any = { port: 8080 };
    const host = pick(r, ['10.0.0.1', 'example.com', '', 'none']);
    if (host !== 'none') action.host = host;
    if (where === 'postStart' || where === 'preStop') (c.lifecycle ??= {})[where] = { [kind]: action };
    else c[where] = { [kind]: action };
    return `${where}.${kind}.host=${host} on ${c.name}`;
  },
  allowPrivilegeEscalation: (d, r) => {
    const c = someContainer(d, r);
    const v = pick(r, [true, false, 'unset']);
    if (v === 'unset') delete sc(c).allowPrivilegeEscalation;
    else sc(c).allowPrivilegeEscalation = v;
    return `allowPrivilegeEscalation=${v} on ${c.name}`;
  },
  runAsNonRoot: (d, r) => {
    const v = pick(r, [true, false, 'unset']);
    const target = r() < 0.5 ? podSc(d.spec) : sc(someContainer(d, r));
    if (v === 'unset') delete target.runAsNonRoot;
    else target.runAsNonRoot = v;
    return `runAsNonRoot=${v}`;
  },
  runAsUser: (d, r) => {
    const v = pick(r, [0, 0, 1000]);
    if (r() < 0.5) podSc(d.spec).runAsUser = v;
    else sc(someContainer(d, r)).runAsUser = v;
    return `runAsUser=${v}`;
  },
  hostUsers: (d, r) => {
    d.spec.hostUsers = r() < 0.8 ? false : true;
    return `hostUsers=${d.spec.hostUsers}`;
  },
};

const WINDOWS_MUTATIONS = ['hostNamespace', 'volume', 'hostPort', 'hostProcess', 'probeHost', 'runAsNonRoot', 'appArmorAnnotation', 'seccompAnnotation'];
const LINUX_ONLY_POD = ['appArmorProfile', 'seLinuxOptions', 'seccompProfile', 'sysctls', 'runAsUser', 'runAsGroup', 'fsGroup'];
const LINUX_ONLY_CONTAINER = [
  'appArmorProfile',
  'seLinuxOptions',
  'seccompProfile',
  'capabilities',
  'privileged',
  'allowPrivilegeEscalation',
  'procMount',
  'runAsUser',
  'readOnlyRootFilesystem',
];
const NET_SYSCTL = /^net\./;
const IPC_SYSCTL = /^(kernel\.(shm|msg|sem)|fs\.mqueue\.)/;

/** Resolve combinations the API server's validation refuses, so every pod reaches admission. */
function repair(d: GeneratedPod): void {
  const spec = d.spec;
  const os = spec.os?.name;
  const names = new Set(allContainers(spec).map((c) => c.name));
  if (os === 'windows') {
    for (const k of LINUX_ONLY_POD) delete spec.securityContext?.[k];
    for (const c of allContainers(spec)) for (const k of LINUX_ONLY_CONTAINER) delete c.securityContext?.[k];
    delete spec.hostUsers;
    delete spec.hostPID;
    delete spec.hostIPC;
  }
  if (os === 'linux') {
    delete spec.securityContext?.windowsOptions;
    for (const c of allContainers(spec)) delete c.securityContext?.windowsOptions;
  }
  // hostProcess: every container must be a HostProcess container, with hostNetwork.
  const hostProcess =
    spec.securityContext?.windowsOptions?.hostProcess === true || allContainers(spec).some((c) => c.securityContext?.windowsOptions?.hostProcess === true);
  if (hostProcess) {
    (podSc(spec).windowsOptions ??= {}).hostProcess = true;
    for (const c of allContainers(spec)) delete c.securityContext?.windowsOptions;
    spec.hostNetwork = true;
    delete spec.hostUsers;
    for (const c of allContainers(spec)) if (c.securityContext?.procMount === 'Unmasked') c.securityContext.procMount = 'Default';
  } else if (spec.securityContext?.windowsOptions?.hostProcess === false) {
    for (const c of allContainers(spec)) if (c.securityContext?.windowsOptions) delete c.securityContext.windowsOptions;
  }
  // procMount Unmasked needs a user namespace, and a user namespace no host namespaces.
  if (allContainers(spec).some((c) => c.securityContext?.procMount === 'Unmasked')) spec.hostUsers = false;
  if (spec.hostUsers === false) {
    delete spec.hostNetwork;
    delete spec.hostPID;
    delete spec.hostIPC;
  }
  for (const c of allContainers(spec)) {
    const s = c.securityContext;
    if (s?.privileged === true && s.allowPrivilegeEscalation === false) delete s.allowPrivilegeEscalation;
    if (s && Object.keys(s).length === 0) delete c.securityContext;
  }
  // Ports: unique host ports; with hostNetwork a hostPort must equal its containerPort.
  const used = new Set<number>();
  for (const c of allContainers(spec)) {
    for (const p of c.ports ?? []) {
      if (spec.hostNetwork && p.hostPort) p.hostPort = p.containerPort;
      while (p.hostPort && used.has(p.hostPort)) p.hostPort++;
      if (p.hostPort) used.add(p.hostPort);
    }
  }
  const sysctls = spec.securityContext?.sysctls;
  if (sysctls) {
    spec.securityContext.sysctls = sysctls.filter((s: any) => !(spec.hostNetwork && NET_SYSCTL.test(s.name)) && !(spec.hostIPC && IPC_SYSCTL.test(s.name)));
    if (!spec.securityContext.sysctls.length) delete spec.securityContext.sysctls;
  }
  // Deprecated annotations must name a container, and agree with the container's (or pod's) field.
  for (const k of Object.keys(d.annotations)) {
    const m = /^container\.(apparmor|seccomp)\.security\.(?:beta|alpha)\.kubernetes\.io\/(.*)$/.exec(k);
    if (m && !names.has(m[2])) delete d.annotations[k];
  }
  for (const c of allContainers(spec)) {
    const ak = `container.apparmor.security.beta.kubernetes.io/${c.name}`;
    const aa = d.annotations[ak];
    const field = c.securityContext?.appArmorProfile;
    if (aa !== undefined && field && !annotationMatches(aa, field, 'unconfined')) delete c.securityContext.appArmorProfile;
    // An annotation that gives no field ("") is checked against the pod-level profile instead.
    if (aa === '' && !c.securityContext?.appArmorProfile && spec.securityContext?.appArmorProfile) delete d.annotations[ak];
    const sk = `container.seccomp.security.alpha.kubernetes.io/${c.name}`;
    const sf = c.securityContext?.seccompProfile;
    if (d.annotations[sk] !== undefined && sf && !annotationMatches(d.annotations[sk], sf, 'unconfined')) delete d.annotations[sk];
  }
  const podSeccomp = spec.securityContext?.seccompProfile;
  const pk = 'seccomp.security.alpha.kubernetes.io/pod';
  if (d.annotations[pk] !== undefined && podSeccomp && !annotationMatches(d.annotations[pk], podSeccomp, 'unconfined')) delete d.annotations[pk];
  if (spec.securityContext && Object.keys(spec.securityContext).length === 0) delete spec.securityContext;
}

function annotationMatches(annotation: string, field: { type: string; localhostProfile?: string }, unconfined: string): boolean {
  switch (field.type) {
    case 'Unconfined':
      return annotation === unconfined;
    case 'RuntimeDefault':
      return annotation === 'runtime/default' || annotation === 'docker/default';
    case 'Localhost':
      return annotation === `localhost/${field.localhostProfile}`;
    default:
      return false;
  }
}

/**
 * The catalog: for each control, each of its values on a restricted-compliant pod (so that the value
 * alone decides), on a bare pod, and on a Windows pod where the control applies to Windows.
 */
export function catalog(): GeneratedPod[] {
  const out: GeneratedPod[] = [];
  let seed = 1;
  for (const [name, mutate] of Object.entries(MUTATIONS)) {
    for (let i = 0; i < 10; i++) {
      const rand = prng(1000 + seed++);
      const windows = i === 9 && WINDOWS_MUTATIONS.includes(name);
      const spec = skeleton(rand);
      if (windows) spec.os = { name: 'windows' };
      if (i < 7) harden(spec, windows);
      const d: GeneratedPod = { label: '', annotations: {}, spec };
      d.label = `catalog ${name}: ${mutate(d, rand)}${i < 7 ? ' (on a hardened pod)' : ''}${windows ? ' (windows)' : ''}`;
      repair(d);
      out.push(d);
    }
  }
  for (const [type, source] of Object.entries(VOLUME_SOURCES)) {
    const spec = skeleton(() => 0.99);
    harden(spec, false);
    spec.volumes = [source === undefined ? { name: 'v' } : { name: 'v', [type]: structuredClone(source) }];
    out.push({ label: `catalog volume ${type} (on a hardened pod)`, annotations: {}, spec });
  }
  return out;
}

/** Seeded random combinations of 1-4 mutations, on hardened, partly hardened and bare pods. */
export function randomPods(seed: number, count: number): GeneratedPod[] {
  const rand = prng(seed);
  const out: GeneratedPod[] = [];
  const names = Object.keys(MUTATIONS);
  for (let i = 0; i < count; i++) {
    const osRoll = rand();
    const os = osRoll < 0.1 ? 'windows' : osRoll < 0.25 ? 'linux' : undefined;
    const spec = skeleton(rand);
    if (os) spec.os = { name: os };
    const posture = rand();
    if (posture < 0.55) harden(spec, os === 'windows');
    else if (posture < 0.8) {
      harden(spec, os === 'windows');
      // partly hardened: forget one of the settings
      const c = pick(rand, allContainers(spec));
      const forget = pick(rand, ['pod.runAsNonRoot', 'pod.seccompProfile', 'allowPrivilegeEscalation', 'capabilities']);
      if (forget.startsWith('pod.')) delete spec.securityContext[forget.slice(4)];
      else delete c.securityContext?.[forget];
    }
    const d: GeneratedPod = { label: '', annotations: {}, spec };
    const pool = os === 'windows' ? WINDOWS_MUTATIONS : names;
    const n = 1 + Math.floor(rand() * 4);
    const did: string[] = [];
    for (let k = 0; k < n; k++) did.push(MUTATIONS[pick(rand, pool)](d, rand));
    d.label = `random #${i} (${os ?? 'no os'}, ${posture < 0.55 ? 'hardened' : posture < 0.8 ? 'partly hardened' : 'bare'}): ${did.join('; ')}`;
    repair(d);
    out.push(d);
  }
  return out;
}
