import type { Area } from '../types.js';
import type { TlsFacts } from './facts.js';
import { inspectTls, TLS_READS } from './inspect.js';
import { planTls } from './plan.js';
import { tlsQuestions } from './questions.js';
import { reviewTls } from './review.js';
import { RULES } from './rules.js';

export const tlsArea: Area<TlsFacts> = {
  id: 'tls',
  title: 'TLS certificates',
  summary:
    "Certificates issued and renewed by cert-manager instead of by hand: installs it with its Helm chart when it is missing, bootstraps a private CA or a Let's Encrypt ClusterIssuer, gives Ingresses TLS, and reports every Ingress certificate's issuer, expiry and key.",
  reads: TLS_READS,
  rules: RULES.map(({ id, severity, title, why, fix, references }) => ({ id, severity, title, why, fix, references })),
  inspect: inspectTls,
  questions: tlsQuestions,
  answerDocs: {
    'tls.install': 'cert-manager absent: install it? helm | manifest (yourself: kube-harden plans nothing) | skip (default: helm when helm is on PATH)',
    'tls.chart': 'cert-manager chart: a name in the repository (cert-manager), an oci:// reference or a path to a packaged .tgz',
    'tls.chartRepo': 'chart repository (default https://charts.jetstack.io), passed as --repo',
    'tls.chartVersion': 'cert-manager version (default v1.21.2)',
    'tls.issuer': 'ClusterIssuer for certificates: selfsigned-ca | letsencrypt-staging | letsencrypt-production | clusterissuer/NAME | none',
    'tls.acmeEmail': "e-mail of the Let's Encrypt account (ACME issuers)",
    'tls.acmeSolver': "how Let's Encrypt verifies domains: http01 | dns01 (dns01: a manual step, no change planned)",
    'tls.ingressClass': 'ingress class that answers HTTP-01 challenges (default: the default IngressClass, else the most used)',
    'tls.ingresses': 'Ingresses (namespace/name) given TLS through the cert-manager.io/cluster-issuer annotation (default: all without TLS)',
    'tls.replace': 'Ingress certificates (namespace/ingress/secret) cert-manager takes over, in a new Secret (default: missing or expired)',
    'tls.services': 'Services (namespace/name) given a Certificate for their in-cluster names (default: none)',
  },
  plan: planTls,
  review: reviewTls,
};
