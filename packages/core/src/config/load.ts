import { readFile } from 'node:fs/promises';
import { parse as parseToml, TomlError } from 'smol-toml';
import * as v from 'valibot';
import { ConfigError, errnoCode } from '../errors';
import { applyEnvOverrides, type Env } from './env';
import type { ConfigIssue } from './issues';
import { type Config, ConfigSchema } from './schema';

export type ConfigResult = { readonly ok: true; readonly config: Config } | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

type Issue = v.InferIssue<typeof ConfigSchema>;

function describe(issue: Issue): string {
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
export function validateConfig(document: Record<string, unknown>, env: Env = {}): ConfigResult {
  const overrides = applyEnvOverrides(document, env);
  const result = v.safeParse(ConfigSchema, overrides.merged);
  const issues: ConfigIssue[] = [...overrides.issues];
  for (const issue of result.issues ?? []) {
    const key = v.getDotPath(issue) ?? '(top level)';
    const source = overrides.sources.get(key);
    issues.push({ key, message: source === undefined ? describe(issue) : `${describe(issue)} (set by environment variable ${source})` });
  }
  if (!result.success || issues.length > 0) return { ok: false, issues };
  return { ok: true, config: result.output };
}

/** Parses TOML text into a validated config, or throws ConfigError naming every problem. */
export function parseConfig(text: string, options: { env?: Env; source?: string } = {}): Config {
  let document: Record<string, unknown>;
  try {
    document = parseToml(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    throw new ConfigError(
      [{ key: '(toml)', message: `syntax error at line ${error.line}, column ${error.column}: ${error.message.split('\n')[0]}` }],
      options.source,
    );
  }
  const result = validateConfig(document, options.env);
  if (!result.ok) throw new ConfigError(result.issues, options.source);
  return result.config;
}

/** Reads and validates the config file at `path` (the `--config` flag). */
export async function loadConfig(path: string, env: Env = {}): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = errnoCode(error) ?? String(error);
    throw new ConfigError([{ key: '--config', message: `cannot read ${path}: ${reason}` }]);
  }
  return parseConfig(text, { env, source: path });
}
