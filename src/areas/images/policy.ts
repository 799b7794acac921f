/**
 * The image admission policy as data, and the one evaluator of it in TypeScript. The same rules are
 * written in CEL for the API server (policy-cel.ts); the violation preview evaluates them here on the
 * live objects, and the differential test holds this evaluator and the API server to the same verdicts
 * and the same messages.
 */
import type { KubeObject } from '../../cluster/types.js';
import { parseImage, registryAllowed, type ImageRef } from './image-ref.js';
import { containerImages, podSpecOf, POLICY_KINDS } from './inventory.js';

export type PolicyRule = 'allowedRegistries' | 'noLatest' | 'requireDigest';
export const POLICY_RULES: PolicyRule[] = ['allowedRegistries', 'noLatest', 'requireDigest'];
export type PolicyMode = 'warn' | 'deny';

export interface NamespaceSelection {
  /** NotIn: every namespace but these; In: only these. */
  operator: 'In' | 'NotIn';
  values: string[];
}

/** Everything the policy says, JSON-serialisable: kept as an annotation on the objects we create. */
export interface ImagePolicy {
  /** Normalised allow-list entries (hosts or host/path prefixes); empty: no registry rule. */
  allowedRegistries: string[];
  forbidLatest: boolean;
  requireDigest: boolean;
  namespaces: NamespaceSelection;
  mode: PolicyMode;
}

export const POLICY_NAME = 'kube-harden-images';
export const CONFIG_ANNOTATION = 'kube-harden.io/images-policy';
export const NAME_LABEL = 'kubernetes.io/metadata.name';

/** The rules a policy turns on, in the order of its validations. */
export const activeRules = (p: ImagePolicy): PolicyRule[] =>
  POLICY_RULES.filter((r) => (r === 'allowedRegistries' ? p.allowedRegistries.length > 0 : r === 'noLatest' ? p.forbidLatest : p.requireDigest));

/** What each rule says after the images it names. */
export function ruleText(rule: PolicyRule, p: Pick<ImagePolicy, 'allowedRegistries'>): string {
  switch (rule) {
    case 'allowedRegistries':
      return `not from an allowed registry (${p.allowedRegistries.join(', ')})`;
    case 'noLatest':
      return 'tagged :latest or untagged: pin a version tag or a digest';
    case 'requireDigest':
      return 'not pinned by digest (@sha256:...)';
  }
}

export const MESSAGE_PREFIX = 'kube-harden/images';

/** The message the API server returns for a rule broken by these images (messageExpression). */
export const ruleMessage = (rule: PolicyRule, p: ImagePolicy, images: string[]): string =>
  `${MESSAGE_PREFIX} ${rule}: ${images.join(', ')} ${ruleText(rule, p)}`;

/** The message when messageExpression itself fails. */
export const ruleFallbackMessage = (rule: PolicyRule, p: ImagePolicy): string => `${MESSAGE_PREFIX} ${rule}: an image is ${ruleText(rule, p)}`;

/** Whether one image breaks one rule. */
export function breaks(rule: PolicyRule, ref: ImageRef, p: ImagePolicy): boolean {
  switch (rule) {
    case 'allowedRegistries':
      return !registryAllowed(ref, p.allowedRegistries);
    case 'noLatest':
      return ref.latest;
    case 'requireDigest':
      return !ref.pinned;
  }
}

export interface Violation {
  rule: PolicyRule;
  /** The images that break it, in container order (as the CEL lists them). */
  images: string[];
  message: string;
}

/** The rules an object breaks (any kind the policy judges; others break nothing). */
export function violations(obj: KubeObject, p: ImagePolicy): Violation[] {
  if (!(POLICY_KINDS as readonly string[]).includes(obj.kind)) return [];
  const images = containerImages(podSpecOf(obj))
    .map((c) => c.image)
    .filter((i) => i !== '');
  const refs = images.map(parseImage);
  const out: Violation[] = [];
  for (const rule of activeRules(p)) {
    const bad = refs.filter((r) => breaks(rule, r, p)).map((r) => r.raw);
    if (bad.length) out.push({ rule, images: bad, message: ruleMessage(rule, p, bad) });
  }
  return out;
}

/** Whether the binding's namespace selector selects a namespace (by name: the label the API server sets). */
export const selectsNamespace = (sel: NamespaceSelection, ns: string | undefined): boolean =>
  ns !== undefined && (sel.operator === 'In' ? sel.values.includes(ns) : !sel.values.includes(ns));

/** The objects the policy would refuse, with what they break (the violation preview). */
export function preview(objects: KubeObject[], p: ImagePolicy): Array<{ object: KubeObject; violations: Violation[] }> {
  const out: Array<{ object: KubeObject; violations: Violation[] }> = [];
  for (const o of objects) {
    if (!selectsNamespace(p.namespaces, o.metadata.namespace)) continue;
    const v = violations(o, p);
    if (v.length) out.push({ object: o, violations: v });
  }
  return out;
}

/** The policy a live object of ours describes (its annotation), or undefined. */
export function policyOf(obj: KubeObject | undefined): ImagePolicy | undefined {
  const text = obj?.metadata.annotations?.[CONFIG_ANNOTATION];
  if (!text) return undefined;
  try {
    const p = JSON.parse(text) as ImagePolicy;
    if (!Array.isArray(p.allowedRegistries) || !p.namespaces) return undefined;
    return { ...p, mode: p.mode === 'deny' ? 'deny' : 'warn' };
  } catch {
    return undefined;
  }
}

/**
 * The annotation text of a policy: stable key order, so an unchanged policy plans no change. The mode
 * belongs to the binding (the policy itself does not change when only the mode does).
 */
export const policyAnnotation = (p: ImagePolicy, withMode = true): string =>
  JSON.stringify({
    allowedRegistries: p.allowedRegistries,
    forbidLatest: p.forbidLatest,
    requireDigest: p.requireDigest,
    namespaces: { operator: p.namespaces.operator, values: p.namespaces.values },
    ...(withMode ? { mode: p.mode } : {}),
  });
