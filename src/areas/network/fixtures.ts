/** The network area's rule fixtures, for the contract test (not shipped: nothing in the tool imports it). */
import type { KubeObject } from '../../cluster/types.js';
import type { AreaFixtures } from '../types.js';

const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } });

const pod = (name: string, namespace: string, labels: Record<string, string>, ip: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, labels },
  spec: { containers: [{ name: 'app', image: 'registry.example/app:1.0', ports: [{ name: 'http', containerPort: 8080 }] }] },
  status: { phase: 'Running', podIP: ip },
});

const netpol = (name: string, namespace: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace, resourceVersion: '1' },
  spec,
});

const daemonSet = (name: string, namespace: string, image: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name, namespace },
  spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image }] } } },
});

const app = (): KubeObject[] => [ns('fx'), pod('web-1', 'fx', { app: 'web' }, '10.244.1.10'), pod('db-1', 'fx', { app: 'db' }, '10.244.1.11')];
const DENY_INGRESS = netpol('deny-in', 'fx', { podSelector: {}, policyTypes: ['Ingress'] });
const DENY_EGRESS = netpol('deny-out', 'fx', { podSelector: {}, policyTypes: ['Egress'] });

export const fixtures: AreaFixtures = {
  answers: { 'network.namespaces': ['fx'], 'network.allow': ['dns', 'same-namespace'] },
  rules: {
    defaultDenyIngress: {
      // An allow-all policy isolates the pods but lets everything in: still no default deny.
      failing: [...app(), netpol('allow-all', 'fx', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{}] })],
      passing: [...app(), DENY_INGRESS],
      fix: { 'network.defaultDeny': 'ingress' },
    },
    defaultDenyEgress: {
      failing: app(),
      passing: [...app(), DENY_EGRESS],
      fix: { 'network.defaultDeny': 'egress' },
    },
    cniUnknown: {
      failing: app(),
      passing: [...app(), daemonSet('cilium', 'kube-system', 'quay.io/cilium/cilium:v1.16.0')],
    },
    cniNoEnforcement: {
      failing: [ns('kube-flannel'), daemonSet('kube-flannel-ds', 'kube-flannel', 'docker.io/flannel/flannel:v0.26.1')],
      passing: [
        ns('kube-flannel'),
        daemonSet('kube-flannel-ds', 'kube-flannel', 'docker.io/flannel/flannel:v0.26.1'),
        daemonSet('calico-node', 'kube-system', 'docker.io/calico/node:v3.29.0'),
      ],
    },
  },
};
