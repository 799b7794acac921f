/**
 * The API server's command-line settings, as data: each check names its CIS Kubernetes Benchmark item,
 * says when the flags fail it, and (when the manifest alone can fix it safely) which fix sets it right.
 * One evaluator runs them all over the flags of a running API server (its mirror pod) or of a manifest.
 */
import type { Reference, Rule, Severity } from '../types.js';

/** `--name=value` flags of one kube-apiserver (the last occurrence wins, as with the real flag parser). */
export type Flags = Record<string, string>;

/** The fixes the area can make from the manifest alone (the answers of `apiserver.fixes`). */
export type FixId =
  | 'anonymousAuth'
  | 'authorizationMode'
  | 'admissionPlugins'
  | 'denyExternalIPs'
  | 'alwaysPullImages'
  | 'profiling'
  | 'auditLog'
  | 'auditRetention'
  | 'tlsMinVersion'
  | 'tlsCipherSuites'
  | 'serviceAccountLookup'
  | 'extendTokenExpiration';

export const CIS_VERSION = 'CIS Kubernetes Benchmark v1.12.0';
const CIS_URL = 'https://www.cisecurity.org/benchmark/kubernetes';
export const cis = (item: string, note = ''): Reference => ({ title: `${CIS_VERSION} ${item}${note ? ` (${note})` : ''}`, url: CIS_URL });

export interface FlagCheck extends Rule {
  /** The CIS items, for the finding's message. */
  cis: string[];
  /** Why the flags fail the check, or undefined when they pass. */
  fails(f: Flags): string | undefined;
  /** The fix that sets it right from the manifest; absent when it needs a person (files, certificates, keys). */
  fixId?: FixId;
}

/** A flag value as the API server reads it: unset and empty are both "not set". */
export const flagValue = (f: Flags, name: string): string | undefined => (f[name] === undefined || f[name] === '' ? undefined : f[name]);
export const listOf = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const isFalse = (v: string | undefined) => v !== undefined && /^(false|0|f)$/i.test(v);
const isTrue = (v: string | undefined) => v !== undefined && /^(true|1|t)$/i.test(v);

/** The authorization modes in force (the flag's default is AlwaysAllow); undefined when a config file decides. */
export function authorizationModes(f: Flags): string[] | undefined {
  if (flagValue(f, 'authorization-config')) return undefined;
  const modes = listOf(flagValue(f, 'authorization-mode'));
  return modes.length ? modes : ['AlwaysAllow'];
}

/** Enabled admission plugins named on the command line (the legacy --admission-control too). */
export const enabledPlugins = (f: Flags): string[] => [...listOf(flagValue(f, 'enable-admission-plugins')), ...listOf(flagValue(f, 'admission-control'))];
export const disabledPlugins = (f: Flags): string[] => listOf(flagValue(f, 'disable-admission-plugins'));

/** The strong TLS 1.2 suites (CIS 1.2.29) by their Go names; TLS 1.3 suites are not configurable in Go. */
export const STRONG_CIPHERS = [
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
];
/** Also strong: TLS 1.3 names and the older spellings of the CHACHA20 suites the flag accepts. */
const STRONG_ALIASES = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305',
];
export const isStrongCipher = (name: string) => STRONG_CIPHERS.includes(name) || STRONG_ALIASES.includes(name);

const MIN = { 'audit-log-maxage': 30, 'audit-log-maxbackup': 10, 'audit-log-maxsize': 100 } as const;

const cisRule = (items: string[], note?: string): Reference[] => items.map((i) => cis(i, note));

export const FLAG_CHECKS: FlagCheck[] = [
  {
    id: 'anonymousAuth',
    severity: 'medium',
    title: 'Anonymous requests are accepted',
    why: 'With --anonymous-auth on, every request without credentials is served as system:anonymous: only RBAC stands between the internet and the API, and one careless binding to system:unauthenticated exposes it.',
    fix: 'Set --anonymous-auth=false (the kubelet probes of the static pod are switched to TCP checks in the same edit, since they are anonymous).',
    cis: ['1.2.1'],
    references: cisRule(['1.2.1']),
    fixId: 'anonymousAuth',
    fails: (f) => {
      if (flagValue(f, 'authentication-config') && f['anonymous-auth'] === undefined) return undefined; // decided by the file (not read)
      if (isFalse(flagValue(f, 'anonymous-auth'))) return undefined;
      const is = `--anonymous-auth is ${flagValue(f, 'anonymous-auth') ?? 'not set (default true)'}`;
      // The API server turns anonymous auth off while AlwaysAllow is a mode, and on again once it is removed.
      return authorizationModes(f)?.includes('AlwaysAllow') ? `${is}: off only while AlwaysAllow is on, served again once it is removed` : is;
    },
  },
  {
    id: 'tokenAuthFile',
    severity: 'high',
    title: 'Static token file authentication',
    why: 'Tokens in --token-auth-file never expire and can only be changed by restarting the API server.',
    fix: 'Move its users to certificates, OIDC or service accounts, then remove --token-auth-file (a person must do this: removing it first locks those users out).',
    cis: ['1.2.2'],
    references: cisRule(['1.2.2']),
    fails: (f) => (flagValue(f, 'token-auth-file') ? `--token-auth-file=${f['token-auth-file']} is set` : undefined),
  },
  {
    id: 'authorizationAlwaysAllow',
    severity: 'critical',
    title: 'Authorization allows every request',
    why: 'AlwaysAllow authorizes every authenticated (and, with anonymous auth, unauthenticated) request: RBAC objects have no effect.',
    fix: 'Set --authorization-mode=Node,RBAC (other modes such as Webhook are kept after them). Identities that only worked because of AlwaysAllow lose access.',
    cis: ['1.2.6'],
    references: cisRule(['1.2.6']),
    fixId: 'authorizationMode',
    fails: (f) =>
      authorizationModes(f)?.includes('AlwaysAllow')
        ? `--authorization-mode is ${flagValue(f, 'authorization-mode') ?? 'not set (default AlwaysAllow)'}`
        : undefined,
  },
  {
    id: 'authorizationNode',
    severity: 'medium',
    title: 'Node authorization is off',
    why: 'The Node authorizer limits each kubelet to the objects of its own pods; without it a stolen kubelet credential reads every secret its RBAC grants allow.',
    fix: 'Put Node first in --authorization-mode (Node,RBAC).',
    cis: ['1.2.7'],
    references: cisRule(['1.2.7']),
    fixId: 'authorizationMode',
    fails: (f) => {
      const m = authorizationModes(f);
      return m && !m.includes('Node') ? `--authorization-mode=${m.join(',')} does not include Node` : undefined;
    },
  },
  {
    id: 'authorizationRbac',
    severity: 'high',
    title: 'RBAC authorization is off',
    why: 'Without the RBAC authorizer, Roles and RoleBindings are ignored: who may do what is decided by something else, or by nothing.',
    fix: 'Add RBAC to --authorization-mode (Node,RBAC): the "enable RBAC" step.',
    cis: ['1.2.8'],
    references: cisRule(['1.2.8']),
    fixId: 'authorizationMode',
    fails: (f) => {
      const m = authorizationModes(f);
      return m && !m.includes('RBAC') ? `--authorization-mode=${m.join(',')} does not include RBAC` : undefined;
    },
  },
  {
    id: 'admissionAlwaysAdmit',
    severity: 'high',
    title: 'AlwaysAdmit admission plugin enabled',
    why: 'AlwaysAdmit lets every request through admission: it was deprecated because it disables the checks other plugins do.',
    fix: 'Remove AlwaysAdmit from --enable-admission-plugins.',
    cis: ['1.2.10'],
    references: cisRule(['1.2.10']),
    fixId: 'admissionPlugins',
    fails: (f) => (enabledPlugins(f).includes('AlwaysAdmit') ? 'the AlwaysAdmit admission plugin is enabled' : undefined),
  },
  {
    id: 'admissionNodeRestriction',
    severity: 'medium',
    title: 'NodeRestriction admission plugin not enabled',
    why: 'NodeRestriction stops a kubelet from changing other nodes, pods on other nodes, or its own node labels that steer workloads.',
    fix: 'Add NodeRestriction to --enable-admission-plugins.',
    cis: ['1.2.14'],
    references: cisRule(['1.2.14']),
    fixId: 'admissionPlugins',
    fails: (f) => (enabledPlugins(f).includes('NodeRestriction') ? undefined : 'the NodeRestriction admission plugin is not enabled'),
  },
  {
    id: 'admissionDisabledDefaults',
    severity: 'high',
    title: 'A protective default admission plugin is disabled',
    why: 'ServiceAccount and NamespaceLifecycle are on by default: disabling them lets pods name any service account token and objects be created in namespaces being deleted.',
    fix: 'Remove ServiceAccount and NamespaceLifecycle from --disable-admission-plugins.',
    cis: ['1.2.12', '1.2.13'],
    references: cisRule(['1.2.12', '1.2.13']),
    fixId: 'admissionPlugins',
    fails: (f) => {
      const off = disabledPlugins(f).filter((p) => p === 'ServiceAccount' || p === 'NamespaceLifecycle');
      return off.length ? `--disable-admission-plugins disables ${off.join(' and ')}` : undefined;
    },
  },
  {
    id: 'admissionDenyExternalIPs',
    severity: 'low',
    title: 'Services may claim any external IP',
    why: 'Without DenyServiceExternalIPs, anyone who may create a Service can set spec.externalIPs and intercept traffic to those addresses (CVE-2020-8554).',
    fix: 'Add DenyServiceExternalIPs to --enable-admission-plugins (existing Services keep their externalIPs; new ones are refused).',
    cis: ['1.2.3'],
    references: cisRule(['1.2.3']),
    fixId: 'denyExternalIPs',
    fails: (f) => (enabledPlugins(f).includes('DenyServiceExternalIPs') ? undefined : 'the DenyServiceExternalIPs admission plugin is not enabled'),
  },
  {
    id: 'admissionAlwaysPullImages',
    severity: 'low',
    title: 'Pods may use images cached on the node without credentials',
    why: "Without AlwaysPullImages, a pod can run a private image another tenant's pod pulled to the node, without having the pull secret.",
    fix: 'Add AlwaysPullImages to --enable-admission-plugins (every pod start pulls: needs a reachable registry).',
    cis: ['1.2.11'],
    references: cisRule(['1.2.11']),
    fixId: 'alwaysPullImages',
    fails: (f) => (enabledPlugins(f).includes('AlwaysPullImages') ? undefined : 'the AlwaysPullImages admission plugin is not enabled'),
  },
  {
    id: 'eventRateLimit',
    severity: 'low',
    title: 'No EventRateLimit admission plugin',
    why: 'A flood of events from one namespace or user can overload the API server and etcd.',
    fix: 'Write an admission configuration with EventRateLimit limits, then add EventRateLimit to --enable-admission-plugins and point --admission-control-config-file at it (a person must choose the limits).',
    cis: ['1.2.9'],
    references: cisRule(['1.2.9']),
    fails: (f) => (enabledPlugins(f).includes('EventRateLimit') ? undefined : 'the EventRateLimit admission plugin is not enabled'),
  },
  {
    id: 'profiling',
    severity: 'medium',
    title: 'Profiling endpoints are served',
    why: '/debug/pprof reveals the internals of the API server and can be used to slow it down; it is for debugging only.',
    fix: 'Set --profiling=false.',
    cis: ['1.2.15'],
    references: cisRule(['1.2.15']),
    fixId: 'profiling',
    fails: (f) => (isFalse(flagValue(f, 'profiling')) ? undefined : `--profiling is ${flagValue(f, 'profiling') ?? 'not set (default true)'}`),
  },
  {
    id: 'auditLog',
    severity: 'high',
    title: 'No audit log',
    why: 'Without an audit log path and an audit policy the API server records nothing of who did what: an incident cannot be traced.',
    fix: 'Set --audit-log-path and --audit-policy-file (kube-harden writes a minimal policy file first when none is set, and mounts both into the static pod).',
    cis: ['1.2.16', '3.2.1'],
    references: cisRule(['1.2.16', '3.2.1']),
    fixId: 'auditLog',
    fails: (f) => {
      const missing = ['audit-log-path', 'audit-policy-file'].filter((n) => !flagValue(f, n));
      return missing.length ? `${missing.map((m) => `--${m}`).join(' and ')} not set` : undefined;
    },
  },
  {
    id: 'auditRetention',
    severity: 'low',
    title: 'Audit log retention below the benchmark',
    why: 'Rotated audit logs kept too briefly (or without limits) lose the history an investigation needs, or fill the disk.',
    fix: 'Set --audit-log-maxage=30, --audit-log-maxbackup=10 and --audit-log-maxsize=100 (or keep larger values).',
    cis: ['1.2.17', '1.2.18', '1.2.19'],
    references: cisRule(['1.2.17', '1.2.18', '1.2.19']),
    fixId: 'auditRetention',
    fails: (f) => {
      if (!flagValue(f, 'audit-log-path') || flagValue(f, 'audit-log-path') === '-') return undefined; // no log file (auditLog)
      const low = (Object.keys(MIN) as Array<keyof typeof MIN>).filter((k) => !(Number(flagValue(f, k) ?? 0) >= MIN[k]));
      return low.length ? low.map((k) => `--${k}=${flagValue(f, k) ?? '(unset)'} (want ≥ ${MIN[k]})`).join(', ') : undefined;
    },
  },
  {
    id: 'tlsMinVersion',
    severity: 'medium',
    title: 'TLS minimum version not pinned to 1.2 or later',
    why: 'TLS 1.0 and 1.1 have known weaknesses; without the flag the minimum depends on the Go version the API server was built with (1.0 before Go 1.22).',
    fix: 'Set --tls-min-version=VersionTLS12.',
    cis: ['1.2.29'],
    references: [cis('1.2.29', 'strong cryptography; the minimum version is not itself a CIS item')],
    fixId: 'tlsMinVersion',
    fails: (f) => {
      const v = flagValue(f, 'tls-min-version');
      return v === 'VersionTLS12' || v === 'VersionTLS13' ? undefined : `--tls-min-version is ${v ?? 'not set'}`;
    },
  },
  {
    id: 'tlsCipherSuites',
    severity: 'medium',
    title: 'Cipher suites not limited to strong ones',
    why: 'Without the flag the API server accepts CBC and SHA-1 suites that the benchmark counts as weak.',
    fix: `Set --tls-cipher-suites=${STRONG_CIPHERS.join(',')}.`,
    cis: ['1.2.29'],
    references: cisRule(['1.2.29']),
    fixId: 'tlsCipherSuites',
    fails: (f) => {
      const list = listOf(flagValue(f, 'tls-cipher-suites'));
      if (!list.length) return '--tls-cipher-suites is not set (Go defaults include CBC/SHA-1 suites)';
      const weak = list.filter((c) => !isStrongCipher(c));
      return weak.length ? `--tls-cipher-suites includes weak suite(s) ${weak.join(', ')}` : undefined;
    },
  },
  {
    id: 'kubeletCertificateAuthority',
    severity: 'medium',
    title: "The API server does not verify kubelets' certificates",
    why: 'Without --kubelet-certificate-authority, exec, logs and port-forward go to a kubelet whose identity is not checked: a machine in the middle sees them.',
    fix: 'Have kubelets serve certificates signed by a CA (serverTLSBootstrap with approved CSRs), then set --kubelet-certificate-authority to that CA. A person must do this: setting it first breaks exec and logs.',
    cis: ['1.2.5'],
    references: cisRule(['1.2.5']),
    fails: (f) => (flagValue(f, 'kubelet-certificate-authority') ? undefined : '--kubelet-certificate-authority is not set'),
  },
  {
    id: 'kubeletClientCertificate',
    severity: 'medium',
    title: 'The API server has no client certificate for kubelets',
    why: 'Without --kubelet-client-certificate and --kubelet-client-key the kubelets cannot authenticate the API server and must allow anonymous access.',
    fix: 'Issue a client certificate for the API server and set both flags (a person must create the certificate).',
    cis: ['1.2.4'],
    references: cisRule(['1.2.4']),
    fails: (f) => {
      const missing = ['kubelet-client-certificate', 'kubelet-client-key'].filter((n) => !flagValue(f, n));
      return missing.length ? `${missing.map((m) => `--${m}`).join(' and ')} not set` : undefined;
    },
  },
  {
    id: 'etcdTls',
    severity: 'high',
    title: 'The API server talks to etcd without TLS client authentication',
    why: 'etcd holds every secret of the cluster; without certificates anyone who reaches it reads and writes them.',
    fix: 'Give etcd TLS with client certificate authentication and set --etcd-cafile, --etcd-certfile and --etcd-keyfile (a person must set up the certificates).',
    cis: ['1.2.23', '1.2.26'],
    references: cisRule(['1.2.23', '1.2.26']),
    fails: (f) => {
      const missing = ['etcd-cafile', 'etcd-certfile', 'etcd-keyfile'].filter((n) => !flagValue(f, n));
      return missing.length ? `${missing.map((m) => `--${m}`).join(', ')} not set` : undefined;
    },
  },
  {
    id: 'encryptionAtRest',
    severity: 'high',
    title: 'Secrets are not encrypted at rest',
    why: 'Without --encryption-provider-config, secrets are stored in etcd as plain base64: a backup or a disk is enough to read them.',
    fix: 'Write an EncryptionConfiguration (aescbc, secretbox or kms) on every control-plane node, set --encryption-provider-config, then rewrite every secret. kube-harden does not do this for you: undoing it after secrets were written encrypted makes them unreadable, so it is not a step a rollback can undo.',
    cis: ['1.2.27', '1.2.28'],
    references: cisRule(['1.2.27', '1.2.28']),
    fails: (f) => (flagValue(f, 'encryption-provider-config') ? undefined : '--encryption-provider-config is not set'),
  },
  {
    id: 'serviceAccountLookup',
    severity: 'medium',
    title: 'Deleted service accounts keep working',
    why: 'With --service-account-lookup=false a token stays valid after its service account or secret is deleted.',
    fix: 'Remove --service-account-lookup=false (the default is true).',
    cis: ['1.2.21'],
    references: cisRule(['1.2.21']),
    fixId: 'serviceAccountLookup',
    fails: (f) =>
      f['service-account-lookup'] !== undefined && !isTrue(f['service-account-lookup']) ? `--service-account-lookup=${f['service-account-lookup']}` : undefined,
  },
  {
    id: 'serviceAccountKeys',
    severity: 'high',
    title: 'Service account key and issuer settings incomplete',
    why: 'Service account tokens must be signed with a key of their own and name their issuer, so they can be verified, rotated, and told apart from other clusters.',
    fix: 'Set --service-account-key-file, --service-account-signing-key-file and --service-account-issuer (a person must create the key pair).',
    cis: ['1.2.22'],
    references: cisRule(['1.2.22']),
    fails: (f) => {
      const missing = ['service-account-key-file', 'service-account-signing-key-file', 'service-account-issuer'].filter((n) => !flagValue(f, n));
      return missing.length ? `${missing.map((m) => `--${m}`).join(', ')} not set` : undefined;
    },
  },
  {
    id: 'serviceAccountTokenExpiration',
    severity: 'low',
    title: 'Service account tokens are extended to a year',
    why: 'With --service-account-extend-token-expiration (default true) projected tokens stay valid for a year instead of their hour, so a leaked token lasts.',
    fix: 'Set --service-account-extend-token-expiration=false (clients that do not reload their token fail after an hour: check the audit log for stale tokens first).',
    cis: ['1.2.30'],
    references: cisRule(['1.2.30']),
    fixId: 'extendTokenExpiration',
    fails: (f) =>
      isFalse(flagValue(f, 'service-account-extend-token-expiration'))
        ? undefined
        : `--service-account-extend-token-expiration is ${flagValue(f, 'service-account-extend-token-expiration') ?? 'not set (default true)'}`,
  },
];

/** The one evaluator: every check over one API server's flags. */
export function evaluateFlags(flags: Flags, checks: FlagCheck[] = FLAG_CHECKS): Array<{ check: FlagCheck; message: string }> {
  const out: Array<{ check: FlagCheck; message: string }> = [];
  for (const check of checks) {
    const why = check.fails(flags);
    if (why) out.push({ check, message: `${why} (CIS ${check.cis.join(', ')})` });
  }
  return out;
}

export const ruleOf = ({ id, severity, title, why, fix, references }: FlagCheck): Rule => ({ id, severity, title, why, fix, references });
export type { Severity };
