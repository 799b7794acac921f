/** The images area's rule fixtures, for the contract test (not shipped: nothing in the tool imports it). */
import type { KubeObject } from '../../cluster/types.js';
import type { AreaFixtures } from '../types.js';
import { admissionBinding, admissionPolicy } from './policy-cel.js';
import type { ImagePolicy } from './policy.js';

const DIGEST = `sha256:${'4f'.repeat(32)}`;
const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } });

/** A Deployment, its ReplicaSet and one running pod that reports the digest it runs. */
function app(image: string, opts: { pullPolicy?: string; name?: string } = {}): KubeObject[] {
  const name = opts.name ?? 'web';
  const container = { name: 'app', image, ...(opts.pullPolicy ? { imagePullPolicy: opts.pullPolicy } : {}) };
  const template = { metadata: { labels: { app: name } }, spec: { containers: [container] } };
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: 'fx', resourceVersion: '1', uid: `uid-${name}` },
      spec: { replicas: 1, selector: { matchLabels: { app: name } }, template },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${name}-5d4f`,
        namespace: 'fx',
        resourceVersion: '1',
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: `uid-${name}`, controller: true }],
      },
      spec: { replicas: 1, selector: { matchLabels: { app: name } }, template },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${name}-5d4f-x1`,
        namespace: 'fx',
        resourceVersion: '1',
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${name}-5d4f`, uid: 'uid-rs', controller: true }],
      },
      spec: template.spec,
      status: { containerStatuses: [{ name: 'app', image, imageID: `docker.io/library/nginx@${DIGEST}`, ready: true }] },
    },
  ];
}

const policy = (p: Partial<ImagePolicy> = {}): KubeObject[] => {
  const full: ImagePolicy = {
    allowedRegistries: [],
    forbidLatest: true,
    requireDigest: false,
    namespaces: { operator: 'NotIn', values: ['kube-system'] },
    mode: 'warn',
    ...p,
  };
  return [admissionPolicy(full), admissionBinding(full)];
};

/** A trivy-operator report about the ReplicaSet of `web` (as trivy-operator labels it). */
function report(kind: 'VulnerabilityReport' | 'ConfigAuditReport', data: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'aquasecurity.github.io/v1alpha1',
    kind,
    metadata: {
      name: `replicaset-web-5d4f-app`,
      namespace: 'fx',
      labels: {
        'trivy-operator.resource.kind': 'ReplicaSet',
        'trivy-operator.resource.name': 'web-5d4f',
        'trivy-operator.resource.namespace': 'fx',
        'trivy-operator.container.name': 'app',
      },
    },
    report: data,
  };
}

const vulns = (critical: number) =>
  report('VulnerabilityReport', {
    registry: { server: 'index.docker.io' },
    artifact: { repository: 'library/nginx', tag: '1.25' },
    summary: { criticalCount: critical, highCount: 0, mediumCount: 0, lowCount: 0, unknownCount: 0 },
    vulnerabilities: critical
      ? [
          {
            vulnerabilityID: 'CVE-2024-0001',
            resource: 'openssl',
            installedVersion: '3.0.1',
            fixedVersion: '3.0.9',
            severity: 'CRITICAL',
            title: 'x',
            score: 9.8,
          },
        ]
      : [],
  });

const audit = (success: boolean) =>
  report('ConfigAuditReport', {
    summary: { criticalCount: 0, highCount: 0, mediumCount: success ? 0 : 1, lowCount: 0 },
    checks: [{ checkID: 'KSV001', title: 'Can elevate its own privileges', severity: 'MEDIUM', success }],
  });

const PINNED = `nginx:1.25@${DIGEST}`;
const OFF = { 'images.policy': false };

export const fixtures: AreaFixtures = {
  answers: { 'images.policy': false, 'images.fixes': [] },
  rules: {
    latestTag: { failing: [ns('fx'), ...app('nginx:latest')], passing: [ns('fx'), ...app('nginx:1.25')], fix: { ...OFF, 'images.fixes': ['pinDigests'] } },
    notPinned: { failing: [ns('fx'), ...app('nginx:1.25')], passing: [ns('fx'), ...app(PINNED)], fix: { ...OFF, 'images.fixes': ['pinDigests'] } },
    pullPolicy: {
      failing: [ns('fx'), ...app('nginx:1.25', { pullPolicy: 'IfNotPresent' })],
      passing: [ns('fx'), ...app('nginx:1.25', { pullPolicy: 'Always' })],
      fix: { ...OFF, 'images.fixes': ['pullAlways'] },
    },
    registryNotAllowed: {
      failing: [ns('fx'), ...app(PINNED), ...policy({ allowedRegistries: ['ghcr.io'] })],
      passing: [ns('fx'), ...app(`ghcr.io/org/app:1@${DIGEST}`), ...policy({ allowedRegistries: ['ghcr.io'] })],
    },
    noImagePolicy: {
      failing: [ns('fx'), ...app(PINNED)],
      passing: [ns('fx'), ...app(PINNED), ...policy()],
      fix: { 'images.policy': true, 'images.mode': 'warn' },
    },
    policyWarnOnly: {
      failing: [ns('fx'), ...app(PINNED), ...policy()],
      passing: [ns('fx'), ...app(PINNED), ...policy({ mode: 'deny' })],
      fix: { 'images.policy': true, 'images.mode': 'auto', 'images.allowedRegistries': [], 'images.forbidLatest': true, 'images.namespaces': 'all-but-system' },
    },
    vulnerabilities: { failing: [ns('fx'), ...app('nginx:1.25'), vulns(2)], passing: [ns('fx'), ...app('nginx:1.25'), vulns(0)] },
    configAudit: { failing: [ns('fx'), ...app('nginx:1.25'), audit(false)], passing: [ns('fx'), ...app('nginx:1.25'), audit(true)] },
  },
  probed: {
    noScanner:
      'whether trivy-operator is installed is a live probe (its CRDs served, through discovery): the fixture cluster refuses it, so the area says "unknown"; tested against the test bed in test/integration/images.test.ts',
    imageVulnerabilities:
      'comes from running the local trivy (--scan-images), never from fixtures; the parser is tested on committed trivy reports (test/unit/images.test.ts)',
    imageNotScanned: 'comes from running the local trivy (--scan-images); tested with the real trivy binary in test/integration/images-scan.test.ts',
  },
};
