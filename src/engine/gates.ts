/**
 * Health gates: what must be true after a file change before it counts as applied (and after a restore,
 * before the rollback counts as done). The one gate today is the API server's static pod: after its
 * manifest changes the kubelet restarts it; we wait until it answers /readyz again, its mirror pod shows
 * the flags we expect, and, for anonymous-auth, an anonymous request is answered the way the flag says.
 */
import { parseDocument } from 'yaml';
import type { Cluster } from '../cluster/client.js';
import type { KubeObject } from '../cluster/types.js';
import type { GateSpec } from './change.js';

/** The `--flag=value` arguments of the API server container in a static-pod manifest. */
export function manifestFlags(text: string): Record<string, string> {
  const doc = parseDocument(text).toJS() as KubeObject | null;
  const spec = doc?.spec as { containers?: Array<{ name?: string; command?: string[]; args?: string[] }> } | undefined;
  const c = spec?.containers?.find((x) => x.name === 'kube-apiserver' || (x.command ?? []).some((a) => /kube-apiserver$/.test(a))) ?? spec?.containers?.[0];
  return flagsOf([...(c?.command ?? []), ...(c?.args ?? [])]);
}

export function flagsOf(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out[a.slice(2)] = argv[++i];
    else out[a.slice(2)] = 'true';
  }
  return out;
}

/** The same gate, expecting the flag values of another manifest text (for the restore). */
export function gateFor(gate: GateSpec, text: string | null): GateSpec {
  const flags = text ? manifestFlags(text) : {};
  return { ...gate, flags: Object.fromEntries(Object.keys(gate.flags).map((k) => [k, flags[k] ?? null])) };
}

export interface GateResult {
  ok: boolean;
  /** What was last seen: why it is not healthy yet. */
  detail: string;
  ms: number;
}

async function check(cluster: Cluster, gate: GateSpec): Promise<string | undefined> {
  try {
    // Plain text ("ok"), not JSON.
    await cluster.rest.request<string>({ method: 'GET', path: '/readyz', what: 'check /readyz', timeoutMs: 3000, raw: true });
  } catch (e) {
    return `/readyz: ${(e as Error).message}`;
  }
  if (gate.mirrorPod) {
    let pod: KubeObject;
    try {
      pod = await cluster.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'kube-system', name: gate.mirrorPod });
    } catch (e) {
      return `mirror pod ${gate.mirrorPod}: ${(e as Error).message}`;
    }
    const containers = (pod.spec as { containers?: Array<{ command?: string[]; args?: string[] }> }).containers ?? [];
    const flags = flagsOf(containers.flatMap((c) => [...(c.command ?? []), ...(c.args ?? [])]));
    for (const [k, v] of Object.entries(gate.flags)) {
      if ((flags[k] ?? null) !== v) return `the running API server has --${k}=${flags[k] ?? '(unset)'}, not ${v ?? '(unset)'}`;
    }
  }
  const anon = gate.flags['anonymous-auth'];
  if (anon === 'false' || anon === 'true') {
    const r = await cluster.rest.anonymous('/readyz').catch((e: Error) => ({ status: 0, body: e.message }));
    if (anon === 'false' && r.status !== 401) return `an anonymous request is answered ${r.status || r.body}, not 401`;
    if (anon === 'true' && r.status === 401) return 'an anonymous request is refused (401), not served';
  }
  return undefined;
}

/** Poll until the gate holds or its time-out passes. */
export async function waitForGate(
  cluster: Cluster,
  gate: GateSpec,
  note?: (text: string) => void,
  sleep = (ms: number) => new Promise((r) => setTimeout(r, ms)),
): Promise<GateResult> {
  const t0 = Date.now();
  let last = '';
  for (;;) {
    const why = await check(cluster, gate);
    if (!why) return { ok: true, detail: 'healthy', ms: Date.now() - t0 };
    if (why !== last) note?.(`waiting for the API server: ${why}`);
    last = why;
    if (Date.now() - t0 > gate.timeoutMs) return { ok: false, detail: why, ms: Date.now() - t0 };
    await sleep(1000);
  }
}
