// The cyclonus side of the NetworkPolicy differential tests (cyclonus v0.5.6, built from the Go module
// proxy by test/cluster/tools.ts): running `cyclonus analyze` offline, rewriting policies so that it
// evaluates Kubernetes' selector semantics, and reading its tables. Used by network-cyclonus.test.ts
// (generated scenarios) and network.test.ts (the planned policies on the real pods of the test bed).
// See network-cyclonus.test.ts's header for why each bridge exists and how it is checked.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { LabelSelector, LabelSelectorRequirement, NetworkPolicy, NetworkPolicyPeer } from '../../src/areas/network/evaluate.js';
import { ensureTool } from '../cluster/tools.js';

export interface Cyclonus {
  /** A temp directory for policies and traffic files. */
  dir: string;
  /** `cyclonus analyze ARGS`: its stdout; throws on a non-zero exit. */
  run(args: string[]): Promise<string>;
  /** Writes policies as a NetworkPolicyList into DIR/name; returns that directory (a --policy-path). */
  writePolicies(name: string, policies: NetworkPolicy[]): Promise<string>;
  close(): Promise<void>;
}

export async function startCyclonus(): Promise<Cyclonus> {
  const bin = await ensureTool('cyclonus');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kube-harden-cyclonus-'));
  return {
    dir,
    async run(args) {
      const r = await execa(bin, ['analyze', ...args], { reject: false, maxBuffer: 1024 * 1024 * 1024 });
      if (r.exitCode !== 0) throw new Error(`cyclonus ${args.join(' ')} failed (exit ${r.exitCode}):\n${String(r.stderr).slice(-3000)}`);
      return String(r.stdout);
    },
    async writePolicies(name, policies) {
      const d = path.join(dir, name);
      await rm(d, { recursive: true, force: true });
      await mkdir(d, { recursive: true });
      await writeFile(path.join(d, 'policies.json'), JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicyList', items: policies }));
      return d;
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

export function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

/** The API server's defaulting, as k8s.io/kubernetes pkg/apis/networking/v1/defaults.go writes it. */
export function apiServerPolicyTypes(p: NetworkPolicy): Array<'Ingress' | 'Egress'> {
  if ((p.spec.policyTypes ?? []).length > 0) return [...p.spec.policyTypes!];
  return (p.spec.egress ?? []).length !== 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

// ---- selector rewriting: a selector becomes a list of alternatives (OR) ----

export type Conj = { labels: Record<string, string>; exprs: LabelSelectorRequirement[] };
export type Rewrite = { label(k: string, v: string): Conj[]; expr(e: LabelSelectorRequirement): Conj[] };

/** Kubernetes semantics, in a form cyclonus evaluates the same way. */
export const FOR_CYCLONUS: Rewrite = {
  label: (k, v) => (v === '' ? [{ labels: {}, exprs: [{ key: k, operator: 'In', values: [''] }] }] : [{ labels: { [k]: v }, exprs: [] }]),
  expr: (e) =>
    e.operator === 'NotIn'
      ? [
          { labels: {}, exprs: [{ key: e.key, operator: 'DoesNotExist' }] },
          { labels: {}, exprs: [e] },
        ]
      : [{ labels: {}, exprs: [e] }],
};
/** What cyclonus makes of a raw selector, written in Kubernetes semantics. */
export const CYCLONUS_SEMANTICS: Rewrite = {
  label: (k, v) =>
    v === ''
      ? [
          { labels: {}, exprs: [{ key: k, operator: 'DoesNotExist' }] },
          { labels: {}, exprs: [{ key: k, operator: 'In', values: [''] }] },
        ]
      : [{ labels: { [k]: v }, exprs: [] }],
  expr: (e) => (e.operator === 'NotIn' ? [{ labels: {}, exprs: [{ key: e.key, operator: 'Exists' }, e] }] : [{ labels: {}, exprs: [e] }]),
};
export const IDENTITY: Rewrite = { label: (k, v) => [{ labels: { [k]: v }, exprs: [] }], expr: (e) => [{ labels: {}, exprs: [e] }] };

export function expandSelector(sel: LabelSelector, rw: Rewrite): LabelSelector[] {
  const factors: Conj[][] = [...Object.entries(sel.matchLabels ?? {}).map(([k, v]) => rw.label(k, v)), ...(sel.matchExpressions ?? []).map((e) => rw.expr(e))];
  let out: Conj[] = [{ labels: {}, exprs: [] }];
  for (const f of factors) out = out.flatMap((acc) => f.map((c) => ({ labels: { ...acc.labels, ...c.labels }, exprs: [...acc.exprs, ...c.exprs] })));
  return out.map((c) => {
    const s: LabelSelector = {};
    if (Object.keys(c.labels).length) s.matchLabels = c.labels;
    if (c.exprs.length) s.matchExpressions = c.exprs;
    return s;
  });
}

export function expandPeer(p: NetworkPolicyPeer, rw: Rewrite): NetworkPolicyPeer[] {
  if (p.ipBlock) return [p];
  const nss = p.namespaceSelector ? expandSelector(p.namespaceSelector, rw) : [undefined];
  const pods = p.podSelector ? expandSelector(p.podSelector, rw) : [undefined];
  return nss.flatMap((ns) => pods.map((pod) => dropUndefined({ namespaceSelector: ns, podSelector: pod })));
}

/** Rewrites every selector; policyTypes made explicit (the API server's default) when `explicit`. */
export function rewritePolicies(policies: NetworkPolicy[], rw: Rewrite, explicit: boolean): NetworkPolicy[] {
  return policies.flatMap((p) => {
    const rules = <R extends { from?: NetworkPolicyPeer[] | null; to?: NetworkPolicyPeer[] | null }>(rs: R[] | null | undefined, field: 'from' | 'to') =>
      rs?.map((r) => (r[field] ? { ...r, [field]: r[field]!.flatMap((peer) => expandPeer(peer, rw)) } : r));
    const targets = expandSelector(p.spec.podSelector, rw);
    return targets.map((podSelector, i) =>
      dropUndefined({
        ...p,
        metadata: { ...p.metadata, name: targets.length > 1 ? `${p.metadata.name}-${i}` : p.metadata.name },
        spec: dropUndefined({
          podSelector,
          policyTypes: explicit ? apiServerPolicyTypes(p) : p.spec.policyTypes,
          ingress: rules(p.spec.ingress, 'from'),
          egress: rules(p.spec.egress, 'to'),
        }),
      }),
    );
  });
}

export interface Side {
  isolated: boolean;
  allowed: boolean;
}
export interface CycVerdict {
  ingress: Side;
  egress: Side;
  allowed: boolean;
}

export const cellsOf = (line: string) => line.split('|').map((c) => c.trim());

/** Parses the "Is traffic allowed?" tables of `analyze --mode query-traffic`, in order. */
export function parseQueryTraffic(stdout: string): CycVerdict[] {
  return stdout
    .split('Is traffic allowed?\n')
    .slice(1)
    .map((part) => {
      const lines = part.split('\n');
      const table = lines.slice(
        0,
        lines.findIndex((l) => !/^[+|]/.test(l)),
      );
      const blocks: string[][] = [];
      for (const l of table) {
        if (l.startsWith('+')) blocks.push([]);
        else blocks.at(-1)!.push(l);
      }
      const rows = blocks.filter((b) => b.length > 0);
      assert.deepEqual(cellsOf(rows[0][0]).slice(1, 3), ['TYPE', 'ACTION'], `unexpected table:\n${table.join('\n')}`);
      const footer = cellsOf(rows.at(-1)![0]);
      assert.equal(footer[1], 'IS ALLOWED?', `unexpected footer:\n${table.join('\n')}`);
      const seen = { Ingress: { Allow: 0, Deny: 0 }, Egress: { Allow: 0, Deny: 0 } };
      let type = '';
      let action = '';
      for (const row of rows.slice(1, -1)) {
        const [, t, a, target] = cellsOf(row[0]);
        if (!t && !a && !target && row.every((l) => cellsOf(l).every((c) => c === ''))) continue; // separator, or a merged duplicate
        if (t) type = t;
        if (a) action = a;
        const side = seen[type as 'Ingress' | 'Egress'];
        assert.ok(side && (action === 'Allow' || action === 'Deny'), `cannot read row ${JSON.stringify(row)}`);
        side[action as 'Allow' | 'Deny']++;
      }
      const side = (s: { Allow: number; Deny: number }): Side => ({ isolated: s.Allow + s.Deny > 0, allowed: s.Allow > 0 || s.Deny === 0 });
      return { ingress: side(seen.Ingress), egress: side(seen.Egress), allowed: footer[2] === 'TRUE' };
    });
}

/** Parses the tables of `analyze --mode probe`: per probe, the ingress, egress and combined matrices. */
export function parseProbe(stdout: string, keys: string[], probes: number): Array<Record<'ingress' | 'egress' | 'combined', string[][]>> {
  const tables: string[][] = [];
  let cur: string[] | null = null;
  for (const l of stdout.split('\n')) {
    if (/^[+|]/.test(l)) (cur ??= []).push(l);
    else if (cur) {
      tables.push(cur);
      cur = null;
    }
  }
  if (cur) tables.push(cur);
  const out: Array<Record<'ingress' | 'egress' | 'combined', string[][]>> = [];
  const matrix = (tbl: string[]): string[][] => {
    const rows = tbl.filter((l) => l.startsWith('|')).map(cellsOf);
    assert.deepEqual(
      rows[0].slice(2, -1).map((h) => h.toLowerCase()),
      keys,
      'columns',
    );
    assert.deepEqual(
      rows.slice(1).map((r) => r[1]),
      keys,
      'rows',
    );
    return rows.slice(1).map((r) => r.slice(2, -1).map((c) => c.slice(-1)));
  };
  for (let i = 0; i < probes; i++) out.push({ ingress: matrix(tables[3 * i]), egress: matrix(tables[3 * i + 1]), combined: matrix(tables[3 * i + 2]) });
  return out;
}
