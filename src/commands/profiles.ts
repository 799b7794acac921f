import { readFileSync, writeFileSync } from 'node:fs';
import { EXIT, UsageError } from '../errors.js';
import { parseProfile, ProfileStore } from '../profiles/profile.js';

/** Every area's question texts, for the comments of `profiles show` and `export`. */
async function answerDocs(): Promise<Record<string, string>> {
  const { AREAS } = await import('../areas/registry.js');
  return Object.assign({}, ...AREAS.map((a) => a.answerDocs ?? {}));
}

export async function profiles(action: string | undefined, args: string[]): Promise<number> {
  const store = new ProfileStore();
  switch (action ?? 'list') {
    case 'list':
      for (const p of store.list()) process.stdout.write(`${p.name.padEnd(20)} ${p.source.padEnd(9)} ${p.description ?? ''}\n`);
      return EXIT.ok;
    case 'show':
      if (!args[0]) throw new UsageError('profiles show needs a NAME');
      process.stdout.write(ProfileStore.toYaml(store.get(args[0]), await answerDocs()));
      return EXIT.ok;
    case 'rm':
      if (!args[0]) throw new UsageError('profiles rm needs a NAME');
      store.remove(args[0]);
      process.stdout.write(`removed profile ${args[0]}\n`);
      return EXIT.ok;
    case 'export': {
      if (!args[0] || !args[1]) throw new UsageError('profiles export needs NAME FILE');
      writeFileSync(args[1], ProfileStore.toYaml(store.get(args[0]), await answerDocs()), { mode: 0o644 });
      process.stdout.write(`exported ${args[0]} to ${args[1]}\n`);
      return EXIT.ok;
    }
    case 'import': {
      if (!args[0]) throw new UsageError('profiles import needs FILE [NAME]');
      let text: string;
      try {
        text = readFileSync(args[0], 'utf8');
      } catch {
        throw new UsageError(`cannot read ${args[0]}`);
      }
      const p = parseProfile(text, args[0]);
      const name = args[1] ?? p.name;
      if (!name) throw new UsageError('the profile has no name: pass one (profiles import FILE NAME)');
      store.save(name, p);
      process.stdout.write(`imported profile ${name}\n`);
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown profiles action "${action}" (list, show, rm, export, import)`);
  }
}
