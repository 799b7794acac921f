/** The tls area's checks, as data: what each finds, why it matters, and what fixes it. */
import type { Rule, Severity } from '../types.js';

export type TlsRuleId =
  | 'certManagerMissing'
  | 'certManagerUnavailable'
  | 'noIssuer'
  | 'issuerNotReady'
  | 'certificateNotReady'
  | 'certificateExpiring'
  | 'ingressWithoutTls'
  | 'ingressCertMissing'
  | 'ingressCertExpiring'
  | 'ingressCertSelfSigned'
  | 'ingressCertWeakKey';

/** Days before expiry that count as "expiring" (cert-manager renews 90-day certificates 30 days before). */
export const EXPIRY_DAYS = 30;

const CERT_MANAGER = { title: 'cert-manager documentation', url: 'https://cert-manager.io/docs/' };
const INGRESS_TLS = { title: 'Kubernetes: Ingress TLS', url: 'https://kubernetes.io/docs/concepts/services-networking/ingress/#tls' };
const SHIM = { title: 'cert-manager: securing Ingress resources', url: 'https://cert-manager.io/docs/usage/ingress/' };
const NIST = { title: 'NIST SP 800-57 Part 1 Rev. 5: key sizes', url: 'https://csrc.nist.gov/pubs/sp/800/57/pt1/r5/final' };

export const RULES: Array<Rule & { id: TlsRuleId; severity: Severity }> = [
  {
    id: 'certManagerMissing',
    severity: 'medium',
    title: 'No certificate manager (cert-manager) in the cluster',
    why: 'Without an issuer of certificates, TLS for Ingresses and Services is done by hand: certificates are self-signed, shared or forgotten until they expire.',
    fix: 'Install cert-manager with its Helm chart (helm upgrade --install cert-manager ... --set crds.enabled=true), then an issuer.',
    references: [CERT_MANAGER, { title: 'cert-manager: installing with Helm', url: 'https://cert-manager.io/docs/installation/helm/' }],
  },
  {
    id: 'certManagerUnavailable',
    severity: 'high',
    title: "cert-manager's controller is not available",
    why: 'While its controller is down, no certificate is issued or renewed: certificates expire silently.',
    fix: "Look at the cert-manager Deployment's pods and events (kubectl -n cert-manager describe deployment cert-manager).",
    references: [{ title: 'cert-manager: troubleshooting', url: 'https://cert-manager.io/docs/troubleshooting/' }],
  },
  {
    id: 'noIssuer',
    severity: 'medium',
    title: 'cert-manager has no issuer',
    why: 'cert-manager issues nothing until an Issuer or ClusterIssuer says how: Ingresses and Services stay without certificates.',
    fix: "Create a ClusterIssuer: a self-signed CA bootstrapped by cert-manager itself, or Let's Encrypt (ACME) for public hosts.",
    references: [{ title: 'cert-manager: issuer configuration', url: 'https://cert-manager.io/docs/configuration/' }],
  },
  {
    id: 'issuerNotReady',
    severity: 'medium',
    title: 'An issuer is not Ready',
    why: 'Certificates that name an issuer that is not Ready are not issued or renewed.',
    fix: "Read the issuer's Ready condition (kubectl describe clusterissuer NAME): a missing CA Secret, an ACME account that could not register.",
    references: [CERT_MANAGER],
  },
  {
    id: 'certificateNotReady',
    severity: 'high',
    title: 'A Certificate is not Ready',
    why: 'Its Secret is missing or out of date: whatever serves it presents no certificate, an old one, or the ingress controller’s default.',
    fix: 'Read its conditions and its latest CertificateRequest (kubectl describe certificate NAME; cmctl status certificate NAME).',
    references: [{ title: 'cert-manager: troubleshooting certificates', url: 'https://cert-manager.io/docs/troubleshooting/' }],
  },
  {
    id: 'certificateExpiring',
    severity: 'high',
    title: `A Certificate expires within ${EXPIRY_DAYS} days and its renewal is overdue`,
    why: 'cert-manager renews before expiry; a certificate this close to its end whose renewal time has passed is not being renewed.',
    fix: 'Find why renewal fails (issuer not Ready, ACME challenge failing) with kubectl describe certificate NAME, or renew it now with cmctl renew NAME.',
    references: [CERT_MANAGER],
  },
  {
    id: 'ingressWithoutTls',
    severity: 'medium',
    title: 'An Ingress serves hosts without TLS',
    why: 'Traffic to these hosts, cookies and credentials included, crosses the network in clear text.',
    fix: 'Add a tls section (a Secret per host) and the cert-manager.io/cluster-issuer annotation: cert-manager issues and renews the certificates.',
    references: [INGRESS_TLS, SHIM],
  },
  {
    id: 'ingressCertMissing',
    severity: 'medium',
    title: "An Ingress's TLS Secret does not exist",
    why: 'The ingress controller then serves its own default (self-signed) certificate for these hosts.',
    fix: 'Let cert-manager issue it: the cert-manager.io/cluster-issuer annotation makes it create that Secret.',
    references: [INGRESS_TLS, SHIM],
  },
  {
    id: 'ingressCertExpiring',
    severity: 'high',
    title: `An Ingress's certificate has expired or expires within ${EXPIRY_DAYS} days`,
    why: 'Clients refuse an expired certificate: the site goes down for every user at once.',
    fix: 'Renew it, or let cert-manager issue and renew it (a new Secret, the old one kept until you delete it).',
    references: [INGRESS_TLS, SHIM],
  },
  {
    id: 'ingressCertSelfSigned',
    severity: 'medium',
    title: "An Ingress's certificate is self-signed",
    why: 'No client can verify it, so users learn to click through warnings, which is what a man in the middle needs.',
    fix: 'Let cert-manager issue it from a CA (a new Secret, the old one kept until you delete it).',
    references: [INGRESS_TLS, SHIM],
  },
  {
    id: 'ingressCertWeakKey',
    severity: 'medium',
    title: "An Ingress's certificate has a weak key",
    why: 'RSA keys under 2048 bits and EC keys under 256 bits can be broken with today’s means; browsers refuse them.',
    fix: 'Let cert-manager issue it (ECDSA P-256 or RSA 2048 by default; a new Secret, the old one kept).',
    references: [NIST, SHIM],
  },
];

export const RULE = Object.fromEntries(RULES.map((r) => [r.id, r])) as Record<TlsRuleId, Rule>;
