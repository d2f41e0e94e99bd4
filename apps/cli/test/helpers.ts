import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
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

/**
 * The same, without blocking the event loop: for tests that serve the CLI from this
 * process (e.g. the archive double), which a synchronous spawn would starve.
 */
export async function cliAsync(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const { PATH, HOME } = process.env;
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH, HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = await once(child, 'close');
  return { code: typeof code === 'number' ? code : null, stdout, stderr };
}

/** Writes `text` to a config file in a new temp directory and returns its path. */
export function writeConfig(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'cli-')), 'config.toml');
  writeFileSync(path, text);
  return path;
}
