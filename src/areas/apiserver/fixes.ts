/**
 * The fixes the area makes from the manifest alone, as data: for each, the flag values it sets from the
 * flags as they are (pure), its risk, and what a person should know. Fixes that need a file or a
 * certificate a person must make first (encryption at rest, kubelet CAs, etcd TLS) are not here: their
 * findings say what to do instead.
 */
import type { Risk } from '../../engine/change.js';
import { authorizationModes, disabledPlugins, flagValue, listOf, STRONG_CIPHERS, type FixId, type Flags } from './flags.js';

export interface FlagFix {
  id: FixId;
  label: string;
  hint: string;
  /** In the default answer. */
  default: boolean;
  risk: Risk;
  riskNote?: string;
  /** flag → new value (null: remove) from the current flags; only flags that change. Pure. */
  flags(f: Flags, opts: { auditPolicyFile: string; auditLogPath: string }): Record<string, string | null>;
}

const changed = (f: Flags, want: Record<string, string | null>): Record<string, string | null> =>
  Object.fromEntries(Object.entries(want).filter(([k, v]) => (v === null ? f[k] !== undefined : f[k] !== v)));

const withPlugins = (f: Flags, add: string[], remove: string[] = []): Record<string, string | null> => {
  const now = listOf(flagValue(f, 'enable-admission-plugins'));
  const next = [...now.filter((p) => !remove.includes(p)), ...add.filter((p) => !now.includes(p))];
  return changed(f, { 'enable-admission-plugins': next.length ? next.join(',') : null });
};

export const RETENTION = { 'audit-log-maxage': 30, 'audit-log-maxbackup': 10, 'audit-log-maxsize': 100 } as const;

function retention(f: Flags): Record<string, string | null> {
  const want: Record<string, string> = {};
  for (const [k, min] of Object.entries(RETENTION)) if (!(Number(flagValue(f, k) ?? 0) >= min)) want[k] = String(min);
  return changed(f, want);
}

export const FIXES: FlagFix[] = [
  {
    id: 'authorizationMode',
    label: 'authorization-mode: Node and RBAC, never AlwaysAllow',
    hint: 'the "enable RBAC" step',
    default: true,
    risk: 'medium',
    riskNote:
      'identities that were only allowed by AlwaysAllow lose access unless RBAC grants it; without AlwaysAllow the API server serves anonymous requests again (as system:anonymous, under RBAC) unless --anonymous-auth=false',
    flags: (f) => {
      const modes = authorizationModes(f);
      if (!modes) return {}; // --authorization-config decides: not a flag edit
      // Keep the order of the modes there are (a Webhook keeps deciding first); Node leads, RBAC joins.
      let next = modes.filter((m) => m !== 'AlwaysAllow');
      if (!next.includes('Node')) next = ['Node', ...next];
      if (!next.includes('RBAC')) next = [...next, 'RBAC'];
      return changed(f, { 'authorization-mode': next.join(',') });
    },
  },
  {
    id: 'admissionPlugins',
    label: 'admission: NodeRestriction on, AlwaysAdmit off, ServiceAccount and NamespaceLifecycle not disabled',
    hint: 'safe on every cluster',
    default: true,
    risk: 'low',
    flags: (f) => {
      const plugins = withPlugins(f, ['NodeRestriction'], ['AlwaysAdmit']);
      const disabled = disabledPlugins(f).filter((p) => p !== 'ServiceAccount' && p !== 'NamespaceLifecycle');
      return { ...plugins, ...changed(f, { 'disable-admission-plugins': disabled.length ? disabled.join(',') : null }) };
    },
  },
  {
    id: 'profiling',
    label: 'profiling=false',
    hint: 'removes /debug/pprof',
    default: true,
    risk: 'low',
    flags: (f) => changed(f, { profiling: 'false' }),
  },
  {
    id: 'auditLog',
    label: 'audit log: path, policy file (created if missing), retention',
    hint: 'writes up to 1 GB of logs on the control-plane node',
    default: true,
    risk: 'medium',
    riskNote: 'the API server writes audit logs to the control-plane disk (10 files of 100 MB at most)',
    flags: (f, o) => {
      if (flagValue(f, 'audit-log-path') && flagValue(f, 'audit-policy-file')) return {};
      const want: Record<string, string> = {};
      if (!flagValue(f, 'audit-log-path')) want['audit-log-path'] = o.auditLogPath;
      if (!flagValue(f, 'audit-policy-file')) want['audit-policy-file'] = o.auditPolicyFile;
      const next = { ...f, ...want };
      return { ...changed(f, want), ...retention(next) };
    },
  },
  {
    id: 'auditRetention',
    label: 'audit log retention: 30 days, 10 files, 100 MB',
    hint: 'when an audit log is written',
    default: true,
    risk: 'low',
    flags: (f) => (flagValue(f, 'audit-log-path') && flagValue(f, 'audit-log-path') !== '-' ? retention(f) : {}),
  },
  {
    id: 'tlsMinVersion',
    label: 'tls-min-version=VersionTLS12',
    hint: 'refuses TLS 1.0 and 1.1 clients',
    default: true,
    risk: 'low',
    flags: (f): Record<string, string | null> => {
      const v = flagValue(f, 'tls-min-version');
      return v === 'VersionTLS12' || v === 'VersionTLS13' ? {} : { 'tls-min-version': 'VersionTLS12' };
    },
  },
  {
    id: 'tlsCipherSuites',
    label: 'tls-cipher-suites: ECDHE with AES-GCM or ChaCha20 only',
    hint: 'every supported Kubernetes client has them',
    default: true,
    risk: 'low',
    riskNote: 'clients limited to CBC or RSA key exchange suites can no longer connect',
    flags: (f) => changed(f, { 'tls-cipher-suites': STRONG_CIPHERS.join(',') }),
  },
  {
    id: 'serviceAccountLookup',
    label: 'service-account-lookup (the default, true)',
    hint: 'tokens of deleted service accounts stop working',
    default: true,
    risk: 'low',
    flags: (f) => changed(f, { 'service-account-lookup': null }),
  },
  {
    id: 'anonymousAuth',
    label: 'anonymous-auth=false',
    hint: 'opt-in: load balancer health checks without credentials fail',
    default: false,
    risk: 'high',
    riskNote:
      'requests without credentials get 401, including load balancer and monitoring health checks of /healthz, /readyz, /livez; the kubelet probes of the static pod become TCP checks',
    flags: (f) => changed(f, { 'anonymous-auth': 'false' }),
  },
  {
    id: 'denyExternalIPs',
    label: 'DenyServiceExternalIPs admission plugin',
    hint: 'opt-in: new Services with externalIPs are refused',
    default: false,
    risk: 'medium',
    riskNote: 'creating or updating a Service with spec.externalIPs is refused from now on',
    flags: (f) => withPlugins(f, ['DenyServiceExternalIPs']),
  },
  {
    id: 'alwaysPullImages',
    label: 'AlwaysPullImages admission plugin',
    hint: 'opt-in: every pod start pulls its image',
    default: false,
    risk: 'medium',
    riskNote: 'pods cannot start while their registry is unreachable, even with the image on the node',
    flags: (f) => withPlugins(f, ['AlwaysPullImages']),
  },
  {
    id: 'extendTokenExpiration',
    label: 'service-account-extend-token-expiration=false',
    hint: 'opt-in: clients that never reload their token fail after an hour',
    default: false,
    risk: 'medium',
    riskNote: 'service account clients that do not reload their projected token fail after its hour',
    flags: (f) => changed(f, { 'service-account-extend-token-expiration': 'false' }),
  },
];

export const FIX_IDS = FIXES.map((x) => x.id);
export const fixOf = (id: FixId): FlagFix => FIXES.find((x) => x.id === id)!;

/** Every chosen fix over the flags, in order (two fixes of one flag compose): the flags to set, and the fixes that changed something. */
export function flagChanges(
  flags: Flags,
  chosen: FixId[],
  opts: { auditPolicyFile: string; auditLogPath: string },
): { set: Record<string, string | null>; applied: FixId[] } {
  let now: Flags = { ...flags };
  const set: Record<string, string | null> = {};
  const applied: FixId[] = [];
  for (const fix of FIXES) {
    if (!chosen.includes(fix.id)) continue;
    const changes = fix.flags(now, opts);
    if (!Object.keys(changes).length) continue;
    applied.push(fix.id);
    now = { ...now };
    for (const [k, v] of Object.entries(changes)) {
      set[k] = v;
      if (v === null) delete now[k];
      else now[k] = v;
    }
  }
  // A flag set back to what it was is no change.
  for (const [k, v] of Object.entries(set)) if ((flags[k] ?? null) === v) delete set[k];
  return { set, applied };
}
