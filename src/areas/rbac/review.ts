// The rbac area's part of the final review: per subject of every binding the plan removes, narrows or
// creates, what it could do before and after (RBAC evaluated in the tool on the plan applied), and
// what the running identity loses through RBAC when system:masters makes that moot.
import type { Change, DryRunResult } from '../../engine/change.js';
import type { Inspection, ReviewSection } from '../types.js';
import {
  authorize,
  subjectAppliesTo,
  withChanges,
  RbacChangeError,
  type RbacIndex,
  type RbacObject,
  type RequestAttributes,
  type Subject,
} from './evaluate.js';
import { bindingKey } from './grants.js';
import { lostThroughRbac, pathText, rbacChangesOf } from './guard.js';
import { indexOf, type RbacFacts } from './inspect.js';
import { boundSubject, SUPERUSER_GROUP, subjectKey, subjectLabel, subjectUser } from './subjects.js';

/** The capabilities the impact table shows, before and after. */
export const CAPABILITIES: Array<{ label: string; attrs: RequestAttributes }> = [
  { label: 'everything (* on *)', attrs: { verb: '*', apiGroup: '*', resource: '*' } },
  { label: 'read Secrets', attrs: { verb: 'get', resource: 'secrets' } },
  { label: 'exec into pods', attrs: { verb: 'create', resource: 'pods', subresource: 'exec' } },
  { label: 'create pods', attrs: { verb: 'create', resource: 'pods' } },
  { label: 'delete pods', attrs: { verb: 'delete', resource: 'pods' } },
  { label: 'write RBAC', attrs: { verb: 'create', apiGroup: 'rbac.authorization.k8s.io', resource: 'rolebindings' } },
  { label: 'list pods', attrs: { verb: 'list', resource: 'pods' } },
];

interface Touched {
  subject: Subject;
  /** '' for cluster-wide, else the namespaces of the RoleBindings touched. */
  scopes: Set<string>;
}

function touchedSubjects(bindings: RbacObject[], into: Map<string, Touched>): void {
  for (const b of bindings) {
    const ns = b.kind === 'RoleBinding' ? (b.metadata.namespace ?? '') : '';
    for (const raw of b.subjects ?? []) {
      const s = boundSubject(raw, ns || undefined);
      if (s.kind === 'ServiceAccount' && !s.namespace) continue;
      const k = subjectKey(s);
      const t = into.get(k) ?? { subject: s, scopes: new Set<string>() };
      t.scopes.add(ns);
      into.set(k, t);
    }
  }
}

const bindingIn = (index: RbacIndex, kind: string, name: string, namespace?: string): RbacObject | undefined =>
  kind === 'ClusterRoleBinding'
    ? index.clusterRoleBindings.find((b) => b.metadata.name === name)
    : index.roleBindings.get(namespace ?? '')?.find((b) => b.metadata.name === name);

/** One line per subject and scope: what it loses, keeps and gains. */
export function impactLines(before: RbacIndex, after: RbacIndex, touched: Touched[]): { lines: string[]; losses: number } {
  const rows: Array<[string, string, string]> = [];
  let losses = 0;
  for (const t of touched) {
    const user = subjectUser(t.subject);
    for (const scope of [...t.scopes].sort()) {
      const lost: string[] = [];
      const kept: string[] = [];
      const gained: string[] = [];
      for (const c of CAPABILITIES) {
        const attrs = scope ? { ...c.attrs, namespace: scope } : c.attrs;
        if (scope && c.attrs.resource === '*') continue;
        const was = authorize(before, user, attrs, { superuserGroups: [] }).allowed;
        const now = authorize(after, user, attrs, { superuserGroups: [] }).allowed;
        if (was && !now) lost.push(c.label);
        else if (was && now) kept.push(c.label);
        else if (!was && now) gained.push(c.label);
      }
      if (lost.length) losses++;
      const parts = [
        lost.length ? `loses ${lost.join(', ')}` : '',
        kept.length ? `keeps ${kept.join(', ')}` : '',
        gained.length ? `gains ${gained.join(', ')}` : '',
      ].filter(Boolean);
      rows.push([subjectLabel(t.subject), scope ? `in ${scope}` : 'cluster-wide', parts.join('; ') || 'no change in what the table shows']);
    }
  }
  const w0 = Math.min(48, Math.max(0, ...rows.map((r) => r[0].length)));
  const w1 = Math.max(0, ...rows.map((r) => r[1].length));
  return { lines: rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`), losses };
}

export function reviewRbac(ins: Inspection<RbacFacts>, changes: Change[], _dry?: Map<string, DryRunResult>): ReviewSection[] {
  const rc = rbacChangesOf(changes);
  if (!rc.remove?.length && !rc.add?.length && !rc.replace?.length) return [];
  const before = indexOf(ins.facts.objects);
  let after: RbacIndex;
  try {
    after = withChanges(before, rc);
  } catch (e) {
    if (!(e instanceof RbacChangeError)) throw e;
    return [{ area: 'rbac', title: 'Access changed by the plan', lines: [`cannot evaluate: ${e.message}`], warn: true }];
  }
  const touched = new Map<string, Touched>();
  const removed = (rc.remove ?? []).flatMap((r) => {
    const b = bindingIn(before, r.kind, r.name, r.namespace);
    return b ? [{ ...b, kind: r.kind }] : [];
  });
  touchedSubjects(removed, touched);
  touchedSubjects(
    [...(rc.add ?? []), ...(rc.replace ?? [])].filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding'),
    touched,
  );
  const { lines, losses } = impactLines(before, after, [...touched.values()]);
  const sections: ReviewSection[] = [];
  if (lines.length) {
    sections.push({
      area: 'rbac',
      title: `Access changed by the plan, per subject (RBAC evaluated with the plan applied${losses ? `; ${losses} lose access` : ''})`,
      lines,
      warn: losses > 0,
    });
  }
  const id = ins.facts.identity;
  if (id.groups.includes(SUPERUSER_GROUP)) {
    // Bindings the plan removes that apply to you: harmless for you, and worth saying why.
    const me = { username: id.username, groups: id.groups };
    const mine = removed.flatMap((b) => {
      const ns = b.kind === 'RoleBinding' ? (b.metadata.namespace ?? '') : '';
      const hits = (b.subjects ?? []).filter((s) => subjectAppliesTo(me, s, ns));
      return hits.length
        ? [`${bindingKey(b.kind, b.metadata.name, b.metadata.namespace)} names you as ${hits.map((h) => `${h.kind} ${h.name}`).join(', ')}`]
        : [];
    });
    const lost = lostThroughRbac(before, rc, id);
    if (mine.length || lost.length) {
      sections.push({
        area: 'rbac',
        title: `You (${id.username}) keep your access`,
        lines: [
          `you are in ${SUPERUSER_GROUP}: the API server allows you everything before RBAC is asked, so removing RBAC bindings does not lock you out`,
          ...mine.map((m) => `removed: ${m}`),
          ...lost.slice(0, 6).map((l) => `through RBAC alone you would lose ${l.label}${l.via ? ` (${pathText(l.via)})` : ''}`),
          ...(lost.length > 6 ? [`… and ${lost.length - 6} more`] : []),
        ],
      });
    }
  }
  return sections;
}
