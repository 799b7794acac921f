/**
 * The images area's rules, as data. Image checks look at one container's image in one workload and
 * say whether it fails; the other rules come from the cluster as a whole (no admission policy, a policy
 * that only warns) or from a scanner's reports.
 */
import type { Rule } from '../types.js';
import { registryAllowed } from './image-ref.js';
import type { ImageInfo, ImageUse } from './inventory.js';

export type ImageFixId = 'pinDigests' | 'pullAlways';

export interface ImageCheck extends Rule {
  /** The message after "container X uses IMAGE". */
  says: string;
  fixId?: ImageFixId;
  fails(image: ImageInfo, use: ImageUse, allowed: string[] | undefined): boolean;
}

const NSA = { title: 'NSA/CISA Kubernetes Hardening Guide: image scanning and trusted registries' };
const CIS_IMAGES = { title: 'CIS Kubernetes Benchmark 5.5.1 (image provenance)' };
const DOCS_IMAGES = { title: 'Kubernetes docs: Images (tags, digests, pull policy)', url: 'https://kubernetes.io/docs/concepts/containers/images/' };
const VAP_DOCS = {
  title: 'Kubernetes docs: Validating Admission Policy',
  url: 'https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/',
};

export const IMAGE_CHECKS: ImageCheck[] = [
  {
    id: 'latestTag',
    severity: 'medium',
    title: 'Image tagged :latest or untagged',
    why: 'A :latest (or missing) tag names whatever was pushed last: two pods of one workload can run different code, a rollback does not roll back, and nobody can say what runs.',
    fix: 'Pin a version tag or a digest in the workload. kube-harden can pin the digest the running pods report (opt-in); the admission policy can refuse new ones.',
    references: [DOCS_IMAGES, CIS_IMAGES],
    says: 'tagged :latest or untagged',
    fixId: 'pinDigests',
    fails: (i) => i.latest,
  },
  {
    id: 'notPinned',
    severity: 'low',
    title: 'Image not pinned by digest',
    why: 'A tag can be moved to other content (by the publisher or by anyone who can push): only a digest names exactly the image that was reviewed and scanned.',
    fix: 'Reference images by digest (name@sha256:...), ideally in the source of the workload; kube-harden can pin the digest the running pods report (opt-in).',
    references: [DOCS_IMAGES],
    says: 'not pinned by digest',
    fixId: 'pinDigests',
    fails: (i) => !i.pinned,
  },
  {
    id: 'registryNotAllowed',
    severity: 'high',
    title: 'Image from a registry outside the allowed list',
    why: 'Images from registries nobody vetted bypass the review, scanning and signing of the allowed ones.',
    fix: "Move the image to an allowed registry (mirror it), or add its registry to the admission policy's allow-list.",
    references: [NSA, CIS_IMAGES],
    says: 'comes from a registry outside the allowed list',
    fails: (i, _u, allowed) => !!allowed?.length && !registryAllowed(i, allowed),
  },
  {
    id: 'pullPolicy',
    severity: 'low',
    title: 'Mutable tag without imagePullPolicy: Always',
    why: "With IfNotPresent a node keeps whatever it pulled first under a tag that may have moved since: nodes run different images, and a pod can reuse an image pulled with another tenant's credentials.",
    fix: 'Set imagePullPolicy: Always for images referenced by tag (or pin them by digest).',
    references: [DOCS_IMAGES, { title: 'CIS Kubernetes Benchmark: AlwaysPullImages admission (1.2.11)' }],
    says: 'uses a mutable tag with imagePullPolicy',
    fixId: 'pullAlways',
    fails: (i, u) => !i.pinned && u.pullPolicy !== 'Always',
  },
];

export const CLUSTER_RULES: Rule[] = [
  {
    id: 'noImagePolicy',
    severity: 'medium',
    title: 'No admission policy on images',
    why: 'Without an admission rule anything can be deployed from anywhere, :latest included; findings come back as fast as they are fixed.',
    fix: 'A ValidatingAdmissionPolicy and binding (built in, CEL): allowed registries, no :latest, digests (opt-in); Warn + Audit first, Deny once nothing running breaks it.',
    references: [VAP_DOCS, NSA],
  },
  {
    id: 'policyWarnOnly',
    severity: 'low',
    title: 'Image policy only warns although nothing running breaks it',
    why: 'Warn + Audit is the first step of a rollout; once no running workload breaks the policy, Deny makes the API server refuse new violations.',
    fix: 'Switch the binding to validationActions [Deny, Audit].',
    references: [VAP_DOCS],
  },
  {
    id: 'vulnerabilities',
    severity: 'high',
    title: 'Known vulnerabilities in running images (trivy-operator)',
    why: 'Known CVEs in the images that run are the easiest way in; the ones with a fixed version only need a rebuild or an upgrade.',
    fix: 'Rebuild or upgrade the image to the fixed versions, fixable and critical ones first.',
    references: [
      NSA,
      { title: 'trivy-operator VulnerabilityReports', url: 'https://aquasecurity.github.io/trivy-operator/latest/docs/crds/vulnerability-report/' },
    ],
  },
  {
    id: 'configAudit',
    severity: 'medium',
    title: 'Failed configuration checks (trivy-operator ConfigAuditReports)',
    why: "trivy-operator's own configuration audit of the workload, shown beside kube-harden's findings.",
    fix: "Follow each check's remediation (many are fixed by the workloads area).",
    references: [{ title: 'trivy-operator ConfigAuditReports', url: 'https://aquasecurity.github.io/trivy-operator/latest/docs/crds/configaudit-report/' }],
  },
  {
    id: 'noScanner',
    severity: 'low',
    title: 'No vulnerability scanner watches the cluster',
    why: 'Images get new CVEs after they are deployed: without a scanner in the cluster nobody hears of them.',
    fix: 'Install trivy-operator (a Helm release, aquasecurity/trivy-operator) or scan locally with --scan-images.',
    references: [NSA],
  },
  {
    id: 'imageVulnerabilities',
    severity: 'high',
    title: 'Known vulnerabilities in an image in use (local trivy scan)',
    why: 'Known CVEs in the images that run are the easiest way in; the ones with a fixed version only need a rebuild or an upgrade.',
    fix: 'Rebuild or upgrade the image to the fixed versions, fixable and critical ones first.',
    references: [NSA, { title: 'trivy', url: 'https://trivy.dev/' }],
  },
  {
    id: 'imageNotScanned',
    severity: 'low',
    title: 'Image could not be scanned',
    why: 'An image nobody could scan may carry any known vulnerability.',
    fix: 'Give trivy its database and access to the registry (the reason is given per image), or let trivy-operator scan in the cluster.',
    references: [{ title: 'trivy: air-gapped environments', url: 'https://trivy.dev/latest/docs/advanced/air-gap/' }],
  },
];

export const RULES: Rule[] = [
  ...IMAGE_CHECKS.map(({ id, severity, title, why, fix, references }) => ({ id, severity, title, why, fix, references })),
  ...CLUSTER_RULES,
];
