// Label selector matching exactly as k8s.io/apimachinery's labels.Selector (via LabelSelectorAsSelector):
// matchLabels k: v is `k == v` (the key must be present, even when v is ""); In needs the key present with
// one of the values; NotIn matches when the key is absent or its value is none of the values; Exists and
// DoesNotExist test the key only. Everything is ANDed; an empty selector matches every object.
import type { LabelSelector } from './eval-types.js';

const has = (labels: Record<string, string>, key: string) => Object.prototype.hasOwnProperty.call(labels, key);

export function selectorIsEmpty(sel: LabelSelector): boolean {
  return Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0;
}

/** Throws on a selector the API server would reject (unknown operator, values where none belong). */
export function validateSelector(sel: LabelSelector, where: string): void {
  for (const e of sel.matchExpressions ?? []) {
    const n = (e.values ?? []).length;
    switch (e.operator) {
      case 'In':
      case 'NotIn':
        if (n === 0) throw new Error(`${where}: operator ${e.operator} on "${e.key}" needs at least one value`);
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (n !== 0) throw new Error(`${where}: operator ${e.operator} on "${e.key}" takes no values`);
        break;
      default:
        throw new Error(`${where}: unknown label selector operator ${JSON.stringify((e as { operator: unknown }).operator)}`);
    }
  }
}

export function matchesSelector(sel: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    if (!has(labels, k) || labels[k] !== v) return false;
  }
  for (const e of sel.matchExpressions ?? []) {
    const present = has(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!present || !values.includes(labels[e.key])) return false;
        break;
      case 'NotIn':
        if (present && values.includes(labels[e.key])) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
      default:
        throw new Error(`unknown label selector operator ${JSON.stringify((e as { operator: unknown }).operator)}`);
    }
  }
  return true;
}
