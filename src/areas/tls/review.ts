/**
 * What the final review shows beside the diffs: the install (the command, what the chart renders, what
 * its undo leaves), the certificates cert-manager will issue, and every certificate Ingresses serve now.
 */
import { parseAllDocuments } from 'yaml';
import type { Change, DryRunResult } from '../../engine/change.js';
import type { Inspection, ReviewSection } from '../types.js';
import { certificateSummary, weakKey } from './certs.js';
import type { TlsFacts } from './facts.js';
import { UNDO_NOTE } from './plan.js';

type Obj = Record<string, unknown>;

function renderedCounts(rendered: string): string {
  const counts = new Map<string, number>();
  for (const d of parseAllDocuments(rendered)) {
    const kind = (d.toJS() as { kind?: string } | null)?.kind;
    if (kind) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return [...counts.entries()].map(([k, n]) => `${n} ${k}`).join(', ');
}

export function reviewTls(ins: Inspection<TlsFacts>, changes: Change[], dry: Map<string, DryRunResult>): ReviewSection[] {
  const out: ReviewSection[] = [];
  for (const c of changes) {
    if (c.kind !== 'release') continue;
    const rendered = dry.get(c.id)?.rendered;
    out.push({
      area: 'tls',
      title: `cert-manager ${c.version}: helm release ${c.release} in ${c.namespace}`,
      lines: [
        c.reasons[0]?.text.replace(/^.*?: (helm .*)$/, '$1') ?? '',
        rendered ? `renders ${renderedCounts(rendered)}` : 'rendered by the dry-run',
        `rollback: ${UNDO_NOTE}`,
      ],
    });
  }

  const issued: string[] = [];
  let acme = false;
  for (const c of changes) {
    if (c.kind !== 'object' || !c.after) continue;
    const o = c.after;
    const spec = (o.spec ?? {}) as Obj;
    if (o.kind === 'ClusterIssuer' && spec.acme) acme = true;
    if (o.kind === 'Certificate') {
      const issuer = (spec.issuerRef as Obj | undefined)?.name;
      issued.push(
        `${o.metadata.namespace}/${String(spec.secretName)}: ${spec.isCA ? 'CA certificate' : ((spec.dnsNames as string[] | undefined) ?? []).join(', ')} (ClusterIssuer ${String(issuer)})`,
      );
    }
    if (o.kind === 'Ingress') {
      const a = o.metadata.annotations ?? {};
      const issuer = a['cert-manager.io/cluster-issuer'] ? `ClusterIssuer ${a['cert-manager.io/cluster-issuer']}` : `Issuer ${a['cert-manager.io/issuer']}`;
      for (const d of c.derived ?? []) {
        if (d.ref.kind !== 'Certificate') continue;
        const entry = ((spec.tls ?? []) as Array<{ hosts?: string[]; secretName?: string }>).find((t) => t.secretName === d.ref.name);
        issued.push(
          `${o.metadata.namespace}/${d.ref.name}: ${(entry?.hosts ?? []).join(', ')} (${issuer}, through the ingress-shim of Ingress ${o.metadata.name})`,
        );
      }
    }
  }
  if (issued.length) out.push({ area: 'tls', title: `certificates cert-manager will issue (${issued.length})`, lines: issued });
  if (acme)
    out.push({
      area: 'tls',
      title: "Let's Encrypt (HTTP-01)",
      warn: true,
      lines: [
        'every host must resolve publicly to this cluster’s ingress and answer http://HOST/.well-known/acme-challenge/ on port 80',
        'rate limits apply (production: 50 certificates per registered domain per week); try staging first',
      ],
    });

  const inUse = ins.facts.ingresses.flatMap((i) =>
    i.secrets.map((s) => {
      const what = s.info
        ? `${certificateSummary(s.info)}${weakKey(s.info) ? ` (weak key: ${weakKey(s.info)})` : ''}`
        : s.state === 'missing'
          ? 'Secret missing'
          : `not read (${s.state})`;
      return `${i.namespace}/${i.name} ${s.secretName}: ${what}${s.managedBy ? ` [cert-manager Certificate ${s.managedBy}]` : ''}`;
    }),
  );
  if (inUse.length) out.push({ area: 'tls', title: `certificates Ingresses serve now (${inUse.length})`, lines: inUse });
  return out;
}
