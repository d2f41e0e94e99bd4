import type { Readable, Writable } from 'node:stream';

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
 * Runs programs. Injected everywhere a process is spawned (btrfs-progs, getfattr,
 * systemctl), so orchestration and adapters are unit-tested with a fake runner.
 * The real one is `spawnProcessRunner` in `@org/btrfs-s3-btrfs`; core spawns nothing.
 */
export interface ProcessRunner {
  /** Runs a program to completion; rejects with a ProcessError unless it exits 0. An abort of `options.signal` kills it (SIGTERM). */
  run(command: string, args: readonly string[], options?: SpawnOptions): Promise<ProcessResult>;
  /** Starts a program whose stdin and stdout are streamed (e.g. `btrfs send`). Never throws: start failures arrive in `completion`. */
  spawn(command: string, args: readonly string[], options?: SpawnOptions): SpawnedProcess;
}

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
