import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Conf from 'conf';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { dataDir } from '../engine/snapshot-store.js';

const answerValue = z.union([z.string(), z.boolean(), z.array(z.string())]);

export const ProfileSchema = z
  .object({
    version: z.literal(1),
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i, 'letters, digits, dot, dash, underscore').optional(),
    description: z.string().optional(),
    areas: z.array(z.string()).optional(),
    answers: z.record(z.string().regex(/^[a-z]+\.[A-Za-z0-9.]+$/, 'answer keys look like area.question'), answerValue),
  })
  .strict();

export type Profile = z.infer<typeof ProfileSchema>;

const here = dirname(fileURLToPath(import.meta.url));

/** The built-in profiles folder, found from src/ (tsx) or dist/src/ (built). */
export function builtinDir(): string {
  for (const rel of ['../../profiles', '../../../profiles']) {
    const p = resolve(here, rel);
    if (existsSync(join(p, 'baseline.yaml'))) return p;
  }
  return resolve(here, '../../profiles');
}

export function parseProfile(text: string, source: string): Profile {
  let data: unknown;
  try {
    data = parse(text);
  } catch (e) {
    throw new UsageError(`profile ${source} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const r = ProfileSchema.safeParse(data);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new UsageError(`profile ${source} is invalid: ${i.path.join('.') || '(top)'}: ${i.message}`);
  }
  return r.data;
}

/** User profiles live in conf's JSON store under the data directory; built-ins are YAML files shipped with the tool. */
export class ProfileStore {
  private confCache?: Conf<{ profiles: Record<string, Profile> }>;
  constructor(private readonly cwd = dataDir()) {}

  /** conf writes its file when it is opened: open it only to write, or when the file is already there. */
  private get conf(): Conf<{ profiles: Record<string, Profile> }> {
    this.confCache ??= new Conf({
      cwd: this.cwd,
      projectName: 'kube-harden',
      projectVersion: '1.0.0',
      configName: 'profiles',
      defaults: { profiles: {} },
      configFileMode: 0o600,
      migrations: {
        '1.0.0': (store) => {
          if (!store.has('profiles')) store.set('profiles', {});
        },
      },
    });
    return this.confCache;
  }

  private userProfiles(): Record<string, Profile> {
    if (!this.confCache && !existsSync(join(this.cwd, 'profiles.json'))) return {};
    return this.conf.get('profiles');
  }

  builtins(): string[] {
    try {
      return readdirSync(builtinDir())
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => f.slice(0, -5))
        .sort();
    } catch {
      return [];
    }
  }

  list(): Array<{ name: string; source: 'user' | 'built-in'; description?: string }> {
    const user = this.userProfiles();
    const out: Array<{ name: string; source: 'user' | 'built-in'; description?: string }> = Object.entries(user).map(([name, p]) => ({ name, source: 'user', description: p.description }));
    for (const b of this.builtins()) {
      if (!user[b]) out.push({ name: b, source: 'built-in', description: this.get(b).description });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** By name (user first, then built-in), or a path to a YAML file. */
  get(nameOrFile: string): Profile {
    const user = this.userProfiles()[nameOrFile];
    if (user) return ProfileSchema.parse(user);
    const builtin = join(builtinDir(), `${nameOrFile}.yaml`);
    if (/^[\w.-]+$/.test(nameOrFile) && existsSync(builtin)) return parseProfile(readFileSync(builtin, 'utf8'), nameOrFile);
    if (existsSync(nameOrFile)) return parseProfile(readFileSync(nameOrFile, 'utf8'), nameOrFile);
    throw new UsageError(`no profile "${nameOrFile}" (see: kube-harden profiles list), and no such file`);
  }

  save(name: string, profile: Profile): void {
    if (!/^[a-z0-9][a-z0-9._-]*$/i.test(name)) throw new UsageError(`bad profile name "${name}": use letters, digits, dot, dash, underscore`);
    const p = ProfileSchema.parse({ ...profile, name });
    this.conf.set(`profiles.${name.replace(/\./g, '\\.')}`, p);
  }

  remove(name: string): void {
    const all = this.userProfiles();
    if (!all[name]) throw new UsageError(`no user profile "${name}"${this.builtins().includes(name) ? ' (built-in profiles cannot be removed)' : ''}`);
    delete all[name];
    this.conf.set('profiles', all);
  }

  static toYaml(p: Profile): string {
    return `# kube-harden answer profile\n${stringify(p)}`;
  }
}
