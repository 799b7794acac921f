/**
 * Answer profiles: the answers of a session as plain data, replayable on the next cluster. Version 2
 * (numbers, lists of free values and a choice per item are answers too); version-1 files, which users
 * already have, are read and migrated. User profiles live in one JSON file under the data directory,
 * written through conf; reading never writes (a --preview session must leave the disk alone).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Conf from 'conf';
import { Document, parse, type Scalar, type YAMLMap } from 'yaml';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { dataDir } from '../engine/snapshot-store.js';

const answerValue = z.union([z.string(), z.boolean(), z.number(), z.array(z.string()), z.record(z.string(), z.string())]);
const NAME = /^[a-z0-9][a-z0-9._-]*$/i;
const answers = z.record(z.string().regex(/^[a-z]+\.[A-Za-z0-9.]+$/, 'answer keys look like area.question'), answerValue);

const V1 = z
  .object({
    version: z.literal(1),
    name: z.string().regex(NAME, 'letters, digits, dot, dash, underscore').optional(),
    description: z.string().optional(),
    areas: z.array(z.string()).optional(),
    answers: z.record(
      z.string().regex(/^[a-z]+\.[A-Za-z0-9.]+$/, 'answer keys look like area.question'),
      z.union([z.string(), z.boolean(), z.array(z.string())]),
    ),
  })
  .strict();

export const ProfileSchema = z
  .object({
    version: z.literal(2),
    name: z.string().regex(NAME, 'letters, digits, dot, dash, underscore').optional(),
    description: z.string().optional(),
    areas: z.array(z.string()).optional(),
    answers,
  })
  .strict();

export type Profile = z.infer<typeof ProfileSchema>;

/**
 * The areas a profile runs: its `areas` list, or, when it has none, the areas its answers name, so a
 * profile that answers only workload questions never applies another area's defaults.
 */
export function profileAreas(profile: Profile): string[] | undefined {
  if (profile.areas) return profile.areas;
  const named = [...new Set(Object.keys(profile.answers).map((k) => k.split('.')[0]!))];
  return named.length ? named : undefined;
}

/** Version 1 → 2: the same answers (version 2 only adds answer kinds). */
export function migrate(data: unknown): unknown {
  if (typeof data === 'object' && data !== null && (data as { version?: unknown }).version === 1) {
    const v1 = V1.safeParse(data);
    if (v1.success) return { ...v1.data, version: 2 };
  }
  return data;
}

const here = dirname(fileURLToPath(import.meta.url));

/** The built-in profiles folder: next to the package root (from src/profiles, dist/, or dist/chunks). */
export function builtinDir(): string {
  for (const rel of ['../../profiles', '../profiles', '../../../profiles']) {
    const p = resolve(here, rel);
    if (existsSync(join(p, 'baseline.yaml'))) return p;
  }
  return resolve(here, '../../profiles');
}

function check(data: unknown, source: string): Profile {
  const version = (data as { version?: unknown } | null)?.version;
  if (version !== 1 && version !== 2) throw new UsageError(`profile ${source} is invalid: version: expected 1 or 2, not ${JSON.stringify(version)}`);
  // A version-1 file is judged by the version-1 schema, so its errors name its own fields.
  const r = version === 1 ? V1.safeParse(data) : ProfileSchema.safeParse(data);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new UsageError(`profile ${source} is invalid: ${i.path.join('.') || '(top)'}: ${i.message}`);
  }
  return ProfileSchema.parse(migrate(r.data));
}

export function parseProfile(text: string, source: string): Profile {
  let data: unknown;
  try {
    data = parse(text);
  } catch (e) {
    throw new UsageError(`profile ${source} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return check(data, source);
}

export function checkProfileName(name: string): string {
  if (!NAME.test(name) || name.length > 100) throw new UsageError(`bad profile name "${name}": use letters, digits, dot, dash, underscore`);
  return name;
}

type Stored = Record<string, unknown>;

/** User profiles live in conf's JSON store under the data directory; built-ins are YAML files shipped with the tool. */
export class ProfileStore {
  constructor(private readonly cwd = dataDir()) {}

  private get file(): string {
    return join(this.cwd, 'profiles.json');
  }

  /** Read without conf: opening conf may write the file (defaults, migrations), and reading must not. */
  private userProfiles(): Map<string, unknown> {
    if (!existsSync(this.file)) return new Map();
    let data: { profiles?: Stored };
    try {
      data = JSON.parse(readFileSync(this.file, 'utf8')) as { profiles?: Stored };
    } catch (e) {
      throw new UsageError(`cannot read ${this.file}: ${(e as Error).message}`);
    }
    // Own keys only: a profile called "constructor" or "toString" is a profile, not Object's.
    return new Map(Object.entries(data?.profiles ?? {}));
  }

  private write(all: Map<string, unknown>): void {
    const conf = new Conf<{ profiles: Stored }>({
      cwd: this.cwd,
      projectName: 'kube-harden',
      projectVersion: '2.0.0',
      configName: 'profiles',
      configFileMode: 0o600,
      accessPropertiesByDotNotation: false,
    });
    conf.set('profiles', Object.fromEntries(all));
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
    const out: Array<{ name: string; source: 'user' | 'built-in'; description?: string }> = [...user].map(([name, p]) => ({
      name,
      source: 'user',
      description: (p as { description?: string } | null)?.description,
    }));
    for (const b of this.builtins()) if (!user.has(b)) out.push({ name: b, source: 'built-in', description: this.get(b).description });
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** By name (user first, then built-in), or a path to a YAML file. */
  get(nameOrFile: string): Profile {
    const user = this.userProfiles();
    if (user.has(nameOrFile)) return check(user.get(nameOrFile), `"${nameOrFile}" (${this.file})`);
    const builtin = join(builtinDir(), `${nameOrFile}.yaml`);
    if (NAME.test(nameOrFile) && existsSync(builtin)) return parseProfile(readFileSync(builtin, 'utf8'), nameOrFile);
    if (existsSync(nameOrFile)) return parseProfile(readFileSync(nameOrFile, 'utf8'), nameOrFile);
    throw new UsageError(`no profile "${nameOrFile}" (see: kube-harden profiles list), and no such file`);
  }

  save(name: string, profile: Profile): void {
    checkProfileName(name);
    const p = check({ ...profile, name }, name);
    const all = this.userProfiles();
    all.set(name, p);
    this.write(all);
    // Read back: a profile the store cannot return was not saved.
    if (!this.userProfiles().has(name)) throw new UsageError(`profile "${name}" could not be saved in ${this.file}`);
  }

  remove(name: string): void {
    const all = this.userProfiles();
    if (!all.has(name)) throw new UsageError(`no user profile "${name}"${this.builtins().includes(name) ? ' (built-in profiles cannot be removed)' : ''}`);
    all.delete(name);
    this.write(all);
  }

  /** The profile as YAML; with `docs` (question id → its text), each answer has its question as a comment. */
  static toYaml(p: Profile, docs: Record<string, string> = {}): string {
    const doc = new Document(p);
    const answers = doc.get('answers', true) as YAMLMap | undefined;
    for (const item of answers?.items ?? []) {
      const key = item.key as Scalar;
      const text = docs[String(key.value)];
      if (text) key.commentBefore = ` ${text}`;
    }
    return `# kube-harden answer profile\n${doc.toString({ lineWidth: 0 })}`;
  }
}
