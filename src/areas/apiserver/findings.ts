/**
 * Facts to findings: the flag checks over every running API server, and the probe rules over what the
 * probes saw. Pure. A finding is fixable when the manifest of that API server is here to edit and a
 * chosen fix would change it; otherwise `manual` says who can change it and how.
 */
import type { Finding, Rule } from '../types.js';
import { cis, evaluateFlags, FLAG_CHECKS, type FixId } from './flags.js';
import { flagChanges } from './fixes.js';
import type { ApiserverFacts, ServerFlags } from './inspect.js';
import { notApplicableOn, providerWay } from './platform.js';
import { PUBLIC_INFO_PATHS, TLS12_SUITES } from './probes.js';

/** Rules found by probing the live API server. */
export const PROBE_RULES: Array<Rule & { fixId?: FixId }> = [
  {
    id: 'anonymousEndpoints',
    severity: 'high',
    title: 'Anonymous requests read API data',
    why: 'A request without credentials was answered with data from discovery, metrics or profiling endpoints: anyone who reaches the API server reads them.',
    fix: 'Set --anonymous-auth=false, and remove RBAC bindings to system:anonymous and system:unauthenticated.',
    references: [cis('1.2.1')],
    fixId: 'anonymousAuth',
  },
  {
    id: 'anonymousHealthInfo',
    severity: 'low',
    title: 'Anonymous requests read health and version',
    why: 'The server version and health endpoints answer without credentials (the default system:public-info-viewer binding): an attacker learns the exact version to target.',
    fix: 'Set --anonymous-auth=false when nothing probes these paths without credentials (load balancers often do).',
    references: [cis('1.2.1')],
    fixId: 'anonymousAuth',
  },
  {
    id: 'insecurePort',
    severity: 'critical',
    title: 'The insecure port is open',
    why: 'The insecure port serves the whole API over plain HTTP with no authentication and no authorization.',
    fix: 'Remove --insecure-port and --insecure-bind-address (or set --insecure-port=0), or upgrade: Kubernetes 1.20 removed the insecure port.',
    references: [
      {
        title: 'CIS Kubernetes Benchmark v1.6.0 1.2.19 (--insecure-port=0; the port was removed in Kubernetes 1.20)',
        url: 'https://www.cisecurity.org/benchmark/kubernetes',
      },
    ],
  },
  {
    id: 'tlsLegacyVersions',
    severity: 'high',
    title: 'TLS 1.0 or 1.1 accepted',
    why: 'TLS 1.0 and 1.1 are deprecated (RFC 8996): their handshakes and CBC suites have known attacks.',
    fix: 'Set --tls-min-version=VersionTLS12.',
    references: [cis('1.2.29', 'strong cryptography')],
    fixId: 'tlsMinVersion',
  },
  {
    id: 'tlsWeakCiphers',
    severity: 'medium',
    title: 'Weak TLS cipher suites accepted',
    why: 'The API server completed TLS 1.2 handshakes with CBC, SHA-1 or RSA key exchange suites the benchmark counts as weak.',
    fix: 'Set --tls-cipher-suites to the ECDHE AES-GCM and ChaCha20 suites.',
    references: [cis('1.2.29')],
    fixId: 'tlsCipherSuites',
  },
  {
    id: 'certExpiry',
    severity: 'high',
    title: 'Serving certificate expires soon',
    why: 'When the serving certificate expires every client refuses the API server: the cluster is unmanageable until it is renewed.',
    fix: 'Renew it (kubeadm: kubeadm certs renew apiserver on each control-plane node, then restart the API server).',
    references: [cis('1.2.24')],
  },
  {
    id: 'certSelfSigned',
    severity: 'low',
    title: 'Serving certificate is self-signed',
    why: 'A self-signed serving certificate cannot be renewed without every client trusting the new one: clients tend to skip verification instead.',
    fix: "Serve a certificate issued by the cluster's CA (kubeadm does this by default).",
    references: [cis('1.2.24')],
  },
  {
    id: 'certWeakKey',
    severity: 'medium',
    title: 'Serving certificate key too small',
    why: 'RSA keys under 2048 bits and elliptic curves under 256 bits can be broken.',
    fix: 'Issue a new serving certificate with an RSA 2048+ or ECDSA P-256+ key.',
    references: [cis('1.2.24')],
  },
];

export const FLAG_RULES: Rule[] = FLAG_CHECKS.map(({ id, severity, title, why, fix, references }) => ({ id, severity, title, why, fix, references }));

/** Answers used to tell whether a fix would change a server's flags (the paths do not matter for that). */
const PROBE_OPTS = { auditPolicyFile: '/x', auditLogPath: '/x' };

export interface FindingContext {
  facts: ApiserverFacts;
  /** Is this server the one whose manifest is here to edit? */
  local(s: ServerFlags): boolean;
  /** Why it cannot be fixed here, for a fix that exists (undefined: it can). */
  whyNot(fix: FixId, s?: ServerFlags): string | undefined;
}

export function findingContext(facts: ApiserverFacts): FindingContext {
  const m = facts.manifest;
  const local = (s: ServerFlags) => !!m && (s.ref.kind === 'File' ? s.ref.name === m.path : s.ref.name === m.mirrorPod);
  const localServer = facts.servers?.find(local);
  const whyNot = (fix: FixId, s?: ServerFlags): string | undefined => {
    const way = providerWay(facts.platform, fix);
    if (facts.platform.managed || (!m && way && facts.platform.id !== 'kubeadm')) return way ?? notApplicableOn(facts.platform, false);
    if (!m) return "the API server's manifest is not readable here: run kube-harden on the control-plane node (as root), or pass --apiserver-manifest PATH";
    const target = s ?? localServer;
    if (!target || !local(target)) return `${target?.ref.name ?? 'that API server'} runs on another node: run kube-harden there`;
    return Object.keys(flagChanges(target.flags, [fix], PROBE_OPTS).set).length
      ? undefined
      : 'the manifest already has the fix; the API server has not restarted with it';
  };
  return { facts, local, whyNot };
}

const probeRule = (id: string) => PROBE_RULES.find((r) => r.id === id)!;

function probeFinding(fc: FindingContext, rule: string, kind: string, name: string, message: string, severity?: Finding['severity'], detail = ''): Finding {
  const r = probeRule(rule);
  const why = r.fixId ? fc.whyNot(r.fixId) : r.fix;
  return {
    id: `apiserver/${rule}/${kind}//${name}${detail ? `/${detail}` : ''}`,
    area: 'apiserver',
    rule,
    severity: severity ?? r.severity,
    ref: { apiVersion: '', kind, name },
    message,
    fixable: !why,
    ...(why ? { manual: why } : {}),
  };
}

/** Every finding of the facts. */
export function findingsOf(facts: ApiserverFacts): Finding[] {
  const fc = findingContext(facts);
  const out: Finding[] = [];
  for (const s of facts.servers ?? []) {
    for (const { check, message } of evaluateFlags(s.flags)) {
      const why = check.fixId ? fc.whyNot(check.fixId, s) : (providerWay(facts.platform, undefined) ?? check.fix);
      out.push({
        id: `apiserver/${check.id}/${s.ref.kind}/${s.ref.namespace ?? ''}/${s.ref.name}`,
        area: 'apiserver',
        rule: check.id,
        severity: check.severity,
        ref: s.ref,
        container: s.ref.kind === 'Pod' ? 'kube-apiserver' : undefined,
        message,
        fixable: !why,
        ...(why ? { manual: why } : {}),
      });
    }
  }

  const p = facts.probes;
  for (const a of p.anonymous) {
    if (typeof a.status !== 'number' || a.status < 200 || a.status >= 300) continue;
    const rule = PUBLIC_INFO_PATHS.includes(a.path) ? 'anonymousHealthInfo' : 'anonymousEndpoints';
    out.push(probeFinding(fc, rule, 'Endpoint', a.path, `an anonymous request to ${a.path} is answered ${a.status} (CIS 1.2.1)`));
  }
  if (p.insecurePort.state === 'open') out.push(probeFinding(fc, 'insecurePort', 'APIServer', p.insecurePort.endpoint, p.insecurePort.detail));
  const t = p.tls;
  if (t) {
    const legacy = (['TLSv1', 'TLSv1.1'] as const).filter((v) => t.versions[v] === 'accepted');
    if (legacy.length) out.push(probeFinding(fc, 'tlsLegacyVersions', 'APIServer', t.endpoint, `${legacy.join(' and ')} handshakes are accepted (CIS 1.2.29)`));
    const weak = t.ciphers.accepted.filter((c) => !TLS12_SUITES.find(([, iana]) => iana === c)?.[2]);
    if (weak.length) out.push(probeFinding(fc, 'tlsWeakCiphers', 'APIServer', t.endpoint, `TLS 1.2 accepts weak suite(s) ${weak.join(', ')} (CIS 1.2.29)`));
    const c = t.cert;
    if (c) {
      if (c.daysLeft < 30)
        out.push(
          probeFinding(
            fc,
            'certExpiry',
            'APIServer',
            t.endpoint,
            c.daysLeft < 0
              ? `the serving certificate expired on ${c.notAfter.slice(0, 10)}`
              : `the serving certificate expires on ${c.notAfter.slice(0, 10)} (in ${c.daysLeft} days)`,
            c.daysLeft < 0 ? 'critical' : 'high',
          ),
        );
      if (c.selfSigned) out.push(probeFinding(fc, 'certSelfSigned', 'APIServer', t.endpoint, `the serving certificate (${c.subject}) is self-signed`));
      const weakKey = (c.keyType === 'rsa' && (c.keyBits ?? 0) < 2048) || (c.keyType === 'ec' && /(192|224)/.test(c.curve ?? ''));
      if (weakKey) out.push(probeFinding(fc, 'certWeakKey', 'APIServer', t.endpoint, `the serving certificate has a ${c.keyType} ${c.keyBits ?? c.curve} key`));
    }
  }
  return out;
}

/** Lines for the overview: what is known and what is not. */
export function notesOf(facts: ApiserverFacts): string[] {
  const notes = [`platform: ${facts.platform.name} (${facts.platform.evidence})`];
  const servers = facts.servers;
  if (!servers) notes.push(`API server flags: unknown (${facts.serversError ?? 'the mirror pods could not be read'})`);
  else if (!servers.length) notes.push('API server flags: unknown (no mirror pod of kube-apiserver in kube-system; only the probes apply)');
  else notes.push(`API server flags read from ${servers.map((s) => (s.ref.kind === 'Pod' ? `pod ${s.ref.name}` : s.ref.name)).join(', ')}`);
  if (facts.manifest) {
    notes.push(
      `manifest ${facts.manifest.path}${facts.manifest.mirrorPod ? ` (runs ${facts.manifest.mirrorPod})` : ''}: changes are made there, checked by a health gate`,
    );
    if ((servers?.filter((s) => s.ref.kind === 'Pod').length ?? 0) > 1)
      notes.push('several control-plane nodes: this edits the manifest of this node only; run kube-harden on each of the others too');
  }
  if (facts.manifestNote) notes.push(facts.manifestNote);
  const p = facts.probes;
  const anon = p.anonymous.map((a) => `${a.path} ${a.status}`).join(', ');
  notes.push(`anonymous requests: ${anon}`);
  if (p.tls) {
    const v = Object.entries(p.tls.versions)
      .map(([k, x]) => `${k} ${x}`)
      .join(', ');
    notes.push(`TLS ${p.tls.endpoint}: ${v}; TLS 1.2 suites accepted: ${p.tls.ciphers.accepted.length}, refused: ${p.tls.ciphers.refused.length}`);
    const c = p.tls.cert;
    if (c)
      notes.push(
        `serving certificate: ${c.subject}, issued by ${c.issuer}${c.selfSigned ? ' (self-signed)' : ''}, ${c.keyType}${c.keyBits ? ` ${c.keyBits}` : c.curve ? ` ${c.curve}` : ''}, expires ${c.notAfter.slice(0, 10)} (${c.daysLeft} days), SANs ${c.sans.join(', ') || 'none'}${c.trusted ? '' : `, not trusted by the kubeconfig${c.trustError ? ` (${c.trustError})` : ''}`}`,
      );
    else notes.push(`serving certificate: unknown (${p.tls.certError ?? 'no certificate'})`);
  } else notes.push(`TLS: unknown (${p.tlsError ?? 'not probed'})`);
  notes.push(`insecure port: ${p.insecurePort.state} (${p.insecurePort.detail})`);
  return notes;
}
