import { checkId, SnapshotStore } from '../engine/snapshot-store.js';
import { storedLabel } from '../engine/stored.js';
import { EXIT, UsageError } from '../errors.js';

export async function snapshots(action: string | undefined, id: string | undefined): Promise<number> {
  const store = new SnapshotStore();
  if (!action || action === 'list') {
    const all = await store.list();
    if (all.length === 0) {
      process.stdout.write(`no snapshots in ${store.dir}\n`);
      return EXIT.ok;
    }
    process.stdout.write(`${'ID'.padEnd(24)} ${'CREATED'.padEnd(20)} ${'CONTEXT'.padEnd(24)} ${'CHANGES'.padStart(7)} ${'APPLIED'.padStart(7)}  STATE\n`);
    for (const s of all) {
      process.stdout.write(
        `${s.id.padEnd(24)} ${s.createdAt.slice(0, 19).replace('T', ' ').padEnd(20)} ${s.context.padEnd(24)} ${String(s.changes).padStart(7)} ${String(s.applied).padStart(7)}  ${s.state}${s.error ? `: ${s.error}` : ''}\n`,
      );
    }
    return EXIT.ok;
  }
  if (action === 'show') {
    if (!id) throw new UsageError('snapshots show needs an ID');
    checkId(id);
    const s = await store.read(id);
    const sum = await store.summary(id);
    const events = await store.events(id);
    const status = new Map<string, string>();
    for (const e of events as Array<{ event: string; change?: string }>) if (e.change) status.set(e.change, e.event);
    process.stdout.write(
      `snapshot ${s.id}\ncreated  ${s.createdAt}\ncontext  ${s.cluster.context} (${s.cluster.server}${s.cluster.uid ? `, cluster ${s.cluster.uid}` : ''})\nuser     ${s.user ?? '?'}\nstate    ${sum.state} (${sum.applied}/${sum.changes} applied)\n`,
    );
    for (const c of s.changes) {
      const action = c.kind === 'object' ? c.action : c.kind === 'file' ? 'edit' : c.action;
      process.stdout.write(
        `  ${(status.get(c.id) ?? 'not started').padEnd(12)} ${action.padEnd(7)} ${storedLabel(c)}: ${c.reasons.map((r) => r.text).join('; ')}\n`,
      );
    }
    return EXIT.ok;
  }
  throw new UsageError(`unknown snapshots action "${action}" (list, show ID)`);
}
