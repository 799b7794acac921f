// The restricted-level Pod Security controls, transcribed from k8s.io/pod-security-admission@v0.34.4
// policy/check_*.go (helpers and baseline controls: pod-security-controls.ts). Reasons and details are
// the exact strings the API server puts in its refusal. Every function only reads its input.
import {
  containers,
  isWindows,
  joinQuote,
  pluralize,
  relaxed,
  seccompFields,
  set,
  sorted,
  visitContainers,
  type CheckFn,
  type CheckInput,
  type ControlFailure,
} from './pod-security-controls.js';

export function allowPrivilegeEscalation_1_8({ spec }: CheckInput): ControlFailure | undefined {
  const bad: string[] = [];
  visitContainers(spec, (c) => {
    if (c.securityContext?.allowPrivilegeEscalation !== false) bad.push(c.name);
  });
  return bad.length
    ? {
        reason: 'allowPrivilegeEscalation != false',
        detail: `${containers(bad.length)} ${joinQuote(bad)} must set securityContext.allowPrivilegeEscalation=false`,
      }
    : undefined;
}

/** From 1.25 pods with spec.os.name=windows are exempt (the API rejects these Linux-only fields on them). */
const exemptWindows =
  (check: CheckFn): CheckFn =>
  (p) =>
    isWindows(p.spec) ? undefined : check(p);

export const allowPrivilegeEscalation_1_25 = exemptWindows(allowPrivilegeEscalation_1_8);

export function capabilitiesRestricted_1_22({ spec }: CheckInput): ControlFailure | undefined {
  const missingDrop: string[] = [];
  const adding: string[] = [];
  const caps: string[] = [];
  visitContainers(spec, (c) => {
    const capabilities = c.securityContext?.capabilities;
    if (!set(capabilities)) {
      missingDrop.push(c.name);
      return;
    }
    if (!(capabilities!.drop ?? []).includes('ALL')) missingDrop.push(c.name);
    let addedForbidden = false;
    for (const cap of capabilities!.add ?? []) {
      if (cap !== 'NET_BIND_SERVICE') {
        addedForbidden = true;
        caps.push(cap);
      }
    }
    if (addedForbidden) adding.push(c.name);
  });
  const details: string[] = [];
  if (missingDrop.length) details.push(`${containers(missingDrop.length)} ${joinQuote(missingDrop)} must set securityContext.capabilities.drop=["ALL"]`);
  if (adding.length)
    details.push(`${containers(adding.length)} ${joinQuote(adding)} must not include ${joinQuote(sorted(caps))} in securityContext.capabilities.add`);
  return details.length ? { reason: 'unrestricted capabilities', detail: details.join('; ') } : undefined;
}
export const capabilitiesRestricted_1_25 = exemptWindows(capabilitiesRestricted_1_22);

const ALLOWED_VOLUME_SOURCES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'image', 'persistentVolumeClaim', 'projected', 'secret'];
const RESTRICTED_VOLUME_SOURCES = [
  'hostPath',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'nfs',
  'iscsi',
  'glusterfs',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'fc',
  'azureFile',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'portworxVolume',
  'scaleIO',
  'storageos',
];

export function restrictedVolumes_1_0({ spec }: CheckInput): ControlFailure | undefined {
  const bad: string[] = [];
  const types: string[] = [];
  for (const v of spec.volumes ?? []) {
    if (ALLOWED_VOLUME_SOURCES.some((k) => set(v[k]))) continue;
    const restricted = RESTRICTED_VOLUME_SOURCES.find((k) => set(v[k]));
    // A volume with no source at all is an emptyDir: the API server defaults it so (SetDefaults_Volume)
    // before admission, in pods and in templates alike. Upstream's own fixtures rely on it.
    if (!restricted) continue;
    bad.push(v.name);
    types.push(restricted);
  }
  if (!bad.length) return undefined;
  const distinct = sorted(types);
  return {
    reason: 'restricted volume types',
    detail: `${pluralize('volume', 'volumes', bad.length)} ${joinQuote(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('restricted volume type', 'restricted volume types', distinct.length)} ${joinQuote(distinct)}`,
  };
}

export function runAsNonRoot_1_0(p: CheckInput): ControlFailure | undefined {
  if (relaxed(p)) return undefined;
  const { spec } = p;
  const setters: string[] = [];
  let podNonRoot = false;
  const podValue = spec.securityContext?.runAsNonRoot;
  if (set(podValue)) {
    if (!podValue) setters.push('pod');
    else podNonRoot = true;
  }
  const explicit: string[] = [];
  const implicit: string[] = [];
  visitContainers(spec, (c) => {
    const v = c.securityContext?.runAsNonRoot;
    if (set(v)) {
      if (!v) explicit.push(c.name);
    } else if (!podNonRoot) implicit.push(c.name);
  });
  if (explicit.length) setters.push(`${containers(explicit.length)} ${joinQuote(explicit)}`);
  if (setters.length) return { reason: 'runAsNonRoot != true', detail: `${setters.join(' and ')} must not set securityContext.runAsNonRoot=false` };
  if (implicit.length) {
    return {
      reason: 'runAsNonRoot != true',
      detail: `pod or ${containers(implicit.length)} ${joinQuote(implicit)} must set securityContext.runAsNonRoot=true`,
    };
  }
  return undefined;
}

export function runAsUser_1_23(p: CheckInput): ControlFailure | undefined {
  if (relaxed(p)) return undefined;
  const setters: string[] = [];
  if (p.spec.securityContext?.runAsUser === 0) setters.push('pod');
  const bad: string[] = [];
  visitContainers(p.spec, (c) => {
    if (c.securityContext?.runAsUser === 0) bad.push(c.name);
  });
  if (bad.length) setters.push(`${containers(bad.length)} ${joinQuote(bad)}`);
  return setters.length ? { reason: 'runAsUser=0', detail: `${setters.join(' and ')} must not set runAsUser=0` } : undefined;
}

export const seccompProfileRestricted_1_19: CheckFn = ({ spec }) => seccompFields(spec, true);
export const seccompProfileRestricted_1_25 = exemptWindows(seccompProfileRestricted_1_19);
