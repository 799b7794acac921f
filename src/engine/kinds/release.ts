/**
 * Helm releases, the way their users install them: `helm upgrade --install NAME CHART --version V`.
 * Previewed with `helm template` (the objects it would create) and `--dry-run=server` (validated by the
 * API server, nothing stored); the precondition is the release revision seen at preview; undone by
 * `helm uninstall` (an install) or `helm rollback` to the previous revision (an upgrade).
 */
import { stringify } from 'yaml';
import type { AccessCheck } from '../../cluster/client.js';
import type { ReleaseChange } from '../change.js';
import { diffTexts } from '../diff.js';
import { storedBase, type StoredRelease } from '../stored.js';
import { ConflictError, type EngineContext, type KindHandler, type RollbackStep } from './types.js';
import { parseAllDocuments } from 'yaml';

/** The arguments of the install or upgrade (without --dry-run); values go through stdin. */
export function helmArgs(c: ReleaseChange): string[] {
  const args = ['upgrade', '--install', c.release, c.chart, '--namespace', c.namespace, '--version', c.version, '--values', '-'];
  if (c.repo) args.push('--repo', c.repo);
  if (c.createNamespace) args.push('--create-namespace');
  return args;
}

/** The command as a user would type it, for the preview. */
export function helmCommand(c: ReleaseChange): string {
  const sets = Object.entries(flatten(c.values)).map(([k, v]) => `--set ${k}=${String(v)}`);
  return ['helm', ...helmArgs(c).filter((a, i, all) => a !== '--values' && all[i - 1] !== '--values'), ...sets].join(' ');
}

function flatten(v: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (x && typeof x === 'object' && !Array.isArray(x)) Object.assign(out, flatten(x as Record<string, unknown>, `${prefix}${k}.`));
    else out[`${prefix}${k}`] = x;
  }
  return out;
}

/**
 * `helm template` of the change. It renders offline, for the Kubernetes version helm was built with unless
 * told otherwise: told the cluster's own version, so charts with a kubeVersion constraint or
 * Capabilities-dependent templates render what the install will.
 */
async function template(c: ReleaseChange, ctx: EngineContext): Promise<string> {
  const v = await ctx.cluster.version().catch(() => undefined);
  const args = ['template', c.release, c.chart, '--namespace', c.namespace, '--version', c.version, '--values', '-', ...(c.repo ? ['--repo', c.repo] : [])];
  if (v?.gitVersion) args.push('--kube-version', v.gitVersion);
  return ctx.helm.run(args, `render ${c.chart}`, stringify(c.values));
}

/**
 * A server dry-run of a fresh install fails on objects whose kinds the chart's own CRDs bring (helm
 * installs a chart's crds/ before its templates, but not in a dry-run: "ensure CRDs are installed
 * first"). The kinds, when that is the only reason: every rendered kind the cluster does not serve is
 * one of the chart's CRDs. Undefined otherwise (the dry-run failure stands).
 */
async function kindsOnlyItsCrdsServe(c: ReleaseChange, ctx: EngineContext, rendered: string, error: string): Promise<string[] | undefined> {
  if (!/ensure CRDs are installed first|no matches for kind/.test(error)) return undefined;
  let crds: string;
  try {
    crds = await ctx.helm.run(['show', 'crds', c.chart, '--version', c.version, ...(c.repo ? ['--repo', c.repo] : [])], `read the CRDs of ${c.chart}`);
  } catch {
    return undefined;
  }
  const own = new Set<string>();
  for (const d of parseAllDocuments(crds)) {
    const o = d.toJS() as { kind?: string; spec?: { group?: string; names?: { kind?: string }; versions?: Array<{ name: string }> } } | null;
    if (o?.kind !== 'CustomResourceDefinition' || !o.spec?.names?.kind) continue;
    for (const v of o.spec.versions ?? []) own.add(`${o.spec.group}/${v.name}/${o.spec.names.kind}`);
  }
  const unserved: string[] = [];
  for (const k of renderedKinds(rendered)) {
    if (await ctx.cluster.serves(k.apiVersion, k.kind).catch(() => true)) continue;
    if (!own.has(`${k.apiVersion}/${k.kind}`)) return undefined;
    if (!unserved.includes(k.kind)) unserved.push(k.kind);
  }
  return unserved.length ? unserved : undefined;
}

/** The kinds and namespaces a rendered chart creates, for the permission pre-check. */
export function renderedKinds(rendered: string): Array<{ apiVersion: string; kind: string; namespace?: string }> {
  const out = new Map<string, { apiVersion: string; kind: string; namespace?: string }>();
  for (const d of parseAllDocuments(rendered)) {
    const o = d.toJS() as { apiVersion?: string; kind?: string; metadata?: { namespace?: string } } | null;
    if (!o?.kind || !o.apiVersion) continue;
    out.set(`${o.apiVersion}/${o.kind}/${o.metadata?.namespace ?? ''}`, { apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata?.namespace });
  }
  return [...out.values()];
}

export const releaseHandler: KindHandler<ReleaseChange, StoredRelease> = {
  diff(c, dry) {
    const command = `# ${helmCommand(c)}\n`;
    return diffTexts(
      `helm/${c.namespace}/${c.release}`,
      c.action === 'install' ? null : `# release ${c.release}, revision ${c.previousRevision}\n`,
      command + (dry?.rendered ?? '# (rendered by the dry-run)\n'),
    );
  },

  async access(c, ctx) {
    // helm needs its own release records (Secrets in the namespace) and whatever the chart creates.
    const checks: AccessCheck[] = [
      { verb: 'create', group: '', resource: 'secrets', namespace: c.namespace },
      { verb: 'list', group: '', resource: 'secrets', namespace: c.namespace },
      { verb: 'delete', group: '', resource: 'secrets', namespace: c.namespace },
    ];
    if (c.createNamespace) checks.push({ verb: 'create', group: '', resource: 'namespaces' });
    let rendered: string;
    try {
      rendered = await template(c, ctx);
    } catch {
      return checks;
    }
    for (const k of renderedKinds(rendered)) {
      try {
        const t = await ctx.cluster.typeOf(k.apiVersion, k.kind);
        const ns = t.namespaced ? (k.namespace ?? c.namespace) : undefined;
        checks.push(ctx.cluster.accessCheck(t, 'create', ns), ctx.cluster.accessCheck(t, 'delete', ns));
      } catch {
        /* a kind the chart itself brings (its CRDs' objects) */
      }
    }
    return checks;
  },

  async dryRun(c, ctx) {
    try {
      const current = await ctx.helm.release(c.release, c.namespace);
      if ((current?.revision ?? undefined) !== c.previousRevision) {
        return { ok: false, warnings: [], error: `helm release ${c.release} changed since it was read (revision ${current?.revision ?? 'none'})` };
      }
      const rendered = await template(c, ctx);
      try {
        await ctx.helm.run([...helmArgs(c), '--dry-run=server'], `dry-run helm install of ${c.release}`, stringify(c.values));
      } catch (e) {
        const ownKinds = await kindsOnlyItsCrdsServe(c, ctx, rendered, (e as Error).message);
        if (!ownKinds) throw e;
        return {
          ok: true,
          warnings: [
            `rendered, not validated by the API server: helm's server dry-run stops at the chart's ${ownKinds.join(', ')} objects, whose CRDs the chart itself installs first (validated at install)`,
          ],
          rendered,
        };
      }
      return { ok: true, warnings: [], rendered };
    } catch (e) {
      return { ok: false, warnings: [], error: (e as Error).message };
    }
  },

  store(c) {
    return {
      kind: 'release',
      ...storedBase(c),
      action: c.action,
      release: c.release,
      namespace: c.namespace,
      chart: c.chart,
      version: c.version,
      previousRevision: c.previousRevision,
      undoNote: c.undoNote,
    };
  },

  async apply(c, _s, ctx) {
    const current = await ctx.helm.release(c.release, c.namespace);
    if ((current?.revision ?? undefined) !== c.previousRevision)
      throw new ConflictError(`helm release ${c.release} changed since the preview; it was not touched`);
    ctx.note?.(`helm ${c.action} ${c.release} ${c.version} (waiting for its workloads)`);
    await ctx.helm.run([...helmArgs(c), '--wait', '--timeout', '10m'], `helm ${c.action} ${c.release}`, stringify(c.values));
    const after = await ctx.helm.release(c.release, c.namespace);
    return { written: { revision: after?.revision }, warnings: [] };
  },

  async landed(s, ctx) {
    const r = await ctx.helm.release(s.release, s.namespace);
    return r && r.revision !== s.previousRevision ? { revision: r.revision } : undefined;
  },

  async classify(s, written, ctx): Promise<RollbackStep> {
    const r = await ctx.helm.release(s.release, s.namespace);
    if (!r) return s.action === 'install' ? { stored: s, verdict: 'unchanged' } : { stored: s, verdict: 'skip', detail: 'uninstalled by someone else since' };
    if (r.revision === s.previousRevision) return { stored: s, verdict: 'unchanged' };
    if (written?.revision !== undefined && r.revision !== written.revision) {
      return { stored: s, verdict: 'conflict', detail: `upgraded again since (revision ${r.revision}, kube-harden made ${written.revision})`, state: r };
    }
    return { stored: s, verdict: 'restore', state: r };
  },

  async restore(step, ctx) {
    const s = step.stored as StoredRelease;
    if (s.action === 'install') await ctx.helm.run(['uninstall', s.release, '--namespace', s.namespace, '--wait'], `helm uninstall ${s.release}`);
    else await ctx.helm.run(['rollback', s.release, String(s.previousRevision), '--namespace', s.namespace, '--wait'], `helm rollback ${s.release}`);
  },
};
