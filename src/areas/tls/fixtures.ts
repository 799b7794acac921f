/** The tls area's rule fixtures, for the contract test (not shipped: nothing in the tool imports it). */
import type { KubeObject } from '../../cluster/types.js';
import type { AreaFixtures } from '../types.js';

const DAY = 86_400_000;
const at = (days: number) => new Date(Date.now() + days * DAY).toISOString().replace(/\.\d+Z$/, 'Z');
const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const ready = (ok: boolean, message = ok ? 'ready' : 'not ready') => ({ conditions: [{ type: 'Ready', status: ok ? 'True' : 'False', message }] });

function controller(available = true): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'cert-manager',
      namespace: 'cert-manager',
      resourceVersion: '1',
      labels: { 'app.kubernetes.io/name': 'cert-manager', 'app.kubernetes.io/component': 'controller', 'app.kubernetes.io/version': 'v1.21.2' },
    },
    spec: {
      selector: { matchLabels: { app: 'cert-manager' } },
      template: {
        metadata: { labels: { app: 'cert-manager' } },
        spec: {
          containers: [
            {
              name: 'cert-manager-controller',
              image: 'quay.io/jetstack/cert-manager-controller:v1.21.2',
              args: ['--cluster-resource-namespace=$(POD_NAMESPACE)'],
            },
          ],
        },
      },
    },
    status: available
      ? { availableReplicas: 1, conditions: [{ type: 'Available', status: 'True' }] }
      : { availableReplicas: 0, conditions: [{ type: 'Available', status: 'False' }] },
  };
}

const clusterIssuer = (name: string, ok = true): KubeObject => ({
  apiVersion: 'cert-manager.io/v1',
  kind: 'ClusterIssuer',
  metadata: { name, resourceVersion: '1' },
  spec: { ca: { secretName: name } },
  status: ready(ok, ok ? 'Signing CA verified' : 'Error getting keypair for CA issuer: secrets "ca" not found'),
});

const certificate = (status: Record<string, unknown>): KubeObject => ({
  apiVersion: 'cert-manager.io/v1',
  kind: 'Certificate',
  metadata: { name: 'api', namespace: 'fx', resourceVersion: '1' },
  spec: { secretName: 'api-tls', dnsNames: ['api.fx.svc'], issuerRef: { name: 'ca', kind: 'ClusterIssuer', group: 'cert-manager.io' } },
  status,
});

const ingress = (tls: boolean): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'web', namespace: 'fx', resourceVersion: '1', uid: 'ingress-uid' },
  spec: {
    ingressClassName: 'nginx',
    ...(tls ? { tls: [{ hosts: ['web.example.test'], secretName: 'web-tls' }] } : {}),
    rules: [{ host: 'web.example.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }],
  },
});

/** cert-manager running, with a Ready CA ClusterIssuer, in a cluster with namespace fx. */
const base = (): KubeObject[] => [ns('fx'), ns('cert-manager'), controller(), clusterIssuer('ca')];

export const fixtures: AreaFixtures = {
  answers: { 'tls.issuer': 'none' },
  rules: {
    certManagerUnavailable: { failing: [ns('cert-manager'), controller(false)], passing: [ns('cert-manager'), controller(true)] },
    noIssuer: {
      failing: [ns('fx'), ns('cert-manager'), controller()],
      passing: base(),
      fix: { 'tls.issuer': 'selfsigned-ca' },
    },
    issuerNotReady: { failing: [...base(), clusterIssuer('broken', false)], passing: base() },
    certificateNotReady: {
      failing: [...base(), certificate({ ...ready(false, 'Issuing certificate as Secret does not exist'), notAfter: undefined })],
      passing: [...base(), certificate({ ...ready(true), notAfter: at(60), renewalTime: at(30) })],
    },
    certificateExpiring: {
      failing: [...base(), certificate({ ...ready(true), notAfter: at(5), renewalTime: at(-25) })],
      passing: [...base(), certificate({ ...ready(true), notAfter: at(60), renewalTime: at(30) })],
    },
    ingressWithoutTls: {
      failing: [...base(), ingress(false)],
      passing: [...base(), ingress(true)],
      fix: { 'tls.issuer': 'clusterissuer/ca', 'tls.ingresses': ['fx/web'] },
    },
  },
  probed: {
    certManagerMissing:
      'found by discovery (is the cert-manager.io API served?), a live request; test/integration/tls-install.test.ts installs it with the real chart and helm',
    ingressCertMissing: 'the TLS Secret is read with a GET (never a LIST of every Secret); test/integration/tls-issuance.test.ts',
    ingressCertExpiring: 'the certificate is read from the TLS Secret with a GET; test/integration/tls-issuance.test.ts (and test/unit/tls-certs.test.ts)',
    ingressCertSelfSigned: 'the certificate is read from the TLS Secret with a GET; test/integration/tls-issuance.test.ts (and test/unit/tls-certs.test.ts)',
    ingressCertWeakKey: 'the certificate is read from the TLS Secret with a GET; test/integration/tls-issuance.test.ts (and test/unit/tls-certs.test.ts)',
  },
};
