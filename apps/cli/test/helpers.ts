import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BIN = join(__dirname, '..', 'bin', 'run.js');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real executable with a clean environment plus `env`. */
export function cli(args: readonly string[], env: Record<string, string | undefined> = {}): CliResult {
  const { PATH, HOME } = process.env;
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { PATH, HOME, ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Writes `text` to a config file in a new temp directory and returns its path. */
export function writeConfig(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'cli-')), 'config.toml');
  writeFileSync(path, text);
  return path;
}
