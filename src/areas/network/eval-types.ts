// The shapes the NetworkPolicy evaluator reads: networking.k8s.io/v1 NetworkPolicy as plain data (what the
// API server returns, or what a plan is about to create), and the two kinds of traffic endpoints.

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

/** metav1.LabelSelector: matchLabels and matchExpressions are ANDed; an empty selector matches everything. */
export interface LabelSelector {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: LabelSelectorRequirement[] | null;
}

export interface IPBlock {
  cidr: string;
  except?: string[] | null;
}

/** Exactly one of: ipBlock, or podSelector and/or namespaceSelector (both present means AND). */
export interface NetworkPolicyPeer {
  podSelector?: LabelSelector | null;
  namespaceSelector?: LabelSelector | null;
  ipBlock?: IPBlock | null;
}

export interface NetworkPolicyPort {
  /** Defaults to TCP. */
  protocol?: Protocol | null;
  /** A number, or the name of a containerPort of the destination pod. Absent: every port of the protocol. */
  port?: number | string | null;
  /** With a numeric port: the inclusive end of a range. */
  endPort?: number | null;
}

export interface NetworkPolicyIngressRule {
  /** Absent or empty: every source. */
  from?: NetworkPolicyPeer[] | null;
  /** Absent or empty: every port. */
  ports?: NetworkPolicyPort[] | null;
}

export interface NetworkPolicyEgressRule {
  /** Absent or empty: every destination. */
  to?: NetworkPolicyPeer[] | null;
  /** Absent or empty: every port. */
  ports?: NetworkPolicyPort[] | null;
}

export type PolicyType = 'Ingress' | 'Egress';

export interface NetworkPolicy {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  spec: {
    podSelector: LabelSelector;
    /** Absent or empty: defaulted as the API server does (Ingress, plus Egress when egress rules exist). */
    policyTypes?: PolicyType[] | null;
    ingress?: NetworkPolicyIngressRule[] | null;
    egress?: NetworkPolicyEgressRule[] | null;
  };
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  /** Defaults to TCP. */
  protocol?: string;
}

/** One end of a connection: a pod of the cluster, or an address outside it. */
export type Peer =
  | {
      kind: 'pod';
      namespace: string;
      name: string;
      labels: Record<string, string>;
      /** The pod IP; without it, no ipBlock matches the pod. */
      ip?: string;
      /** Every containerPort of every container (named ports resolve against these). */
      ports?: ContainerPort[];
    }
  | { kind: 'external'; ip: string };

export interface NamespaceInfo {
  name: string;
  labels?: Record<string, string> | null;
}

export interface NetworkModel {
  namespaces: NamespaceInfo[];
  policies: NetworkPolicy[];
}
