// A stand-in for src/session.ts's Session, so screen tests drive the real pipeline (src/pipeline.ts)
// without a cluster. The real Session is tested against the real API server elsewhere.
import type { Answers, AreaId, Finding, Question } from '../../src/areas/types.js';
import type { ApplyEvent, ApplyResult } from '../../src/engine/apply.js';
import type { Change, DryRunResult } from '../../src/engine/change.js';
import type { Session } from '../../src/session.js';

export interface FakeOptions {
  changes?: Change[];
  deniedRead?: boolean;
  failApply?: boolean;
  questions?: Question[];
  /** A second area whose questions come after the first's. */
  second?: { questions: Question[] };
}

export interface FakeRecord {
  calls: string[];
  closed: number;
  answers?: Answers;
}

export function fakeSession(o: FakeOptions, rec: FakeRecord): Session {
  const changes = o.changes ?? [];
  const mk = (id: AreaId, title: string, questions: Question[], findings: Finding[]) => ({
    area: { id, title, summary: `${title} summary.`, reads: [], rules: [], inspect: async () => undefined, questions: () => questions, plan: () => [] },
    inspection: { area: id, findings, facts: {} },
    questions,
  });
  const ref = changes[0]?.kind === 'object' ? changes[0].ref : { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' };
  const states = [
    mk('workloads', 'Pod security', o.questions ?? [], [
      { id: 'workloads/privileged/x', area: 'workloads', rule: 'privileged', severity: 'critical', ref, message: 'privileged', fixable: true },
      { id: 'workloads/caps/x', area: 'workloads', rule: 'caps', severity: 'medium', ref, message: 'caps', fixable: true },
    ]),
    ...(o.second
      ? [
          mk('images', 'Images', o.second.questions, [
            { id: 'images/latest/x', area: 'images', rule: 'latest', severity: 'low', ref, message: 'uses :latest', fixable: true },
          ]),
        ]
      : []),
  ];
  const s = {
    contextName: 'kind-dev',
    cluster: { server: 'https://127.0.0.1:6443' },
    version: { gitVersion: 'v1.34.4', major: '1', minor: '34' },
    identity: { username: 'admin', groups: ['system:masters', 'system:authenticated'] },
    preview: false,
    states,
    async readAccess() {
      return [
        { verb: 'list', group: '', resource: 'namespaces', allowed: true },
        { verb: 'list', group: '', resource: 'pods', allowed: !o.deniedRead },
      ];
    },
    async inspect(onProgress?: (a: unknown, m: string) => void) {
      onProgress?.(states[0].area, 'listing deployments');
      return states;
    },
    state(id: AreaId) {
      return states.find((x) => x.area.id === id)!;
    },
    get questions() {
      return states.flatMap((x) => x.questions);
    },
    checkAnswerKeys() {},
    plan(answers: Answers, areas?: AreaId[]) {
      rec.calls.push(`plan ${JSON.stringify(areas)} ${JSON.stringify(answers)}`);
      rec.answers = answers;
      return areas && !areas.includes('workloads') ? [] : changes;
    },
    review() {
      return [];
    },
    async preflight() {
      return { denied: [], local: [] };
    },
    async guards() {
      return [];
    },
    async dryRun(cs: Change[], onProgress?: (d: number, t: number) => void) {
      onProgress?.(cs.length, cs.length);
      return new Map<string, DryRunResult>(cs.map((c) => [c.id, { ok: true, warnings: [] }]));
    },
    async apply(cs: Change[], _dry: Map<string, DryRunResult>, opts: { onEvent?: (e: ApplyEvent) => void } = {}) {
      rec.calls.push('apply');
      const on = opts.onEvent;
      on?.({ type: 'preflight' });
      on?.({ type: 'snapshot', id: '20261129-101010-abcdef' });
      const snapshot = { id: '20261129-101010-abcdef' };
      for (const c of cs) {
        on?.({ type: 'start', change: c });
        if (o.failApply) {
          on?.({ type: 'failed', change: c, error: 'changed since the preview', conflict: true });
          return {
            snapshot,
            applied: 0,
            skipped: 0,
            rollouts: [],
            failed: { change: c, error: 'changed since the preview', conflict: true },
            rollback: { snapshotId: snapshot.id, restored: 0, unchanged: 0, failed: [], conflicts: [], skipped: [], notes: [] },
          } as unknown as ApplyResult;
        }
        on?.({ type: 'done', change: c, warnings: [] });
      }
      return { snapshot, applied: cs.length, skipped: 0, rollouts: [] } as unknown as ApplyResult;
    },
    async verify() {
      rec.calls.push('verify');
      return { fixed: 2, remaining: 0, perArea: { workloads: { fixed: 2, remaining: 0, meantButRemaining: 0 } } };
    },
    async close() {
      rec.closed++;
    },
  };
  return s as unknown as Session;
}
