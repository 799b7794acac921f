/** What the tls area learns from the cluster: the typed facts its questions and its plan use. */
import type { KubeObject, ObjectRef } from '../../cluster/types.js';
import type { CertificateInfo } from './certs.js';

export const CM_API = 'cert-manager.io/v1';

/** The official way to install cert-manager, pinned: the chart from Jetstack's repository. */
export const CERT_MANAGER = {
  repo: 'https://charts.jetstack.io',
  chart: 'cert-manager',
  version: 'v1.21.2',
  release: 'cert-manager',
  namespace: 'cert-manager',
} as const;

export const staticManifestUrl = (version: string) => `https://github.com/cert-manager/cert-manager/releases/download/${version}/cert-manager.yaml`;

/** Where helm comes from, for a user without it. */
export const HELM_INSTALL_HINT = 'install helm (https://helm.sh/docs/intro/install/: a release binary, `brew install helm`, `choco install kubernetes-helm`)';

/**
 * installed: its API is served and its controller Deployment found; crds-only: the API is served but no
 * controller Deployment was found (it may run outside the cluster); absent: the API is not served;
 * unknown: discovery was refused and no controller was found.
 */
export type CertManagerState = 'installed' | 'crds-only' | 'absent' | 'unknown';

export interface ControllerFact {
  namespace: string;
  name: string;
  image: string;
  version?: string;
  available: boolean;
  /** Where ClusterIssuers find their Secrets (the controller's --cluster-resource-namespace). */
  clusterResourceNamespace: string;
}

export interface ReleaseFact {
  name: string;
  namespace: string;
  revision: number;
  status: string;
  chart: string;
  appVersion?: string;
}

export interface IssuerFact {
  ref: ObjectRef;
  kind: 'Issuer' | 'ClusterIssuer';
  name: string;
  namespace?: string;
  /** selfSigned, ca, acme, vault, venafi, or an external issuer's field. */
  type: string;
  /** The Ready condition; undefined when it has none yet. */
  ready?: boolean;
  message?: string;
}

export interface CertFact {
  ref: ObjectRef;
  namespace: string;
  name: string;
  secretName: string;
  issuer: string;
  dnsNames: string[];
  ready?: boolean;
  message?: string;
  notAfter?: string;
  renewalTime?: string;
  /** The Ingress whose annotation made it (the ingress-shim's controller reference). */
  ingress?: string;
}

/** One Secret an Ingress's tls section names, as read (one GET, never a LIST of every Secret). */
export interface TlsSecretFact {
  secretName: string;
  hosts: string[];
  /** ok: parsed; missing: no such Secret; invalid: no certificate in tls.crt; unknown: could not be read (forbidden). */
  state: 'ok' | 'missing' | 'invalid' | 'unknown';
  info?: CertificateInfo;
  error?: string;
  /** cert-manager's Certificate that writes it (the Secret's cert-manager.io/certificate-name annotation). */
  managedBy?: string;
}

export interface IngressFact {
  /** The Ingress as read: the base of the plan's edit. */
  object: KubeObject;
  namespace: string;
  name: string;
  className?: string;
  /** Host names of its rules, in order, once each. */
  hosts: string[];
  /** Hosts that no tls entry covers. */
  uncovered: string[];
  secrets: TlsSecretFact[];
  /** Its cert-manager annotation, when it has one: `ClusterIssuer/NAME` or `Issuer/NAME`. */
  issuer?: string;
  /** Secret names for new tls entries (per uncovered host) and for replaced ones (per old secretName), chosen free. */
  proposed: Record<string, string>;
}

export interface ServiceFact {
  namespace: string;
  name: string;
  ports: number[];
  /** The Secret (and Certificate) name a plan would use: NAME-tls, or the first free NAME-tls-N. */
  secretName: string;
}

export interface TlsFacts {
  certManager: {
    state: CertManagerState;
    /** The cert-manager.io API is served (undefined: discovery refused). */
    served?: boolean;
    controller?: ControllerFact;
    release?: ReleaseFact;
    clusterResourceNamespace: string;
    /** The cluster resource namespace exists (undefined: not known). */
    namespaceExists?: boolean;
    /**
     * crds-only: the CRDs carry helm's ownership of release cert-manager in cert-manager (an uninstall kept
     * them): installing the chart again adopts them.
     */
    crdsFromRelease?: boolean;
  };
  /** `helm version --short` of the helm on PATH; undefined: not found. */
  helm?: string;
  issuers: IssuerFact[];
  certificates: CertFact[];
  ingresses: IngressFact[];
  ingressClasses: { names: string[]; default?: string; used: Record<string, number> };
  services: ServiceFact[];
  /** Services in scope beyond the ones offered (inspection looks at the first ones, by namespace and name). */
  servicesOmitted?: number;
}

/** The chart can be installed: cert-manager is absent, or only the CRDs an earlier uninstall kept are left. */
export const installable = (f: TlsFacts) => f.certManager.state === 'absent' || (f.certManager.state === 'crds-only' && !!f.certManager.crdsFromRelease);

/** cert-manager is there to take issuers (installed, or its API served with the controller elsewhere). */
export const certManagerServed = (f: TlsFacts) => f.certManager.state === 'installed' || f.certManager.state === 'crds-only';
