// Runs commands for the benchmark (bash command lines, or a program and its arguments).
// Each runs in its own process group, so an interrupted benchmark can stop a whole
// pipeline (and only what it started) by group.
import { type ChildProcess, spawn } from 'node:child_process';

export class Interrupted extends Error {}

const running = new Set<ChildProcess>();

/** Sends a signal to the process group of every command still running. */
export function signalRunning(signal: NodeJS.Signals): void {
  for (const child of running) {
    if (child.pid === undefined) continue;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  }
}

export interface ShOptions {
  /** Added to this process's environment; null removes a variable. */
  readonly env?: Readonly<Record<string, string | null>>;
  /** An aborted signal refuses to start the command (cleanup passes none). */
  readonly signal?: AbortSignal;
  /** Keep the command's stderr on the terminal instead of capturing it. */
  readonly inheritStderr?: boolean;
}

export interface ShResult {
  readonly stdout: string;
  readonly stderr: string;
  /** From spawn to exit, measured here. */
  readonly wallSeconds: number;
  /** process.hrtime.bigint() just before the spawn, to time events of the run against. */
  readonly spawnedAt: bigint;
}

const KEEP = 64 * 1024;

function mergeEnv(extra: Readonly<Record<string, string | null>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(extra)) {
    if (value === null) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Runs `bash -c command`; a non-zero exit rejects with the tail of its stderr. */
export function sh(command: string, options: ShOptions = {}): Promise<ShResult> {
  return run('bash', ['-c', command], command, options);
}

/** Runs a program with no shell between (nothing but it is timed); as sh otherwise. */
export function execFile(file: string, args: readonly string[], options: ShOptions = {}): Promise<ShResult> {
  return run(file, args, [file, ...args].join(' '), options);
}

function run(file: string, args: readonly string[], command: string, options: ShOptions): Promise<ShResult> {
  if (options.signal?.aborted) return Promise.reject(new Interrupted('interrupted'));
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(file, args, {
      detached: true,
      stdio: ['ignore', 'pipe', options.inheritStderr ? 'inherit' : 'pipe'],
      env: mergeEnv(options.env),
    });
    running.add(child);
    const stdout: Buffer[] = [];
    let stderr = '';
    let wallSeconds = 0;
    child.stdout?.on('data', (data: Buffer) => stdout.push(data));
    child.stderr?.on('data', (data: Buffer) => {
      stderr = (stderr + data.toString()).slice(-KEEP);
    });
    child.on('exit', () => {
      wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    });
    child.on('error', (error) => {
      running.delete(child);
      reject(error);
    });
    child.on('close', (code, signal) => {
      running.delete(child);
      const out = Buffer.concat(stdout).toString();
      if (options.signal?.aborted) {
        reject(new Interrupted(`interrupted: ${command}`));
      } else if (code === 0) {
        resolve({ stdout: out, stderr, wallSeconds, spawnedAt: started });
      } else {
        reject(new Error(`command failed (${signal ?? `exit ${code}`}): ${command}\n${stderr.trim().split('\n').slice(-20).join('\n')}`));
      }
    });
  });
}
