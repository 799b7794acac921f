/**
 * `apply --out DIR`: the plan as files instead of writes, for a Git repository. New objects become
 * manifests; changes to existing objects become JSON patches (RFC 6902) against the live objects, which
 * are written beside them as the kustomization's base, so `kubectl apply -k DIR` reproduces the plan and a
 * GitOps repository can take the patches as they are. A README lists what and why. Deletions, file and
 * Helm release changes cannot be expressed in a kustomization: they are described in the README.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { KubeObject } from '../cluster/types.js';
import { changeLabel, reasonText, type Change, type DryRunResult, type ObjectChange } from '../engine/change.js';
import { fieldChanges, getPath, type PathSeg } from '../engine/fields.js';
import { normalise } from '../engine/normalise.js';
import { helmCommand } from '../engine/kinds/release.js';

export interface PatchOp {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

const escape = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');
const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The JSON pointer of a path in `doc` (named list items resolved to their index there), or undefined. */
function pointer(doc: unknown, path: PathSeg[]): string | undefined {
  let cur: unknown = doc;
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'string') {
      if (!isPlain(cur) || !(seg in cur)) return undefined;
      out += `/${escape(seg)}`;
      cur = cur[seg];
    } else {
      if (!Array.isArray(cur)) return undefined;
      const i = cur.findIndex((x) => isPlain(x) && x.name === seg.name);
      if (i < 0) return undefined;
      out += `/${i}`;
      cur = cur[i];
    }
  }
  return out;
}

/** JSON patch operations that turn `before` into `after`, addressed in `before` (list items by index). */
export function jsonPatch(before: KubeObject, after: KubeObject): PatchOp[] {
  const base = normalise(before);
  const target = normalise(after);
  const ops: PatchOp[] = [];
  // Work on a copy that follows the operations, so a second field under a parent added by the first finds it.
  const work = structuredClone(base) as unknown;
  for (const f of fieldChanges(base, target)) {
    if (f.ours === undefined) {
      const p = pointer(work, f.path);
      if (p !== undefined) ops.push({ op: 'remove', path: p });
      continue;
    }
    // The deepest prefix that exists: add the rest as one value there.
    let depth = f.path.length;
    while (depth > 0 && pointer(work, f.path.slice(0, depth - 1)) === undefined) depth--;
    const existing = pointer(work, f.path.slice(0, depth));
    if (existing !== undefined && depth === f.path.length) {
      ops.push({ op: 'replace', path: existing, value: f.ours });
      continue;
    }
    const parent = pointer(work, f.path.slice(0, depth - 1))!;
    const seg = f.path[depth - 1];
    const value = getPath(target, f.path.slice(0, depth));
    const at = typeof seg === 'string' ? `${parent}/${escape(seg)}` : `${parent}/-`;
    ops.push({ op: 'add', path: at, value });
    // Follow the operation on the working copy.
    const parentValue = getPath(work, f.path.slice(0, depth - 1));
    if (typeof seg === 'string' && isPlain(parentValue)) parentValue[seg] = structuredClone(value);
    else if (Array.isArray(parentValue)) parentValue.push(structuredClone(value));
  }
  return ops;
}

const fileName = (o: { kind: string; metadata: { namespace?: string; name: string } }) =>
  `${o.kind.toLowerCase()}${o.metadata.namespace ? `-${o.metadata.namespace}` : ''}-${o.metadata.name}.yaml`.replace(/[^a-z0-9._-]/gi, '_');

const target = (o: KubeObject) => {
  const i = o.apiVersion.indexOf('/');
  return {
    ...(i > 0 ? { group: o.apiVersion.slice(0, i), version: o.apiVersion.slice(i + 1) } : { version: o.apiVersion }),
    kind: o.kind,
    name: o.metadata.name,
    ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
  };
};

export interface OutSummary {
  dir: string;
  manifests: number;
  patches: number;
  manual: number;
}

/** Write the plan to `dir` (created if needed). */
export async function writePlanAsFiles(dir: string, changes: Change[], dry: Map<string, DryRunResult>, context: string): Promise<OutSummary> {
  for (const sub of ['base', 'resources', 'patches']) await mkdir(join(dir, sub), { recursive: true });
  const resources: string[] = [];
  const patches: Array<{ path: string; target: ReturnType<typeof target> }> = [];
  const readme: string[] = [
    '# kube-harden plan',
    '',
    `Written by \`kube-harden apply --out\` for context \`${context}\` on ${new Date().toISOString()}. Nothing was written to the cluster.`,
    '',
    'Apply it with `kubectl apply -k .` (try `kubectl apply -k . --dry-run=server` first), or take the patches in `patches/` into',
    'your own overlays. `base/` holds the objects as they were read from the cluster, so the patches apply to exactly them.',
    '',
    '| change | why | risk | server dry-run |',
    '|---|---|---|---|',
  ];
  const manual: string[] = [];
  let manifests = 0;
  for (const c of changes) {
    const d = dry.get(c.id);
    const verdict = !d ? 'not dry-run' : d.ok ? (d.warnings.length ? `ok, ${d.warnings.length} warning(s)` : 'ok') : `failed: ${d.error}`;
    readme.push(
      `| ${c.kind === 'object' ? c.action : c.kind} ${changeLabel(c)} | ${reasonText(c).replace(/\|/g, '\\|')} | ${c.risk}: ${c.riskNotes.join('; ').replace(/\|/g, '\\|') || '-'} | ${verdict} |`,
    );
    if (c.kind === 'object') {
      const oc = c as ObjectChange;
      if (oc.action === 'create') {
        const file = `resources/${fileName(oc.after!)}`;
        await writeFile(join(dir, file), stringify(normalise(oc.after!)));
        resources.push(file);
        manifests++;
      } else if (oc.action === 'patch') {
        const baseFile = `base/${fileName(oc.before!)}`;
        await writeFile(join(dir, baseFile), stringify(normalise(oc.before!)));
        resources.push(baseFile);
        const patchFile = `patches/${fileName(oc.before!)}`;
        await writeFile(join(dir, patchFile), stringify(jsonPatch(oc.before!, oc.after!)));
        patches.push({ path: patchFile, target: target(oc.before!) });
      } else {
        manual.push(
          `- delete ${changeLabel(oc)}: \`kubectl delete ${oc.ref.kind.toLowerCase()} ${oc.ref.name}${oc.ref.namespace ? ` -n ${oc.ref.namespace}` : ''}\` (a kustomization cannot delete)`,
        );
      }
    } else if (c.kind === 'file') {
      const file = `files/${c.path.split('/').pop()}`;
      await mkdir(join(dir, 'files'), { recursive: true });
      await writeFile(join(dir, file), c.after);
      manual.push(`- ${c.path}: replace it with \`${file}\` on the machine that holds it (the kubelet restarts the component)`);
    } else {
      const file = `releases/${c.release}-values.yaml`;
      await mkdir(join(dir, 'releases'), { recursive: true });
      await writeFile(join(dir, file), stringify(c.values));
      manual.push(`- helm release ${c.release} in ${c.namespace}: \`${helmCommand(c)}\` (values in \`${file}\`)`);
    }
  }
  const kustomization = { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources, patches };
  await writeFile(join(dir, 'kustomization.yaml'), `# Made by kube-harden apply --out: see README.md\n${stringify(kustomization)}`);
  if (manual.length) readme.push('', '## Not in the kustomization', '', ...manual);
  await writeFile(join(dir, 'README.md'), `${readme.join('\n')}\n`);
  return { dir, manifests, patches: patches.length, manual: manual.length };
}
