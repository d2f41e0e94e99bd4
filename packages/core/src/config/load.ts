import { readFile } from 'node:fs/promises';
import { parse as parseToml, TomlError } from 'smol-toml';
import * as v from 'valibot';
import { ConfigError, errnoCode } from '../errors';
import { applyEnvOverrides, type Env, envName } from './env';
import type { ConfigIssue } from './issues';
import { type Config, ConfigSchema, type RemoteConfig, RemoteConfigSchema } from './schema';

export type ConfigResult<T = Config> =
  { readonly ok: true; readonly config: T } | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

type AnySchema = v.GenericSchema<unknown, unknown, v.BaseIssue<unknown>>;

function describe(issue: v.BaseIssue<unknown>): string {
  // strictObject reports an unknown key as "expected never".
  if (issue.kind === 'schema' && issue.expected === 'never') return 'unknown key';
  if (issue.kind === 'schema' && issue.input === undefined) return 'is required';
  // valibot's own wording for a wrong type is "Invalid type: Expected number but received "x"".
  if (issue.message.startsWith('Invalid type:')) return `must be ${issue.expected ?? 'another type'}, got ${issue.received}`;
  return issue.message;
}

/**
 * Validates a parsed TOML document after applying environment overrides.
 * Reports every problem at once, each naming its dotted key.
 */
export function validateConfig(document: Record<string, unknown>, env: Env = {}, flags: S3Flags = {}): ConfigResult {
  return validateAgainst(ConfigSchema, document, env, flags);
}

function validateAgainst<S extends AnySchema>(
  schema: S,
  document: Record<string, unknown>,
  env: Env,
  flags: S3Flags = {},
): ConfigResult<v.InferOutput<S>> {
  const overrides = applyEnvOverrides(document, env);
  const sources = new Map(overrides.sources);
  const s3 = { ...(isRecord(overrides.merged.s3) ? overrides.merged.s3 : {}) };
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    s3[key] = value;
    sources.set(`s3.${key}`, `flag --${key.replaceAll('_', '-')}`);
  }
  const merged = Object.keys(flags).length === 0 ? overrides.merged : { ...overrides.merged, s3 };
  const result = v.safeParse(schema, merged);
  const issues: ConfigIssue[] = [...overrides.issues];
  for (const issue of result.issues ?? []) {
    const key = v.getDotPath(issue) ?? '(top level)';
    // A list's item (`encryption.recipients.0`) was set by whatever set the list.
    const source = sources.get(key) ?? sources.get(key.replace(/\.\d+$/, ''));
    const setBy =
      source === undefined ? '' : source.startsWith('flag ') ? ` (set by ${source})` : ` (set by environment variable ${source})`;
    issues.push({ key, message: `${describe(issue)}${setBy}` });
  }
  if (!result.success || issues.length > 0) return { ok: false, issues };
  return { ok: true, config: result.output };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseToDocument(text: string, source: string | undefined): Record<string, unknown> {
  try {
    return parseToml(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    throw new ConfigError(
      [{ key: '(toml)', message: `syntax error at line ${error.line}, column ${error.column}: ${error.message.split('\n')[0]}` }],
      source,
    );
  }
}

/** Parses TOML text into a validated config, or throws ConfigError naming every problem. */
export function parseConfig(text: string, options: { env?: Env; source?: string; flags?: S3Flags } = {}): Config {
  const result = validateConfig(parseToDocument(text, options.source), options.env, options.flags);
  if (!result.ok) throw new ConfigError(result.issues, options.source);
  return result.config;
}

async function readConfigFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const reason = errnoCode(error) ?? String(error);
    throw new ConfigError([{ key: '--config', message: `cannot read ${path}: ${reason}` }]);
  }
}

/** Reads and validates the config file at `path` (the `--config` flag). */
/** The config file at `path`, then the environment overrides, then `flags` (each `[s3]` key given wins). */
export async function loadConfig(path: string, env: Env = {}, flags: S3Flags = {}): Promise<Config> {
  return parseConfig(await readConfigFile(path), { env, source: path, flags });
}

/**
 * `[s3]` keys as flags (`--bucket`, `--prefix`, ..., `backup --max-upload-rate`); each wins
 * over the file and the environment, and a bad value is reported as set by its flag.
 */
export interface S3Flags {
  /** Bytes per second or a rate with units (`"50Mbit"`), checked as `s3.max_upload_rate` is. */
  readonly max_upload_rate?: string;
  readonly bucket?: string;
  readonly prefix?: string;
  readonly region?: string;
  readonly endpoint?: string;
  readonly path_style?: boolean;
}

/**
 * The configuration of `restore`, `list` and `verify` (RemoteConfigSchema): the file
 * at `path` if one is given, else nothing, then the environment overrides, then the
 * location `flags`. On a new machine the S3 location alone (from any of the three)
 * is enough. Throws ConfigError naming every problem.
 */
export async function loadRemoteConfig(path: string | undefined, env: Env = {}, flags: S3Flags = {}): Promise<RemoteConfig> {
  const document = path === undefined ? {} : parseToDocument(await readConfigFile(path), path);
  const result = validateAgainst(RemoteConfigSchema, document, env, flags);
  if (!result.ok) throw new ConfigError(result.issues.map(withLocationHint), path);
  return result.config;
}

const LOCATION_KEYS = ['bucket', 'prefix', 'region', 'endpoint', 'path_style'];

/** A missing S3 location key says where it can come from: on a new machine there may be no file at all. */
function withLocationHint(issue: ConfigIssue): ConfigIssue {
  const key = issue.key.startsWith('s3.') ? issue.key.slice(3) : '';
  if (!LOCATION_KEYS.includes(key) || issue.message !== 'is required') return issue;
  return {
    key: issue.key,
    message: `is required: set it in the config's [s3] section, with --${key.replace('_', '-')}, or with ${envName('s3', key)}`,
  };
}
