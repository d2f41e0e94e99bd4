import { type ChildProcessByStdio, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import type { Readable } from 'node:stream';

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export type Env = Record<string, string | undefined>;

/** Only PATH and HOME from the test's own environment: the CLI sees no stray credentials. */
const cleanEnv = (env: Env): Env => ({ PATH: process.env.PATH, HOME: process.env.HOME, ...env });

/** Runs the CLI executable `bin` with `args`, synchronously (for tests that serve nothing in-process). */
export function runCli(bin: string, args: readonly string[], env: Env = {}): CliResult {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: cleanEnv(env) });
  return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** A running CLI whose output is collected; `done` settles when it exits. */
export interface CliProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly done: Promise<CliResult>;
  /** Everything written to stderr so far. */
  stderr(): string;
}

/** Starts the CLI without blocking the event loop: for tests that serve it (proxies, doubles) or signal it. */
export function startCli(bin: string, args: readonly string[], env: Env = {}): CliProcess {
  const child = spawn(process.execPath, [bin, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = once(child, 'close').then(([code, signal]) => ({
    code: typeof code === 'number' ? code : null,
    signal: (signal as NodeJS.Signals | null) ?? null,
    stdout,
    stderr,
  }));
  return { child, done, stderr: () => stderr };
}

export async function runCliAsync(bin: string, args: readonly string[], env: Env = {}): Promise<CliResult> {
  return startCli(bin, args, env).done;
}
