/**
 * Inspect: is cert-manager there (its API served, its controller Deployment and version, its Helm
 * release), its issuers and certificates and how they stand, the Ingresses and the certificates they
 * serve. Secrets are read one GET at a time for the names Ingresses use (never a LIST of every Secret);
 * every live probe degrades to "unknown" when refused.
 */
import pMap from 'p-map';
import { isClusterError } from '../../cluster/errors.js';
import type { KubeObject } from '../../cluster/types.js';
import { refOf } from '../../cluster/types.js';
import type { Finding, InspectContext, Inspection, ReadSpec } from '../types.js';
import { certificateSummary, describeCertificate, weakKey } from './certs.js';
import {
  CERT_MANAGER,
  CM_API,
  type CertFact,
  type CertManagerState,
  type ControllerFact,
  type IngressFact,
  type IssuerFact,
  type ReleaseFact,
  type ServiceFact,
  type TlsFacts,
  type TlsSecretFact,
} from './facts.js';
import { findingsOf } from './findings.js';
import { freeName, secretNameFor } from './names.js';

export const TLS_READS: ReadSpec[] = [
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'apps/v1', kind: 'Deployment', status: true },
  { apiVersion: CM_API, kind: 'Certificate', optional: true, status: true },
  { apiVersion: CM_API, kind: 'Issuer', optional: true, status: true },
  { apiVersion: CM_API, kind: 'ClusterIssuer', optional: true, status: true },
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API objects are untyped JSON here
type Obj = Record<string, any>;

/** Services offered a certificate (each costs a GET of its would-be Secret at inspection). */
export const SERVICE_LIMIT = 500;

const readyOf = (o: KubeObject): { ready?: boolean; message?: string } => {
  const c = ((o.status as Obj | undefined)?.conditions as Obj[] | undefined)?.find((x) => x.type === 'Ready');
  return c ? { ready: c.status === 'True', message: c.message ?? c.reason } : {};
};

const ISSUER_TYPES = ['selfSigned', 'ca', 'acme', 'vault', 'venafi'];

function issuerFact(o: KubeObject): IssuerFact {
  const spec = (o.spec ?? {}) as Obj;
  const type = ISSUER_TYPES.find((t) => t in spec) ?? Object.keys(spec)[0] ?? 'unknown';
  return { ref: refOf(o), kind: o.kind as IssuerFact['kind'], name: o.metadata.name, namespace: o.metadata.namespace, type, ...readyOf(o) };
}

function certFact(o: KubeObject): CertFact {
  const spec = (o.spec ?? {}) as Obj;
  const status = (o.status ?? {}) as Obj;
  const ref = (spec.issuerRef ?? {}) as Obj;
  const owner = o.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'Ingress');
  return {
    ref: refOf(o),
    namespace: o.metadata.namespace!,
    name: o.metadata.name,
    secretName: spec.secretName ?? '',
    issuer: `${ref.kind ?? 'Issuer'}/${ref.name ?? ''}`,
    dnsNames: spec.dnsNames ?? [],
    ...readyOf(o),
    notAfter: status.notAfter,
    renewalTime: status.renewalTime,
    ingress: owner?.name,
  };
}

/** cert-manager's controller among the Deployments: its image, or the chart's labels. */
export function findController(deployments: KubeObject[]): ControllerFact | undefined {
  for (const d of deployments) {
    const containers = ((d.spec as Obj)?.template?.spec?.containers ?? []) as Obj[];
    const labels = d.metadata.labels ?? {};
    const c =
      containers.find((x) => /cert-manager-controller([:@]|$)/.test(String(x.image ?? ''))) ??
      (labels['app.kubernetes.io/name'] === 'cert-manager' && labels['app.kubernetes.io/component'] === 'controller' ? containers[0] : undefined);
    if (!c) continue;
    const image = String(c.image ?? '');
    const tag = /:([^:@/]+)(@.*)?$/.exec(image)?.[1];
    const status = (d.status ?? {}) as Obj;
    const available =
      ((status.conditions ?? []) as Obj[]).some((x) => x.type === 'Available' && x.status === 'True') || Number(status.availableReplicas ?? 0) > 0;
    const arg = ((c.args ?? []) as string[]).find((a) => a.startsWith('--cluster-resource-namespace='));
    let crn = arg?.slice('--cluster-resource-namespace='.length) ?? 'kube-system';
    if (crn.includes('$(')) crn = d.metadata.namespace!;
    return {
      namespace: d.metadata.namespace!,
      name: d.metadata.name,
      image,
      version: labels['app.kubernetes.io/version'] ?? tag,
      available,
      clusterResourceNamespace: crn,
    };
  }
  return undefined;
}

/** A probe that may be refused: undefined instead of an error. */
async function probe<T>(f: () => Promise<T>): Promise<T | undefined> {
  try {
    return await f();
  } catch {
    return undefined;
  }
}

interface SecretRead {
  exists: boolean | undefined;
  object?: KubeObject;
  error?: string;
}

async function readSecret(ctx: InspectContext, namespace: string, name: string): Promise<SecretRead> {
  try {
    const o = await ctx.cluster.tryGet({ apiVersion: 'v1', kind: 'Secret', namespace, name });
    return { exists: !!o, object: o };
  } catch (e) {
    return { exists: undefined, error: isClusterError(e) ? e.message : String(e) };
  }
}

function tlsSecretFact(secretName: string, hosts: string[], r: SecretRead, now: Date): TlsSecretFact {
  if (r.exists === undefined) return { secretName, hosts, state: 'unknown', error: r.error };
  if (!r.object) return { secretName, hosts, state: 'missing' };
  const data = (r.object.data ?? {}) as Record<string, string>;
  const managedBy = r.object.metadata.annotations?.['cert-manager.io/certificate-name'];
  const pem = Buffer.from(data['tls.crt'] ?? '', 'base64').toString('utf8');
  try {
    return { secretName, hosts, state: 'ok', info: describeCertificate(pem, now), managedBy };
  } catch (e) {
    return { secretName, hosts, state: 'invalid', error: (e as Error).message, managedBy };
  }
}

function ingressBasics(o: KubeObject) {
  const spec = (o.spec ?? {}) as Obj;
  const hosts = [...new Set(((spec.rules ?? []) as Obj[]).map((r) => r.host).filter((h): h is string => !!h))];
  const tls = ((spec.tls ?? []) as Obj[]).map((t) => ({ hosts: (t.hosts ?? []) as string[], secretName: t.secretName as string | undefined }));
  const covered = new Set(tls.flatMap((t) => t.hosts));
  const a = o.metadata.annotations ?? {};
  const issuer = a['cert-manager.io/cluster-issuer']
    ? `ClusterIssuer/${a['cert-manager.io/cluster-issuer']}`
    : a['cert-manager.io/issuer']
      ? `Issuer/${a['cert-manager.io/issuer']}`
      : undefined;
  return {
    hosts,
    tls,
    uncovered: hosts.filter((h) => !covered.has(h)),
    className: (spec.ingressClassName as string | undefined) ?? a['kubernetes.io/ingress.class'],
    issuer,
  };
}

export async function inspectTls(ctx: InspectContext): Promise<Inspection<TlsFacts>> {
  const now = new Date();
  const { scope } = ctx;
  ctx.onProgress?.('looking for cert-manager');
  const [deployments, ingressObjs, classes, serviceObjs, certObjs, issuerObjs, clusterIssuerObjs, served, helmVersion] = await Promise.all([
    ctx.list('Deployment', 'apps/v1'),
    ctx.list('Ingress', 'networking.k8s.io/v1'),
    ctx.list('IngressClass', 'networking.k8s.io/v1'),
    ctx.list('Service', 'v1'),
    ctx.list('Certificate', CM_API),
    ctx.list('Issuer', CM_API),
    ctx.list('ClusterIssuer', CM_API),
    probe(() => ctx.cluster.serves(CM_API, 'Certificate')),
    probe(() => ctx.helm.available()),
  ]);
  const controller = findController(deployments);
  const state: CertManagerState =
    served === true ? (controller ? 'installed' : 'crds-only') : served === false ? 'absent' : controller ? 'installed' : 'unknown';
  const crn = controller?.clusterResourceNamespace ?? CERT_MANAGER.namespace;
  let release: ReleaseFact | undefined;
  if (helmVersion) {
    const r = await probe(() => ctx.helm.release(CERT_MANAGER.release, controller?.namespace ?? CERT_MANAGER.namespace));
    if (r) release = { name: r.name, namespace: r.namespace, revision: r.revision, status: r.status, chart: r.chart, appVersion: r.app_version };
  }
  const namespaceExists = scope.all.some((n) => n.metadata.name === crn);
  let crdsFromRelease: boolean | undefined;
  if (state === 'crds-only') {
    const crd = await probe(() =>
      ctx.cluster.tryGet({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'certificates.cert-manager.io' }),
    );
    const a = crd?.metadata.annotations ?? {};
    crdsFromRelease =
      crd?.metadata.labels?.['app.kubernetes.io/managed-by'] === 'Helm' &&
      a['meta.helm.sh/release-name'] === CERT_MANAGER.release &&
      a['meta.helm.sh/release-namespace'] === CERT_MANAGER.namespace;
  }

  const issuers = [...clusterIssuerObjs, ...issuerObjs.filter((o) => scope.inScope(o.metadata.namespace))].map(issuerFact);
  const certificates = certObjs.filter((o) => scope.inScope(o.metadata.namespace) || o.metadata.namespace === crn).map(certFact);
  const certNames = new Set(certObjs.map((o) => `${o.metadata.namespace}/${o.metadata.name}`));

  // Ingresses: their hosts, their tls entries, and the certificate in each Secret.
  ctx.onProgress?.('reading the certificates Ingresses serve');
  const inScope = ingressObjs.filter((o) => scope.inScope(o.metadata.namespace));
  const ingresses: IngressFact[] = await pMap(
    inScope,
    async (o): Promise<IngressFact> => {
      const ns = o.metadata.namespace!;
      const b = ingressBasics(o);
      const secrets: TlsSecretFact[] = [];
      for (const t of b.tls) {
        if (!t.secretName) continue;
        secrets.push(tlsSecretFact(t.secretName, t.hosts, await readSecret(ctx, ns, t.secretName), now));
      }
      // Free names for the Secrets a plan may add: one per uncovered host, one per replaced certificate.
      const taken = new Set([
        ...b.tls.map((t) => t.secretName ?? ''),
        ...[...certNames].filter((n) => n.startsWith(`${ns}/`)).map((n) => n.slice(ns.length + 1)),
      ]);
      const proposed: Record<string, string> = {};
      const pick = async (base: string) => {
        const name = await freeName(base, async (n) => taken.has(n) || (await readSecret(ctx, ns, n)).exists === true);
        taken.add(name);
        return name;
      };
      for (const h of b.uncovered) proposed[h] = await pick(secretNameFor(o.metadata.name, h));
      for (const s of secrets) if (s.state === 'ok' && !s.managedBy) proposed[`secret:${s.secretName}`] = await pick(`${s.secretName}-cm`);
      return {
        object: o,
        namespace: ns,
        name: o.metadata.name,
        className: b.className,
        hosts: b.hosts,
        uncovered: b.uncovered,
        secrets,
        issuer: b.issuer,
        proposed,
      };
    },
    { concurrency: ctx.cluster.concurrency },
  );

  const used: Record<string, number> = {};
  for (const i of ingresses) if (i.className) used[i.className] = (used[i.className] ?? 0) + 1;
  const classNames = classes.map((c) => c.metadata.name).sort();
  const defaultClass = classes.find((c) => c.metadata.annotations?.['ingressclass.kubernetes.io/is-default-class'] === 'true')?.metadata.name;

  const serviceObjsInScope = serviceObjs
    .filter(
      (s) =>
        scope.inScope(s.metadata.namespace) &&
        (s.spec as Obj)?.type !== 'ExternalName' &&
        !(s.metadata.namespace === 'default' && s.metadata.name === 'kubernetes'),
    )
    .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  const mayIssue = served !== false || !!helmVersion;
  const services: ServiceFact[] = await pMap(
    serviceObjsInScope.slice(0, SERVICE_LIMIT),
    async (s): Promise<ServiceFact> => {
      const ns = s.metadata.namespace!;
      const base = `${s.metadata.name}-tls`;
      // Never a name whose Secret or Certificate exists: cert-manager would overwrite that Secret.
      const secretName = mayIssue ? await freeName(base, async (n) => certNames.has(`${ns}/${n}`) || (await readSecret(ctx, ns, n)).exists === true) : base;
      return { namespace: ns, name: s.metadata.name, ports: (((s.spec as Obj)?.ports ?? []) as Obj[]).map((p) => Number(p.port)), secretName };
    },
    { concurrency: ctx.cluster.concurrency },
  );

  const facts: TlsFacts = {
    certManager: { state, served, controller, release, clusterResourceNamespace: crn, namespaceExists, crdsFromRelease },
    helm: helmVersion,
    issuers,
    certificates,
    ingresses,
    ingressClasses: { names: classNames, default: defaultClass, used },
    services,
    servicesOmitted: Math.max(0, serviceObjsInScope.length - SERVICE_LIMIT),
  };
  const findings: Finding[] = findingsOf(facts, now);
  return { area: 'tls', findings, facts, notes: notesOf(facts) };
}

function notesOf(f: TlsFacts): string[] {
  const cm = f.certManager;
  const out: string[] = [];
  if (cm.state === 'installed' && cm.controller)
    out.push(
      `cert-manager ${cm.controller.version ?? ''} (deployment ${cm.controller.namespace}/${cm.controller.name}, ${cm.controller.available ? 'available' : 'NOT available'})${cm.release ? `, helm release ${cm.release.name} revision ${cm.release.revision}` : ''}`,
    );
  if (cm.state === 'crds-only')
    out.push(
      `cert-manager's API is served; its controller Deployment was not found in the cluster${cm.crdsFromRelease ? ' (its CRDs were kept by a helm uninstall)' : ' (it may run elsewhere)'}`,
    );
  if (cm.state === 'absent') out.push(`cert-manager is not installed${f.helm ? `; helm ${f.helm} found` : '; helm not found on PATH'}`);
  if (cm.state === 'unknown') out.push('whether cert-manager is installed is not known (discovery refused)');
  if (f.issuers.length)
    out.push(
      `issuers: ${f.issuers.map((i) => `${i.kind === 'ClusterIssuer' ? 'clusterissuer' : `issuer ${i.namespace}`}/${i.name} (${i.type}, ${i.ready ? 'Ready' : 'not Ready'})`).join(', ')}`,
    );
  const withCerts = f.ingresses.flatMap((i) => i.secrets.map((s) => ({ i, s })));
  for (const { i, s } of withCerts.slice(0, 10)) {
    const what = s.info
      ? certificateSummary(s.info) + (weakKey(s.info) ? ' (weak key)' : '')
      : s.state === 'missing'
        ? 'Secret missing'
        : `${s.state}${s.error ? `: ${s.error}` : ''}`;
    out.push(`ingress ${i.namespace}/${i.name} ${s.secretName}: ${what}${s.managedBy ? ` [cert-manager: ${s.managedBy}]` : ''}`);
  }
  if (withCerts.length > 10) out.push(`… and ${withCerts.length - 10} more Ingress certificate(s)`);
  const unknown = withCerts.filter(({ s }) => s.state === 'unknown').length;
  if (unknown) out.push(`${unknown} Ingress certificate(s) not read: reading their Secrets was refused`);
  return out;
}
