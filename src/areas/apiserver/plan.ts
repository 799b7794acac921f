/**
 * Answers to edits, purely: one FileEdit of the API server's manifest with every chosen flag (phase
 * control-plane, a health gate naming the flags expected), and, when the audit log needs a policy file
 * that does not exist yet, a FileEdit creating it first (phase create), so the API server is never
 * pointed at a missing file.
 */
import { dirname } from 'node:path';
import type { Edit, FileEdit } from '../../engine/compose.js';
import { maxRisk, type Risk } from '../../engine/change.js';
import type { Answers, Inspection } from '../types.js';
import { FLAG_CHECKS, type FixId } from './flags.js';
import { fixOf, flagChanges } from './fixes.js';
import { PROBE_RULES } from './findings.js';
import { DEFAULT_AUDIT_LOG, type ApiserverFacts } from './inspect.js';
import { editManifest, type HostMount } from './manifest.js';

/** How long the API server may take to come back with the new flags before the old manifest is put back. */
export const GATE_TIMEOUT_MS = 180_000;

/**
 * A minimal audit policy (CIS 3.2.1): metadata of every request (who, what, when, answer), never the
 * bodies of secrets, config maps or token requests; the noisiest read-only traffic (health checks, the
 * nodes' leases, events) left out.
 */
export const AUDIT_POLICY = `# Written by kube-harden: a minimal audit policy (CIS Kubernetes Benchmark 3.2.1).
# Every request is logged at Metadata level (user, verb, resource, answer) except the noisiest
# read-only traffic; request bodies are never logged, so secrets stay out of the log.
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages:
  - RequestReceived
rules:
  # Health checks and the version: no one to trace.
  - level: None
    nonResourceURLs: ["/healthz*", "/readyz*", "/livez*", "/version"]
  # Nodes renewing their leases and reading their own objects, every few seconds.
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
  - level: None
    userGroups: ["system:nodes"]
    verbs: ["get", "update", "patch"]
    resources:
      - group: coordination.k8s.io
        resources: ["leases"]
      - group: ""
        resources: ["nodes", "nodes/status"]
  # Events are records themselves.
  - level: None
    resources:
      - group: ""
        resources: ["events"]
      - group: events.k8s.io
        resources: ["events"]
  # Everything else: who did what, without bodies.
  - level: Metadata
`;

export const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/** The fix each rule's findings are fixed by. */
export const FIX_OF_RULE = new Map<string, FixId>([
  ...FLAG_CHECKS.filter((c) => c.fixId).map((c) => [c.id, c.fixId!] as [string, FixId]),
  ...PROBE_RULES.filter((r) => r.fixId).map((r) => [r.id, r.fixId!] as [string, FixId]),
]);

const describe = (set: Record<string, string | null>): string =>
  Object.entries(set)
    .map(([k, v]) => (v === null ? `remove --${k}` : `--${k}=${v.length > 40 ? `${v.slice(0, 37)}...` : v}`))
    .join(', ');

export function planApiserver(ins: Inspection<ApiserverFacts>, answers: Answers): Edit[] {
  const m = ins.facts.manifest;
  if (!m) return [];
  const chosen = (Array.isArray(answers['apiserver.fixes']) ? answers['apiserver.fixes'] : []) as FixId[];
  const auditPolicyFile = str(answers['apiserver.auditPolicyFile']) ?? m.auditPolicyFile;
  const auditLogPath = str(answers['apiserver.auditLogPath']) ?? DEFAULT_AUDIT_LOG;
  const { set, applied } = flagChanges(m.info.flags, chosen, { auditPolicyFile, auditLogPath });
  if (!Object.keys(set).length) return [];

  const fixed = (fixes: FixId[]) => ins.findings.filter((f) => f.fixable && fixes.includes(FIX_OF_RULE.get(f.rule)!)).map((f) => f.id);
  const edits: Edit[] = [];
  const mounts: HostMount[] = [];
  const used = new Set(m.info.volumeNames);
  const free = (name: string) => (used.has(name) ? `${name}-kube-harden` : name);
  const notes: string[] = [];

  const policy = set['audit-policy-file'];
  if (policy) {
    mounts.push({ name: free('audit-policy'), hostPath: policy, type: 'File', readOnly: true });
    const existing = policy === m.auditPolicyFile ? m.auditPolicyText : null;
    if (existing === null) {
      const create: FileEdit = {
        kind: 'file',
        area: 'apiserver',
        path: policy,
        base: null,
        mutate: () => AUDIT_POLICY,
        phase: 'create',
        findingIds: fixed(['auditLog']),
        reason: `create a minimal audit policy for --audit-policy-file (CIS 3.2.1), before the API server is pointed at it`,
        risk: 'low',
      };
      edits.push(create);
    } else notes.push(`uses the existing policy ${policy}`);
  }
  const logPath = set['audit-log-path'];
  if (logPath && logPath !== '-') mounts.push({ name: free('audit-log'), hostPath: dirname(logPath), type: 'DirectoryOrCreate', readOnly: false });

  const probesToTcp = set['anonymous-auth'] === 'false' && m.info.httpProbes.length > 0;
  if (probesToTcp) notes.push(`switch the kubelet's anonymous HTTP probes (${m.info.httpProbes.join(', ')}) to TCP checks, which need no credentials`);
  if (mounts.length) notes.push(`mount ${mounts.map((x) => x.hostPath).join(' and ')} into the static pod`);

  const risk = applied.reduce<Risk>((r, id) => maxRisk(r, fixOf(id).risk), 'medium');
  const riskNotes = [
    'the API server restarts: on a single control plane the API is unavailable for a few seconds to a minute',
    ...applied.map((id) => fixOf(id).riskNote).filter((n): n is string => !!n),
  ];
  const edit = { flags: set, probesToTcp, mounts };
  const base = m.text;
  edits.push({
    kind: 'file',
    area: 'apiserver',
    path: m.path,
    base,
    mutate: (text) => editManifest(text ?? base, edit),
    gate: { type: 'apiserver', flags: set, mirrorPod: m.mirrorPod, timeoutMs: GATE_TIMEOUT_MS },
    phase: 'control-plane',
    findingIds: fixed(applied),
    reason: `API server flags: ${describe(set)}${notes.length ? `; ${notes.join('; ')}` : ''}`,
    risk,
    riskNote: riskNotes.join('; '),
  });
  return edits;
}
