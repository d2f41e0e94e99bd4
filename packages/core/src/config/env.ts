import type * as v from 'valibot';
import { quantityUnit } from './quantity';
import { CONFIG_SECTIONS } from './schema';
import type { ConfigIssue } from './issues';

/**
 * Environment overrides. One rule: `BTRFS_TO_S3__<SECTION>__<KEY>`, upper case,
 * e.g. `BTRFS_TO_S3__S3__BUCKET=my-bucket` overrides `[s3] bucket`. Values are
 * converted to the key's type: numbers as written (sizes and durations also as text
 * with units, `128MiB`, `72h`), booleans `true`/`false`, lists (`subvolumes.paths`,
 * `encryption.recipients`) comma-separated or as a JSON array (`["age1...","age1..."]`),
 * tables (`s3.object_lock`) as a JSON object (`{"mode":"governance","days":30}`).
 */
export const ENV_PREFIX = 'BTRFS_TO_S3__';

export type Env = Readonly<Record<string, string | undefined>>;

type Section = keyof typeof CONFIG_SECTIONS;
type ValueKind = 'number' | 'boolean' | 'array' | 'table' | 'string';

/** The environment variable that overrides `section.key`. */
export function envName(section: string, key: string): string {
  return `${ENV_PREFIX}${section.toUpperCase()}__${key.toUpperCase()}`;
}

function isSection(name: string): name is Section {
  return Object.hasOwn(CONFIG_SECTIONS, name);
}

/** The base type of a key's schema, through `optional` and pipes. */
function valueKind(section: Section, key: string): ValueKind | undefined {
  const entries: Record<string, v.GenericSchema & { wrapped?: { type: string } }> = CONFIG_SECTIONS[section].entries;
  if (!Object.hasOwn(entries, key)) return undefined;
  const entry = entries[key];
  // A size or duration: a number as written, any other text (`128MiB`) for the schema to read.
  if (entry !== undefined && quantityUnit(entry) !== undefined) return 'number';
  const type = entry?.type === 'optional' ? entry.wrapped?.type : entry?.type;
  if (type === 'number' || type === 'boolean' || type === 'array') return type;
  if (type === 'object' || type === 'strict_object') return 'table';
  return 'string';
}

function convert(kind: ValueKind, raw: string): unknown {
  switch (kind) {
    case 'number':
      return /^\s*-?\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : raw;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    case 'array':
      if (raw.trimStart().startsWith('[')) return parseJson(raw);
      return raw
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
    case 'table':
      return parseJson(raw);
    case 'string':
      return raw;
  }
}

/** JSON as written; text that is not JSON goes to the schema as it is, which names the key and what it expects. */
function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

export interface EnvOverrides {
  /** The TOML document with overrides applied (a new object). */
  readonly merged: Record<string, unknown>;
  /** Config key (`s3.bucket`) -> the variable that set it, for error messages. */
  readonly sources: ReadonlyMap<string, string>;
  /** Variables with our prefix that name no config key. */
  readonly issues: readonly ConfigIssue[];
}

export function applyEnvOverrides(document: Record<string, unknown>, env: Env): EnvOverrides {
  const merged: Record<string, unknown> = { ...document };
  const sources = new Map<string, string>();
  const issues: ConfigIssue[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const [section = '', key = '', ...rest] = name.slice(ENV_PREFIX.length).toLowerCase().split('__');
    const kind = isSection(section) && rest.length === 0 ? valueKind(section, key) : undefined;
    if (kind === undefined) {
      // A variable without both a section and a key (`BTRFS_TO_S3__S3`) names no key at all: name the variable instead.
      const message = `unknown key (set by environment variable ${name})`;
      issues.push(
        section !== '' && key !== ''
          ? { key: [section, key, ...rest].filter(Boolean).join('.'), message }
          : { key: name, message: `${message}; the rule is ${ENV_PREFIX}<SECTION>__<KEY>` },
      );
      continue;
    }
    const current = merged[section];
    const table = typeof current === 'object' && current !== null && !Array.isArray(current) ? current : {};
    merged[section] = { ...table, [key]: convert(kind, raw) };
    sources.set(`${section}.${key}`, name);
  }
  return { merged, sources, issues };
}
