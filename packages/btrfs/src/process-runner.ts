import { spawn } from 'node:child_process';

export interface ProcessResult {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a program to completion. Injected everywhere a process is spawned, so
 * adapters are unit-tested with a fake runner instead of real btrfs-progs.
 */
export interface ProcessRunner {
  run(command: string, args: readonly string[]): Promise<ProcessResult>;
}

/** A program exited non-zero or could not be started; names the command and its stderr. */
export class ProcessError extends Error {
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    cause?: unknown,
  ) {
    const status = exitCode === null ? 'could not run' : `exited with code ${exitCode}`;
    const detail = stderr.trim().split('\n').filter(Boolean).pop() ?? '';
    super(`\`${[command, ...args].join(' ')}\` ${status}${detail ? `: ${detail}` : ''}`, cause === undefined ? undefined : { cause });
    this.name = 'ProcessError';
  }
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
      child.once('close', (code) => {
        const result = { stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
        if (code === 0) resolve(result);
        else reject(new ProcessError(command, args, code, result.stderr));
      });
    });
  },
};
