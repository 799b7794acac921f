/**
 * The image policy written for an admission engine: a ValidatingAdmissionPolicy and its binding
 * (admissionregistration.k8s.io/v1, CEL, nothing to install), or the same CEL in the form of a policy
 * engine already in the cluster (a Kyverno ClusterPolicy; a Gatekeeper ConstraintTemplate and its
 * Constraint). The CEL parses image references step by step exactly as image-ref.ts does; the
 * differential test runs both on the real API server.
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '../../cluster/types.js';
import {
  CONFIG_ANNOTATION,
  MESSAGE_PREFIX,
  NAME_LABEL,
  POLICY_NAME,
  activeRules,
  policyAnnotation,
  ruleText,
  type ImagePolicy,
  type PolicyRule,
} from './policy.js';

/** A CEL string literal. */
export const celString = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

const listOf = (field: string) =>
  `(has(variables.podSpec.${field}) ? variables.podSpec.${field}.filter(c, has(c.image) && c.image != "").map(c, c.image) : [])`;

const HOST = `r.repoPart.contains("/") && (r.repoPart.split("/")[0] == "localhost" || r.repoPart.split("/")[0].matches("[.:A-Z]"))`;
const REGISTRY = `(r.host == "" || r.host == "index.docker.io" ? "docker.io" : r.host)`;

/**
 * The CEL variables: the pod spec of any kind, its images, and each image split into its parts, one
 * step per variable. The API server's CEL wants map literals of one value type: every part is a string
 * and a flag is "y" or "".
 */
export const CEL_VARIABLES: Array<{ name: string; expression: string }> = [
  {
    name: 'podSpec',
    expression: `object.kind == "Pod" ? object.spec : (object.kind == "CronJob" ? object.spec.jobTemplate.spec.template.spec : object.spec.template.spec)`,
  },
  { name: 'images', expression: `${listOf('containers')} + ${listOf('initContainers')} + ${listOf('ephemeralContainers')}` },
  {
    name: 'split',
    expression: `variables.images.map(i, {"image": string(i), "named": string(i).split("@")[0], "pinned": string(i).contains("@") ? "y" : ""})`,
  },
  {
    name: 'tagged',
    expression: `variables.split.map(r, {"image": r.image, "named": r.named, "pinned": r.pinned, "tagged": r.named.matches(":[^/]*$") ? "y" : ""})`,
  },
  {
    name: 'parts',
    expression:
      `variables.tagged.map(r, {"image": r.image, "pinned": r.pinned, "untagged": r.tagged == "" && r.pinned == "" ? "y" : "", ` +
      `"tag": r.tagged == "y" ? r.named.substring(r.named.lastIndexOf(":") + 1) : "", ` +
      `"repoPart": r.tagged == "y" ? r.named.substring(0, r.named.lastIndexOf(":")) : r.named})`,
  },
  {
    name: 'hosts',
    expression:
      `variables.parts.map(r, {"image": r.image, "pinned": r.pinned, "untagged": r.untagged, "tag": r.tag, ` +
      `"host": ${HOST} ? r.repoPart.split("/")[0] : "", ` +
      `"rest": ${HOST} ? r.repoPart.substring(r.repoPart.indexOf("/") + 1) : r.repoPart})`,
  },
  {
    name: 'refs',
    expression:
      `variables.hosts.map(r, {"image": r.image, "pinned": r.pinned, "untagged": r.untagged, "tag": r.tag, ` +
      `"name": ${REGISTRY} + "/" + (${REGISTRY} == "docker.io" && !r.rest.contains("/") ? "library/" + r.rest : r.rest)})`,
  },
];

/** The CEL predicate "image r breaks the rule". */
function breaksCel(rule: PolicyRule, p: ImagePolicy): string {
  switch (rule) {
    case 'allowedRegistries':
      return `![${p.allowedRegistries.map(celString).join(', ')}].exists(a, r.name == a || r.name.startsWith(a + "/"))`;
    case 'noLatest':
      return `r.tag == "latest" || r.untagged == "y"`;
    case 'requireDigest':
      return `r.pinned == ""`;
  }
}

export interface CelValidation {
  expression: string;
  message: string;
  messageExpression: string;
  reason: 'Forbidden';
}

/** One validation per rule the policy turns on, each with a message naming the rule and the images. */
export function celValidations(p: ImagePolicy): CelValidation[] {
  return activeRules(p).map((rule) => {
    const bad = breaksCel(rule, p);
    return {
      expression: `!variables.refs.exists(r, ${bad})`,
      message: `${MESSAGE_PREFIX} ${rule}: an image is ${ruleText(rule, p)}`,
      messageExpression: `${celString(`${MESSAGE_PREFIX} ${rule}: `)} + variables.refs.filter(r, ${bad}).map(r, r.image).join(", ") + ${celString(` ${ruleText(rule, p)}`)}`,
      reason: 'Forbidden',
    };
  });
}

const OPS = ['CREATE', 'UPDATE'];
/** What the policy judges: every kind with a pod spec, and ephemeral containers added to running pods. */
export const RESOURCE_RULES = [
  { apiGroups: [''], apiVersions: ['v1'], operations: [...OPS], resources: ['pods', 'pods/ephemeralcontainers', 'replicationcontrollers'] },
  { apiGroups: ['apps'], apiVersions: ['v1'], operations: [...OPS], resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'] },
  { apiGroups: ['batch'], apiVersions: ['v1'], operations: [...OPS], resources: ['jobs', 'cronjobs'] },
];

const LABELS = { 'app.kubernetes.io/managed-by': 'kube-harden' };

export const namespaceSelector = (p: ImagePolicy) => ({
  matchExpressions: [{ key: NAME_LABEL, operator: p.namespaces.operator, values: [...p.namespaces.values].sort() }],
});

function meta(name: string, p: ImagePolicy, withMode = true) {
  return { name, labels: { ...LABELS }, annotations: { [CONFIG_ANNOTATION]: policyAnnotation(p, withMode) } };
}

/** Records a hash of what we wrote: an object whose hash matches needs no change (the server adds defaults to the spec). */
export const HASH_ANNOTATION = 'kube-harden.io/spec-hash';
const stamped = (o: KubeObject): KubeObject => ({
  ...o,
  metadata: {
    ...o.metadata,
    annotations: { ...o.metadata.annotations, [HASH_ANNOTATION]: createHash('sha256').update(JSON.stringify(o.spec)).digest('hex').slice(0, 16) },
  },
});

/** The ValidatingAdmissionPolicy (what is judged and how). */
export function admissionPolicy(p: ImagePolicy): KubeObject {
  return stamped({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: meta(POLICY_NAME, p, false),
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: { resourceRules: RESOURCE_RULES },
      variables: CEL_VARIABLES,
      validations: celValidations(p),
    },
  });
}

/** Its binding (where, and what a failure does: Warn + Audit first, Deny + Audit once nothing running breaks it). */
export function admissionBinding(p: ImagePolicy): KubeObject {
  return stamped({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: meta(POLICY_NAME, p),
    spec: {
      policyName: POLICY_NAME,
      validationActions: p.mode === 'deny' ? ['Deny', 'Audit'] : ['Warn', 'Audit'],
      matchResources: { namespaceSelector: namespaceSelector(p) },
    },
  });
}

const KINDS_BY_GROUP: Array<{ group: string; kinds: string[] }> = [
  { group: '', kinds: ['Pod', 'ReplicationController'] },
  { group: 'apps', kinds: ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet'] },
  { group: 'batch', kinds: ['Job', 'CronJob'] },
];

/** The same rules as a Kyverno ClusterPolicy (validate.cel, Kyverno 1.11+), autogen off: every kind is listed. */
export function kyvernoPolicy(p: ImagePolicy): KubeObject {
  const m = meta(POLICY_NAME, p);
  return stamped({
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { ...m, annotations: { ...m.annotations, 'pod-policies.kyverno.io/autogen-controllers': 'none' } },
    spec: {
      validationFailureAction: p.mode === 'deny' ? 'Enforce' : 'Audit',
      background: true,
      rules: [
        {
          name: 'images',
          match: {
            any: [{ resources: { kinds: KINDS_BY_GROUP.flatMap((g) => g.kinds), operations: [...OPS], namespaceSelector: namespaceSelector(p) } }],
          },
          validate: {
            cel: {
              variables: CEL_VARIABLES,
              expressions: celValidations(p).map(({ expression, message, messageExpression }) => ({ expression, message, messageExpression })),
            },
          },
        },
      ],
    },
  });
}

export const GATEKEEPER_KIND = 'K8sHardenImages';

/** The same rules as a Gatekeeper ConstraintTemplate (K8sNativeValidation, Gatekeeper 3.16+). */
export function gatekeeperTemplate(p: ImagePolicy): KubeObject {
  return stamped({
    apiVersion: 'templates.gatekeeper.sh/v1',
    kind: 'ConstraintTemplate',
    metadata: meta(GATEKEEPER_KIND.toLowerCase(), p, false),
    spec: {
      crd: { spec: { names: { kind: GATEKEEPER_KIND } } },
      targets: [
        {
          target: 'admission.k8s.gatekeeper.sh',
          code: [
            {
              engine: 'K8sNativeValidation',
              source: {
                variables: CEL_VARIABLES,
                validations: celValidations(p).map(({ expression, message, messageExpression }) => ({ expression, message, messageExpression })),
              },
            },
          ],
        },
      ],
    },
  });
}

/** The Constraint that puts the template to work (created once Gatekeeper serves its kind). */
export function gatekeeperConstraint(p: ImagePolicy): KubeObject {
  return stamped({
    apiVersion: 'constraints.gatekeeper.sh/v1beta1',
    kind: GATEKEEPER_KIND,
    metadata: meta(POLICY_NAME, p),
    spec: {
      enforcementAction: p.mode === 'deny' ? 'deny' : 'warn',
      match: {
        kinds: KINDS_BY_GROUP.map((g) => ({ apiGroups: [g.group], kinds: g.kinds })),
        namespaceSelector: namespaceSelector(p),
      },
    },
  });
}
