import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { TailBuffer } from './tail-buffer';

export interface ProcessResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** How a spawned program ended. */
export interface ProcessExit {
  /** The exit status; null when the program could not start or was killed by a signal. */
  readonly exitCode: number | null;
  /** The signal that killed the program, if one did. */
  readonly signal: NodeJS.Signals | null;
  /** The last STDERR_LIMIT bytes of stderr, so a chatty program cannot grow memory. */
  readonly stderr: string;
  /** Why the program could not start (ENOENT, EACCES, ...), or the abort that stopped it. */
  readonly error?: Error;
}

/** A long-lived program whose input and output are streamed, not buffered. */
export interface SpawnedProcess {
  readonly pid: number | undefined;
  /** The program's stdin; end it when the program should read nothing (more). */
  readonly stdin: Writable;
  /** The program's stdout; the program blocks when this is not read (pipe backpressure). */
  readonly stdout: Readable;
  /** Settles (never rejects) once the program has exited and its output streams closed. */
  readonly completion: Promise<ProcessExit>;
  /** Sends a signal (default SIGTERM); does nothing once the program has exited. */
  kill(signal?: NodeJS.Signals): void;
}

export interface SpawnOptions {
  /** Kills the program (SIGTERM) when aborted; the exit then carries the abort as `error`. */
  readonly signal?: AbortSignal;
}

/**
 * Runs programs. Injected everywhere a process is spawned, so adapters are
 * unit-tested with a fake runner instead of real btrfs-progs.
 */
export interface ProcessRunner {
  /** Runs a program to completion; rejects with a ProcessError unless it exits 0. */
  run(command: string, args: readonly string[]): Promise<ProcessResult>;
  /** Starts a program whose stdin and stdout are streamed (e.g. `btrfs send`). Never throws: start failures arrive in `completion`. */
  spawn(command: string, args: readonly string[], options?: SpawnOptions): SpawnedProcess;
}

/** Stderr kept per process: enough for btrfs-progs' error lines, bounded for a chatty program. */
export const STDERR_LIMIT = 64 * 1024;

/** A program exited non-zero, was killed, or could not be started; names the command and its stderr. */
export class ProcessError extends Error {
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    cause?: unknown,
    readonly signal: NodeJS.Signals | null = null,
  ) {
    const status = exitCode !== null ? `exited with code ${exitCode}` : signal !== null ? `was killed by ${signal}` : 'could not run';
    const detail = lastMeaningfulLine(stderr);
    super(`\`${[command, ...args].join(' ')}\` ${status}${detail ? `: ${detail}` : ''}`, cause === undefined ? undefined : { cause });
    this.name = 'ProcessError';
  }
}

/**
 * The stderr line that explains a failure: btrfs-progs prefixes its errors with
 * "ERROR:" and may print progress ("At subvol ...") or usage around them, so the
 * last ERROR line wins; otherwise the last non-empty line.
 */
export function lastMeaningfulLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return lines.filter((line) => line.startsWith('ERROR:')).pop() ?? lines.pop() ?? '';
}

/** The error for a finished program, or undefined when it exited 0. */
export function exitError(command: string, args: readonly string[], exit: ProcessExit): ProcessError | undefined {
  if (exit.exitCode === 0 && exit.error === undefined) return undefined;
  const stderr = exit.stderr || (exit.error?.message ?? '');
  return new ProcessError(command, args, exit.exitCode, stderr, exit.error, exit.signal);
}

function spawnStreaming(command: string, args: readonly string[], options: SpawnOptions = {}): SpawnedProcess {
  const child = spawn(command, [...args], { stdio: ['pipe', 'pipe', 'pipe'], signal: options.signal });
  const stderr = new TailBuffer(STDERR_LIMIT);
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const completion = new Promise<ProcessExit>((resolve) => {
    let error: Error | undefined;
    child.once('error', (cause) => {
      error = cause;
    });
    // 'close' follows 'error' too (Node reports ENOENT as exit code -2), so it alone settles.
    child.once('close', (code, signal) => {
      const started = child.pid !== undefined;
      resolve({ exitCode: started ? code : null, signal, stderr: stderr.text(), ...(error === undefined ? {} : { error }) });
    });
  });
  return {
    pid: child.pid,
    stdin: child.stdin,
    stdout: child.stdout,
    completion,
    kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** The real runner: spawns without a shell (arguments are never interpreted). */
export const spawnProcessRunner: ProcessRunner = {
  run(command, args) {
    return new Promise((resolve, reject) => {
      const child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.once('error', (error) => reject(new ProcessError(command, args, null, error.message, error)));
      child.once('close', (code, signal) => {
        const result = { stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
        if (code === 0) resolve(result);
        else reject(new ProcessError(command, args, code, result.stderr, undefined, signal));
      });
    });
  },
  spawn: spawnStreaming,
};
