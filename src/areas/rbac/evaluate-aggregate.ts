// ClusterRole aggregation as kube-controller-manager's clusterrole-aggregation controller does it
// (k8s.io/kubernetes pkg/controller/clusterroleaggregation): a ClusterRole with an `aggregationRule`
// gets, as its `rules`, the rules of every other ClusterRole matched by its selectors: selectors in
// order, the matched roles by name, the aggregated role itself skipped, each rule once (two rules are
// the same when their five lists are equal, an absent list equal to an empty one).
//
// The API server evaluates the stored `rules`, which the controller keeps up to date; this helper
// predicts what the controller will write after a plan that creates, changes or removes ClusterRoles.
// Pure: inputs are never modified; a role whose rules change is returned as a shallow copy.
import type { PolicyRule } from './evaluate-match.js';

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: readonly string[] | null;
}

export interface LabelSelector {
  matchLabels?: Readonly<Record<string, string>> | null;
  matchExpressions?: readonly LabelSelectorRequirement[] | null;
}

export interface AggregationRule {
  clusterRoleSelectors?: readonly LabelSelector[] | null;
}

/** The parts of a ClusterRole aggregation looks at. */
export interface AggregatableClusterRole {
  metadata: { name: string; labels?: Readonly<Record<string, string>> | null };
  rules?: readonly PolicyRule[] | null;
  aggregationRule?: AggregationRule | null;
}

export class InvalidSelectorError extends Error {}

/**
 * metav1.LabelSelectorAsSelector, then Matches. An empty selector matches everything. Throws
 * InvalidSelectorError for an unknown operator or values that do not fit it (the controller then
 * leaves the role's rules as they are).
 */
export function labelSelectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>> | null | undefined): boolean {
  const l = labels ?? {};
  const has = (k: string) => Object.prototype.hasOwnProperty.call(l, k);
  let ok = true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (!has(k) || l[k] !== v) ok = false;
  }
  for (const e of selector.matchExpressions ?? []) {
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
      case 'NotIn': {
        if (values.length === 0) throw new InvalidSelectorError(`${e.operator} on ${e.key} needs values`);
        const inSet = has(e.key) && values.includes(l[e.key]);
        if (e.operator === 'In' ? !inSet : inSet) ok = false;
        break;
      }
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) throw new InvalidSelectorError(`${e.operator} on ${e.key} takes no values`);
        if (e.operator === 'Exists' ? !has(e.key) : has(e.key)) ok = false;
        break;
      default:
        throw new InvalidSelectorError(`${JSON.stringify(e.operator)} is not a valid label selector operator`);
    }
  }
  return ok;
}

const RULE_FIELDS = ['verbs', 'apiGroups', 'resources', 'resourceNames', 'nonResourceURLs'] as const;

/** A key equal for two rules exactly when equality.Semantic.DeepEqual holds (nil and empty lists alike). */
export function ruleKey(rule: PolicyRule): string {
  return JSON.stringify(RULE_FIELDS.map((f) => rule[f] ?? []));
}

function sameRules(a: readonly PolicyRule[], b: readonly PolicyRule[]): boolean {
  return a.length === b.length && a.every((r, i) => ruleKey(r) === ruleKey(b[i]));
}

/**
 * The rules the controller would give `role` (which must have an aggregationRule) from `clusterRoles`,
 * or undefined when a selector is invalid (the controller then changes nothing).
 */
export function aggregatedRules(role: AggregatableClusterRole, clusterRoles: readonly AggregatableClusterRole[]): PolicyRule[] | undefined {
  const out: PolicyRule[] = [];
  const seen = new Set<string>();
  const byName = [...clusterRoles].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  for (const selector of role.aggregationRule?.clusterRoleSelectors ?? []) {
    let matched: AggregatableClusterRole[];
    try {
      matched = byName.filter((cr) => labelSelectorMatches(selector, cr.metadata.labels));
    } catch (e) {
      if (e instanceof InvalidSelectorError) return undefined;
      throw e;
    }
    for (const cr of matched) {
      if (cr.metadata.name === role.metadata.name) continue;
      for (const rule of cr.rules ?? []) {
        const key = ruleKey(rule);
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(rule);
      }
    }
  }
  return out;
}

/**
 * Every ClusterRole as it will be once the controller has settled: each role with an aggregationRule
 * gets its aggregated rules, repeated until nothing changes (roles that aggregate aggregated roles,
 * like admin ← edit ← view). A cycle of aggregated roles has no settled state; this stops after
 * as many rounds as there are aggregated roles plus one, like a controller caught mid-way.
 * Roles are returned in the input order; unchanged roles are the input objects themselves.
 */
export function aggregateClusterRoles<T extends AggregatableClusterRole>(clusterRoles: readonly T[]): T[] {
  const current = [...clusterRoles];
  const aggregated = current
    .map((cr, i) => [cr, i] as const)
    .filter(([cr]) => cr.aggregationRule)
    .sort(([a], [b]) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0))
    .map(([, i]) => i);
  for (let round = 0; round <= aggregated.length; round++) {
    let changed = false;
    for (const i of aggregated) {
      const rules = aggregatedRules(current[i], current);
      if (!rules || sameRules(rules, current[i].rules ?? [])) continue;
      current[i] = { ...current[i], rules };
      changed = true;
    }
    if (!changed) break;
  }
  return current;
}
