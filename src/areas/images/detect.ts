/**
 * What is installed beside the API server: policy engines (Kyverno, Gatekeeper) and trivy-operator,
 * each known by its CRDs being served (a live probe: unknown when we may not ask) and its controller's
 * Deployment (from the shared LIST).
 */
import type { Cluster } from '../../cluster/client.js';
import type { KubeObject } from '../../cluster/types.js';
import { podSpecOf } from '../pod-template.js';

export type Presence = 'installed' | 'crds-only' | 'controller-only' | 'absent' | 'unknown';

export interface Detected {
  presence: Presence;
  /** The controller's Deployment, when found. */
  deployment?: { namespace: string; name: string; image?: string };
  /** Why unknown (e.g. discovery refused). */
  detail?: string;
}

export interface Product {
  id: 'kyverno' | 'gatekeeper' | 'trivy-operator';
  title: string;
  /** A kind its CRDs serve. */
  crd: { apiVersion: string; kind: string };
  /** Whether a Deployment is its controller. */
  controller: (d: KubeObject) => boolean;
}

const label = (d: KubeObject, k: string) => d.metadata.labels?.[k];
const firstImage = (d: KubeObject): string | undefined => podSpecOf(d)?.containers[0]?.image;

export const PRODUCTS: Product[] = [
  {
    id: 'kyverno',
    title: 'Kyverno',
    crd: { apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy' },
    controller: (d) =>
      d.metadata.name === 'kyverno' ||
      d.metadata.name === 'kyverno-admission-controller' ||
      (label(d, 'app.kubernetes.io/part-of') === 'kyverno' && label(d, 'app.kubernetes.io/component') === 'admission-controller'),
  },
  {
    id: 'gatekeeper',
    title: 'Gatekeeper',
    crd: { apiVersion: 'templates.gatekeeper.sh/v1', kind: 'ConstraintTemplate' },
    controller: (d) =>
      d.metadata.name === 'gatekeeper-controller-manager' || (label(d, 'gatekeeper.sh/operation') === 'webhook' && !!label(d, 'control-plane')),
  },
  {
    id: 'trivy-operator',
    title: 'trivy-operator',
    crd: { apiVersion: 'aquasecurity.github.io/v1alpha1', kind: 'VulnerabilityReport' },
    controller: (d) => label(d, 'app.kubernetes.io/name') === 'trivy-operator' || d.metadata.name === 'trivy-operator',
  },
];

/** Whether a product is installed: its CRDs served and its controller deployed. Never throws. */
export async function detect(p: Product, cluster: Cluster, deployments: KubeObject[], hasObjects = false): Promise<Detected> {
  const d = deployments.find(p.controller);
  const deployment = d && { namespace: d.metadata.namespace ?? '', name: d.metadata.name, image: firstImage(d) };
  let served: boolean | undefined;
  let detail: string | undefined;
  try {
    served = await cluster.serves(p.crd.apiVersion, p.crd.kind);
  } catch (e) {
    detail = `cannot ask the API server whether it serves ${p.crd.kind} (${(e as Error).message})`;
  }
  // Objects of its kinds listed: the CRDs are served whatever discovery said.
  if (hasObjects) served = true;
  if (served === undefined) return { presence: deployment ? 'controller-only' : 'unknown', deployment, detail };
  if (served && deployment) return { presence: 'installed', deployment };
  if (served) return { presence: 'crds-only', detail: `its CRDs are served but no ${p.title} controller Deployment was found` };
  return { presence: deployment ? 'controller-only' : 'absent', deployment };
}

/** The version in an image tag (`.../trivy-operator:0.32.0` → 0.32.0). */
export const imageVersion = (image: string | undefined): string | undefined => image?.match(/:([^/:@]+)(@|$)/)?.[1];
