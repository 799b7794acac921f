/**
 * The API server's static-pod manifest, read and edited through the `yaml` package's Document API so
 * that comments, key order and the style of everything not touched survive the edit: only the flags we
 * set, the probes we switch and the mounts we add change in the diff.
 */
import { isMap, isScalar, isSeq, parseDocument, type Document, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { flagsOf } from '../../engine/gates.js';
import type { Flags } from './flags.js';

export interface HostMount {
  name: string;
  hostPath: string;
  type: 'File' | 'DirectoryOrCreate';
  readOnly: boolean;
}

export interface ManifestEdit {
  /** flag name (no dashes) → new value; null removes the flag. */
  flags: Record<string, string | null>;
  /** Switch the container's httpGet probes to tcpSocket checks of the same port (anonymous-auth=false). */
  probesToTcp?: boolean;
  /** hostPath volumes to mount at the same path in the container (files the new flags name). */
  mounts?: HostMount[];
}

export interface ManifestInfo {
  /** The API server's flags (command and args). */
  flags: Flags;
  /** Probes of the container that are anonymous HTTP GETs (liveness, readiness, startup). */
  httpProbes: string[];
  /** hostPath volumes mounted into the container: mountPath → hostPath. */
  mounts: Array<{ mountPath: string; hostPath: string }>;
  /** Names of the pod's volumes (a new one must not reuse them). */
  volumeNames: string[];
  /** metadata.name of the static pod (its mirror pod is `<name>-<node>`). */
  name?: string;
}

export class ManifestError extends Error {}

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'];

const str = (n: unknown): string | undefined => (isScalar(n) && typeof n.value === 'string' ? n.value : isScalar(n) ? String(n.value) : undefined);

function containerOf(doc: Document): YAMLMap {
  if (doc.errors.length) throw new ManifestError(`not valid YAML: ${doc.errors[0].message}`);
  const containers = doc.getIn(['spec', 'containers'], true);
  if (!isSeq(containers)) throw new ManifestError('no spec.containers');
  const maps = containers.items.filter(isMap) as YAMLMap[];
  const byName = maps.find((c) => str(c.get('name', true)) === 'kube-apiserver');
  const byCommand = maps.find((c) => {
    const cmd = c.get('command', true);
    return isSeq(cmd) && /(^|\/)kube-apiserver$/.test(str(cmd.items[0]) ?? '');
  });
  const c = byName ?? byCommand;
  if (!c) throw new ManifestError('no kube-apiserver container');
  return c;
}

const seqStrings = (s: unknown): string[] => (isSeq(s) ? s.items.map((i) => str(i) ?? '') : []);

/** What the area needs to know of a manifest. Throws ManifestError when it is not an API server's static pod. */
export function readManifest(text: string): ManifestInfo {
  const doc = parseDocument(text);
  const c = containerOf(doc);
  const argv = [...seqStrings(c.get('command', true)).slice(1), ...seqStrings(c.get('args', true))];
  const httpProbes = PROBES.filter((p) => {
    const probe = c.get(p, true);
    return isMap(probe) && isMap(probe.get('httpGet', true));
  });
  const volumes = new Map<string, string>();
  const volumeNames: string[] = [];
  const vs = doc.getIn(['spec', 'volumes'], true);
  if (isSeq(vs)) {
    for (const v of vs.items) {
      if (!isMap(v)) continue;
      const hp = v.get('hostPath', true);
      const name = str(v.get('name', true));
      if (name) volumeNames.push(name);
      if (name && isMap(hp)) volumes.set(name, str(hp.get('path', true)) ?? '');
    }
  }
  const mounts: ManifestInfo['mounts'] = [];
  const vm = c.get('volumeMounts', true);
  if (isSeq(vm)) {
    for (const m of vm.items) {
      if (!isMap(m)) continue;
      const name = str(m.get('name', true));
      const mountPath = str(m.get('mountPath', true));
      if (name && mountPath && volumes.has(name)) mounts.push({ mountPath, hostPath: volumes.get(name)! });
    }
  }
  return { flags: flagsOf(argv), httpProbes, mounts, volumeNames, name: str(doc.getIn(['metadata', 'name'], true)) };
}

/** Is `path` already visible at the same path inside the container (a mount of it or of a folder above it)? */
export function mounted(info: Pick<ManifestInfo, 'mounts'>, path: string): boolean {
  return info.mounts.some((m) => m.mountPath === m.hostPath && (path === m.mountPath || path.startsWith(m.mountPath.replace(/\/*$/, '/'))));
}

const flagName = (item: string): string | undefined => (item.startsWith('--') ? item.slice(2).split('=')[0] : undefined);

/** Where a flag sits in a list: its item, and the separate value item when written as `--name value`. */
function locate(list: YAMLSeq, name: string): { index: number; separate: boolean } | undefined {
  let found: { index: number; separate: boolean } | undefined;
  for (let i = 0; i < list.items.length; i++) {
    const item = str(list.items[i]) ?? '';
    if (flagName(item) !== name) continue;
    const next = str(list.items[i + 1]);
    found = { index: i, separate: !item.includes('=') && next !== undefined && !next.startsWith('--') };
  }
  return found; // the last occurrence is the one in force
}

function setFlag(doc: Document, c: YAMLMap, name: string, value: string | null): void {
  const lists = ['command', 'args'].map((k) => c.get(k, true) as unknown).filter((x): x is YAMLSeq => isSeq(x));
  const lastSeen = lists.map((l) => ({ l, at: locate(l, name) })).filter((x) => x.at);
  if (value === null) {
    // Remove every occurrence (an earlier one would take over otherwise).
    for (const { l } of lastSeen) {
      for (let at = locate(l, name); at; at = locate(l, name)) l.items.splice(at.index, at.separate ? 2 : 1);
    }
    return;
  }
  const text = `--${name}=${value}`;
  if (lastSeen.length) {
    const { l, at } = lastSeen[lastSeen.length - 1];
    const node = l.items[at!.index] as Scalar;
    if (at!.separate) l.items.splice(at!.index + 1, 1);
    node.value = text;
    return;
  }
  // A new flag: in the list that carries the flags (args when it has any), in sorted place if the list is sorted.
  const args = c.get('args', true) as unknown;
  const command = c.get('command', true) as unknown;
  const target = isSeq(args) && seqStrings(args).some((a) => a.startsWith('--')) ? args : isSeq(command) ? command : undefined;
  if (!target) throw new ManifestError('the kube-apiserver container has no command');
  const items = seqStrings(target);
  const flagIdx = items.map((s, i) => (s.startsWith('--') ? i : -1)).filter((i) => i >= 0);
  const names = flagIdx.map((i) => flagName(items[i])!);
  const sorted = names.every((n, i) => i === 0 || names[i - 1] <= n);
  let at = target.items.length;
  if (sorted && flagIdx.length) {
    const after = flagIdx.find((i) => flagName(items[i])! > name);
    at = after ?? flagIdx[flagIdx.length - 1] + 1;
  }
  target.items.splice(at, 0, doc.createNode(text));
}

function probesToTcp(doc: Document, c: YAMLMap): void {
  for (const p of PROBES) {
    const probe = c.get(p, true);
    if (!isMap(probe)) continue;
    const pair = probe.items.find((x) => str(x.key) === 'httpGet');
    if (!pair || !isMap(pair.value)) continue;
    const http = pair.value;
    const tcp: Record<string, unknown> = {};
    const host = http.get('host');
    if (host !== undefined) tcp.host = host;
    tcp.port = http.get('port');
    // Keep the probe's place and its other fields; only the handler changes.
    (pair.key as Scalar).value = 'tcpSocket';
    pair.value = doc.createNode(tcp);
  }
}

function addMounts(doc: Document, c: YAMLMap, mounts: HostMount[]): void {
  const info = readManifest(String(doc));
  for (const m of mounts) {
    if (mounted(info, m.hostPath)) continue;
    let volumes = doc.getIn(['spec', 'volumes'], true);
    if (!isSeq(volumes)) {
      doc.setIn(['spec', 'volumes'], doc.createNode([]));
      volumes = doc.getIn(['spec', 'volumes'], true);
    }
    // Keys in kubeadm's (alphabetical) order.
    (volumes as YAMLSeq).items.push(doc.createNode({ hostPath: { path: m.hostPath, type: m.type }, name: m.name }));
    let vm = c.get('volumeMounts', true) as unknown;
    if (!isSeq(vm)) {
      c.set('volumeMounts', doc.createNode([]));
      vm = c.get('volumeMounts', true) as unknown;
    }
    (vm as YAMLSeq).items.push(doc.createNode(m.readOnly ? { mountPath: m.hostPath, name: m.name, readOnly: true } : { mountPath: m.hostPath, name: m.name }));
  }
}

/**
 * How the file indents sequences under a key: kubeadm (go-yaml) writes them at the key's indentation,
 * others indent them. The one that writes the unedited document back byte for byte, so the diff shows
 * only what changed.
 */
function styleOf(text: string): { indentSeq: boolean } {
  for (const indentSeq of [false, true]) {
    if (parseDocument(text).toString({ lineWidth: 0, indentSeq }) === text) return { indentSeq };
  }
  return { indentSeq: !/^( *)[\w.-]+:\n\1- /m.test(text) };
}

/** The manifest with the edit made; everything else (comments, order, quoting) as it was. Pure. */
export function editManifest(text: string, edit: ManifestEdit): string {
  const doc = parseDocument(text);
  const c = containerOf(doc);
  for (const [name, value] of Object.entries(edit.flags)) setFlag(doc, c, name, value);
  if (edit.probesToTcp) probesToTcp(doc, c);
  if (edit.mounts?.length) addMounts(doc, c, edit.mounts);
  return doc.toString({ lineWidth: 0, ...styleOf(text) });
}
