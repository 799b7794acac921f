/**
 * What the area knows of the API server: its flags (from the mirror pods kubeadm-style control planes
 * show in kube-system), the manifest on this machine when there is one, the platform, and the probes.
 * Every read degrades on its own: what cannot be read is "unknown" in the facts and a note, never a crash.
 */
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { builtinByKind } from '../../cluster/client.js';
import type { KubeObject, ObjectRef } from '../../cluster/types.js';
import { flagsOf } from '../../engine/gates.js';
import type { InspectContext, ReadSpec } from '../types.js';
import { type Flags } from './flags.js';
import { ManifestError, readManifest, type ManifestInfo } from './manifest.js';
import { detectPlatform, type Platform } from './platform.js';
import { probeAll, type ProbeFacts } from './probes.js';

export const DEFAULT_MANIFEST = '/etc/kubernetes/manifests/kube-apiserver.yaml';
export const DEFAULT_AUDIT_LOG = '/var/log/kubernetes/audit/audit.log';

export const APISERVER_READS: ReadSpec[] = [
  { apiVersion: 'v1', kind: 'Pod' },
  { apiVersion: 'v1', kind: 'Node' },
];

/** One running API server, from its mirror pod (or, when none is visible, from the manifest given). */
export interface ServerFlags {
  ref: ObjectRef;
  node?: string;
  flags: Flags;
}

export interface ManifestFacts {
  path: string;
  /** The text as read: the edit's base and its sha256 precondition. */
  text: string;
  info: ManifestInfo;
  /** The mirror pod of the API server this manifest runs (the health gate reads its flags). */
  mirrorPod?: string;
  /** The audit policy file kube-harden would create or reuse by default, and its text if it exists. */
  auditPolicyFile: string;
  auditPolicyText: string | null;
}

export interface ApiserverFacts {
  version: string;
  platform: Platform;
  /** undefined: the mirror pods could not be read (serversError says why). */
  servers?: ServerFlags[];
  serversError?: string;
  /** The manifest kube-harden may edit; absent when there is none here or it is not this cluster's. */
  manifest?: ManifestFacts;
  manifestNote?: string;
  probes: ProbeFacts;
}

const MIRROR = 'kubernetes.io/config.mirror';

interface PodSpec {
  nodeName?: string;
  containers?: Array<{ name?: string; command?: string[]; args?: string[] }>;
}

/** Mirror pods of kube-apiserver among pods, with their flags. */
export function serversOf(pods: KubeObject[]): ServerFlags[] {
  const out: ServerFlags[] = [];
  for (const p of pods) {
    if (p.metadata.namespace !== 'kube-system' || !p.metadata.annotations?.[MIRROR]) continue;
    const spec = (p.spec ?? {}) as PodSpec;
    const c =
      spec.containers?.find((x) => x.name === 'kube-apiserver') ??
      (p.metadata.labels?.component === 'kube-apiserver' ? spec.containers?.[0] : undefined) ??
      spec.containers?.find((x) => /(^|\/)kube-apiserver$/.test(x.command?.[0] ?? ''));
    if (!c) continue;
    out.push({
      ref: { apiVersion: 'v1', kind: 'Pod', namespace: 'kube-system', name: p.metadata.name },
      node: spec.nodeName,
      flags: flagsOf([...(c.command ?? []).slice(1), ...(c.args ?? [])]),
    });
  }
  return out.sort((a, b) => a.ref.name.localeCompare(b.ref.name));
}

async function readPods(ctx: InspectContext): Promise<KubeObject[]> {
  try {
    // Cheap: only the kube-apiserver pods of kube-system.
    return await ctx.cluster.list(builtinByKind('Pod'), { namespace: 'kube-system', labelSelector: 'component=kube-apiserver' });
  } catch {
    // The session's shared LIST (which the workloads area may have made already).
    return ctx.list('Pod', 'v1');
  }
}

/** Flags that tell one cluster's API server from another's (the manifest must be the one of a running server). */
const IDENTITY_FLAGS = ['secure-port', 'etcd-servers', 'service-cluster-ip-range', 'advertise-address'];
const sameServer = (a: Flags, b: Flags) => IDENTITY_FLAGS.every((k) => (a[k] ?? '') === (b[k] ?? ''));

async function readable(path: string): Promise<boolean> {
  try {
    await access(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

export async function readManifestFacts(
  path: string | undefined,
  servers: ServerFlags[] | undefined,
  platform: Platform,
): Promise<{ manifest?: ManifestFacts; note?: string }> {
  const explicit = path !== undefined;
  const p = path ?? DEFAULT_MANIFEST;
  if (!explicit && !(await readable(p))) return {};
  let text: string;
  try {
    text = await readFile(p, 'utf8');
  } catch (e) {
    return { note: `cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
  let info: ManifestInfo;
  try {
    info = readManifest(text);
  } catch (e) {
    if (e instanceof ManifestError) return { note: `${p} is not the API server's static pod manifest: ${e.message}` };
    throw e;
  }
  if (platform.managed) return { note: `${p} is not used: ${platform.name} runs the API server` };
  if (platform.id === 'openshift') return { note: `${p} is not edited: the OpenShift kube-apiserver operator owns it and reverts edits` };
  let mirrorPod: string | undefined;
  if (servers?.length) {
    const same = servers.filter((s) => sameServer(s.flags, info.flags));
    const local = same.find((s) => s.node === os.hostname()) ?? (same.length === 1 ? same[0] : undefined);
    if (!local) {
      return {
        note: `${p} does not run any API server of this cluster (its ${IDENTITY_FLAGS.join(', ')} differ from every mirror pod): it is not offered for edit`,
      };
    }
    mirrorPod = local.ref.name;
  } else if (!explicit) {
    return { note: `${p} exists, but no mirror pod shows that it runs this cluster's API server: pass --apiserver-manifest to edit it anyway` };
  }
  const auditPolicyFile = join(dirname(dirname(p)), 'audit-policy.yaml');
  const auditPolicyText = await readFile(auditPolicyFile, 'utf8').catch(() => null);
  return { manifest: { path: p, text, info, mirrorPod, auditPolicyFile, auditPolicyText } };
}

async function apiGroups(ctx: InspectContext): Promise<string[]> {
  try {
    const r = await ctx.cluster.rest.request<{ groups?: Array<{ name: string }> }>({ method: 'GET', path: '/apis', what: 'list API groups' });
    return (r.body.groups ?? []).map((g) => g.name);
  } catch {
    return [];
  }
}

/** Read everything the area looks at; each part on its own, concurrently. */
export async function gatherFacts(ctx: InspectContext): Promise<ApiserverFacts> {
  ctx.onProgress?.('reading the API server mirror pods, nodes and API groups');
  let servers: ServerFlags[] | undefined;
  let serversError: string | undefined;
  const [pods, nodes, groups] = await Promise.all([
    readPods(ctx).catch((e: Error) => {
      serversError = e.message;
      return undefined;
    }),
    ctx.list('Node', 'v1').catch(() => [] as KubeObject[]),
    apiGroups(ctx),
  ]);
  if (pods) servers = serversOf(pods);
  const platform = detectPlatform({ gitVersion: ctx.version.gitVersion, nodes, groups, staticPods: !!servers?.length });
  const { manifest, note } = await readManifestFacts(ctx.options.apiserverManifest, servers, platform);
  if (!servers?.length && manifest) {
    // No mirror pod to read the running flags from: the manifest given is the best we know.
    servers = [{ ref: { apiVersion: '', kind: 'File', name: manifest.path }, flags: manifest.info.flags }];
  }
  ctx.onProgress?.('probing the API server (anonymous requests, TLS)');
  const insecure = servers?.map((s) => Number(s.flags['insecure-port'])).find((n) => n > 0);
  const probes = await probeAll(ctx.cluster, insecure);
  return { version: ctx.version.gitVersion, platform, servers, serversError, manifest, manifestNote: note, probes };
}
