/** The workloads area's rule fixtures, for the contract test (not shipped: nothing in the tool imports it). */
import type { KubeObject } from '../../cluster/types.js';
import type { AreaFixtures } from '../types.js';
import type { PodSpec } from './pod-spec.js';

const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
const ENFORCED = { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' };

/** A workload that passes every check, with one pod-spec edit. */
function app(edit: (p: PodSpec) => void = () => undefined): KubeObject[] {
  const pod: PodSpec = {
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [
      {
        name: 'app',
        image: 'registry.example/app:1.0',
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
      },
    ],
  };
  edit(pod);
  return [
    ns('fx', ENFORCED),
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'fx', resourceVersion: '1' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: pod } },
    },
  ];
}
const c0 = (p: PodSpec) => p.containers[0].securityContext!;
const FIXES = { 'workloads.namespaces': ['fx'], 'workloads.psa': 'skip' };

export const fixtures: AreaFixtures = {
  answers: { 'workloads.namespaces': ['fx'], 'workloads.psa': 'skip', 'workloads.fixes': [] },
  rules: {
    privileged: { failing: app((p) => (c0(p).privileged = true)), passing: app(), fix: { ...FIXES, 'workloads.fixes': ['noPrivileged'] } },
    allowPrivilegeEscalation: {
      failing: app((p) => delete c0(p).allowPrivilegeEscalation),
      passing: app(),
      fix: { ...FIXES, 'workloads.fixes': ['noEscalation'] },
    },
    runAsNonRoot: { failing: app((p) => delete p.securityContext!.runAsNonRoot), passing: app(), fix: { ...FIXES, 'workloads.fixes': ['runAsNonRoot'] } },
    capabilitiesDropAll: { failing: app((p) => delete c0(p).capabilities), passing: app(), fix: { ...FIXES, 'workloads.fixes': ['dropAll'] } },
    dangerousCapabilities: { failing: app((p) => (c0(p).capabilities = { drop: ['ALL'], add: ['CAP_SYS_ADMIN'] })), passing: app() },
    seccomp: { failing: app((p) => delete p.securityContext!.seccompProfile), passing: app(), fix: { ...FIXES, 'workloads.fixes': ['seccomp'] } },
    readOnlyRootFilesystem: {
      failing: app((p) => delete c0(p).readOnlyRootFilesystem),
      passing: app(),
      fix: { ...FIXES, 'workloads.fixes': ['readOnlyRootFilesystem'] },
    },
    hostNamespaces: { failing: app((p) => (p.hostPID = true)), passing: app(), fix: { ...FIXES, 'workloads.fixes': ['hostNamespaces'] } },
    hostPath: { failing: app((p) => (p.volumes = [{ name: 'logs', hostPath: { path: '/var/log' } }])), passing: app() },
    automountToken: { failing: app((p) => delete p.automountServiceAccountToken), passing: app(), fix: { ...FIXES, 'workloads.fixes': ['automountToken'] } },
    podSecurityAdmission: {
      failing: [ns('fx'), ...app().slice(1)],
      passing: app(),
      fix: { 'workloads.namespaces': ['fx'], 'workloads.psa': 'restricted', 'workloads.fixes': [] },
    },
  },
};
