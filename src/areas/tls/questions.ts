/** The tls area's questions: install cert-manager (how), which issuer, which Ingresses and Services get certificates. */
import type { Answers, AnswerValue, Choice, Inspection, Question } from '../types.js';
import { weakKey } from './certs.js';
import { CERT_MANAGER, certManagerServed, HELM_INSTALL_HINT, installable, staticManifestUrl, type TlsFacts } from './facts.js';
import { canIssue } from './findings.js';
import { EXPIRY_DAYS } from './rules.js';

export const BOOTSTRAP = {
  selfSigned: 'kube-harden-selfsigned',
  ca: 'kube-harden-ca',
  caSecret: 'kube-harden-ca',
} as const;

export const ACME = {
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
  'letsencrypt-production': 'https://acme-v02.api.letsencrypt.org/directory',
} as const;
export type AcmeChoice = keyof typeof ACME;
export const isAcme = (v: AnswerValue | undefined): v is AcmeChoice => v === 'letsencrypt-staging' || v === 'letsencrypt-production';

/** A chart given as a path to a packaged chart, an oci:// reference or a URL: no repository applies. */
export const chartIsLocalOrUrl = (chart: string) =>
  /^(oci|https?|file):\/\//.test(chart) || /\.tgz$/.test(chart) || chart.startsWith('/') || chart.startsWith('.');

/** Which Ingress certificates a plan may replace: `ns/ingress/secretName`, with why. */
export function replaceable(f: TlsFacts): Array<Choice & { byDefault: boolean }> {
  const out: Array<Choice & { byDefault: boolean }> = [];
  for (const i of f.ingresses) {
    for (const s of i.secrets) {
      if (s.managedBy) continue;
      const why: string[] = [];
      if (s.state === 'missing') why.push('Secret missing');
      if (s.info) {
        if (s.info.daysLeft < 0) why.push('expired');
        else if (s.info.daysLeft < EXPIRY_DAYS) why.push(`expires in ${s.info.daysLeft} days`);
        if (s.info.selfSigned) why.push('self-signed');
        if (weakKey(s.info)) why.push('weak key');
      }
      if (!why.length) continue;
      out.push({
        value: `${i.namespace}/${i.name}/${s.secretName}`,
        label: `${i.namespace}/${i.name}: ${s.secretName}`,
        hint: why.join(', ') + (s.state === 'missing' ? '' : ` → new Secret ${i.proposed[`secret:${s.secretName}`]}`),
        byDefault: s.state === 'missing' || (s.info?.daysLeft ?? 0) < 0,
      });
    }
  }
  return out;
}

const issuerChosen = (a: Answers) => a['tls.issuer'] !== undefined && a['tls.issuer'] !== 'none';
const acmeDns = (a: Answers) => isAcme(a['tls.issuer']) && a['tls.acmeSolver'] === 'dns01';

const DNS01_STEPS = [
  'DNS-01, a step for you: a ClusterIssuer with your DNS provider’s solver and credentials, e.g.',
  '  spec.acme: { server: <Let’s Encrypt URL>, email: <you>, privateKeySecretRef: { name: <name>-account-key },',
  '    solvers: [{ dns01: { cloudflare: { apiTokenSecretRef: { name: cloudflare-token, key: api-token } } } }] }',
  '  (route53, cloudDNS, azureDNS, acmeDNS, rfc2136 and webhooks: https://cert-manager.io/docs/configuration/acme/dns01/)',
  'then run kube-harden again and choose that ClusterIssuer for the Ingresses.',
];

/**
 * Every question is always in the list, whatever the cluster holds; `when` says whether it is asked.
 * So an answer profile made on one cluster is accepted on another (with or without cert-manager).
 */
export function tlsQuestions(ins: Inspection<TlsFacts>): Question[] {
  const f = ins.facts;
  const cm = f.certManager;
  const installing = (a: Answers) => installable(f) && a['tls.install'] === 'helm';
  const haveCertManager = (a: Answers) => certManagerServed(f) || installing(a);
  const mayIssue = (a: Answers) => canIssue(f) && haveCertManager(a) && issuerChosen(a);
  const url = staticManifestUrl(CERT_MANAGER.version);

  const existing = f.issuers
    .filter((i) => i.kind === 'ClusterIssuer' && i.name !== BOOTSTRAP.selfSigned)
    .map((i) => ({ value: `clusterissuer/${i.name}`, label: `ClusterIssuer ${i.name}`, hint: `${i.type}, ${i.ready ? 'Ready' : 'not Ready'}`, i }));
  const bootstrapExists = f.issuers.some((i) => i.kind === 'ClusterIssuer' && i.name === BOOTSTRAP.ca);
  const preferred =
    existing.find((e) => e.i.ready && e.i.type !== 'selfSigned' && e.i.name === BOOTSTRAP.ca) ?? existing.find((e) => e.i.ready && e.i.type !== 'selfSigned');

  const classes = f.ingressClasses;
  const mostUsed = Object.entries(classes.used).sort((a, b) => b[1] - a[1])[0]?.[0];
  const detected = classes.default ?? mostUsed ?? classes.names[0] ?? '';
  const classNames = [...new Set([...classes.names, ...Object.keys(classes.used)])].sort();

  const withoutTls = f.ingresses.filter((i) => i.uncovered.length);
  const bad = replaceable(f);

  return [
    {
      id: 'tls.install',
      area: 'tls',
      title:
        cm.state === 'absent'
          ? 'cert-manager is not installed: install it?'
          : "cert-manager's controller is missing (an uninstall kept its CRDs): install it again?",
      help: `helm: \`helm upgrade --install cert-manager\` from the official chart, with its CRDs (crds.enabled=true), into the cert-manager namespace; rollback uninstalls it (the chart keeps its CRDs). The static manifest (${url}) is not carried by kube-harden: apply it yourself, then run again.`,
      kind: 'select',
      choices: [
        { value: 'helm', label: 'install with helm (recommended)', hint: f.helm ? `helm ${f.helm}` : `helm not found on PATH: ${HELM_INSTALL_HINT}` },
        { value: 'manifest', label: 'the static manifest, yourself (no change planned)', hint: `kubectl apply -f ${url}, then run kube-harden again` },
        { value: 'skip', label: 'do not install it now' },
      ],
      default: f.helm ? 'helm' : 'skip',
      details: f.helm ? undefined : [`helm is not on PATH: ${HELM_INSTALL_HINT}`, `or, without helm: kubectl apply -f ${url}`],
      when: () => installable(f),
    },
    {
      id: 'tls.chart',
      area: 'tls',
      title: 'cert-manager chart',
      help: `A chart name in the repository asked next (official: ${CERT_MANAGER.chart} from ${CERT_MANAGER.repo}), an oci:// reference, or a path to a packaged chart (.tgz).`,
      kind: 'text',
      default: CERT_MANAGER.chart,
      when: installing,
      validate: (v) => (typeof v === 'string' && v.trim() ? undefined : 'a chart is needed'),
    },
    {
      id: 'tls.chartRepo',
      area: 'tls',
      title: 'Chart repository',
      help: `The official one is ${CERT_MANAGER.repo} (Jetstack). Passed as --repo, so nothing is added to your helm repositories.`,
      kind: 'text',
      default: CERT_MANAGER.repo,
      when: (a) => installing(a) && !chartIsLocalOrUrl(String(a['tls.chart'] ?? CERT_MANAGER.chart)),
      validate: (v) => (typeof v === 'string' && /^(https?|oci):\/\/\S+$/.test(v.trim()) ? undefined : 'a repository URL (https://...)'),
    },
    {
      id: 'tls.chartVersion',
      area: 'tls',
      title: 'cert-manager version',
      help: `Pinned to ${CERT_MANAGER.version}, the version kube-harden is tested with.`,
      kind: 'text',
      default: CERT_MANAGER.version,
      when: installing,
      validate: (v) => (typeof v === 'string' && /^v?\d+\.\d+\.\d+(-[\w.]+)?$/.test(v.trim()) ? undefined : 'a version such as v1.21.2'),
    },
    {
      id: 'tls.issuer',
      area: 'tls',
      title: 'Which ClusterIssuer should issue certificates?',
      help: "A private CA works anywhere, but only clients that trust its certificate (in the Secret kube-harden-ca) accept what it signs: browsers on a public site will not. Let's Encrypt needs public DNS names that reach this cluster's ingress on port 80 (HTTP-01) or DNS-provider credentials (DNS-01, a manual step).",
      kind: 'select',
      choices: [
        ...existing.map(({ value, label, hint }) => ({ value, label, hint })),
        // Always a choice (a profile's answer stays valid): once bootstrapped, choosing it reuses it.
        {
          value: 'selfsigned-ca',
          label: 'a private CA, bootstrapped by cert-manager',
          hint: bootstrapExists
            ? `exists already (ClusterIssuer ${BOOTSTRAP.ca}): reused`
            : 'self-signed ClusterIssuer → CA Certificate → CA ClusterIssuer; internal use',
        },
        { value: 'letsencrypt-staging', label: "Let's Encrypt staging (ACME)", hint: 'public hosts; untrusted test certificates, generous rate limits' },
        { value: 'letsencrypt-production', label: "Let's Encrypt production (ACME)", hint: 'public hosts; trusted certificates, strict rate limits' },
        { value: 'none', label: 'no issuer now' },
      ],
      default: preferred?.value ?? 'selfsigned-ca',
      when: haveCertManager,
    },
    {
      id: 'tls.acmeEmail',
      area: 'tls',
      title: "E-mail for the Let's Encrypt account",
      help: "Let's Encrypt writes here about expiring certificates and account problems.",
      kind: 'text',
      default: '',
      when: (a) => haveCertManager(a) && isAcme(a['tls.issuer']),
      validate: (v) => (typeof v === 'string' && /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v.trim()) ? undefined : 'an e-mail address'),
    },
    {
      id: 'tls.acmeSolver',
      area: 'tls',
      title: 'How should Let’s Encrypt verify the domains?',
      help: 'HTTP-01: cert-manager answers the challenge through an Ingress of the class asked next (the hosts must reach it from the internet on port 80). DNS-01 (wildcards, private clusters) needs your DNS provider’s credentials: a manual step, explained below.',
      kind: 'select',
      choices: [
        { value: 'http01', label: 'HTTP-01 through the ingress controller' },
        { value: 'dns01', label: 'DNS-01 (a manual step: no change planned)' },
      ],
      default: 'http01',
      details: DNS01_STEPS,
      when: (a) => haveCertManager(a) && isAcme(a['tls.issuer']),
    },
    {
      id: 'tls.ingressClass',
      area: 'tls',
      title: 'Ingress class that answers HTTP-01 challenges',
      help: `cert-manager creates a temporary Ingress of this class for each challenge.${detected ? ` Detected: ${detected}${classes.default === detected ? ' (the default IngressClass)' : ''}.` : ' No IngressClass found.'}`,
      kind: classNames.length ? 'select' : 'text',
      choices: classNames.length
        ? classNames.map((n) => ({ value: n, label: n, hint: `${classes.used[n] ?? 0} Ingress(es)${classes.default === n ? ', default' : ''}` }))
        : undefined,
      default: detected,
      when: (a) => haveCertManager(a) && isAcme(a['tls.issuer']) && a['tls.acmeSolver'] !== 'dns01',
      validate: (v) => (typeof v === 'string' && v.trim() ? undefined : 'an ingress class name'),
    },
    {
      id: 'tls.ingresses',
      area: 'tls',
      title: 'Which Ingresses should get TLS?',
      help: 'Each gets a tls entry per host (its own Secret) and the cert-manager.io/cluster-issuer annotation; cert-manager issues and renews the certificates. Most ingress controllers then redirect http:// to https://: with a private CA, only clients that trust it can follow.',
      kind: 'multiselect',
      choices: withoutTls.map((i) => ({ value: `${i.namespace}/${i.name}`, label: `${i.namespace}/${i.name}`, hint: i.uncovered.join(', ') })),
      default: withoutTls.map((i) => `${i.namespace}/${i.name}`),
      when: (a) => withoutTls.length > 0 && mayIssue(a) && !acmeDns(a),
    },
    {
      id: 'tls.replace',
      area: 'tls',
      title: 'Which Ingress certificates should cert-manager take over?',
      help: 'A missing Secret is issued under its name. An existing certificate is never overwritten: the tls entry points to a new Secret cert-manager issues, the old Secret stays (rollback points back to it).',
      kind: 'multiselect',
      choices: bad.map(({ value, label, hint }) => ({ value, label, hint })),
      default: bad.filter((b) => b.byDefault).map((b) => b.value),
      when: (a) => bad.length > 0 && mayIssue(a) && !acmeDns(a),
    },
    {
      id: 'tls.services',
      area: 'tls',
      title: 'Certificates for which Services? (in-cluster TLS)',
      help:
        'A Certificate per Service for NAME, NAME.NAMESPACE, NAME.NAMESPACE.svc and NAME.NAMESPACE.svc.cluster.local, in a Secret NAME-tls the Service’s pods can mount. Not with ACME: Let’s Encrypt cannot reach in-cluster names.' +
        (f.servicesOmitted
          ? ` Only the first ${f.services.length} Services are offered (${f.servicesOmitted} more: narrow the session with --namespaces).`
          : ''),
      kind: 'multiselect',
      choices: f.services.map((s) => ({
        value: `${s.namespace}/${s.name}`,
        label: `${s.namespace}/${s.name}`,
        hint: s.ports.length ? `port(s) ${s.ports.join(', ')}` : undefined,
      })),
      default: [],
      when: (a) => f.services.length > 0 && mayIssue(a) && !isAcme(a['tls.issuer']),
    },
  ];
}
